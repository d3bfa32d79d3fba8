/**
 * The statechart as data: every state and every declared transition of a
 * machine, read from its definition (never listed by hand). The diagrams
 * (`npm run diagrams`) and the model-based tests' coverage table are both
 * built from this, so they cannot disagree about what "a transition" is.
 *
 * A transition here is one candidate of one event on one state node, as
 * XState stores it: `link` handling `MQTT.REFUSED` has six guarded
 * candidates, so six transitions. That is also what XState reports as taken
 * (`@xstate.microstep` inspection events), which is how coverage is measured.
 */

import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from "xstate";
import { STATE_DESCRIPTIONS } from "../../src/machines/connection.descriptions.js";

export interface ChartState {
  /** XState id, e.g. `connection.session.link.connecting`. */
  readonly id: string;
  /** The state's own key, e.g. `connecting`. */
  readonly key: string;
  readonly parent: string | null;
  readonly type: string;
  readonly description: string;
  /** Key of the initial child, for compound states. */
  readonly initial: string | null;
  readonly children: readonly string[];
  readonly depth: number;
  readonly entry: readonly string[];
  readonly exit: readonly string[];
  /** Invoked actors by their source name. */
  readonly invokes: readonly string[];
  /** The state node's `meta`, as declared (`{ overview: true }` puts it in the overview). */
  readonly meta: Readonly<Record<string, unknown>>;
}

export type TriggerKind = "event" | "after" | "done" | "error";

export interface ChartTransition {
  /** Stable key: `source|eventType|candidate index`. */
  readonly key: string;
  readonly source: string;
  /** The event type exactly as XState sees it (`xstate.after.CONNECT_TIMEOUT.<state id>` …). */
  readonly eventType: string;
  readonly kind: TriggerKind;
  /** What a reader sees: `MQTT.REFUSED`, `after REFRESH_WAIT (2 s)`, `refreshCredentials done`. */
  readonly trigger: string;
  /** `isAuthRefusal and isOutOfAuthRetries`, or null when unguarded. */
  readonly guard: string | null;
  readonly targets: readonly string[];
  readonly actions: readonly string[];
  readonly reenter: boolean;
  /** No target and no action: the event is explicitly ignored in this state (blocks the parent's handler). */
  readonly ignored: boolean;
  /** Position among the candidates for this event on this state (guard order). */
  readonly index: number;
  /** The transition's `meta`, as declared (`overview`, `from`: see overview.ts). */
  readonly meta: Readonly<Record<string, unknown>>;
}

export interface ChartDelay {
  readonly name: string;
  /** `2 s`, or `backoff 1 s … 60 s` for delays drawn by the backoff. */
  readonly value: string;
}

export interface Chart {
  readonly id: string;
  readonly states: readonly ChartState[];
  readonly transitions: readonly ChartTransition[];
  readonly delays: readonly ChartDelay[];
}

/** Human text for a guard, including `and([...])` / `not(...)` combinators. */
export function guardText(guard: unknown): string {
  if (typeof guard === "string") return guard;
  if (typeof guard === "object" && guard !== null && "type" in guard) {
    return String((guard as { type: unknown }).type);
  }
  if (typeof guard === "function") {
    const g = guard as { check?: { name?: string }; guards?: unknown[] };
    const parts = (g.guards ?? []).map(guardText);
    switch (g.check?.name) {
      case "checkAnd":
        return parts.join(" and ");
      case "checkOr":
        return parts.join(" or ");
      case "checkNot":
        return `not ${parts[0] ?? "?"}`;
    }
    return guard.name || "inline guard";
  }
  return "?";
}

function actionName(action: unknown): string {
  if (typeof action === "string") return action;
  if (typeof action === "object" && action !== null && "type" in action) {
    return String((action as { type: unknown }).type);
  }
  if (typeof action === "function") {
    const type = (action as { type?: unknown }).type;
    return typeof type === "string" ? type : action.name || "inline action";
  }
  return "?";
}

/** `2000` → `2 s`, `500` → `0.5 s`. */
export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** Every state node of `node`, depth first, in declaration order (the flow's order). */
function walk(node: AnyStateNode, depth: number, out: [AnyStateNode, number][]): void {
  out.push([node, depth]);
  for (const child of Object.values(node.states) as AnyStateNode[]) walk(child, depth + 1, out);
}

function triggerOf(
  node: AnyStateNode,
  eventType: string,
  delayValue: (name: string) => string,
): { kind: TriggerKind; trigger: string } {
  const after = /^xstate\.after\.([^.]+)\./.exec(eventType);
  if (after?.[1]) {
    const name = after[1];
    return { kind: "after", trigger: `after ${name} (${delayValue(name)})` };
  }
  const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(eventType);
  if (actor?.[1] && actor[2]) {
    const invoke = node.invoke.find((i) => i.id === actor[2]);
    const src = typeof invoke?.src === "string" ? invoke.src : (invoke?.id ?? actor[2]);
    const kind = actor[1] === "done" ? "done" : "error";
    return { kind, trigger: `${src} ${kind}` };
  }
  return { kind: "event", trigger: eventType };
}

/**
 * Reads `machine` into a `Chart`. `delayValue` turns a delay name into the
 * text shown for it (see `defaultDelays`); states and transitions come out in
 * declaration order, so the same machine always gives the same chart.
 */
export function readChart(
  machine: AnyStateMachine,
  delayValues: Readonly<Record<string, string>> = {},
): Chart {
  const nodes: [AnyStateNode, number][] = [];
  walk(machine.root, 0, nodes);
  const delayValue = (name: string) => delayValues[name] ?? name;
  const states: ChartState[] = nodes.map(([node, depth]) => ({
    id: node.id,
    key: node.key,
    parent: node.parent?.id ?? null,
    type: node.type,
    description: node.description ?? STATE_DESCRIPTIONS[node.id] ?? "",
    initial:
      node.type === "compound" && node.initial?.target?.[0] ? node.initial.target[0].key : null,
    children: (Object.values(node.states) as AnyStateNode[]).map((c) => c.id),
    depth,
    entry: node.entry.map(actionName),
    exit: node.exit.map(actionName),
    invokes: node.invoke.map((i) => (typeof i.src === "string" ? i.src : i.id)),
    meta: { ...(node.meta as Record<string, unknown> | undefined) },
  }));
  const transitions: ChartTransition[] = [];
  for (const [node] of nodes) {
    for (const [eventType, candidates] of node.transitions as Map<
      string,
      AnyTransitionDefinition[]
    >) {
      candidates.forEach((t, index) => {
        const targets = (t.target ?? []).map((target: AnyStateNode) => target.id);
        const actions = t.actions.map(actionName);
        transitions.push({
          key: `${node.id}|${eventType}|${index}`,
          source: node.id,
          eventType,
          ...triggerOf(node, eventType, delayValue),
          guard: t.guard === undefined ? null : guardText(t.guard),
          targets,
          actions,
          reenter: t.reenter === true,
          ignored: targets.length === 0 && actions.length === 0,
          index,
          meta: { ...((t as { meta?: Record<string, unknown> }).meta ?? {}) },
        });
      });
    }
  }
  const names = [
    ...new Set(
      transitions.flatMap((t) => {
        const m = /^xstate\.after\.([^.]+)\./.exec(t.eventType);
        return m?.[1] ? [m[1]] : [];
      }),
    ),
  ];
  return {
    id: machine.root.id,
    states,
    transitions,
    delays: names.map((name) => ({ name, value: delayValue(name) })),
  };
}

/** The key XState's own transition object maps to (for coverage from inspection events). */
export function transitionKey(t: AnyTransitionDefinition): string {
  const source = t.source as AnyStateNode;
  const candidates = (source.transitions as Map<string, AnyTransitionDefinition[]>).get(
    t.eventType,
  );
  return `${source.id}|${t.eventType}|${candidates ? candidates.indexOf(t) : -1}`;
}
