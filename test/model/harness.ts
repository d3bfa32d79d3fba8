/**
 * Replays a generated path on a real `RealtimeClient`: real sockets, a real
 * broker (aedes for MQTT 3.1.1, mosquitto for MQTT 5) behind the fault proxy,
 * each step's event made to happen by its real cause (faults.ts).
 *
 * The replay is driven by the client's own inspection stream (the `inspect`
 * option): each time the client's machine has processed an event, the
 * harness checks it was the path's next event and that the client is now in
 * the path's next state (public `client.state` and the full state value),
 * then starts the cause of the step after. Causes that are API calls or
 * platform signals run right there, synchronously, so even a state the
 * client leaves by itself within a tick (`authFailed`) can be acted in.
 * Everything the broker could answer by itself — CONNACK, SUBACK, PUBACK,
 * PINGRESP — is held by the proxy until a step asks for it, so the client
 * never runs ahead of the path.
 */

import type { AnyTransitionDefinition, InspectionEvent, StateValue } from "xstate";
import { transitionKey } from "../../scripts/statecharts/chart.js";
import { DELAY_OPTIONS } from "../../scripts/statecharts/connection.js";
import { RealtimeClient } from "../../src/index.js";
import { connectionStateOf } from "../../src/machines/connection.machine.js";
import { TestBroker } from "../support/broker.js";
import { FaultProxy, PacketType } from "../support/fault-proxy.js";
import type { Mosquitto } from "../support/mosquitto.js";
import { waitFor } from "../support/wait.js";
import { type Cause, causeOf, type World } from "./causes.js";
import { chart, eventName, type ModelPath, type ModelStep } from "./model-graph.js";

/**
 * A delay the path waits for is this short; every other delay this long. Short still
 * leaves the harness hundreds of milliseconds to cause another step first where the path
 * needs that (a broker round trip takes a few), even on a loaded machine.
 */
const SHORT_SECONDS = 0.5;
const LONG_SECONDS = 60;
/** Filters the client tracks from the start: every restore must SUBSCRIBE to both. */
export const TRACKED = ["model/a/#", "model/b"];

export interface Replay {
  /** Transition keys the client's machine took, in order (from `@xstate.microstep`). */
  readonly taken: string[];
  /** What the broker saw, checked after the path: one line per finding. */
  readonly problems: string[];
}

const noop = () => {};

/**
 * Client options: every delay this path waits for short, every other one long, each set
 * through the option the diagrams' README names for it (`DELAY_OPTIONS`).
 */
function clientTiming(path: ModelPath): Record<string, Record<string, number> | number> {
  const used = new Set(
    path.steps.flatMap((s) => /^xstate\.after\.([^.]+)\./.exec(s.event.type)?.[1] ?? []),
  );
  const options: Record<string, Record<string, number> | number> = {
    retryBackoff: { maxRetries: path.scenario.maxRetries },
  };
  for (const { name } of chart.delays) {
    const paths = DELAY_OPTIONS[name];
    if (!paths) throw new Error(`no client option sets the delay ${name} (DELAY_OPTIONS)`);
    const seconds = used.has(name) ? SHORT_SECONDS : LONG_SECONDS;
    for (const option of paths) {
      const [group, field] = option.split(".") as [string, string | undefined];
      if (field === undefined) {
        options[group] = Math.min(seconds, (options[group] as number | undefined) ?? seconds);
        continue;
      }
      const nested = (options[group] ?? {}) as Record<string, number>;
      nested[field] = Math.min(seconds, nested[field] ?? seconds);
      options[group] = nested;
    }
  }
  return options;
}

const leaf = (value: StateValue): string =>
  typeof value === "string" ? value : leaf(Object.values(value)[0] ?? "");

let sequence = 0;

export async function replayOnClient(
  path: ModelPath,
  mosquitto: Mosquitto | undefined,
  timeoutMs = 20_000,
): Promise<Replay> {
  const v5 = path.scenario.protocol === 5;
  if (v5 && !mosquitto) throw new Error("MQTT 5 paths need mosquitto");
  const clientId = `model${++sequence}${Date.now() % 100_000}`;
  const verdicts: World["verdicts"] = [];
  const aedes = v5
    ? undefined
    : await TestBroker.start({ authenticate: () => verdicts.shift() ?? true });
  const proxy = await FaultProxy.start({
    host: "127.0.0.1",
    port: aedes ? aedes.tcpPort : (mosquitto as Mosquitto).tcpPort,
  });
  // Nothing the broker answers by itself reaches the client before the path asks for it.
  proxy.holdToBroker.add(PacketType.CONNECT);
  for (const t of [PacketType.SUBACK, PacketType.PUBACK, PacketType.PINGRESP])
    proxy.holdToClient.add(t);

  /** The world minus the client, which is built next and calls back into it. */
  const shared: Omit<World, "client"> = {
    path,
    proxy,
    aedes,
    clientId,
    verdicts,
    refreshes: [],
    notify: null,
    token: 1,
    pre: new Set(),
  };
  let world: World | null = null;
  const taken: string[] = [];
  const problems: string[] = [];
  let index = 0; // the next step to take
  let started = -1; // the step whose cause has run
  let cause: Cause | null = null;
  let expectedRefreshes = 0;
  let providerCalls = 0;
  let finish: (error?: Error) => void = noop;
  const finished = new Promise<void>((resolve, reject) => {
    finish = (error) => (error ? reject(error) : resolve());
  });

  /** Runs the next step's cause as soon as it can run. */
  const poke = () => {
    const step = path.steps[index];
    if (!step || started === index || !world) return;
    if (shared.pre.has(index)) {
      started = index;
      return;
    }
    cause ??= causeOf(world, step, index);
    if (!cause.ready()) return;
    started = index;
    const run = cause.run;
    cause = null;
    try {
      run();
    } catch (error) {
      finish(error as Error);
    }
  };
  const stopWatching = proxy.onChange(poke);

  /** What the broker must have seen once a step is taken. */
  const observe = (step: ModelStep) => {
    const type = step.event.type;
    if (/^xstate\.done\.actor\..*restoring$/.test(type)) {
      const filters = aedes
        ? (aedes.subscribePacketsOf(clientId).at(-1) ?? [])
        : (proxy.current?.subscribedFilters.at(-1) ?? []);
      if (TRACKED.some((f) => !filters.includes(f))) {
        problems.push(`restored without one SUBSCRIBE for ${TRACKED.join(", ")}: got ${filters}`);
      }
    }
    if (type === "MQTT.REFUSED" && aedes) {
      const last = aedes.connects.at(-1);
      if (!last || last.accepted || last.clientId !== clientId) {
        problems.push(`aedes did not refuse the CONNECT: ${JSON.stringify(last)}`);
      }
    }
    if (leaf(step.to.value) === "refreshing" && leaf(step.from.value) !== "refreshing") {
      expectedRefreshes += 1;
    }
  };

  /** The client's machine processed `event` and is now in `value`: is that the path's step? */
  const onProcessed = (event: { type: string }, value: StateValue) => {
    if (event.type === "xstate.init" || index >= path.steps.length) return;
    const step = path.steps[index] as ModelStep;
    const where = `step ${index + 1} of [${path.steps.map((s) => eventName(s.event)).join(", ")}]`;
    const fail = (message: string) => {
      index = path.steps.length;
      finish(new Error(`${where}: ${message}`));
    };
    const got = eventName(event);
    if (got !== eventName(step.event)) {
      return fail(`expected ${eventName(step.event)}, the client got ${got}`);
    }
    const expected = connectionStateOf(step.to.value);
    const state = world?.client.state;
    if (JSON.stringify(value) !== JSON.stringify(step.to.value) || state !== expected) {
      return fail(
        `expected ${JSON.stringify(step.to.value)} (${expected}), the client is in ${JSON.stringify(value)} (${state})`,
      );
    }
    observe(step);
    index += 1;
    if (index === path.steps.length) finish();
    else poke();
  };

  const inspect = (ev: InspectionEvent) => {
    if (ev.actorRef.sessionId !== ev.rootId) return;
    if (ev.type === "@xstate.microstep") {
      const transitions = (ev as { _transitions?: AnyTransitionDefinition[] })._transitions ?? [];
      for (const t of transitions) taken.push(transitionKey(t));
    } else if (ev.type === "@xstate.snapshot") {
      onProcessed(
        ev.event as { type: string },
        (ev.snapshot as unknown as { value: StateValue }).value,
      );
    }
  };

  const client = new RealtimeClient({
    endpoint: {
      host: "127.0.0.1",
      port: proxy.port,
      clientId,
      username: "model",
      password: `token-${shared.token}`,
    },
    ...(path.scenario.provider
      ? {
          // A well-behaved provider: it answers when the path says so, and gives up when
          // the client aborts the call (REFRESH_TIMEOUT, disconnect()).
          onAuthFailure: ({ signal }: { signal: AbortSignal }) =>
            new Promise((resolve, reject) => {
              providerCalls += 1;
              const call = { resolve, reject };
              shared.refreshes.push(call);
              signal.addEventListener("abort", () => {
                shared.refreshes.splice(shared.refreshes.indexOf(call), 1);
                reject(new Error("aborted"));
              });
              queueMicrotask(poke);
            }),
        }
      : {}),
    ...clientTiming(path),
    environment: (notify) => {
      shared.notify = notify;
      return () => {
        shared.notify = null;
      };
    },
    // keepalive 0: no PINGREQ of mqtt.js' own; the only ping is the machine's probe.
    mqtt: { protocolVersion: path.scenario.protocol, keepalive: 0 },
    inspect,
  });
  world = Object.assign(shared, { client });
  for (const filter of TRACKED) client.subscribe(filter, noop, { qos: 1 }).catch(noop);

  const timer = setTimeout(() => {
    const step = path.steps[index];
    finish(
      new Error(
        `timed out at step ${index + 1} (${step ? eventName(step.event) : "?"}); client in ${client.state}; proxy holds ${proxy.current?.heldTypes()}`,
      ),
    );
  }, timeoutMs);
  try {
    poke();
    await finished;
    // The provider is called once per entry into refreshing (the call starts a tick later).
    await waitFor(() => providerCalls >= expectedRefreshes, 2000).catch(noop);
    if (providerCalls !== expectedRefreshes) {
      problems.push(`onAuthFailure called ${providerCalls} times, expected ${expectedRefreshes}`);
    }
    // A path that ends idle must have left the broker with no connection of this client.
    if (client.state === "idle" && aedes) {
      await waitFor(
        () => !aedes.clientIds().includes(clientId),
        5000,
        "the broker to drop the client",
      ).catch(() => problems.push("idle, but the broker still has the client connected"));
    }
  } finally {
    clearTimeout(timer);
    stopWatching();
    proxy.holdToBroker.clear();
    proxy.holdToClient.clear();
    for (const c of proxy.connections) c.passAll();
    for (const r of shared.refreshes.splice(0)) r.reject(new Error("path over"));
    await client.disconnect().catch(noop);
    await proxy.close();
    await aedes?.close();
  }
  return { taken, problems };
}
