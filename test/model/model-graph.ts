/**
 * Path generation from the production machine with `xstate/graph`.
 *
 * A scenario is one way a client can be configured that changes what a
 * guard answers (MQTT 3.1.1 or 5, with or without `onAuthFailure`,
 * `maxRetries` finite or not). For each, the machine is traversed with:
 * - concrete events: every event type the active states handle, with one
 *   payload per refusal category the protocol can carry;
 * - `serializeState`: the state value plus the retry counters clipped to the
 *   values a guard can tell apart (the counters are unbounded; unclipped they
 *   make the state space infinite — STACK.md).
 * `getShortestPaths` gives a path to every state; every edge of
 * `getAdjacencyMap` extends the shortest path to its source by one step, so
 * every transition the machine can take gets a path. Nothing is listed by
 * hand: a new state, event or guard branch yields new paths.
 */

import {
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createActor,
  type StateValue,
} from "xstate";
import { getAdjacencyMap, getShortestPaths } from "xstate/graph";
import { transitionKey } from "../../scripts/statecharts/chart.js";
import { connectionChart } from "../../scripts/statecharts/connection.js";
import { ConnectionLostError } from "../../src/errors.js";
import { connectionMachine } from "../../src/machines/connection.machine.js";
import type {
  ConnectionContext,
  ConnectionEvent,
  ConnectionInput,
} from "../../src/machines/connection.types.js";
import type { ResolvedEndpoint } from "../../src/services/endpoint.js";
import {
  classifyConnack,
  classifyDisconnect,
  type Refusal,
} from "../../src/services/reason-codes.js";
import { Secret } from "../../src/services/secret.js";
import { nextRealism, type Realism, START, whyNot } from "./faults.js";

export interface Scenario {
  readonly name: string;
  /** 4: aedes speaks MQTT 3.1.1. 5: mosquitto, for the packets only MQTT 5 has. */
  readonly protocol: 4 | 5;
  readonly provider: boolean;
  readonly maxRetries: number;
  /** Cheaper scenarios are preferred when several paths cover the same transition. */
  readonly cost: number;
}

export const SCENARIOS: readonly Scenario[] = [4, 5].flatMap((protocol) =>
  [true, false].flatMap((provider) =>
    // maxRetries 0 exists only for the machine (RealtimeClient requires ≥ 1).
    [Number.POSITIVE_INFINITY, 1, 0].map((maxRetries) => ({
      name: `MQTT ${protocol === 4 ? "3.1.1" : "5"}${provider ? "" : ", no onAuthFailure"}${
        Number.isFinite(maxRetries) ? `, maxRetries ${maxRetries}` : ""
      }`,
      protocol: protocol as 4 | 5,
      provider,
      maxRetries,
      cost: (protocol === 5 ? 4 : 0) + (provider ? 0 : 1) + (Number.isFinite(maxRetries) ? 1 : 0),
    })),
  ),
);

/** A refusal the test can cause for real, by category (see harness.ts for how). */
export type RefusalKind = "auth" | "fatal" | "retryable" | "redirect";

/** Where a redirect points: the same fault proxy, so the next connection is observed too. */
export const REFERENCE_PLACEHOLDER = "127.0.0.1";

function refusalOf(source: "connack" | "disconnect", kind: RefusalKind, protocol: 4 | 5): Refusal {
  if (source === "connack") {
    const code = { auth: [5, 0x87], fatal: [2, 0x85], retryable: [3, 0x88], redirect: [0, 0x9c] }[
      kind
    ][protocol === 4 ? 0 : 1] as number;
    const refusal = classifyConnack(code, protocol);
    return kind === "redirect" ? { ...refusal, serverReference: REFERENCE_PLACEHOLDER } : refusal;
  }
  const code = { auth: 0x87, fatal: 0x8e, retryable: 0x8b, redirect: 0x9c }[kind];
  return classifyDisconnect(code, kind === "redirect" ? REFERENCE_PLACEHOLDER : undefined);
}

/** The refusal kinds a protocol can carry: MQTT 3.1.1 has no reason codes beyond 1–5. */
export function refusalKinds(protocol: 4 | 5): RefusalKind[] {
  return protocol === 4
    ? ["auth", "fatal", "retryable"]
    : ["auth", "fatal", "retryable", "redirect"];
}

export const modelEndpoint: ResolvedEndpoint = {
  host: "127.0.0.1",
  port: 1883,
  scheme: "mqtt",
  path: "/mqtt",
  username: "model",
  password: new Secret("token-0"),
  clientId: "model",
};

export function modelInput(scenario: Scenario): ConnectionInput {
  return {
    endpoints: [modelEndpoint],
    retry: { baseSeconds: 1, ceilSeconds: 60, jitter: "none", maxRetries: scenario.maxRetries },
    timing: {
      refreshWaitMs: 2000,
      connectTimeoutMs: 30_000,
      restoreTimeoutMs: 30_000,
      refreshTimeoutMs: 30_000,
      closeTimeoutMs: 5000,
      stableAfterMs: 10_000,
      probeTimeoutMs: 5000,
    },
    hasCredentialsProvider: scenario.provider,
  };
}

/** The production machine's states and transitions (delays shown at their defaults). */
export const chart = connectionChart();

/** State node ids active in `value` (`{ session: "backoff" }` → connection, connection.session, …). */
export function activeIds(value: StateValue, prefix = chart.id): string[] {
  if (typeof value === "string") return [prefix, `${prefix}.${value}`];
  return [
    prefix,
    ...Object.entries(value).flatMap(([key, inner]) =>
      inner === undefined ? [] : activeIds(inner, `${prefix}.${key}`),
    ),
  ];
}

/** Every event type some active state handles (including delays and actor results). */
export function handledTypes(value: StateValue): string[] {
  const active = new Set(activeIds(value));
  return [
    ...new Set(chart.transitions.filter((t) => active.has(t.source)).map((t) => t.eventType)),
  ];
}

export type ModelEvent = ConnectionEvent | { type: string; [key: string]: unknown };

/** Concrete events for one event type: one per payload a guard can tell apart. */
export function eventsFor(type: string, scenario: Scenario): ModelEvent[] {
  switch (type) {
    case "MQTT.REFUSED":
      return refusalKinds(scenario.protocol).map((kind) => ({
        type,
        refusal: refusalOf("connack", kind, scenario.protocol),
      }));
    case "MQTT.DISCONNECT":
      // A server DISCONNECT exists only in MQTT 5.
      return scenario.protocol === 5
        ? refusalKinds(5).map((kind) => ({ type, refusal: refusalOf("disconnect", kind, 5) }))
        : [];
    case "MQTT.CONNACK":
      return [{ type, sessionPresent: false }];
    case "MQTT.CLOSED":
      return [{ type, error: new ConnectionLostError("the socket closed") }];
    case "USER.UPDATE_ENDPOINT":
      return [{ type, endpoint: modelEndpoint }];
  }
  if (type.startsWith("xstate.done.actor.")) {
    const output = type.endsWith("refreshing")
      ? { ...modelEndpoint, password: new Secret("token-refreshed") }
      : { filters: 1, packets: 1, rejected: [], sessionPresent: false };
    return [{ type, output }];
  }
  if (type.startsWith("xstate.error.actor.")) return [{ type, error: new Error("rejected") }];
  return [{ type }];
}

/** `MQTT.REFUSED(auth)`: the event type plus the refusal kind, if any. */
export function eventName(event: ModelEvent): string {
  const refusal = (event as { refusal?: Refusal }).refusal;
  if (!refusal) return event.type;
  const kind =
    refusal.serverReference !== undefined
      ? "redirect"
      : refusal.category === "busy"
        ? "retryable"
        : refusal.category;
  return `${event.type}(${kind})`;
}

/** A step as a reader names it: `MQTT.REFUSED(auth)`, `after REFRESH_WAIT (2 s)`, `refreshCredentials done`. */
export function stepName(step: ModelStep): string {
  if (!step.event.type.startsWith("xstate.")) return eventName(step.event);
  const key = step.transitions[0];
  return chart.transitions.find((t) => t.key === key)?.trigger ?? step.event.type;
}

/** The state value plus what the guards can see of the counters, clipped. */
export function serializeFor(scenario: Scenario) {
  const finite = Number.isFinite(scenario.maxRetries);
  const network = finite ? scenario.maxRetries : 0;
  const auth = finite ? Math.max(2, scenario.maxRetries + 1) : 2;
  return (snapshot: AnyMachineSnapshot): string => {
    const c = snapshot.context as ConnectionContext;
    return JSON.stringify([
      snapshot.value,
      Math.min(c.networkFailures, network),
      Math.min(c.authFailures, auth),
    ]);
  };
}

export interface ModelStep {
  readonly event: ModelEvent;
  /** The snapshot the event was sent to. */
  readonly from: AnyMachineSnapshot;
  /** The snapshot after it. */
  readonly to: AnyMachineSnapshot;
  /** Keys of the transitions XState selects for it (see chart.ts). */
  readonly transitions: readonly string[];
}

export interface ModelPath {
  readonly scenario: Scenario;
  readonly steps: readonly ModelStep[];
  /** Every transition key the path takes. */
  readonly covers: ReadonlySet<string>;
}

/**
 * Traversal options. With `real`, the traversal also follows what the real
 * world remembers (faults.ts `Realism`: was the connection accepted, …) and
 * offers only the events a real client can get next, so every path it
 * yields can be replayed for real.
 */
function traversalOptions(scenario: Scenario, real: boolean) {
  const abstract = serializeFor(scenario);
  const realism = new WeakMap<AnyMachineSnapshot, Realism>();
  const realismOf = (s: AnyMachineSnapshot | undefined) => (s && realism.get(s)) ?? START;
  return {
    input: modelInput(scenario),
    serializeState: (
      snapshot: AnyMachineSnapshot,
      event?: ModelEvent,
      prev?: AnyMachineSnapshot,
    ) => {
      if (!real) return abstract(snapshot);
      const r =
        event && prev
          ? nextRealism(realismOf(prev), prev.value, event.type, snapshot.value)
          : realismOf(snapshot);
      realism.set(snapshot, r);
      return `${abstract(snapshot)} ${JSON.stringify(r)}`;
    },
    serializeEvent: (event: ModelEvent) => eventName(event),
    events: (snapshot: AnyMachineSnapshot) =>
      handledTypes(snapshot.value).flatMap((type) => eventsFor(type, scenario)),
    filterEvents: real
      ? (snapshot: AnyMachineSnapshot, event: ModelEvent) => {
          const keys = connectionMachine
            .getTransitionData(snapshot as never, event as never)
            .map(transitionKey);
          return whyNot(realismOf(snapshot), snapshot.value, event.type, keys) === undefined;
        }
      : undefined,
  };
}

function toModelPath(
  scenario: Scenario,
  start: AnyMachineSnapshot,
  events: ModelEvent[],
): ModelPath {
  const steps: ModelStep[] = [];
  let from = start;
  const covers = new Set<string>();
  const machine = connectionMachine;
  for (const event of events) {
    // xstate/graph starts every path with the initial state's own `xstate.init` step.
    if (event.type === "xstate.init") continue;
    const selected = machine.getTransitionData(from as never, event as never);
    const transitions = selected.map(transitionKey);
    for (const key of transitions) covers.add(key);
    const to = machine.transition(from as never, event as never, scope) as AnyMachineSnapshot;
    steps.push({ event, from, to, transitions });
    from = to;
  }
  return { scenario, steps, covers };
}

/** A stand-in actor scope for stepping the machine as a pure function (as xstate/graph does). */
const scope = (() => {
  const actor = createActor(connectionMachine.provide({}), {
    input: modelInput(SCENARIOS[0] as Scenario),
  });
  return {
    self: actor,
    logger: () => {},
    id: "",
    sessionId: "model",
    defer: () => {},
    system: actor.system,
    stopChild: () => {},
    emit: () => {},
    actionExecutor: () => {},
  } as never;
})();

/** The machine's first snapshot for a scenario, stepped as a pure function (no actor runs). */
export function initialSnapshot(scenario: Scenario): AnyMachineSnapshot {
  return connectionMachine.getInitialSnapshot(scope, modelInput(scenario)) as AnyMachineSnapshot;
}

/** One step of the machine as a pure function, as xstate/graph takes it. */
export function stepMachine(snapshot: AnyMachineSnapshot, event: ModelEvent): AnyMachineSnapshot {
  return connectionMachine.transition(
    snapshot as never,
    event as never,
    scope,
  ) as AnyMachineSnapshot;
}

/**
 * Every candidate path of one scenario: to each state, and through each edge.
 * `real`: only paths a real client can follow (see `traversalOptions`).
 */
export function candidatePaths(scenario: Scenario, real: boolean): ModelPath[] {
  const options = traversalOptions(scenario, real);
  const initial = connectionMachine.getInitialSnapshot(scope, options.input) as AnyMachineSnapshot;
  const shortest = getShortestPaths(connectionMachine as AnyStateMachine, options as never);
  const toState = new Map<string, ModelEvent[]>();
  for (const path of shortest) {
    toState.set(
      options.serializeState(path.state as AnyMachineSnapshot),
      path.steps.map((s) => s.event as ModelEvent),
    );
  }
  const paths: ModelPath[] = [];
  for (const events of toState.values()) paths.push(toModelPath(scenario, initial, events));
  const adjacency = getAdjacencyMap(connectionMachine as AnyStateMachine, options as never);
  for (const [key, { transitions }] of Object.entries(adjacency) as [
    string,
    { transitions: Record<string, { event: unknown }> },
  ][]) {
    const prefix = toState.get(key) ?? [];
    for (const { event } of Object.values(transitions)) {
      paths.push(toModelPath(scenario, initial, [...prefix, event as ModelEvent]));
    }
  }
  return paths;
}
