/**
 * A `Chart` as a Mermaid `stateDiagram-v2` (rendered by GitHub and npm).
 * Compound states nest; each transition is one arrow labelled
 * `trigger [guard]`. Ignored events draw nothing (the README table lists
 * them); a targetless transition that runs actions is a self-loop.
 */

import type { Chart, ChartState, ChartTransition } from "./chart.js";

/** Mermaid ids must be unique and plain: the state key, qualified only if two states share it. */
export function mermaidIds(chart: Chart): Map<string, string> {
  const counts = new Map<string, number>();
  for (const s of chart.states) counts.set(s.key, (counts.get(s.key) ?? 0) + 1);
  return new Map(
    chart.states.map((s) => [
      s.id,
      (counts.get(s.key) ?? 0) > 1 ? s.id.replace(/\./g, "_") : s.key.replace(/\W/g, "_"),
    ]),
  );
}

/** `trigger [guard]`, with characters Mermaid reads as syntax left out. */
export function edgeLabel(t: ChartTransition): string {
  const text = t.guard ? `${t.trigger} [${t.guard}]` : t.trigger;
  return text.replace(/[;:#{}]/g, " ");
}

export function toMermaid(chart: Chart): string {
  const ids = mermaidIds(chart);
  const byId = new Map(chart.states.map((s) => [s.id, s]));
  const id = (stateId: string) => ids.get(stateId) ?? stateId;
  const lines = [
    "%% Generated from src/machines/connection.machine.ts by `npm run diagrams`. Do not edit.",
    "stateDiagram-v2",
  ];
  const root = chart.states[0];
  if (!root) return `${lines.join("\n")}\n`;

  // Arrows are written inside the innermost state that contains both ends, so each
  // composite block reads as its own small diagram.
  const owner = (t: ChartTransition): string => {
    const chain = (stateId: string): string[] => {
      const out: string[] = [];
      for (let s = byId.get(stateId); s; s = s.parent ? byId.get(s.parent) : undefined)
        out.unshift(s.id);
      return out;
    };
    const a = chain(t.source);
    const b = chain(t.targets[0] ?? t.source);
    let common = root.id;
    for (let i = 0; i < Math.min(a.length, b.length) && a[i] === b[i]; i++) {
      // A state cannot hold an arrow to itself from inside: use its parent.
      const candidate = a[i] as string;
      if (candidate !== t.source && candidate !== t.targets[0]) common = candidate;
    }
    return common;
  };
  const arrows = new Map<string, string[]>();
  for (const t of chart.transitions) {
    if (t.ignored || t.source === root.id) continue;
    const target = t.targets[0] ?? t.source;
    const list = arrows.get(owner(t)) ?? [];
    list.push(`${id(t.source)} --> ${id(target)} : ${edgeLabel(t)}`);
    arrows.set(owner(t), list);
  }

  const block = (state: ChartState, indent: string): void => {
    if (state.initial) {
      const initial = state.children.find((c) => byId.get(c)?.key === state.initial);
      if (initial) lines.push(`${indent}[*] --> ${id(initial)}`);
    }
    for (const childId of state.children) {
      const child = byId.get(childId);
      if (!child) continue;
      if (child.children.length > 0) {
        lines.push(`${indent}state ${id(child.id)} {`);
        block(child, `${indent}  `);
        lines.push(`${indent}}`);
      } else if (child.type === "final") {
        lines.push(`${indent}${id(child.id)} --> [*]`);
      }
    }
    for (const arrow of arrows.get(state.id) ?? []) lines.push(`${indent}${arrow}`);
  };
  block(root, "  ");
  return `${lines.join("\n")}\n`;
}
