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
import { type Chart, readChart, transitionKey } from "../../scripts/statecharts/chart.js";
import { connectionChart } from "../../scripts/statecharts/connection.js";
import { connectionMachine } from "../../src/machines/connection.machine.js";
import { nextRealism, type Realism, START, whyNot } from "./faults.js";
import {
  eventName,
  eventsFor,
  type ModelEvent,
  modelInput,
  SCENARIOS,
  type Scenario,
  serializeFor,
} from "./model-events.js";

export * from "./model-events.js";

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

const charts = new WeakMap<AnyStateMachine, Chart>();
/** The chart of `machine` (the production one, or a variant a test builds). */
function chartOf(machine: AnyStateMachine): Chart {
  if (machine === connectionMachine) return chart;
  const known = charts.get(machine) ?? readChart(machine);
  charts.set(machine, known);
  return known;
}

/** Every event type some active state handles (including delays and actor results). */
export function handledTypes(
  value: StateValue,
  machine: AnyStateMachine = connectionMachine,
): string[] {
  const active = new Set(activeIds(value));
  return [
    ...new Set(
      chartOf(machine)
        .transitions.filter((t) => active.has(t.source))
        .map((t) => t.eventType),
    ),
  ];
}

/** A step as a reader names it: `MQTT.REFUSED(auth)`, `after REFRESH_WAIT (2 s)`, `refreshCredentials done`. */
export function stepName(step: ModelStep): string {
  if (!step.event.type.startsWith("xstate.")) return eventName(step.event);
  const key = step.transitions[0];
  return chart.transitions.find((t) => t.key === key)?.trigger ?? step.event.type;
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
function traversalOptions(scenario: Scenario, real: boolean, machine: AnyStateMachine) {
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
      handledTypes(snapshot.value, machine).flatMap((type) => eventsFor(type, scenario)),
    filterEvents: real
      ? (snapshot: AnyMachineSnapshot, event: ModelEvent) => {
          const keys = machine
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
  machine: AnyStateMachine,
): ModelPath {
  const steps: ModelStep[] = [];
  let from = start;
  const covers = new Set<string>();
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
 * `machine`: the production machine, or a variant (to show new transitions get paths).
 */
export function candidatePaths(
  scenario: Scenario,
  real: boolean,
  machine: AnyStateMachine = connectionMachine,
): ModelPath[] {
  const options = traversalOptions(scenario, real, machine);
  const initial = machine.getInitialSnapshot(scope, options.input) as AnyMachineSnapshot;
  const shortest = getShortestPaths(machine, options as never);
  const toState = new Map<string, ModelEvent[]>();
  for (const path of shortest) {
    toState.set(
      options.serializeState(path.state as AnyMachineSnapshot),
      path.steps.map((s) => s.event as ModelEvent),
    );
  }
  const paths: ModelPath[] = [];
  for (const events of toState.values()) {
    paths.push(toModelPath(scenario, initial, events, machine));
  }
  const adjacency = getAdjacencyMap(machine, options as never);
  for (const [key, { transitions }] of Object.entries(adjacency) as [
    string,
    { transitions: Record<string, { event: unknown }> },
  ][]) {
    const prefix = toState.get(key) ?? [];
    for (const { event } of Object.values(transitions)) {
      paths.push(toModelPath(scenario, initial, [...prefix, event as ModelEvent], machine));
    }
  }
  return paths;
}
