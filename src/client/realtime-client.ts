/**
 * `RealtimeClient`: the facade that turns the connection statechart into the
 * public API. It runs the production machine with this client's services in
 * its input — the broker adapter, the subscription registry, the outbox, the
 * credentials provider — and turns snapshots and emitted events into
 * `state`, promises and listener calls: `connect()` and `disconnect()`
 * settle from the states the machine reports, nothing else. It decides
 * nothing the machine should decide.
 */

// Longer than 300 lines on purpose: it is the public API, one class; the work is delegated to
// wiring.ts, runtime.ts, message-stream.ts and abort.ts.

import type { IPublishPacket } from "mqtt";
import type { SnapshotFrom } from "xstate";
import {
  ClientClosedError,
  ClientFailedError,
  type CourierError,
  InvalidOptionsError,
} from "../errors.js";
import { connectionStateOf, currentEndpoint } from "../machines/connection.selectors.js";
import type {
  ConnectionEmitted,
  ConnectionState,
  Renewal,
  RestoreResult,
} from "../machines/connection.types.js";
import type { EndpointUpdate } from "../services/endpoint.js";
import type { Qos } from "../services/live-connection.js";
import { debugLine, loadDebugFormat } from "../services/mqtt-log.js";
import { Publication } from "../services/outbox.js";
import type { Message, MessageHandler, Subscription } from "../services/subscriptions.js";
import { assertTopicFilter, assertTopicName } from "../services/topics.js";
import { shown } from "../services/values.js";
import {
  type AbortOptions,
  abortableConnect,
  abortablePublish,
  abortableSubscribe,
  abortedAlready,
  type EventValue,
  type OnceOptions,
  onceEvent,
} from "./abort.js";
import { Emitter } from "./emitter.js";
import { deferredInspection } from "./inspection.js";
import { MessageStream, type MessagesOptions } from "./message-stream.js";
import {
  machineInput,
  type RealtimeClientOptions,
  type ResolvedOptions,
  resolveOptions,
} from "./options.js";
import { type MachineRuntime, runMachine } from "./runtime.js";
import { type ClientMachine, ClientServices, clientMachine } from "./wiring.js";

export interface PublishOptions extends AbortOptions {
  /** @default 0 */
  qos?: Qos;
  /** @default false */
  retain?: boolean;
  /** MQTT 5 publish properties (user properties, content type, message expiry, …). */
  properties?: IPublishPacket["properties"];
}

export interface SubscribeOptions extends AbortOptions {
  /** @default 0 */
  qos?: Qos;
}

/** What a `stateChange` listener receives. */
export interface StateChange {
  readonly state: ConnectionState;
  readonly previous: ConnectionState;
  /** `Date.now()` when the client entered `state`. */
  readonly at: number;
  /** How long the client spent in `previous`, in milliseconds. */
  readonly durationMs: number;
  /** In `failed`: why. */
  readonly error?: CourierError;
}

/** The events of `client.on()` / `client.once()` and what their listeners receive. */
export interface ClientEvents {
  /** Every transition between states (`client.state`). */
  stateChange: (change: StateChange) => void;
  /** Every message received, whichever subscription it matched. */
  message: (message: Message) => void;
  /** Errors, recoverable (connection lost, refresh failed, subscription refused) or not (`failed`). */
  error: (error: CourierError) => void;
  /** Subscriptions were restored after a (re)connection. */
  restored: (result: RestoreResult) => void;
  /** A refresh ahead of the credentials' expiry started, succeeded, failed (also an `error`) or lapsed. */
  renewal: (renewal: Renewal) => void;
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

function qosOf(value: unknown, field: string): Qos {
  if (value === undefined) return 0;
  if (value !== 0 && value !== 1 && value !== 2) {
    throw new InvalidOptionsError(field, `expected 0, 1 or 2, got ${shown(value)}`);
  }
  return value;
}

/** A realtime MQTT client that stays connected when credentials expire (see the README). */
export class RealtimeClient {
  readonly #options: ResolvedOptions;
  readonly #events = new Emitter<ClientEvents>();
  readonly #services: ClientServices;
  readonly #machine: MachineRuntime<ClientMachine>;
  #state: ConnectionState = "idle";
  #stateSince = Date.now();
  #connectWaiters: Waiter[] = [];
  #disconnectWaiters: Waiter[] = [];
  /** `disconnect()` was called and no `connect()` since (see `offlineQueue.afterDisconnect`). */
  #closedByUser = false;
  /** Open `messages()` iterators, ended when the client is disposed of. */
  #streams: Set<MessageStream> | undefined;

  constructor(options: RealtimeClientOptions) {
    this.#options = resolveOptions(options);
    const emitError = (error: CourierError) => this.#events.emit("error", error);
    const run = { now: Date.now, random: Math.random };
    this.#services = new ClientServices(
      this.#options,
      {
        message: (message) => this.#events.emit("message", message),
        error: emitError,
      },
      run,
    );
    const { debug } = this.#options;
    if (debug) {
      debug.secrets = this.#services.secrets;
      loadDebugFormat();
      this.#events.on("stateChange", (c) => debugLine(debug, `state ${c.previous} → ${c.state}`));
    }
    this.#machine = runMachine(
      clientMachine(),
      {
        ...machineInput(this.#options, { ...run, services: this.#services }),
        watchesEnvironment: this.#services.watchesEnvironment,
      },
      {
        snapshot: (snapshot) => this.#onSnapshot(snapshot),
        emitted: (event) => this.#onEmitted(event),
        failed: (error) => emitError(new ClientFailedError("The client", error)),
      },
      // Devtools get redacted copies: no password, token or user name (README "In the browser").
      this.#options.inspect
        ? deferredInspection(this.#options.inspect, this.#services.secrets)
        : undefined,
    );
  }

  /** What the client is doing now (see `ConnectionState`). */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The error that stopped the client in `failed`, or the latest recoverable one; null if none. */
  get error(): CourierError | null {
    return this.#machine.getSnapshot().context.error;
  }

  /** Topic filters this client tracks and restores after every reconnection. */
  get subscriptions(): string[] {
    return this.#services.registry.filters();
  }

  /** Publishes not yet settled: queued while offline, or awaiting acknowledgement. */
  get pendingPublishes(): number {
    return this.#services.outbox.size;
  }

  /**
   * Connects. Resolves once connected with every tracked subscription
   * restored; keeps retrying (with backoff) through network and auth errors;
   * rejects if the client stops in `failed` or `disconnect()` is called.
   * Aborting `options.signal` before then rejects with `AbortError` and stops
   * connecting, as `disconnect()` does.
   */
  connect(options: AbortOptions = {}): Promise<void> {
    const aborted = abortedAlready("connect()", options.signal);
    if (aborted) return aborted;
    this.#closedByUser = false;
    if (this.#state === "connected") return Promise.resolve();
    const connected = new Promise<void>((resolve, reject) =>
      this.#connectWaiters.push({ resolve, reject }),
    );
    // A disconnect() still closing is superseded by this connect().
    for (const waiter of this.#disconnectWaiters.splice(0)) waiter.resolve();
    this.#machine.send({ type: "USER.CONNECT" });
    if (options.signal) return abortableConnect(connected, options.signal, () => this.disconnect());
    return connected;
  }

  /**
   * Disconnects from any state: sends DISCONNECT when connected (in-flight
   * QoS 1/2 publishes get `timeouts.closeSeconds` to be acknowledged), then
   * rejects every queued publish and pending subscribe with
   * `ClientClosedError`. Leaves no socket, timer or pending promise.
   * Tracked subscriptions are kept and restored by the next `connect()`.
   */
  disconnect(): Promise<void> {
    this.#closedByUser = true;
    if (this.#state === "idle") {
      this.#machine.send({ type: "USER.DISCONNECT" });
      return Promise.resolve();
    }
    const idle = new Promise<void>((resolve, reject) =>
      this.#disconnectWaiters.push({ resolve, reject }),
    );
    this.#machine.send({ type: "USER.DISCONNECT" });
    return idle;
  }

  /**
   * Replaces host, port and/or credentials for the next (re-)connection.
   * Fields left out keep their values. Never tears down a live connection.
   */
  updateEndpoint(endpoint: EndpointUpdate): void {
    const current = currentEndpoint(this.#machine.getSnapshot().context);
    const next = this.#services.update(current, endpoint);
    this.#machine.send({ type: "USER.UPDATE_ENDPOINT", endpoint: next });
  }

  /**
   * Subscribes `handler` to `filter`. Resolves once the broker granted it
   * (immediately if it already holds the filter); while not connected, when
   * the next connection restores it. Rejects with `SubscriptionRejectedError`
   * if the broker refuses it. The subscription is tracked and restored after
   * every reconnection until `unsubscribe()`. Aborting `options.signal`
   * before the grant rejects with `AbortError` and withdraws it; after, it
   * unsubscribes.
   */
  subscribe(
    filter: string,
    handler: MessageHandler,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    try {
      assertTopicFilter(filter);
      if (typeof handler !== "function")
        throw new InvalidOptionsError("handler", "expected a function");
      const qos = qosOf(options.qos, "options.qos");
      if (this.#state === "failed") throw new ClientFailedError("subscribe()", this.error);
      const { signal } = options;
      if (signal) {
        return (
          abortedAlready("subscribe()", signal) ??
          abortableSubscribe(this.#services.registry, filter, handler, qos, signal)
        );
      }
      return this.#services.registry.add(filter, handler, qos);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Publishes. Resolves on delivery: written to the socket for QoS 0, PUBACK
   * / PUBCOMP for QoS 1 / 2. While not connected the publish is queued
   * (bounded by `offlineQueue`) and sent in order after the next restore.
   * After `disconnect()`, until the next `connect()`, it rejects at once with
   * `ClientClosedError` (unless `offlineQueue.afterDisconnect` is `"queue"`).
   * Aborting `options.signal` before it settled rejects with `AbortError` and
   * takes it out of the queue (one already written cannot be recalled, but is
   * not sent again).
   */
  publish(
    topic: string,
    payload: string | Uint8Array,
    options: PublishOptions = {},
  ): Promise<void> {
    try {
      assertTopicName(topic);
      if (typeof payload !== "string" && !(payload instanceof Uint8Array)) {
        throw new InvalidOptionsError("payload", "expected a string or a Uint8Array");
      }
      const qos = qosOf(options.qos, "options.qos");
      if (this.#state === "failed") throw new ClientFailedError("publish()", this.error);
      if (this.#closedByUser && this.#options.afterDisconnect === "reject") {
        throw new ClientClosedError("publish()");
      }
      const request = new Publication(
        topic,
        payload,
        qos,
        options.retain === true,
        options.properties,
      );
      const { signal } = options;
      if (signal) {
        return (
          abortedAlready("publish()", signal) ??
          abortablePublish(this.#services.outbox, request, signal)
        );
      }
      return this.#services.outbox.publish(request);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): () => void {
    return this.#events.on(event, listener);
  }

  /** Removes a listener added with `on()`. */
  off<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): void {
    this.#events.off(event, listener);
  }

  /**
   * Resolves with the next `event` (the first one `options.filter` accepts),
   * e.g. `await client.once("stateChange", { filter: (c) => c.state === "connected" })`.
   * Rejects with `AbortError` if `options.signal` aborts first.
   */
  once<K extends keyof ClientEvents>(
    event: K,
    options?: OnceOptions<EventValue<ClientEvents[K]>>,
  ): Promise<EventValue<ClientEvents[K]>> {
    return onceEvent<ClientEvents, K>(this, event, options);
  }

  /**
   * The messages of `filter` as an async iterator:
   * `for await (const message of client.messages("rooms/42/#", { qos: 1 })) …`.
   * Subscribes when iteration starts, with the tracking of `subscribe()`;
   * leaving the loop, aborting `options.signal` (the loop throws
   * `AbortError`) or disposing of the client unsubscribes. Messages the loop
   * has not read yet wait in a buffer of `options.bufferSize`; when it is
   * full, `options.overflow` decides (see `MessagesOptions`).
   */
  messages(filter: string, options: MessagesOptions = {}): MessageStream {
    this.#streams ??= new Set();
    return new MessageStream(filter, options, {
      subscribe: (handler, o) => this.subscribe(filter, handler, o),
      report: (error) => this.#events.emit("error", error),
      streams: this.#streams,
    });
  }

  /**
   * `await using client = new RealtimeClient(…)`: at the end of the scope,
   * ends every `messages()` iteration and disconnects.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all([...(this.#streams ?? [])].map((stream) => stream.return()));
    await this.disconnect();
  }

  #onEmitted(event: ConnectionEmitted): void {
    if (event.type === "notify.error") this.#events.emit("error", event.error);
    else if (event.type === "notify.restored") this.#events.emit("restored", event.result);
    else this.#events.emit("renewal", event.renewal);
  }

  #onSnapshot(snapshot: SnapshotFrom<ClientMachine>): void {
    const state = connectionStateOf(snapshot.value);
    if (state === this.#state) return;
    const previous = this.#state;
    const now = Date.now();
    const change: StateChange = {
      state,
      previous,
      at: now,
      durationMs: now - this.#stateSince,
      ...(state === "failed" && this.error ? { error: this.error } : {}),
    };
    this.#state = state;
    this.#stateSince = now;
    this.#settle(state, snapshot.context.error);
    this.#events.emit("stateChange", change);
  }

  /** connect() resolves in `connected`, rejects in `idle` or `failed`; disconnect() resolves in `idle`. */
  #settle(state: ConnectionState, error: CourierError | null): void {
    if (state === "connected") {
      for (const waiter of this.#connectWaiters.splice(0)) waiter.resolve();
      return;
    }
    if (state !== "idle" && state !== "failed") return;
    const connectError =
      state === "idle"
        ? new ClientClosedError("connect()")
        : (error ?? new ClientFailedError("connect()", null));
    for (const waiter of this.#connectWaiters.splice(0)) waiter.reject(connectError);
    if (state === "idle") for (const waiter of this.#disconnectWaiters.splice(0)) waiter.resolve();
  }
}
