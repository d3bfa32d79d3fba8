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

import ELK, { type ElkExtendedEdge, type ElkLabel, type ElkNode } from "elkjs/lib/elk.bundled.js";
import type { Chart, ChartState, ChartTransition } from "./chart.js";

const FONT = 12;
/** DejaVu Sans Mono's advance is 0.602 em; other monospace fonts are within a few %. */
const CHAR = FONT * 0.61;
const LINE = 16;
const PAD = 10;
const WRAP = 46;
/** Space between an arrow and its label's text. */
const LABEL_INSET = 5;

const width = (lines: readonly string[]) =>
  Math.ceil(Math.max(0, ...lines.map((l) => [...l].length)) * CHAR);
const r = (n: number) => Math.round(n * 10) / 10;
const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** `[guard]`, or `[else]` for the unguarded last candidate of a guarded event. */
export function guardLabel(t: ChartTransition): string {
  if (t.guard) return `[${t.guard}]`;
  return t.index > 0 ? "[else]" : "";
}

/** Words joined with `sep`, wrapped at `WRAP` characters (continuation lines indented). */
function wrap(words: readonly string[], sep: string): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    const next = line ? `${line}${sep}${word}` : word;
    if (line && [...next].length > WRAP) {
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
    const lines = wrap(triggers, " | ");
    const last = lines.pop() ?? "";
    // The guard follows the last trigger, or starts a line of its own when that would be too long.
    if (!guard) return [...lines, last];
    const joined = `${last} ${guard}`;
    return [...joined].length > WRAP ? [...lines, last, `  ${guard}`] : [...lines, joined];
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

interface Box {
  readonly state: ChartState;
  readonly lines: string[];
}

async function layout(chart: Chart) {
  const byId = new Map(chart.states.map((s) => [s.id, s]));
  const root = chart.states[0];
  if (!root) throw new Error("empty chart");
  const internal = new Map<string, ChartTransition[]>();
  const edges = new Map<string, ChartTransition[]>();
  for (const t of chart.transitions) {
    let target = t.targets[0];
    if (target === undefined) {
      internal.set(t.source, [...(internal.get(t.source) ?? []), t]);
      continue;
    }
    const ancestorOf = (a: string, b: string) => b.startsWith(`${a}.`);
    // "From any state of link" into one of link's own states: written in link's header, since
    // an arrow from a box to its own contents would pull that state above the flow.
    if (ancestorOf(t.source, target)) {
      internal.set(t.source, [...(internal.get(t.source) ?? []), t]);
      continue;
    }
    // Re-entering an ancestor (closing → link) starts again at its initial state: draw that.
    if (ancestorOf(target, t.source)) {
      let s = byId.get(target);
      while (s?.initial) s = byId.get(`${s.id}.${s.initial}`);
      if (s) target = s.id;
    }
    const key = `${t.source}->${target}`;
    edges.set(key, [...(edges.get(key) ?? []), t]);
  }

  const boxes = new Map<string, Box>();
  const backEdges = new Set<string>();
  const node = (state: ChartState): ElkNode => {
    const lines = stateLines(state, internal.get(state.id) ?? []);
    boxes.set(state.id, { state, lines });
    const header = LINE + 8 + lines.length * LINE;
    const w = Math.max(width([state.key]) + 24, width(lines)) + 2 * PAD;
    if (state.children.length === 0) {
      return { id: state.id, width: w, height: header + PAD };
    }
    return {
      id: state.id,
      layoutOptions: {
        "elk.padding": `[top=${header + PAD},left=${PAD * 2},bottom=${PAD * 2},right=${PAD * 2}]`,
        "elk.nodeSize.constraints": "MINIMUM_SIZE",
        "elk.nodeSize.minimum": `(${w}, ${header + 40})`,
      },
      children: state.children.map((c) => byId.get(c)).flatMap((c) => (c ? [node(c)] : [])),
    };
  };
  const rootLines = stateLines(root, internal.get(root.id) ?? []).map(
    (l) => `in every state: ${l}`,
  );

  // States are declared in the flow's order. An arrow pointing back in that order (a retry,
  // a disconnect) is laid out reversed, so ELK ranks states by the flow, not by the arrows.
  const order = new Map(chart.states.map((s, i) => [s.id, i]));
  const elkEdges: ElkExtendedEdge[] = [...edges].map(([key, list], i) => {
    const lines = edgeLines(list);
    const [source, target] = key.split("->") as [string, string];
    const back = (order.get(source) ?? 0) > (order.get(target) ?? 0);
    backEdges.add(`edge${i}`);
    if (!back) backEdges.delete(`edge${i}`);
    const label: ElkLabel = {
      id: `label${i}`,
      text: lines.join("\n"),
      width: width(lines) + 2 * LABEL_INSET,
      height: lines.length * LINE,
      // Near the state the arrow leaves: that is where a reader looks for it.
      layoutOptions: { "elk.edgeLabels.placement": back ? "HEAD" : "TAIL" },
    };
    return {
      id: `edge${i}`,
      sources: [back ? target : source],
      targets: [back ? source : target],
      labels: [label],
    };
  });

  const graph: ElkNode = {
    id: "diagram",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "DOWN",
      "elk.hierarchyHandling": "INCLUDE_CHILDREN",
      "elk.edgeRouting": "ORTHOGONAL",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
      // States are declared in the flow's order: arrows pointing back up are the retries.
      "elk.layered.cycleBreaking.strategy": "MODEL_ORDER",
      "elk.layered.nodePlacement.strategy": "NETWORK_SIMPLEX",
      "elk.spacing.nodeNode": "36",
      "elk.layered.spacing.nodeNodeBetweenLayers": "36",
      "elk.spacing.edgeLabel": "4",
      "elk.spacing.edgeEdge": "14",
      "elk.layered.spacing.edgeEdgeBetweenLayers": "14",
      "elk.layered.spacing.edgeNodeBetweenLayers": "16",
      "elk.edgeLabels.placement": "TAIL",
      "elk.json.shapeCoords": "ROOT",
      "elk.json.edgeCoords": "ROOT",
      "elk.padding": `[top=${PAD * 2 + rootLines.length * LINE},left=${PAD * 2},bottom=${PAD * 2},right=${PAD * 2}]`,
    },
    children: root.children.map((c) => byId.get(c)).flatMap((c) => (c ? [node(c)] : [])),
    edges: elkEdges,
  };

  const laid = await new ELK().layout(graph);
  return { laid, boxes, rootLines, backEdges };
}

export async function toSvg(chart: Chart): Promise<string> {
  const { laid, boxes, rootLines, backEdges } = await layout(chart);
  return render(laid, boxes, rootLines, backEdges);
}

interface Rect {
  readonly what: string;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/**
 * Pairs of things drawn on top of each other: two arrow labels, or a label
 * and a state's box (a compound state only counts by its header, where its
 * text is). Empty for a readable diagram; the drift test checks it.
 */
export async function overlaps(chart: Chart): Promise<string[]> {
  const { laid, boxes } = await layout(chart);
  const rects: Rect[] = [];
  const visit = (n: ElkNode) => {
    for (const child of n.children ?? []) {
      const box = boxes.get(child.id);
      const compound = (child.children ?? []).length > 0;
      const h = compound ? LINE * (box?.lines.length ?? 0) + LINE + 8 : (child.height ?? 0);
      rects.push({
        what: `state ${child.id}`,
        x: child.x ?? 0,
        y: child.y ?? 0,
        w: child.width ?? 0,
        h,
      });
      visit(child);
    }
  };
  visit(laid);
  for (const edge of laid.edges ?? []) {
    for (const label of edge.labels ?? []) {
      rects.push({
        what: `label "${(label.text ?? "").split("\n")[0]}"`,
        x: label.x ?? 0,
        y: label.y ?? 0,
        w: label.width ?? 0,
        h: label.height ?? 0,
      });
    }
  }
  const hit = (a: Rect, b: Rect) =>
    a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  const found: string[] = [];
  rects.forEach((a, i) => {
    for (const b of rects.slice(i + 1)) {
      const nested = a.what.startsWith("state") && b.what.startsWith("state");
      if (!nested && hit(a, b)) found.push(`${a.what} overlaps ${b.what}`);
    }
  });
  return found;
}

function render(
  laid: ElkNode,
  boxes: Map<string, Box>,
  rootLines: readonly string[],
  backEdges: ReadonlySet<string>,
): string {
  const W = r((laid.width ?? 0) + 0);
  const H = r(laid.height ?? 0);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="'DejaVu Sans Mono', Menlo, Consolas, monospace" font-size="${FONT}">`,
    "<!-- Generated from src/machines/connection.machine.ts by `npm run diagrams`. Do not edit. -->",
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#444"/></marker></defs>',
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
  ];
  rootLines.forEach((line, i) => {
    out.push(`<text x="${PAD * 2}" y="${PAD * 2 + i * LINE}" fill="#555">${esc(line)}</text>`);
  });
  const nodes: string[] = [];
  const visit = (n: ElkNode) => {
    for (const child of n.children ?? []) {
      const box = boxes.get(child.id);
      if (box) nodes.push(...stateSvg(child, box));
      visit(child);
    }
  };
  visit(laid);
  out.push(...nodes);
  // Every arrow before any label, so no line is drawn across a label.
  for (const edge of laid.edges ?? []) out.push(...pathSvg(edge, backEdges.has(edge.id)));
  for (const edge of laid.edges ?? []) out.push(...labelSvg(edge));
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

function stateSvg(n: ElkNode, box: Box): string[] {
  const x = r(n.x ?? 0);
  const y = r(n.y ?? 0);
  const compound = box.state.children.length > 0;
  const fill = compound ? (box.state.depth % 2 ? "#f4f7fb" : "#eaf0f7") : "#ffffff";
  const out = [
    `<g id="${esc(box.state.id)}">`,
    `<rect x="${x}" y="${y}" width="${r(n.width ?? 0)}" height="${r(n.height ?? 0)}" rx="8" fill="${fill}" stroke="#35587a" stroke-width="1.4"/>`,
    `<text x="${r(x + PAD)}" y="${r(y + LINE + 2)}" font-weight="bold" fill="#1d3550">${esc(box.state.key)}${box.state.type === "final" ? " (final)" : ""}</text>`,
  ];
  box.lines.forEach((line, i) => {
    out.push(
      `<text x="${r(x + PAD)}" y="${r(y + LINE * (i + 2) + 4)}" fill="#444">${esc(line)}</text>`,
    );
  });
  out.push("</g>");
  return out;
}

function pathSvg(edge: ElkExtendedEdge, back: boolean): string[] {
  return (edge.sections ?? []).map((section) => {
    const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
    const d = points.map((p, i) => `${i ? "L" : "M"} ${r(p.x)} ${r(p.y)}`).join(" ");
    return `<path d="${d}" fill="none" stroke="#444" stroke-width="1.2" ${back ? "marker-start" : "marker-end"}="url(#arrow)"/>`;
  });
}

function labelSvg(edge: ElkExtendedEdge): string[] {
  const out: string[] = [];
  for (const label of edge.labels ?? []) {
    const x = r(label.x ?? 0);
    const y = r(label.y ?? 0);
    const lines = (label.text ?? "").split("\n");
    out.push(
      `<rect x="${x}" y="${y}" width="${r(label.width ?? 0)}" height="${r(label.height ?? 0)}" fill="#ffffff"/>`,
    );
    lines.forEach((line, i) => {
      out.push(
        `<text x="${r(x + LABEL_INSET)}" y="${r(y + LINE * (i + 1) - 4)}" fill="#7a3b00">${esc(line)}</text>`,
      );
    });
  }
  return out;
}
