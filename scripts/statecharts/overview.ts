/**
 * The overview: the few states and transitions the machine itself marks
 * with `meta.overview`, as one small diagram; everything else is folded
 * away. Nothing here names a state: a state added later appears once its
 * node says `meta: { overview: true }`.
 *
 * - A state is shown when its `meta.overview` is `true` (flat: group states
 *   that are not marked are not drawn).
 * - A transition is shown when it has `meta.overview`: a string is its
 *   label; `true` on a delay (`after`) shows the delay's value, on anything
 *   else the trigger. It is drawn from the shown state named by `meta.from`
 *   (for a transition of a group of states, or one shared by several, that
 *   the overview shows once), else from the nearest shown state that
 *   contains its source; and to the nearest shown state of its target (a
 *   group's initial states are followed).
 *   Arrows with the same ends are merged.
 * - The longest cycle among the shown arrows is the main loop: drawn
 *   emphasised, laid out as a ring (down one side, up the other) so it reads
 *   as a loop.
 */

import type { Chart, ChartState, ChartTransition } from "./chart.js";
import {
  bestLayout,
  crossingCount,
  type Diagram,
  type DiagramEdge,
  type DiagramNode,
  overlapList,
  renderSvg,
} from "./draw.js";

const shown = (s: ChartState | undefined) => s?.meta.overview === true;

/** The overview's label for a transition it shows. */
function labelOf(chart: Chart, t: ChartTransition): string {
  const { overview } = t.meta;
  if (typeof overview === "string") return overview;
  const delay = /^xstate\.after\.([^.]+)\./.exec(t.eventType)?.[1];
  if (delay) return `after ${chart.delays.find((d) => d.name === delay)?.value ?? delay}`;
  return t.trigger;
}

export interface OverviewEdge {
  readonly source: string;
  readonly target: string;
  readonly labels: readonly string[];
  readonly transitions: readonly ChartTransition[];
}

export interface Overview {
  readonly states: readonly ChartState[];
  readonly edges: readonly OverviewEdge[];
  /** State ids of the main loop, starting where the way in from the initial state meets it. */
  readonly loop: readonly string[];
}

/** The overview's states, arrows and main loop, read from the chart's `meta.overview`. */
export function readOverview(chart: Chart): Overview {
  const byId = new Map(chart.states.map((s) => [s.id, s]));
  const states = chart.states.filter(shown);
  const up = (id: string | null): string | undefined => {
    for (let s = id ? byId.get(id) : undefined; s; s = s.parent ? byId.get(s.parent) : undefined) {
      if (shown(s)) return s.id;
    }
    return undefined;
  };
  const down = (id: string): string | undefined => {
    let s = byId.get(id);
    while (s && !shown(s) && s.initial) s = byId.get(`${s.id}.${s.initial}`);
    return shown(s) ? s?.id : up(id);
  };
  const edges = new Map<string, OverviewEdge>();
  for (const t of chart.transitions) {
    if (t.meta.overview === undefined || t.meta.overview === false) continue;
    const from = t.meta.from;
    const source =
      typeof from === "string"
        ? states.find((s) => s.key === from || s.id === from)?.id
        : up(t.source);
    if (!source) {
      throw new Error(
        `overview: ${t.key} has no shown state to start from: mark its source or name one in meta.from`,
      );
    }
    const target = t.targets[0] ? down(t.targets[0]) : undefined;
    if (!target || target === source) continue;
    const key = `${source}->${target}`;
    const edge = edges.get(key) ?? { source, target, labels: [], transitions: [] };
    const label = labelOf(chart, t);
    edges.set(key, {
      ...edge,
      labels: edge.labels.includes(label) ? edge.labels : [...edge.labels, label],
      transitions: [...edge.transitions, t],
    });
  }
  const list = [...edges.values()];
  return { states, edges: list, loop: mainLoop(chart, states, list) };
}

/** The longest simple cycle (ties: the first found in declaration order), rotated to its entry. */
function mainLoop(
  chart: Chart,
  states: readonly ChartState[],
  edges: readonly OverviewEdge[],
): string[] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
  let best: string[] = [];
  const walk = (path: string[]) => {
    const last = path.at(-1) as string;
    for (const n of next.get(last) ?? []) {
      if (n === path[0]) {
        if (path.length > best.length) best = [...path];
      } else if (
        !path.includes(n) &&
        states.findIndex((s) => s.id === n) > states.findIndex((s) => s.id === path[0])
      ) {
        // Each cycle is found once, from its first state in declaration order.
        walk([...path, n]);
      }
    }
  };
  for (const s of states) walk([s.id]);
  if (best.length === 0) return [];
  // Start where the way in from the initial state first reaches the loop.
  const seen = new Set<string>();
  const queue = [states[0]?.id ?? ""];
  const root = chart.states[0];
  const initial = root?.initial ? `${root.id}.${root.initial}` : undefined;
  if (initial && states.some((s) => s.id === initial)) queue.splice(0, 1, initial);
  while (queue.length) {
    const id = queue.shift() as string;
    const at = best.indexOf(id);
    if (at >= 0) return [...best.slice(at), ...best.slice(0, at)];
    if (seen.has(id)) continue;
    seen.add(id);
    queue.push(...(next.get(id) ?? []));
  }
  return best;
}

/** The overview as a diagram for `draw.ts`. */
export function overviewDiagram(chart: Chart): Diagram {
  const { states, edges, loop } = readOverview(chart);
  const order = new Map(chart.states.map((s, i) => [s.id, i]));
  // A ring: the first half of the loop runs down, the second half is laid out reversed, so
  // it runs back up beside it.
  const half = Math.ceil(loop.length / 2);
  const onLoop = (e: OverviewEdge) => {
    const i = loop.indexOf(e.source);
    return i >= 0 && loop[(i + 1) % loop.length] === e.target ? i : -1;
  };
  const nodes: DiagramNode[] = states.map((s) => ({
    id: s.id,
    title: s.key,
    lines: [],
    kind: "state",
    children: [],
    main: loop.includes(s.id),
  }));
  const diagramEdges: DiagramEdge[] = edges.map((e) => {
    const i = onLoop(e);
    return {
      id: `overview:${e.source}->${e.target}`,
      source: e.source,
      target: e.target,
      lines: e.labels,
      main: i >= 0,
      back: i >= 0 ? i >= half : (order.get(e.source) ?? 0) > (order.get(e.target) ?? 0),
    };
  });
  return {
    nodes,
    edges: diagramEdges,
    note: [],
    direction: "DOWN",
    fontSize: 14,
    // The arrows, as laid out, have no cycle left (the ring is split above): nothing to break.
    options: {
      "elk.layered.considerModelOrder.strategy": "NONE",
      "elk.layered.cycleBreaking.strategy": "GREEDY",
    },
  };
}

export async function toOverviewSvg(chart: Chart, source = "the machine"): Promise<string> {
  return renderSvg(await bestLayout(overviewDiagram(chart)), source);
}

/** What lies on what in the overview, and how often its arrows cross (see draw.ts). */
export async function overviewChecks(
  chart: Chart,
): Promise<{ overlaps: string[]; crossings: number }> {
  const laid = await bestLayout(overviewDiagram(chart));
  return { overlaps: overlapList(laid), crossings: crossingCount(laid) };
}

/** The overview in words, for the picture's text alternative. */
export function overviewText(chart: Chart): string {
  const { edges, loop } = readOverview(chart);
  const key = (id: string) => id.split(".").at(-1) ?? id;
  const arrow = (e: OverviewEdge) => `${key(e.source)} → ${key(e.target)} (${e.labels.join(", ")})`;
  const inLoop = (e: OverviewEdge) => {
    const i = loop.indexOf(e.source);
    return i >= 0 && loop[(i + 1) % loop.length] === e.target;
  };
  const ring = loop.map((id, i) => {
    const e = edges.find((x) => x.source === id && x.target === loop[(i + 1) % loop.length]);
    return `${key(id)} —${e?.labels.join(", ") ?? ""}→`;
  });
  const beside = edges.filter((e) => !inLoop(e)).map(arrow);
  return `Overview. The loop: ${ring.join(" ")} ${key(loop[0] ?? "")}. Beside it: ${beside.join("; ")}.`;
}
