/**
 * A `Chart` as an SVG, laid out by ELK (elkjs, layered, orthogonal edges)
 * and written here as plain SVG text — no browser. Text is monospace so its
 * width is known without measuring; every number is rounded, so the same
 * chart always gives the same bytes.
 *
 * Arrows between the same two states are merged into one with a line per
 * guard; transitions without a target (internal actions, ignored events)
 * are written inside the state's box, UML style.
 */

import type { Chart, ChartState, ChartTransition } from "./chart.js";
import {
  bestLayout,
  crossingCount,
  type Diagram,
  type DiagramEdge,
  type DiagramNode,
  type Laid,
  overlapList,
  renderSvg,
} from "./draw.js";

/** Longest line inside a box. */
const WRAP = 46;
/** Longest line of an arrow's label: labels sit between the boxes, so narrow ones keep the diagram narrow. */
const EDGE_WRAP = 30;

/** `[guard]`, or `[else]` for the unguarded last candidate of a guarded event. */
export function guardLabel(t: ChartTransition): string {
  if (t.guard) return `[${t.guard}]`;
  return t.index > 0 ? "[else]" : "";
}

/** Words joined with `sep`, wrapped at `max` characters (continuation lines indented). */
function wrap(words: readonly string[], sep: string, max = WRAP): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    const next = line ? `${line}${sep}${word}` : word;
    if (line && [...next].length > max) {
      lines.push(`${line}${sep.trimEnd()}`);
      line = `  ${word}`;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

/** One label for every transition from `source` to `target`: triggers grouped by guard. */
function edgeLines(transitions: readonly ChartTransition[]): string[] {
  const byGuard = new Map<string, string[]>();
  for (const t of transitions) {
    const guard = guardLabel(t);
    const list = byGuard.get(guard) ?? [];
    if (!list.includes(t.trigger)) list.push(t.trigger);
    byGuard.set(guard, list);
  }
  return [...byGuard].flatMap(([guard, triggers]) => {
    const lines = wrap(triggers, " | ", EDGE_WRAP);
    const last = lines.pop() ?? "";
    // The guard follows the last trigger, or starts a line of its own when that would be too long.
    if (!guard) return [...lines, last];
    const joined = `${last} ${guard}`;
    if ([...joined].length <= EDGE_WRAP) return [...lines, joined];
    return [...lines, last, ...wrap(guard.split(" "), " ", EDGE_WRAP).map((l) => `  ${l}`)];
  });
}

/** The lines inside a state's box under its name: entry, invoke, internal and ignored events. */
function stateLines(state: ChartState, internal: readonly ChartTransition[]): string[] {
  const lines: string[] = [];
  // `after` timers are XState's own raise/cancel actions: the arrows already show them.
  const own = (actions: readonly string[]) => actions.filter((a) => !a.startsWith("xstate."));
  if (own(state.entry).length) lines.push(`entry / ${own(state.entry).join(", ")}`);
  if (own(state.exit).length) lines.push(`exit / ${own(state.exit).join(", ")}`);
  for (const src of state.invokes) lines.push(`invoke ${src}`);
  for (const t of internal.filter((t) => !t.ignored)) {
    const guard = guardLabel(t);
    const target = t.targets[0];
    const effect = target ? `→ ${target.slice(state.id.length + 1)}` : `/ ${t.actions.join(", ")}`;
    lines.push(...wrap([`${t.trigger}${guard ? ` ${guard}` : ""}`, effect], " "));
  }
  const ignored = internal.filter((t) => t.ignored).map((t) => t.trigger);
  if (ignored.length) lines.push(...wrap(["ignores", ...ignored], " "));
  return lines;
}

const ancestorOf = (a: string, b: string) => b.startsWith(`${a}.`);

/** Where an arrow is drawn to: re-entering an ancestor (closing → link) starts at its initial state. */
export function drawnTarget(chart: Chart, source: string, target: string): string {
  if (!ancestorOf(target, source) && target !== source) {
    return target;
  }
  const byId = new Map(chart.states.map((s) => [s.id, s]));
  let s = byId.get(target);
  while (s?.initial) s = byId.get(`${s.id}.${s.initial}`);
  return s?.id ?? target;
}

const isMain = (t: ChartTransition) => t.meta.overview !== undefined && t.meta.from === undefined;

/**
 * The whole chart as a diagram. Arrows between the same two states are
 * merged into one with a line per guard. A guarded choice that several
 * states share (the same candidates, in the same order, to the same
 * targets: "out of retries → failed, else → backoff") is drawn once, as a
 * diamond each of them points to, instead of a pair of wires per state.
 * Transitions without a target (internal actions, ignored events) are
 * written inside the state's box, UML style. The page's flow (the
 * transitions in the overview) is drawn emphasised.
 */
export function fullDiagram(chart: Chart): Diagram {
  const byId = new Map(chart.states.map((s) => [s.id, s]));
  const root = chart.states[0];
  if (!root) throw new Error("empty chart");
  const internal = new Map<string, ChartTransition[]>();
  const groups = new Map<string, { source: string; list: [ChartTransition, string][] }>();
  for (const t of chart.transitions) {
    const target = t.targets[0];
    // "From any state of link" into one of link's own states: written in link's header, since
    // an arrow from a box to its own contents would pull that state above the flow.
    if (target === undefined || ancestorOf(t.source, target)) {
      internal.set(t.source, [...(internal.get(t.source) ?? []), t]);
      continue;
    }
    const key = `${t.source}|${t.eventType}`;
    const group = groups.get(key) ?? { source: t.source, list: [] };
    group.list.push([t, drawnTarget(chart, t.source, target)]);
    groups.set(key, group);
  }

  // The same guarded candidates on several states: one choice.
  const signature = (list: [ChartTransition, string][]) =>
    new Set(list.map(([, target]) => target)).size > 1
      ? list.map(([t, target]) => `${guardLabel(t)}→${target}`).join(" ")
      : "";
  const sourcesOf = new Map<string, Set<string>>();
  for (const { source, list } of groups.values()) {
    const sig = signature(list);
    if (sig) sourcesOf.set(sig, (sourcesOf.get(sig) ?? new Set()).add(source));
  }
  const choices = new Map<string, string>();
  for (const [sig, sources] of sourcesOf) {
    if (sources.size > 1) choices.set(sig, `choice-${choices.size + 1}`);
  }

  const order = new Map<string, number>(chart.states.map((s, i) => [s.id, i]));
  const edges = new Map<string, { source: string; target: string; list: ChartTransition[] }>();
  const add = (source: string, target: string, t: ChartTransition) => {
    const key = `${source}->${target}`;
    const edge = edges.get(key) ?? { source, target, list: [] };
    if (!edge.list.includes(t)) edge.list.push(t);
    edges.set(key, edge);
  };
  const choiceTargets = new Map<string, [ChartTransition, string][]>();
  for (const { source, list } of groups.values()) {
    const choice = choices.get(signature(list));
    if (!choice) {
      for (const [t, target] of list) add(source, target, t);
      continue;
    }
    for (const [t, target] of list) {
      add(source, choice, t);
      add(choice, target, t);
    }
    if (!choiceTargets.has(choice)) choiceTargets.set(choice, list);
  }
  // A choice sits in the innermost state holding every state that points to it (outside a
  // group state that is one of them), ranked just before the earliest state it leads to.
  const choicesIn = new Map<string, DiagramNode[]>();
  for (const [choice, list] of choiceTargets) {
    order.set(choice, Math.min(...list.map(([, target]) => order.get(target) ?? 0)) - 0.5);
    const sources = [...edges.values()].filter((e) => e.target === choice).map((e) => e.source);
    let home = byId.get(sources[0] ?? root.id)?.parent ?? root.id;
    while (home !== root.id && !sources.every((s) => ancestorOf(home, s))) {
      home = byId.get(home)?.parent ?? root.id;
    }
    const node: DiagramNode = {
      id: choice,
      title: "",
      lines: [],
      kind: "choice",
      children: [],
      main: false,
    };
    choicesIn.set(home, [...(choicesIn.get(home) ?? []), node]);
  }

  const diagramEdges: DiagramEdge[] = [];
  const toChoice = new Map<string, string[]>();
  for (const [key, { source, target, list }] of edges) {
    const intoChoice = choiceTargets.has(target);
    const fromChoice = choiceTargets.get(source);
    // Into a choice: the arrow carries no label; the state's box says which events lead to it.
    if (intoChoice) {
      const triggers = [...new Set(list.map((t) => t.trigger))];
      const lines = wrap(triggers, " | ");
      lines.push(`${lines.pop() ?? ""} → ◇`);
      toChoice.set(source, [...(toChoice.get(source) ?? []), ...lines]);
    }
    const lines = fromChoice ? guardsTo(fromChoice, target) : intoChoice ? [] : edgeLines(list);
    diagramEdges.push({
      id: `edge:${key}`,
      source,
      target,
      lines,
      main: !intoChoice && !fromChoice && list.some(isMain),
      back: (order.get(source) ?? 0) > (order.get(target) ?? 0),
    });
  }

  const childrenOf = (state: ChartState): DiagramNode[] => [
    ...state.children.map((c) => byId.get(c)).flatMap((c) => (c ? [node(c)] : [])),
    ...(choicesIn.get(state.id) ?? []),
  ];
  const node = (state: ChartState): DiagramNode => ({
    id: state.id,
    title: `${state.key}${state.type === "final" ? " (final)" : ""}`,
    lines: [...stateLines(state, internal.get(state.id) ?? []), ...(toChoice.get(state.id) ?? [])],
    kind: "state",
    main: false,
    children: childrenOf(state),
  });
  return {
    nodes: childrenOf(root),
    edges: diagramEdges,
    note: stateLines(root, internal.get(root.id) ?? []).map((l) => `in every state: ${l}`),
    direction: "DOWN",
    fontSize: 12,
    // Declaration order ranks the states (back arrows are reversed above); within a rank,
    // ELK's own ordering crosses fewer arrows than declaration order does.
    options: { "elk.layered.considerModelOrder.strategy": "NONE" },
  };
}

/** The guards that lead from a choice to `target`, one line each. */
function guardsTo(list: readonly [ChartTransition, string][], target: string): string[] {
  return list.filter(([, to]) => to === target).map(([t]) => guardLabel(t));
}

const cache = new WeakMap<Chart, Promise<Laid>>();

function laidOut(chart: Chart): Promise<Laid> {
  let laid = cache.get(chart);
  if (!laid) {
    laid = bestLayout(fullDiagram(chart));
    cache.set(chart, laid);
  }
  return laid;
}

export async function toSvg(chart: Chart, source = "the machine"): Promise<string> {
  return renderSvg(await laidOut(chart), source);
}

/** Labels on labels, boxes or arrows, and arrows through boxes: empty for a readable diagram. */
export async function overlaps(chart: Chart): Promise<string[]> {
  return overlapList(await laidOut(chart));
}

/** How many times one arrow of the full diagram crosses another. */
export async function crossings(chart: Chart): Promise<number> {
  return crossingCount(await laidOut(chart));
}
