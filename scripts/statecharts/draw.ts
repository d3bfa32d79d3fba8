/**
 * A diagram (boxes, arrows, labels) laid out by ELK (elkjs, layered,
 * orthogonal arrows) and written as plain SVG text — no browser. Text is
 * monospace so its width is known without measuring; every number is
 * rounded, so the same diagram always gives the same bytes.
 *
 * The SVG carries its own colours for light and dark (a `prefers-color-scheme`
 * style block and an opaque background), so it reads on either GitHub theme
 * and inside a page (the live viewer inlines it; its class names are
 * prefixed `sc-` so they cannot clash with the page's).
 *
 * `overlaps` and `crossings` measure the laid-out diagram: the tests keep
 * the first empty and the second from growing.
 */

import ELK, { type ElkExtendedEdge, type ElkLabel, type ElkNode } from "elkjs/lib/elk.bundled.js";

export interface DiagramNode {
  /** Becomes the box's `<g id>`: a state's XState id, which the live viewer lights. */
  readonly id: string;
  /** Bold first line (a state's key); empty for a choice. */
  readonly title: string;
  readonly lines: readonly string[];
  /** `choice`: a small diamond where guarded arrows shared by several states part. */
  readonly kind: "state" | "choice";
  readonly children: readonly DiagramNode[];
  /** Part of the main flow: drawn emphasised. */
  readonly main: boolean;
}

export interface DiagramEdge {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  readonly lines: readonly string[];
  readonly main: boolean;
  /** Points against the flow (a retry, a return): laid out reversed so it does not rank the states. */
  readonly back: boolean;
}

export interface Diagram {
  readonly nodes: readonly DiagramNode[];
  readonly edges: readonly DiagramEdge[];
  /** Text above everything (transitions of the root state). */
  readonly note: readonly string[];
  readonly direction: "DOWN" | "RIGHT";
  readonly fontSize: number;
  /** Extra ELK options for the root graph. */
  readonly options?: Readonly<Record<string, string>>;
}

/** DejaVu Sans Mono's advance is 0.602 em; other monospace fonts are within a few %. */
const ADVANCE = 0.61;
const PAD = 10;
/** Space between an arrow and its label's text. */
const LABEL_INSET = 5;
const CHOICE = 18;

const r = (n: number) => Math.round(n * 10) / 10;
export const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

interface Metrics {
  readonly font: number;
  readonly line: number;
  width(lines: readonly string[]): number;
}

function metrics(font: number): Metrics {
  return {
    font,
    line: Math.round(font * 1.34),
    width: (lines) => Math.ceil(Math.max(0, ...lines.map((l) => [...l].length)) * font * ADVANCE),
  };
}

/** Colours, light then dark. Dark ones are GitHub's dark palette, so the picture sits in the page. */
const STYLE = `<style>
.sc-bg{fill:#ffffff}
.sc-g0{fill:#eef3f9;stroke:#5b7a99}
.sc-g1{fill:#f7f9fc;stroke:#5b7a99}
.sc-box{fill:#ffffff;stroke:#35587a}
.sc-box.sc-main{fill:#fff8e6;stroke:#b35c00}
.sc-choice{fill:#ffffff;stroke:#35587a}
.sc-title{fill:#1d3550;font-weight:bold}
.sc-text{fill:#3d4650}
.sc-note{fill:#57606a}
.sc-edge{fill:none;stroke:#57606a;stroke-width:1.2}
.sc-edge.sc-main{stroke:#b35c00;stroke-width:2.4}
.sc-tip{fill:#57606a}
.sc-tip.sc-main{fill:#b35c00}
.sc-lbg{fill:#ffffff;fill-opacity:0.92}
.sc-label{fill:#7a3b00}
.sc-label.sc-main{fill:#953800;font-weight:bold}
@media (prefers-color-scheme: dark){
.sc-bg{fill:#0d1117}
.sc-g0{fill:#161b22;stroke:#6e7f92}
.sc-g1{fill:#1c2330;stroke:#6e7f92}
.sc-box{fill:#0d1117;stroke:#8fb3d9}
.sc-box.sc-main{fill:#2a1f0d;stroke:#f0a450}
.sc-choice{fill:#0d1117;stroke:#8fb3d9}
.sc-title{fill:#cfe2f7}
.sc-text{fill:#c9d1d9}
.sc-note{fill:#9da7b3}
.sc-edge{stroke:#8b949e}
.sc-edge.sc-main{stroke:#f0a450}
.sc-tip{fill:#8b949e}
.sc-tip.sc-main{fill:#f0a450}
.sc-lbg{fill:#0d1117}
.sc-label{fill:#e3b27a}
.sc-label.sc-main{fill:#ffc680}
}
</style>`;

export interface Laid {
  readonly diagram: Diagram;
  readonly graph: ElkNode;
  readonly nodes: ReadonlyMap<string, DiagramNode>;
  readonly edges: ReadonlyMap<string, DiagramEdge>;
  readonly m: Metrics;
}

const headerLines = (n: DiagramNode) => (n.title ? 1 : 0) + n.lines.length;

export async function layoutDiagram(diagram: Diagram): Promise<Laid> {
  const m = metrics(diagram.fontSize);
  const nodes = new Map<string, DiagramNode>();
  /** Extra right padding of a group state whose header text is wider than its contents. */
  const widen = new Map<string, number>();
  const elkNode = (n: DiagramNode): ElkNode => {
    nodes.set(n.id, n);
    if (n.kind === "choice") return { id: n.id, width: CHOICE, height: CHOICE };
    const header = m.line * headerLines(n) + 8;
    const w = textWidth(n, m);
    if (n.children.length === 0) return { id: n.id, width: w, height: header + PAD };
    return {
      id: n.id,
      layoutOptions: {
        "elk.padding": `[top=${header + PAD},left=${PAD * 2},bottom=${PAD * 2},right=${PAD * 2 + (widen.get(n.id) ?? 0)}]`,
        "elk.nodeSize.constraints": "MINIMUM_SIZE",
        "elk.nodeSize.minimum": `(${w}, ${header + 40})`,
      },
      children: n.children.map(elkNode),
    };
  };
  const edges = new Map(diagram.edges.map((e) => [e.id, e]));
  const elkEdges: ElkExtendedEdge[] = diagram.edges.map((e) => {
    const labels: ElkLabel[] = e.lines.length
      ? [
          {
            id: `${e.id}.label`,
            text: e.lines.join("\n"),
            width: m.width(e.lines) + 2 * LABEL_INSET,
            height: e.lines.length * m.line + 4,
          },
        ]
      : [];
    return {
      id: e.id,
      sources: [e.back ? e.target : e.source],
      targets: [e.back ? e.source : e.target],
      labels,
      layoutOptions: (e.main
        ? { "elk.layered.priority.straightness": "10", "elk.layered.priority.direction": "10" }
        : {}) as Record<string, string>,
    };
  });
  const spacing = String(Math.round(m.font * 2.2));
  const graph = (): ElkNode => ({
    id: "diagram",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": diagram.direction,
      "elk.hierarchyHandling": "INCLUDE_CHILDREN",
      "elk.edgeRouting": "ORTHOGONAL",
      // Labels are placed by the layering itself, between layers: no label sits on a wire.
      "elk.edgeLabels.placement": "CENTER",
      "elk.edgeLabels.inline": "false",
      "elk.layered.cycleBreaking.strategy": "MODEL_ORDER",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
      "elk.layered.nodePlacement.strategy": "NETWORK_SIMPLEX",
      "elk.layered.thoroughness": "40",
      "elk.spacing.nodeNode": spacing,
      "elk.layered.spacing.nodeNodeBetweenLayers": spacing,
      "elk.spacing.edgeLabel": "3",
      "elk.spacing.edgeEdge": "12",
      "elk.spacing.edgeNode": "14",
      "elk.layered.spacing.edgeEdgeBetweenLayers": "12",
      "elk.layered.spacing.edgeNodeBetweenLayers": "14",
      "elk.json.shapeCoords": "ROOT",
      "elk.json.edgeCoords": "ROOT",
      "elk.padding": `[top=${PAD * 2 + diagram.note.length * m.line},left=${PAD * 2},bottom=${PAD * 2},right=${PAD * 2}]`,
      ...diagram.options,
    },
    children: diagram.nodes.map(elkNode),
    edges: structuredClone(elkEdges),
  });
  const elk = new ELK();
  let laid = await elk.layout(graph());
  // ELK sizes a group state by its contents: a header wider than them gets the difference
  // as right padding, and the layout runs again.
  for (const n of elkNodes(laid)) {
    const node = nodes.get(n.id);
    const missing = node && node.children.length > 0 ? textWidth(node, m) - (n.width ?? 0) : 0;
    if (missing > 0) widen.set(n.id, Math.ceil(missing));
  }
  if (widen.size > 0) laid = await elk.layout(graph());
  return { diagram, graph: laid, nodes, edges, m };
}

/** The width a box needs for its text. */
function textWidth(n: DiagramNode, m: Metrics): number {
  return Math.max(m.width([n.title]) + 24, m.width(n.lines)) + 2 * PAD;
}

interface Rect {
  readonly what: string;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

interface Point {
  readonly x: number;
  readonly y: number;
}

interface Segment {
  readonly edge: string;
  readonly a: Point;
  readonly b: Point;
}

function* elkNodes(n: ElkNode): Generator<ElkNode> {
  for (const child of n.children ?? []) {
    yield child;
    yield* elkNodes(child);
  }
}

function segments(laid: Laid): Segment[] {
  const out: Segment[] = [];
  for (const edge of laid.graph.edges ?? []) {
    for (const section of edge.sections ?? []) {
      const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
      for (let i = 1; i < points.length; i++) {
        out.push({ edge: edge.id, a: points[i - 1] as Point, b: points[i] as Point });
      }
    }
  }
  return out;
}

/** A segment passes through the inside of a rectangle (touching its border does not count). */
function through(s: Segment, q: Rect, margin = 0.5): boolean {
  const x0 = q.x + margin;
  const x1 = q.x + q.w - margin;
  const y0 = q.y + margin;
  const y1 = q.y + q.h - margin;
  // Liang–Barsky clipping of the segment against the shrunken rectangle.
  let t0 = 0;
  let t1 = 1;
  const dx = s.b.x - s.a.x;
  const dy = s.b.y - s.a.y;
  for (const [p, v] of [
    [-dx, s.a.x - x0],
    [dx, x1 - s.a.x],
    [-dy, s.a.y - y0],
    [dy, y1 - s.a.y],
  ] as const) {
    if (p === 0) {
      if (v < 0) return false;
      continue;
    }
    const t = v / p;
    if (p < 0) t0 = Math.max(t0, t);
    else t1 = Math.min(t1, t);
    if (t0 > t1) return false;
  }
  return t1 - t0 > 1e-9;
}

/** Two segments cross at a point inside both (shared ends and collinear runs do not count). */
function cross(s: Segment, t: Segment): boolean {
  const d = (p: Point, q: Point, o: Point) => (q.x - p.x) * (o.y - p.y) - (q.y - p.y) * (o.x - p.x);
  const eps = 1e-6;
  const opposite = (u: number, v: number) => (u > eps && v < -eps) || (u < -eps && v > eps);
  return (
    opposite(d(t.a, t.b, s.a), d(t.a, t.b, s.b)) && opposite(d(s.a, s.b, t.a), d(s.a, s.b, t.b))
  );
}

/** How many times one arrow crosses another. */
export function crossingCount(laid: Laid): number {
  const all = segments(laid);
  let count = 0;
  all.forEach((s, i) => {
    for (const t of all.slice(i + 1)) if (s.edge !== t.edge && cross(s, t)) count++;
  });
  return count;
}

/**
 * What is drawn on top of what: a label on another label, on a box (a
 * compound box counts by its header, where its text is) or on an arrow, and
 * an arrow through a box it neither leaves nor enters. Empty for a readable
 * diagram.
 */
export function overlapList(laid: Laid): string[] {
  const boxes: (Rect & { id: string; leaf: boolean })[] = [];
  for (const n of elkNodes(laid.graph)) {
    const node = laid.nodes.get(n.id);
    const leaf = (n.children ?? []).length === 0;
    const h = leaf ? (n.height ?? 0) : laid.m.line * headerLines(node as DiagramNode) + 8;
    boxes.push({
      what: `state ${n.id}`,
      id: n.id,
      leaf,
      x: n.x ?? 0,
      y: n.y ?? 0,
      w: n.width ?? 0,
      h,
    });
  }
  const found: string[] = [];
  const labels: (Rect & { edge: string })[] = [];
  for (const edge of laid.graph.edges ?? []) {
    for (const label of edge.labels ?? []) {
      labels.push({
        what: `label "${(label.text ?? "").split("\n")[0]}"`,
        edge: edge.id,
        x: label.x ?? 0,
        y: label.y ?? 0,
        w: label.width ?? 0,
        h: label.height ?? 0,
      });
    }
  }
  for (const n of elkNodes(laid.graph)) {
    const node = laid.nodes.get(n.id);
    if (node?.kind === "state" && textWidth(node, laid.m) > (n.width ?? 0) + 0.5)
      found.push(`the text of state ${n.id} is wider than its box`);
  }
  const hit = (a: Rect, b: Rect) =>
    a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  labels.forEach((a, i) => {
    for (const b of [...labels.slice(i + 1), ...boxes]) {
      if (hit(a, b)) found.push(`${a.what} overlaps ${b.what}`);
    }
  });
  const drawn = segments(laid);
  for (const label of labels) {
    const over = new Set(drawn.filter((s) => through(s, label)).map((s) => s.edge));
    for (const edge of over) found.push(`${label.what} lies on arrow ${edge}`);
  }
  // A group state's header: its text, as wide as the text (an arrow may cross its border).
  for (const box of boxes.filter((b) => !b.leaf)) {
    const node = laid.nodes.get(box.id) as DiagramNode;
    const text = { ...box, w: textWidth(node, laid.m) - PAD };
    const over = new Set(drawn.filter((s) => through(s, text)).map((s) => s.edge));
    for (const edge of over) found.push(`arrow ${edge} runs through the header of ${box.what}`);
  }
  for (const box of boxes.filter((b) => b.leaf)) {
    const over = new Set(drawn.filter((s) => through(s, box)).map((s) => s.edge));
    for (const edge of over) {
      const e = laid.edges.get(edge);
      if (e && e.source !== box.id && e.target !== box.id)
        found.push(`arrow ${edge} runs through ${box.what}`);
    }
  }
  return found;
}

export function renderSvg(laid: Laid, source: string): string {
  const { m, diagram } = laid;
  const W = r(laid.graph.width ?? 0);
  const H = r(laid.graph.height ?? 0);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="'DejaVu Sans Mono', Menlo, Consolas, monospace" font-size="${m.font}">`,
    `<!-- Generated from ${source} by \`npm run diagrams\`. Do not edit. -->`,
    STYLE,
    "<defs>",
    ...["", " sc-main"].map(
      (cls, i) =>
        `<marker id="sc-arrow${i}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="${i ? 5 : 8}" markerHeight="${i ? 5 : 8}" orient="auto-start-reverse"><path class="sc-tip${cls}" d="M 0 0 L 10 5 L 0 10 z"/></marker>`,
    ),
    "</defs>",
    `<rect class="sc-bg" width="${W}" height="${H}"/>`,
  ];
  diagram.note.forEach((line, i) => {
    out.push(
      `<text class="sc-note" x="${PAD * 2}" y="${PAD * 2 + i * m.line}">${esc(line)}</text>`,
    );
  });
  let depth = 0;
  const visit = (n: ElkNode) => {
    for (const child of n.children ?? []) {
      const node = laid.nodes.get(child.id);
      if (node) out.push(...nodeSvg(child, node, depth, m));
      depth++;
      visit(child);
      depth--;
    }
  };
  visit(laid.graph);
  // Every arrow before any label, so no line is drawn across a label.
  for (const edge of laid.graph.edges ?? []) {
    const e = laid.edges.get(edge.id);
    const main = e?.main ? " sc-main" : "";
    for (const section of edge.sections ?? []) {
      const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
      const d = points.map((p, i) => `${i ? "L" : "M"} ${r(p.x)} ${r(p.y)}`).join(" ");
      out.push(
        `<path class="sc-edge${main}" d="${d}" ${e?.back ? "marker-start" : "marker-end"}="url(#sc-arrow${main ? 1 : 0})"/>`,
      );
    }
  }
  for (const edge of laid.graph.edges ?? []) {
    const main = laid.edges.get(edge.id)?.main ? " sc-main" : "";
    for (const label of edge.labels ?? []) {
      const x = r(label.x ?? 0);
      const y = r(label.y ?? 0);
      out.push(
        `<rect class="sc-lbg" x="${x}" y="${y}" width="${r(label.width ?? 0)}" height="${r(label.height ?? 0)}"/>`,
      );
      (label.text ?? "").split("\n").forEach((line, i) => {
        out.push(
          `<text class="sc-label${main}" x="${r(x + LABEL_INSET)}" y="${r(y + m.line * (i + 1) - 2)}">${esc(line)}</text>`,
        );
      });
    }
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

function nodeSvg(n: ElkNode, node: DiagramNode, depth: number, m: Metrics): string[] {
  const x = r(n.x ?? 0);
  const y = r(n.y ?? 0);
  const w = r(n.width ?? 0);
  const h = r(n.height ?? 0);
  if (node.kind === "choice") {
    const cx = r(x + w / 2);
    const cy = r(y + h / 2);
    return [
      `<g id="${esc(node.id)}" class="sc-choice-node">`,
      `<path class="sc-choice" stroke-width="1.4" d="M ${cx} ${y} L ${r(x + w)} ${cy} L ${cx} ${r(y + h)} L ${x} ${cy} Z"/>`,
      "</g>",
    ];
  }
  const compound = node.children.length > 0;
  const cls = compound ? `sc-g${depth % 2}` : `sc-box${node.main ? " sc-main" : ""}`;
  const out = [
    `<g id="${esc(node.id)}">`,
    `<rect class="${cls}" x="${x}" y="${y}" width="${w}" height="${h}" rx="8" stroke-width="${node.main ? 2 : 1.4}"/>`,
    `<text class="sc-title" x="${r(x + PAD)}" y="${r(y + m.line + 2)}">${esc(node.title)}</text>`,
  ];
  node.lines.forEach((line, i) => {
    out.push(
      `<text class="sc-text" x="${r(x + PAD)}" y="${r(y + m.line * (i + 2) + 4)}">${esc(line)}</text>`,
    );
  });
  out.push("</g>");
  return out;
}

/** Layouts tried, by ELK's random seed (its crossing minimisation starts from random orders). */
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

/**
 * The layout with the fewest overlaps, then the fewest crossings, among a
 * few seeds: the same machine always gives the same picture, and a change
 * to the machine does not have to be unlucky with one seed.
 */
export async function bestLayout(diagram: Diagram): Promise<Laid> {
  let best: { laid: Laid; score: number } | undefined;
  for (const seed of SEEDS) {
    const laid = await layoutDiagram({
      ...diagram,
      options: { ...diagram.options, "elk.randomSeed": String(seed) },
    });
    const score = overlapList(laid).length * 1000 + crossingCount(laid);
    if (!best || score < best.score) best = { laid, score };
    if (score === 0) break;
  }
  return (best as { laid: Laid }).laid;
}
