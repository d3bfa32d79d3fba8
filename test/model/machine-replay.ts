/**
 * Replays a generated path on the machine itself, with test actors and a
 * SimulatedClock (as test/machine does): for the transitions no real cause
 * can trigger on a real client (faults.ts). The test actors play the
 * outside world — the link reports MQTT.* events, the restore and refresh
 * actors settle when the path says — and the clock moves by exactly the
 * delay the machine computes.
 */

import {
  type AnyTransitionDefinition,
  createActor,
  fromPromise,
  SimulatedClock,
  type StateValue,
} from "xstate";
import { transitionKey } from "../../scripts/statecharts/chart.js";
import { connectionMachine } from "../../src/machines/connection.machine.js";
import type { ConnectionContext, ConnectionEvent } from "../../src/machines/connection.types.js";
import { eventName, type ModelPath, modelInput } from "./model-graph.js";

type Settle = { resolve(value: unknown): void; reject(error: unknown): void };
type DelayFn = (args: { context: ConnectionContext; event: { type: string } }) => number;

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Replays `path`; returns the transition keys taken. Throws where the machine leaves the path. */
export async function replayOnMachine(path: ModelPath): Promise<string[]> {
  const clock = new SimulatedClock();
  const taken: string[] = [];
  /** How the current link (from openLink to closeLink) reports MQTT.* events. */
  const current: { link: ((event: ConnectionEvent) => void) | null } = { link: null };
  const pending: Record<"restore" | "refresh", Settle | null> = { restore: null, refresh: null };
  const machine = connectionMachine.provide({
    actions: {
      openLink: ({ self }) => {
        current.link = (event) => self.send(event);
      },
      closeLink: () => {
        current.link = null;
      },
    },
    actors: {
      restoreSubscriptions: fromPromise(
        () => new Promise((resolve, reject) => (pending.restore = { resolve, reject })),
      ) as never,
      refreshCredentials: fromPromise(
        () => new Promise((resolve, reject) => (pending.refresh = { resolve, reject })),
      ) as never,
    },
  });
  const actor = createActor(machine, {
    input: modelInput(path.scenario),
    clock,
    inspect: (ev) => {
      if (ev.type !== "@xstate.microstep" || ev.actorRef.sessionId !== ev.rootId) return;
      const transitions = (ev as { _transitions?: AnyTransitionDefinition[] })._transitions ?? [];
      for (const t of transitions) taken.push(transitionKey(t));
    },
  });
  actor.start();
  const delays = connectionMachine.implementations.delays as Record<string, DelayFn>;
  for (const [i, step] of path.steps.entries()) {
    const event = step.event as ConnectionEvent & { output?: unknown; error?: unknown };
    const type = event.type;
    const delay = /^xstate\.after\.([^.]+)\./.exec(type)?.[1];
    const actorEvent = /^xstate\.(done|error)\.actor\..*(restoring|refreshing)$/.exec(type);
    if (delay) {
      const ms = (delays[delay] as DelayFn)({ context: actor.getSnapshot().context, event });
      clock.increment(ms);
    } else if (actorEvent) {
      const settle = pending[actorEvent[2] === "restoring" ? "restore" : "refresh"];
      if (!settle) throw new Error(`step ${i + 1}: nothing invoked for ${type}`);
      if (actorEvent[1] === "done") settle.resolve(event.output);
      else settle.reject(event.error);
    } else if (type.startsWith("MQTT.")) {
      if (!current.link) throw new Error(`step ${i + 1}: no link to report ${type}`);
      current.link(event);
    } else {
      actor.send(event);
    }
    await flush();
    const value: StateValue = actor.getSnapshot().value;
    if (JSON.stringify(value) !== JSON.stringify(step.to.value)) {
      throw new Error(
        `step ${i + 1} (${eventName(step.event)}): expected ${JSON.stringify(step.to.value)}, got ${JSON.stringify(value)}`,
      );
    }
  }
  actor.stop();
  return taken;
}
