/**
 * The adapter: one mqtt.js client for one connection attempt, and nothing
 * else. It maps what mqtt.js reports to four facts — accepted, refused,
 * server DISCONNECT, closed — plus messages and pongs, and leaves every
 * decision (retry, refresh, resubscribe) to the statechart. Every listener
 * it adds is removed by `dispose()`, which also drops the socket. Beyond
 * mqtt.js's public API it uses only one thing: writing the PUBACK of a
 * PUBLISH that arrived before the CONNACK itself, after the CONNACK.
 */

import type {
  IClientOptions,
  IClientPublishOptions,
  IConnackPacket,
  IDisconnectPacket,
  IPublishPacket,
  ISubscriptionMap,
  MqttClient,
} from "mqtt";
import { ConnectionLostError, type CourierError, ReauthenticationError } from "../errors.js";
import { AckWatch } from "./ack-watch.js";
import { brokerUrl, type ResolvedEndpoint } from "./endpoint.js";
import {
  type LiveConnection,
  type Message,
  messageOf,
  type PublishDone,
  type PublishRequest,
  type Qos,
} from "./live-connection.js";
import {
  type AuthPacket,
  AuthReasonCode,
  deferPubacks,
  onAuthPacket,
  sendAuth,
  sendPuback,
} from "./mqtt-internals.js";
import { classifyConnack, classifyDisconnect, type Refusal } from "./reason-codes.js";

export type { LiveConnection, PublishRequest, Qos } from "./live-connection.js";

/**
 * mqtt.js options the SDK passes through (keepalive, clean, protocolVersion,
 * will, properties, TLS options, wsOptions, …). The ones the statechart owns
 * are left out: it decides when to connect, reconnect and resubscribe, and
 * the endpoint decides where and as whom.
 */
export type MqttOptions = Omit<
  IClientOptions,
  | "host"
  | "hostname"
  | "port"
  | "path"
  | "protocol"
  | "username"
  | "password"
  | "clientId"
  | "servers"
  | "reconnectPeriod"
  | "reconnectOnConnackError"
  | "resubscribe"
  | "manualConnect"
  | "connectTimeout"
  | "queueQoSZero"
>;

/** mqtt.js's default export (`connect()` and friends). */
export type Transport = typeof import("mqtt").default;

let transport: Transport | undefined;

/**
 * mqtt.js, loaded when the first connection needs it: a bundler puts it in
 * a chunk of its own, so a page's first chunk does not carry it. Once
 * loaded it is returned at once (no promise). A failed load is not kept:
 * the next attempt loads again.
 */
export function loadTransport(): Transport | Promise<Transport> {
  if (transport) return transport;
  // The default export: mqtt's browser ESM build (dist/mqtt.esm.js) has no named exports.
  return import("mqtt").then((module) => {
    transport = module.default;
    return transport;
  });
}

/** Starts loading mqtt.js now (when a client is constructed), so that `connect()` rarely waits for it. */
export function preloadTransport(): void {
  const loading = loadTransport();
  // A failed load is reported by the connection attempt that needs it.
  if (loading instanceof Promise) loading.catch(() => {});
}

export interface LinkListener {
  accepted(sessionPresent: boolean): void;
  refused(refusal: Refusal): void;
  serverDisconnect(refusal: Refusal): void;
  /** `beforeConnack`: the broker closed it before any CONNACK, without a socket error. */
  closed(error: CourierError, beforeConnack: boolean): void;
  /** The broker answered `ping()`. */
  pong(): void;
  message(message: Message): void;
}

// biome-ignore lint/suspicious/noExplicitAny: mqtt.js listeners take differently typed arguments.
type Handler = (...args: any[]) => void;

interface Emitter {
  on(event: string, handler: Handler): void;
  removeListener(event: string, handler: Handler): void;
}

/**
 * MQTT 5 enhanced authentication on this connection (§4.12): the method
 * and data of the CONNECT, and the answer to each of the broker's AUTH 0x18
 * rounds (`reauthentication` true on a live connection).
 */
export interface LinkAuth {
  readonly method: string;
  readonly data: Uint8Array | undefined;
  continue(
    challenge: Uint8Array | undefined,
    round: { reauthentication: boolean; round: number },
  ): Promise<Uint8Array | undefined>;
}

/** A re-authentication waiting for the broker's AUTH 0x00. */
interface PendingReauth {
  resolve(): void;
  reject(error: Error): void;
}

type PreConnackPacket = { cmd: string; qos?: number; properties?: IConnackPacket["properties"] };

interface EarlyMessage {
  readonly message: Message;
  /** A QoS 1 PUBLISH read before the CONNACK: its PUBACK is sent after delivery. */
  readonly pubackAfterConnack: number | undefined;
}

// What it needs of mqtt.js beyond its public API is in mqtt-internals.ts.
// Longer than 300 lines on purpose: it is one class around one mqtt.js
// client, and most of it is the reasoning about packets that arrive before
// the CONNACK, which has to sit beside the listeners it guards.
export class BrokerLink implements LiveConnection {
  readonly #client: MqttClient;
  readonly #listener: LinkListener;
  /** Every listener added to the client, as event, handler pairs (removed by `dispose()`). */
  readonly #listeners: (string | Handler)[] = [];
  #accepted = false;
  /** The CONNACK packet has been read (mqtt.js reports `connect` a tick or more later). */
  #connackRead = false;
  /** Messages read before `accepted`: delivered, in order, right after it. */
  #early: EarlyMessage[] | undefined;
  #closed = false;
  /** `end()` was called: a close from now on is our own. */
  #ending = false;
  #disposed = false;
  #lastError: Error | undefined;
  #maximumPacketSize: number | undefined;
  #connackProperties: IConnackPacket["properties"];
  #receiveMaximum: number | undefined;
  readonly #preConnack: Handler;
  /** Acknowledgements overdue past `timeouts.ackSeconds` end the connection; none without a limit. */
  readonly #acks: AckWatch | undefined;
  readonly #auth: LinkAuth | undefined;
  /** Puts mqtt.js's own AUTH handling back (set with `auth`). */
  #restoreAuth: (() => void) | undefined;
  /** The 0x18 rounds of the exchange under way. */
  #authRounds = 0;
  #reauth: PendingReauth | undefined;

  constructor(
    mqtt: Transport,
    endpoint: ResolvedEndpoint,
    mqttOptions: MqttOptions,
    connectTimeoutMs: number,
    listener: LinkListener,
    ackTimeoutMs = Number.POSITIVE_INFINITY,
    auth?: LinkAuth,
  ) {
    this.#listener = listener;
    if (ackTimeoutMs !== Number.POSITIVE_INFINITY) {
      this.#acks = new AckWatch(ackTimeoutMs, () => {
        this.#lastError = new Error(
          `the broker acknowledged nothing within ${ackTimeoutMs / 1000} s (timeouts.ackSeconds)`,
        );
        this.#client.end(true);
      });
    }
    this.#auth = auth;
    this.#client = mqtt.connect(brokerUrl(endpoint), {
      ...mqttOptions,
      ...(auth ? { properties: withAuthentication(mqttOptions.properties, auth) } : {}),
      clientId: endpoint.clientId,
      username: endpoint.username,
      password: endpoint.password?.reveal(),
      // The statechart owns reconnection and resubscription.
      reconnectPeriod: 0,
      reconnectOnConnackError: false,
      resubscribe: false,
      manualConnect: true,
      queueQoSZero: false,
      // The machine's CONNECT_TIMEOUT decides (and disposes this link); mqtt.js's own
      // timer only backs it up, well after (and within what a timer can hold).
      connectTimeout: Math.min(connectTimeoutMs + 60_000, 2_147_483_647),
    });
    // Until CONNACK only: every packet after it would pay for this listener.
    this.#preConnack = this.#on("packetreceive", (packet: PreConnackPacket) =>
      this.#onPreConnackPacket(packet),
    );
    this.#on("connect", (packet: IConnackPacket) => this.#onConnack(packet));
    this.#on("error", (error: Error) => this.#onError(error));
    this.#on("disconnect", (packet: IDisconnectPacket) => this.#onDisconnect(packet));
    this.#on("close", () => this.#onClose());
    this.#on("message", (topic: string, payload: Uint8Array, packet: IPublishPacket) => {
      const message = messageOf(topic, payload, packet);
      if (this.#accepted) this.#listener.message(message);
      else this.#hold({ message, pubackAfterConnack: this.#deferredPuback(packet) });
    });
    // A QoS 1 PUBLISH read before the CONNACK is acknowledged after it (mqtt-internals.ts).
    deferPubacks(this.#client, (packet) => this.#deferredPuback(packet) !== undefined);
    if (auth) this.#restoreAuth = onAuthPacket(this.#client, (packet) => this.#onAuth(packet));
  }

  /**
   * Re-authenticates on this live connection (MQTT 5 §4.12.1): AUTH 0x19
   * with `data`, the broker's 0x18 rounds answered by the `LinkAuth`;
   * resolves on AUTH 0x00. A DISCONNECT or a close is reported to the
   * listener as usual; the caller bounds the wait.
   */
  reauthenticate(data: Uint8Array | undefined): Promise<void> {
    const auth = this.#auth;
    if (!auth || !this.#accepted || this.#closed || this.#disposed) {
      return Promise.reject(new ReauthenticationError("closed"));
    }
    this.#reauth?.reject(new ReauthenticationError("closed"));
    return new Promise<void>((resolve, reject) => {
      this.#reauth = { resolve, reject };
      this.#authRounds = 0;
      try {
        sendAuth(this.#client, {
          reasonCode: AuthReasonCode.reauthenticate,
          method: auth.method,
          ...(data ? { data } : {}),
        });
      } catch (error) {
        this.#reauth = undefined;
        reject(new ReauthenticationError("closed", undefined, { cause: error }));
      }
    });
  }

  /** Drops a re-authentication the caller no longer waits for. */
  abandonReauthentication(): void {
    this.#reauth = undefined;
  }

  /** An AUTH from the broker: 0x18 answered through the hook, 0x00 ends a re-authentication. */
  async #onAuth(packet: AuthPacket): Promise<Uint8Array | undefined> {
    const auth = this.#auth;
    const pending = this.#reauth;
    if (packet.reasonCode === AuthReasonCode.success) {
      this.#reauth = undefined;
      pending?.resolve();
      return undefined;
    }
    if (!auth) return undefined;
    this.#authRounds += 1;
    try {
      return await auth.continue(packet.properties?.authenticationData, {
        reauthentication: this.#accepted,
        round: this.#authRounds,
      });
    } catch (error) {
      // mqtt.js ends the connection when this throws; the re-authentication fails first.
      this.#reauth = undefined;
      pending?.reject(new ReauthenticationError("hook", undefined, { cause: error }));
      throw error;
    }
  }

  /** The packet identifier to acknowledge after the CONNACK, if `packet` came before it. */
  #deferredPuback(packet: IPublishPacket): number | undefined {
    return this.#connackRead || packet.qos !== 1 ? undefined : packet.messageId;
  }

  #hold(message: EarlyMessage): void {
    this.#early ??= [];
    this.#early.push(message);
  }

  get protocolVersion(): number {
    return this.#client.options.protocolVersion ?? 4;
  }

  get maximumPacketSize(): number | undefined {
    return this.#maximumPacketSize;
  }

  get receiveMaximum(): number | undefined {
    return this.#receiveMaximum;
  }

  open(): void {
    this.#client.connect();
  }

  subscribe(filters: readonly { filter: string; qos: Qos; rh?: 0 | 1 | 2 }[]): Promise<number[]> {
    const map: ISubscriptionMap = {};
    for (const { filter, qos, rh } of filters) map[filter] = rh ? { qos, rh } : { qos };
    return new Promise((resolve, reject) => {
      const ticket = this.#acks?.sent() ?? 0;
      this.#client.subscribe(map, (error, granted) => {
        this.#acks?.acked(ticket);
        // mqtt.js fails the whole call when one filter is refused; the SUBACK it
        // attaches still holds every filter's code, which is what the registry reports.
        const suback = (error as { packet?: { granted?: unknown } } | null)?.packet?.granted;
        if (Array.isArray(suback))
          resolve(suback.map((code) => (typeof code === "number" ? code : code.qos)));
        else if (error) reject(error);
        else resolve((granted ?? []).map((grant) => grant.qos));
      });
    });
  }

  unsubscribe(filters: readonly string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const ticket = this.#acks?.sent() ?? 0;
      this.#client.unsubscribe([...filters], (error) => {
        this.#acks?.acked(ticket);
        if (error) reject(error);
        else resolve();
      });
    });
  }

  publish<R extends PublishRequest>(request: R, done: PublishDone<R>): void {
    // mqtt.js copies the options it is given, so the common ones are shared, not rebuilt per message.
    const options: IClientPublishOptions = request.properties
      ? { qos: request.qos, retain: request.retain, properties: request.properties }
      : (PUBLISH_OPTIONS[request.qos + (request.retain ? 3 : 0)] as IClientPublishOptions);
    const acks = request.qos === 0 ? undefined : this.#acks;
    const ticket = acks ? acks.sent() : 0;
    // One closure per publish, as mqtt.js's own publishAsync has.
    this.#client.publish(request.topic, request.payload as string | Buffer, options, (error) => {
      acks?.acked(ticket);
      done(request, error, this);
    });
  }

  /**
   * Sends PINGREQ; `pong` is reported when PINGRESP arrives. (How long to
   * wait is the statechart's PROBE_TIMEOUT, not this adapter's business.)
   */
  ping(): void {
    if (this.#closed || this.#disposed) return;
    const pong = this.#on("packetreceive", (packet: { cmd: string }) => {
      if (packet.cmd !== "pingresp") return;
      this.#off("packetreceive", pong);
      this.#listener.pong();
    });
    this.#client.sendPing();
  }

  /**
   * Closes the connection: `force` drops the socket now (the page's
   * "force-disconnect"); otherwise DISCONNECT is sent once in-flight QoS 1/2
   * publishes are acknowledged. `closed` is reported either way, also when
   * the socket had already closed.
   */
  end(force: boolean): void {
    if (this.#disposed) return;
    this.#ending = true;
    if (this.#closed) {
      queueMicrotask(() => this.#reportClosed());
      return;
    }
    this.#client.end(force || !this.#accepted);
  }

  /** Removes every listener and drops the socket. No event is reported after this. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#reauth?.reject(new ReauthenticationError("closed"));
    this.#reauth = undefined;
    this.#restoreAuth?.();
    this.#acks?.stop();
    const listeners = this.#listeners.splice(0);
    for (let i = 0; i < listeners.length; i += 2) {
      this.#emitter.removeListener(listeners[i] as string, listeners[i + 1] as Handler);
    }
    // A late socket error must not become an unhandled 'error' event.
    this.#client.on("error", ignore);
    this.#client.end(true);
    // mqtt.js ignores end(true) while a graceful end(false) still waits for in-flight
    // acknowledgements (`disconnecting` is already set), which would leave the socket open
    // after CLOSE_TIMEOUT: drop it here. Destroying an already closed stream does nothing.
    this.#client.stream?.destroy();
  }

  /** The client as the event emitter it is (mqtt.js types its events narrowly). */
  get #emitter(): Emitter {
    return this.#client as unknown as Emitter;
  }

  /** Adds a listener, removed by `dispose()` unless `#off` removes it first; returns it. */
  #on(event: string, handler: Handler): Handler {
    this.#emitter.on(event, handler);
    this.#listeners.push(event, handler);
    return handler;
  }

  #off(event: string, handler: Handler): void {
    this.#emitter.removeListener(event, handler);
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i += 2) {
      if (listeners[i] === event && listeners[i + 1] === handler) {
        listeners.splice(i, 2);
        return;
      }
    }
  }

  #onConnack(packet: IConnackPacket): void {
    this.#accepted = true;
    this.#off("packetreceive", this.#preConnack);
    this.#maximumPacketSize = packet.properties?.maximumPacketSize;
    this.#receiveMaximum = packet.properties?.receiveMaximum;
    this.#listener.accepted(packet.sessionPresent);
    const early = this.#early;
    this.#early = undefined;
    if (!early || this.#disposed) return;
    for (const { message } of early) this.#listener.message(message);
    for (const { pubackAfterConnack: messageId } of early) {
      if (messageId !== undefined) sendPuback(this.#client, messageId);
    }
  }

  /**
   * Packets before CONNACK. A refused CONNACK reaches `error` without its
   * packet, so its properties (Server Reference) are kept here.
   *
   * A QoS 1/2 PUBLISH before CONNACK breaks [MQTT-3.2.0-1] (aedes 1.2 does it
   * when a live message reaches a persistent session it is still restoring,
   * and keeps doing it on every retry while messages flow). A QoS 1 one is
   * held and acknowledged after the CONNACK (`deferPubacks` above). A QoS 2
   * one cannot be: mqtt.js records it and queues its PUBREC before asking,
   * and reads nothing more until the PUBREC is written, so the CONNACK behind
   * it is never seen and the connection would hang until CONNECT_TIMEOUT.
   * Drop it now; the broker redelivers the message on the next connection.
   */
  #onPreConnackPacket(packet: PreConnackPacket): void {
    if (packet.cmd === "connack") {
      this.#connackRead = true;
      this.#connackProperties = packet.properties;
      // mqtt.js emits `connect` only after flushing its outgoing store (a later tick): a
      // PUBLISH read in between came after the CONNACK and is legal. Stop watching now.
      this.#off("packetreceive", this.#preConnack);
      return;
    }
    if (this.#accepted || packet.cmd !== "publish" || packet.qos !== 2) return;
    this.#lastError = new Error(
      "the broker sent a QoS 2 PUBLISH before CONNACK (MQTT-3.2.0-1); reconnecting",
    );
    this.#client.end(true);
  }

  #onError(error: Error): void {
    const code = (error as { code?: unknown }).code;
    // mqtt.js reports a refused CONNACK as an error carrying the numeric code, before `connect`.
    if (!this.#accepted && typeof code === "number") {
      const reference = this.#connackProperties?.serverReference;
      this.#listener.refused(classifyConnack(code, this.protocolVersion, reference));
      return;
    }
    this.#lastError = error;
  }

  #onDisconnect(packet: IDisconnectPacket): void {
    const reference = packet.properties?.serverReference;
    this.#listener.serverDisconnect(classifyDisconnect(packet.reasonCode ?? 0, reference));
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#acks?.stop();
    this.#reportClosed();
  }

  #reportClosed(): void {
    if (this.#disposed) return;
    const detail = this.#lastError
      ? this.#lastError.message
      : this.#accepted
        ? "the socket closed"
        : "the broker closed the connection before CONNACK";
    this.#listener.closed(
      new ConnectionLostError(detail, { cause: this.#lastError }),
      !this.#accepted && !this.#connackRead && !this.#ending && this.#lastError === undefined,
    );
  }
}

function ignore(): void {}

/** The CONNECT properties with the Authentication Method and Data (MQTT 5 §3.1.2.11.9–10). */
function withAuthentication(
  properties: IClientOptions["properties"],
  auth: LinkAuth,
): NonNullable<IClientOptions["properties"]> {
  return {
    ...properties,
    authenticationMethod: auth.method,
    // mqtt-packet writes any Uint8Array; browsers have no global Buffer.
    ...(auth.data ? { authenticationData: auth.data as Buffer } : {}),
  };
}

/** Publish options for QoS 0, 1, 2 without retain, then with; frozen, since every publish shares them. */
const PUBLISH_OPTIONS: readonly IClientPublishOptions[] = /* @__PURE__ */ [0, 1, 2, 0, 1, 2].map(
  (qos, i) => Object.freeze({ qos: qos as Qos, retain: i > 2 }),
);
