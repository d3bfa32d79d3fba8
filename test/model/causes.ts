/**
 * The real cause of each machine event (the table in faults.ts), for the
 * replay harness: what must be there before it can happen (`ready`) and
 * what makes it happen (`run`).
 */

import type { EnvironmentSignal, RealtimeClient } from "../../src/index.js";
import type { TestBroker } from "../support/broker.js";
import { type FaultProxy, PacketType, type ProxiedConnection } from "../support/fault-proxy.js";
import type { ModelPath, ModelStep } from "./model-graph.js";

export interface Cause {
  /** False while what the cause needs is not there yet (the CONNECT has not reached the proxy…). */
  ready(): boolean;
  run(): void;
}

/** Everything a cause can act on, for one replay. */
export interface World {
  readonly path: ModelPath;
  readonly client: RealtimeClient;
  readonly proxy: FaultProxy;
  /** The aedes broker (MQTT 3.1.1 paths); undefined behind mosquitto. */
  readonly aedes: TestBroker | undefined;
  readonly clientId: string;
  /** aedes' `authenticate` verdict for the next CONNECTs: true, or a CONNACK return code. */
  readonly verdicts: (true | 2 | 3 | 4 | 5)[];
  /** `onAuthFailure` calls waiting for an answer. */
  readonly refreshes: { resolve(value: unknown): void; reject(error: Error): void }[];
  /** The environment watcher's `notify`, while the client watches. */
  notify: ((signal: EnvironmentSignal) => void) | null;
  /** The number of the token the provider issued last (`token-N`). */
  token: number;
  /** Steps already caused together with an earlier one (two DISCONNECTs in one write). */
  readonly pre: Set<number>;
}

const noop = () => {};
const now: Cause = { ready: () => true, run: noop };
const leaf = (value: unknown): string => {
  let v = value;
  while (typeof v === "object" && v !== null) v = Object.values(v)[0];
  return String(v);
};

/** The real cause of `step` (see the table in faults.ts). */
export function causeOf(world: World, step: ModelStep, at: number): Cause {
  const type = step.event.type;
  const from = leaf(step.from.value);
  const { client: c, proxy, aedes, clientId, path } = world;
  const conn = () => proxy.current;
  const held = (type: number) => conn()?.heldTypes().includes(type) === true;
  const refusal = (step.event as { refusal?: { category: string; serverReference?: string } })
    .refusal;
  switch (type) {
    case "USER.CONNECT":
      return { ready: () => true, run: () => c.connect().catch(noop) };
    case "USER.DISCONNECT":
      if (from === "scheduled" || from === "probing") {
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
      return {
        ready: () => world.notify !== null,
        run: () => world.notify?.(signal ?? "visible"),
      };
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
            world.verdicts.push(code ?? 3);
            connection.release(PacketType.CONNECT);
            return;
          }
          // mosquitto cannot be told to refuse with a chosen reason: the proxy answers the
          // CONNECT with a real MQTT 5 CONNACK and closes, as a refusing broker does.
          const code = refusal?.serverReference
            ? 0x9c
            : ({ auth: 0x87, fatal: 0x85, retryable: 0x88 } as const)[refusal?.category as "auth"];
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
        world.pre.add(at + chained.length - 1);
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
      ready: () => world.refreshes.length > 0,
      run: () => {
        const call = world.refreshes.shift();
        if (type.startsWith("xstate.done")) {
          world.token += 1;
          const password = `token-${world.token}`;
          call?.resolve({ host: "127.0.0.1", port: proxy.port, password });
        } else call?.reject(new Error("the token service is down"));
      },
    };
  }
  if (type.startsWith("xstate.after.")) return now; // time passes
  throw new Error(
    `no real cause for ${type} in ${from} (add one to causeOf in test/model/causes.ts)`,
  );
}
