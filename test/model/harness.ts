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
import { type EnvironmentSignal, RealtimeClient } from "../../src/index.js";
import { connectionStateOf } from "../../src/machines/connection.machine.js";
import { TestBroker } from "../support/broker.js";
import { waitFor } from "../support/wait.js";
import { FaultProxy, PacketType, type ProxiedConnection } from "./fault-proxy.js";
import { eventName, type ModelPath, type ModelStep } from "./model-graph.js";
import type { Mosquitto } from "./mosquitto.js";

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

interface Cause {
  /** False while what the cause needs is not there yet (the CONNECT has not reached the proxy…). */
  ready(): boolean;
  run(): void;
}

const noop = () => {};
const now: Cause = { ready: () => true, run: noop };

function delayOptions(path: ModelPath) {
  const used = new Set(
    path.steps.flatMap((s) => /^xstate\.after\.([^.]+)\./.exec(s.event.type)?.[1] ?? []),
  );
  const t = (...names: string[]) => (names.some((n) => used.has(n)) ? SHORT_SECONDS : LONG_SECONDS);
  const known = [
    "RETRY_DELAY",
    "AUTH_RETRY_DELAY",
    "STABLE_CONNECTION",
    "REFRESH_WAIT",
    "CONNECT_TIMEOUT",
    "RESTORE_TIMEOUT",
    "REFRESH_TIMEOUT",
    "CLOSE_TIMEOUT",
    "PROBE_TIMEOUT",
  ];
  for (const name of used) {
    if (!known.includes(name)) throw new Error(`no client option sets the delay ${name}`);
  }
  const backoff = t("RETRY_DELAY", "AUTH_RETRY_DELAY");
  return {
    retryBackoff: {
      baseSeconds: backoff,
      ceilSeconds: backoff,
      resetAfterSeconds: t("STABLE_CONNECTION"),
    },
    refreshWaitSeconds: t("REFRESH_WAIT"),
    timeouts: {
      connectSeconds: t("CONNECT_TIMEOUT"),
      restoreSeconds: t("RESTORE_TIMEOUT"),
      refreshSeconds: t("REFRESH_TIMEOUT"),
      closeSeconds: t("CLOSE_TIMEOUT"),
      probeSeconds: t("PROBE_TIMEOUT"),
    },
  };
}

const sameValue = (a: StateValue, b: StateValue) => JSON.stringify(a) === JSON.stringify(b);
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
  /** aedes' verdict for the next CONNECT: true, or a CONNACK return code. */
  const verdicts: (true | 2 | 3 | 4 | 5)[] = [];
  const aedes = v5
    ? undefined
    : await TestBroker.start({ authenticate: () => verdicts.shift() ?? true });
  const proxy = await FaultProxy.start(aedes ? aedes.tcpPort : (mosquitto as Mosquitto).port);
  // Nothing the broker answers by itself reaches the client before the path asks for it.
  proxy.holdToBroker.add(PacketType.CONNECT);
  for (const t of [PacketType.SUBACK, PacketType.PUBACK, PacketType.PINGRESP])
    proxy.holdToClient.add(t);

  let token = 1;
  const refreshes: { resolve(v: unknown): void; reject(e: Error): void }[] = [];
  let notify: ((signal: EnvironmentSignal) => void) | null = null;
  const taken: string[] = [];
  const problems: string[] = [];
  let client: RealtimeClient | null = null;
  let index = 0; // the next step to take
  let started = -1; // the step whose cause has run
  let finish: (error?: Error) => void = noop;
  const finished = new Promise<void>((resolve, reject) => {
    finish = (error) => (error ? reject(error) : resolve());
  });

  const conn = (): ProxiedConnection | undefined => proxy.current;
  const held = (type: number) => conn()?.heldTypes().includes(type) === true;

  /** The real cause of `step` (see the table in faults.ts). */
  const causeOf = (step: ModelStep, at: number): Cause => {
    const type = step.event.type;
    const from = leaf(step.from.value);
    const c = client as RealtimeClient;
    const refusal = (step.event as { refusal?: { category: string; serverReference?: string } })
      .refusal;
    switch (type) {
      case "USER.CONNECT":
        return { ready: () => true, run: () => c.connect().catch(noop) };
      case "USER.DISCONNECT":
        if (from === "live" || from === "probing") {
          // An unacknowledged QoS 1 publish: the graceful close waits for its PUBACK (held).
          let published = false;
          return {
            ready: () => {
              if (!published) {
                published = true;
                c.publish("model/out", "in flight", { qos: 1 }).catch(noop);
              }
              return conn()?.seen.includes(`c:${PacketType.PUBLISH}`) === true;
            },
            run: () => c.disconnect().catch(noop),
          };
        }
        return { ready: () => true, run: () => c.disconnect().catch(noop) };
      case "USER.UPDATE_ENDPOINT":
        return {
          ready: () => true,
          run: () => c.updateEndpoint({ host: "127.0.0.1", port: proxy.port }),
        };
      case "NET.OFFLINE":
      case "NET.ONLINE":
      case "PAGE.VISIBLE": {
        const signal = ({ "NET.OFFLINE": "offline", "NET.ONLINE": "online" } as const)[
          type as "NET.OFFLINE"
        ];
        return { ready: () => notify !== null, run: () => notify?.(signal ?? "visible") };
      }
      case "MQTT.CONNACK":
        return {
          ready: () => held(PacketType.CONNECT),
          run: () => conn()?.release(PacketType.CONNECT),
        };
      case "MQTT.REFUSED":
        return {
          ready: () => held(PacketType.CONNECT),
          run: () => {
            const connection = conn() as ProxiedConnection;
            if (aedes) {
              // aedes' authenticate hook refuses this CONNECT for real.
              const code = ({ auth: 5, fatal: 2, retryable: 3 } as const)[
                refusal?.category as "auth"
              ];
              verdicts.push(code ?? 3);
              connection.release(PacketType.CONNECT);
              return;
            }
            // mosquitto cannot be told to refuse with a chosen reason: the proxy answers the
            // CONNECT with a real MQTT 5 CONNACK and closes, as a refusing broker does.
            const code = refusal?.serverReference
              ? 0x9c
              : ({ auth: 0x87, fatal: 0x85, retryable: 0x88 } as const)[
                  refusal?.category as "auth"
                ];
            connection.discardHeld(PacketType.CONNECT);
            connection.inject(
              [
                {
                  cmd: "connack",
                  sessionPresent: false,
                  reasonCode: code ?? 0x88,
                  ...(refusal?.serverReference
                    ? { properties: { serverReference: `127.0.0.1:${proxy.port}` } }
                    : {}),
                },
              ],
              5,
            );
            connection.client.end();
          },
        };
      case "MQTT.DISCONNECT": {
        // Server DISCONNECTs that follow this one while the client force-closes (authFailed
        // ignores them) were sent in the same TCP segment: write them together.
        const chained = [step];
        for (let next = path.steps[at + 1]; next?.event.type === "MQTT.DISCONNECT"; ) {
          if (leaf(next.from.value) !== "authFailed") break;
          chained.push(next);
          pre.add(at + chained.length - 1);
          next = path.steps[at + chained.length];
        }
        return {
          ready: () => conn() !== undefined,
          run: () =>
            conn()?.inject(
              chained.map((s) => {
                const r = (s.event as { refusal: { reasonCode: number; serverReference?: string } })
                  .refusal;
                return {
                  cmd: "disconnect" as const,
                  reasonCode: r.reasonCode,
                  ...(r.serverReference
                    ? { properties: { serverReference: `127.0.0.1:${proxy.port}` } }
                    : {}),
                };
              }),
              5,
            ),
        };
      }
      case "MQTT.CLOSED":
        if (from === "authFailed") return now; // the client's own force-close completes
        if (from === "closing") {
          // The graceful close completes once the broker's held acknowledgements arrive.
          return { ready: () => true, run: () => conn()?.passAll() };
        }
        if (from === "connecting" || from === "reconnecting" || !aedes) {
          // The connection drops (network gone, listener closed): once the CONNECT is out.
          const connecting = from === "connecting" || from === "reconnecting";
          return {
            ready: () => (connecting ? held(PacketType.CONNECT) : conn() !== undefined),
            run: () => conn()?.drop(),
          };
        }
        // The broker closes the client's connection.
        return {
          ready: () => aedes.clientIds().includes(clientId),
          run: () => aedes.kick(clientId),
        };
      case "MQTT.PONG":
        return {
          ready: () => held(PacketType.PINGRESP),
          run: () => conn()?.release(PacketType.PINGRESP),
        };
    }
    if (/^xstate\.done\.actor\..*restoring$/.test(type)) {
      return {
        ready: () => held(PacketType.SUBACK),
        run: () => conn()?.release(PacketType.SUBACK),
      };
    }
    if (/^xstate\.(done|error)\.actor\..*refreshing$/.test(type)) {
      return {
        ready: () => refreshes.length > 0,
        run: () => {
          const call = refreshes.shift();
          if (type.startsWith("xstate.done")) {
            token += 1;
            call?.resolve({ host: "127.0.0.1", port: proxy.port, password: `token-${token}` });
          } else call?.reject(new Error("the token service is down"));
        },
      };
    }
    if (type.startsWith("xstate.after.")) return now; // time passes
    throw new Error(`no real cause for ${type} in ${from} (add one to faults.ts / harness.ts)`);
  };
  /** Steps already caused together with an earlier one. */
  const pre = new Set<number>();
  let cause: Cause | null = null;

  const poke = () => {
    const step = path.steps[index];
    if (!step || started === index || !client) return;
    if (pre.has(index)) {
      started = index;
      return;
    }
    cause ??= causeOf(step, index);
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

  const onProcessed = (type: string, event: unknown, value: StateValue) => {
    if (type === "xstate.init" || index >= path.steps.length) return;
    const step = path.steps[index] as ModelStep;
    const where = `step ${index + 1} of [${path.steps.map((s) => eventName(s.event)).join(", ")}]`;
    const got = eventName(event as ModelStep["event"]);
    if (got !== eventName(step.event)) {
      finish(new Error(`${where}: expected ${eventName(step.event)}, the client got ${got}`));
      index = path.steps.length;
      return;
    }
    const expected = connectionStateOf(step.to.value);
    if (!sameValue(value, step.to.value) || client?.state !== expected) {
      finish(
        new Error(
          `${where}: expected ${JSON.stringify(step.to.value)} (${expected}), the client is in ${JSON.stringify(value)} (${client?.state})`,
        ),
      );
      index = path.steps.length;
      return;
    }
    observe(step);
    index += 1;
    if (index === path.steps.length) finish();
    else poke();
  };

  /** What the broker must have seen once a step is taken. */
  const observe = (step: ModelStep) => {
    const type = step.event.type;
    if (/^xstate\.done\.actor\..*restoring$/.test(type)) {
      const filters = aedes
        ? (aedes.subscribePacketsOf(clientId).at(-1) ?? [])
        : (conn()?.subscribedFilters.at(-1) ?? []);
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
  let expectedRefreshes = 0;
  let providerCalls = 0;

  const inspect = (ev: InspectionEvent) => {
    if (ev.actorRef.sessionId !== ev.rootId) return;
    if (ev.type === "@xstate.microstep") {
      const transitions = (ev as { _transitions?: AnyTransitionDefinition[] })._transitions ?? [];
      for (const t of transitions) taken.push(transitionKey(t));
    } else if (ev.type === "@xstate.snapshot") {
      const e = ev.event as { type: string };
      onProcessed(e.type, e, (ev.snapshot as unknown as { value: StateValue }).value);
    }
  };

  client = new RealtimeClient({
    endpoint: {
      host: "127.0.0.1",
      port: proxy.port,
      clientId,
      username: "model",
      password: `token-${token}`,
    },
    ...(path.scenario.provider
      ? {
          // A well-behaved provider: it answers when the path says so, and gives up when
          // the client aborts the call (REFRESH_TIMEOUT, disconnect()).
          onAuthFailure: ({ signal }: { signal: AbortSignal }) =>
            new Promise((resolve, reject) => {
              providerCalls += 1;
              const call = { resolve, reject };
              refreshes.push(call);
              signal.addEventListener("abort", () => {
                refreshes.splice(refreshes.indexOf(call), 1);
                reject(new Error("aborted"));
              });
              queueMicrotask(poke);
            }),
        }
      : {}),
    ...delayOptions(path),
    retryBackoff: {
      ...delayOptions(path).retryBackoff,
      maxRetries: path.scenario.maxRetries,
    },
    environment: (n) => {
      notify = n;
      return () => {
        notify = null;
      };
    },
    // keepalive 0: no PINGREQ of mqtt.js' own; the only ping is the machine's probe.
    mqtt: { protocolVersion: path.scenario.protocol, keepalive: 0 },
    inspect,
  });
  for (const filter of TRACKED) client.subscribe(filter, noop, { qos: 1 }).catch(noop);

  const timer = setTimeout(
    () =>
      finish(
        new Error(
          `timed out at step ${index + 1} (${eventName(path.steps[index]?.event ?? { type: "?" })}); client in ${client?.state}; proxy holds ${conn()?.heldTypes()}`,
        ),
      ),
    timeoutMs,
  );
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
    for (const r of refreshes.splice(0)) r.reject(new Error("path over"));
    await client.disconnect().catch(noop);
    await proxy.close();
    await aedes?.close();
  }
  return { taken, problems };
}
