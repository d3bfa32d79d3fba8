/**
 * `docs/statecharts/README.md`: the diagrams, then every state, event, delay
 * and transition of the chart as tables, all generated.
 */

import type { Chart, ChartTransition } from "./chart.js";
import { guardLabel } from "./svg.js";

export interface ReadmeInput {
  readonly chart: Chart;
  readonly mermaid: string;
  readonly svgFile: string;
  /** The overview diagram (the states and transitions marked `meta.overview`). */
  readonly overviewFile: string;
  /** The overview's text alternative (its loop and the arrows beside it). */
  readonly overviewAlt: string;
  readonly mermaidFile: string;
  /** Where the machine is defined, for the header. */
  readonly source: string;
  /** The public state (`client.state`) a state id shows as. */
  readonly publicState: (stateId: string) => string;
  /** One line per event type on who sends it, when known. */
  readonly eventDocs: Readonly<Record<string, string>>;
  /** The options that set each delay, when known. */
  readonly delayOptions: Readonly<Record<string, readonly string[]>>;
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const code = (s: string) => (s ? `\`${s}\`` : "");

function short(chart: Chart, stateId: string): string {
  return stateId === chart.id ? "(any state)" : stateId.slice(chart.id.length + 1);
}

function targetText(chart: Chart, t: ChartTransition): string {
  if (t.ignored) return "(ignored)";
  if (t.targets.length === 0) return "(stays)";
  return (
    t.targets.map((id) => code(short(chart, id))).join(", ") + (t.reenter ? " (re-entered)" : "")
  );
}

export function toReadme(input: ReadmeInput): string {
  const { chart } = input;
  const out: string[] = [
    "# Connection statechart",
    "",
    `> Generated from \`${input.source}\` by \`npm run diagrams\`. Do not edit: a test regenerates`,
    "> these files and fails when they differ from the machine.",
    "",
    "## Overview",
    "",
    `![${input.overviewAlt}](${input.overviewFile})`,
    "",
    "The page's flow as one loop (emphasised): the broker refuses the token, the client closes the",
    "session, asks `onAuthFailure` once, waits 2 s, reconnects and restores its subscriptions. Beside",
    "it, a lost connection waits out the backoff and reconnects with the same credentials, and a",
    "refusal that retrying cannot fix stops in `failed`. Every other transition is folded away; the",
    "machine marks what this picture shows with `meta.overview` on its states and transitions.",
    "",
    "## Every state and transition",
    "",
    `![The connection statechart](${input.svgFile})`,
    "",
    "How to read it: an arrow is a transition, labelled `event [guard]`; guards are tried top to",
    "bottom and `[else]` is the last one. `after NAME (value)` is a delay, shown with its default",
    "(every delay is an option of `RealtimeClient`). Inside a box: what the state does on entry,",
    "the actors it runs, transitions that stay in it, and events it deliberately ignores. The",
    "page's flow is drawn emphasised. `→ ◇` in a box: that event leads to the diamond, where the",
    "same guarded choice that several states share is drawn once (out of retries → `failed`, else",
    "→ `backoff`). Both pictures follow the browser's light or dark preference and draw their",
    "own background, so either reads on GitHub's light and dark themes.",
    "",
    `The same chart in Mermaid (\`${input.mermaidFile}\`):`,
    "",
    "```mermaid",
    input.mermaid.trimEnd(),
    "```",
    "",
    "## States",
    "",
    "| state | inside | `client.state` | what the client is doing |",
    "| --- | --- | --- | --- |",
  ];
  for (const s of chart.states.slice(1)) {
    const parent = s.parent && s.parent !== chart.id ? code(short(chart, s.parent)) : "";
    out.push(
      `| ${code(s.key)} | ${parent} | ${input.publicState(s.id) === "—" ? "—" : code(input.publicState(s.id))} | ${cell(s.description)} |`,
    );
  }

  const events = new Map<string, string[]>();
  for (const t of chart.transitions) {
    if (t.kind !== "event") continue;
    const where = events.get(t.eventType) ?? [];
    const name = short(chart, t.source);
    if (!where.includes(name)) where.push(name);
    events.set(t.eventType, where);
  }
  out.push("", "## Events", "", "| event | handled in | what it means |", "| --- | --- | --- |");
  for (const [type, where] of [...events].sort(([a], [b]) => a.localeCompare(b))) {
    out.push(
      `| ${code(type)} | ${where.map(code).join(", ")} | ${cell(input.eventDocs[type] ?? "")} |`,
    );
  }
  out.push(
    "",
    "XState also sends the machine `xstate.after.*` (a delay ran out) and `xstate.done.actor.*` /",
    "`xstate.error.actor.*` (an invoked actor resolved or rejected); the transitions table names",
    "them by delay and actor.",
    "",
    "## Delays",
    "",
    "| delay | default | set by |",
    "| --- | --- | --- |",
  );
  for (const d of chart.delays) {
    const options = (input.delayOptions[d.name] ?? []).map(code).join(", ");
    out.push(`| ${code(d.name)} | ${d.value} | ${options} |`);
  }

  out.push(
    "",
    "## Transitions",
    "",
    `${chart.transitions.length} transitions: one row per guarded candidate, in the order XState tries them.`,
    "",
    "| # | from | on | guard | to | actions |",
    "| --- | --- | --- | --- | --- | --- |",
  );
  chart.transitions.forEach((t, i) => {
    out.push(
      `| ${i + 1} | ${code(short(chart, t.source))} | ${cell(t.trigger)} | ${cell(guardLabel(t))} | ${targetText(chart, t)} | ${t.actions.map(code).join(", ")} |`,
    );
  });
  return `${out.join("\n")}\n`;
}
