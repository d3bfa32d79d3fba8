/**
 * A prototype for the memory row: what would one idle connected client cost
 * if it held only a snapshot of the connection machine (driven with xstate's
 * pure `initialTransition()` / `transition()`) instead of an XState actor
 * (root actor, actor system, invoked child actors, scheduler)?
 *
 * Two drivers of the published machine (`@armaanjain/courier-web-sdk/machine`,
 * from `dist/`), each with one real mqtt.js connection per client opened the
 * way the SDK's adapter opens it. They differ only in what runs the machine:
 * - `ActorDriver`: `createActor(machine.provide(...))` once per client, the
 *   mqtt.js client opened and closed by the `link` state's `openLink` /
 *   `closeLink` actions — today's runtime shape;
 * - `PureDriver`: a snapshot per client; events go through `transition()`
 *   and this class executes the returned actions itself (opening the link,
 *   scheduling and cancelling delayed events, answering the restore).
 *   xstate's `transition()` still creates an (unstarted) `Actor`, with an
 *   actor system, for every invoked child (`restoreSubscriptions` while
 *   restoring) and keeps it in
 *   `snapshot.children`; with `lean: true` the driver swaps those for
 *   `{ id }` stubs after each step (what an interpreter of our own, or a
 *   machine without invoked children, would hold).
 * Their difference is the actor's cost per client; the SDK's own objects
 * (registry, outbox, emitter, options) are the same either way.
 * Benchmark code only: enough of the machine's actions for connect → idle
 * connected → disconnect, not a client.
 */

import {
  type ConnectionEvent,
  type ConnectionInput,
  connectionMachine,
  DEFAULT_RETRY,
  DEFAULT_TIMING,
} from "@armaanjain/courier-web-sdk/machine";
import mqtt, { type MqttClient } from "mqtt";
import {
  type AnyMachineSnapshot,
  createActor,
  fromCallback,
  fromPromise,
  initialTransition,
  transition,
} from "xstate";

type Machine = typeof connectionMachine;

export function machineInput(port: number, clientId: string, services?: unknown): ConnectionInput {
  return {
    services,
    endpoints: [{ host: "127.0.0.1", port, scheme: "mqtt", path: "/mqtt", clientId }],
    retry: DEFAULT_RETRY,
    timing: DEFAULT_TIMING,
    hasCredentialsProvider: false,
    random: Math.random,
  };
}

/** One mqtt.js connection, with the options the SDK's adapter uses. */
function openMqtt(port: number, clientId: string): MqttClient {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    clientId,
    protocolVersion: 4,
    reconnectPeriod: 0,
    reconnectOnConnackError: false,
    resubscribe: false,
    manualConnect: true,
    queueQoSZero: false,
    connectTimeout: 90_000,
  });
  client.connect();
  return client;
}

function stateIsConnected(value: unknown): boolean {
  return JSON.stringify(value).includes('"connected"');
}

/** Today's shape: an XState actor per client. */
export class ActorDriver {
  static #machine: Machine | null = null;
  readonly #actor;

  /** Provided once for every driver, as the SDK does (src/client/session.ts). */
  static machine(): Machine {
    // The connection is the `link` state's entry and exit actions (as in the SDK), held by the
    // driver the machine's input carries as `services`.
    const driver = (context: { services: unknown }) => context.services as ActorDriver;
    ActorDriver.#machine ??= connectionMachine.provide({
      actions: {
        openLink: ({ context, self }) => driver(context).openLink(self),
        closeLink: ({ context }) => driver(context).closeLink(),
        forceDisconnect: ({ context }) => driver(context).endLink(),
        closeConnection: ({ context }) => driver(context).endLink(),
      },
      actors: {
        watchEnvironment: fromCallback(() => {}),
        restoreSubscriptions: fromPromise(async () => ({
          filters: 0,
          packets: 0,
          failed: [],
        })),
        refreshCredentials: fromPromise(async () => {
          throw new Error("no provider");
        }),
      } as never,
    }) as Machine;
    return ActorDriver.#machine;
  }

  readonly #port: number;
  readonly #clientId: string;
  #mqtt: MqttClient | null = null;

  constructor(port: number, clientId: string) {
    this.#port = port;
    this.#clientId = clientId;
    this.#actor = createActor(ActorDriver.machine(), {
      input: machineInput(port, clientId, this),
    });
    this.#actor.start();
  }

  openLink(machine: { send(event: ConnectionEvent): void }): void {
    const client = openMqtt(this.#port, this.#clientId);
    this.#mqtt = client;
    client.on("connect", (packet) =>
      machine.send({ type: "MQTT.CONNACK", sessionPresent: packet.sessionPresent }),
    );
    client.on("close", () => {
      if (this.#mqtt === client) machine.send({ type: "MQTT.CLOSED" } as ConnectionEvent);
    });
  }

  closeLink(): void {
    const client = this.#mqtt;
    this.#mqtt = null;
    client?.end(true);
  }

  /** Ends the connection; its close is reported (MQTT.CLOSED). */
  endLink(): void {
    this.#mqtt?.end(true);
  }

  connect(): Promise<void> {
    return new Promise((resolve) => {
      const sub = this.#actor.subscribe((snapshot) => {
        if (stateIsConnected(snapshot.value)) {
          sub.unsubscribe();
          resolve();
        }
      });
      this.#actor.send({ type: "USER.CONNECT" });
    });
  }

  disconnect(): void {
    this.#actor.stop();
    this.closeLink();
  }
}

interface Action {
  type: string;
  params?: Record<string, unknown>;
}

/** The candidate shape: a snapshot per client, `transition()` and a small executor. */
export class PureDriver {
  #snapshot: AnyMachineSnapshot;
  #mqtt: MqttClient | null = null;
  /** Delayed events (the machine's `after` timers), by their id. */
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  #onConnected: (() => void) | null = null;
  readonly #port: number;
  readonly #clientId: string;
  readonly #lean: boolean;

  constructor(port: number, clientId: string, { lean = false }: { lean?: boolean } = {}) {
    this.#port = port;
    this.#clientId = clientId;
    this.#lean = lean;
    const [snapshot, actions] = initialTransition(connectionMachine, machineInput(port, clientId));
    this.#snapshot = this.#keep(snapshot);
    this.#execute(actions as Action[]);
  }

  send(event: ConnectionEvent | { type: string; [key: string]: unknown }): void {
    const [snapshot, actions] = transition(
      connectionMachine,
      this.#snapshot as never,
      event as never,
    );
    this.#snapshot = this.#keep(snapshot);
    this.#execute(actions as Action[]);
    if (this.#onConnected && stateIsConnected(snapshot.value)) {
      const resolve = this.#onConnected;
      this.#onConnected = null;
      resolve();
    }
  }

  #keep(snapshot: AnyMachineSnapshot): AnyMachineSnapshot {
    if (!this.#lean) return snapshot;
    const children = snapshot.children as Record<string, unknown>;
    for (const id of Object.keys(children)) children[id] = { id };
    return snapshot;
  }

  #execute(actions: Action[]): void {
    for (const action of actions) {
      const params = action.params ?? {};
      switch (action.type) {
        case "openLink":
          this.#openLink();
          break;
        case "closeLink":
          this.#closeLink();
          break;
        case "forceDisconnect":
        case "closeConnection":
          this.#mqtt?.end(true);
          break;
        case "xstate.spawnChild": {
          const src = params.src as string;
          const id = params.id as string;
          if (src === "restoreSubscriptions") {
            queueMicrotask(() =>
              this.send({
                type: `xstate.done.actor.${id}`,
                output: { filters: 0, packets: 0, failed: [] },
              }),
            );
          }
          break;
        }
        case "xstate.raise": {
          const delay = params.delay as number | undefined;
          const event = params.event as { type: string };
          const id = (params.id as string | undefined) ?? event.type;
          if (delay === undefined) queueMicrotask(() => this.send(event));
          else {
            this.#timers.set(
              id,
              setTimeout(() => {
                this.#timers.delete(id);
                this.send(event);
              }, delay),
            );
          }
          break;
        }
        case "xstate.cancel": {
          const id = params.sendId as string;
          clearTimeout(this.#timers.get(id));
          this.#timers.delete(id);
          break;
        }
        default:
          break; // attachSession, detachSession, rejectPending, notify*: the facade's.
      }
    }
  }

  #openLink(): void {
    const client = openMqtt(this.#port, this.#clientId);
    this.#mqtt = client;
    client.on("connect", (packet) =>
      this.send({ type: "MQTT.CONNACK", sessionPresent: packet.sessionPresent }),
    );
    client.on("close", () => {
      if (this.#mqtt === client) this.send({ type: "MQTT.CLOSED" });
    });
  }

  #closeLink(): void {
    const client = this.#mqtt;
    this.#mqtt = null;
    client?.end(true);
  }

  connect(): Promise<void> {
    return new Promise((resolve) => {
      this.#onConnected = resolve;
      this.send({ type: "USER.CONNECT" });
    });
  }

  disconnect(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#closeLink();
  }

  get state(): unknown {
    return this.#snapshot.value;
  }
}
