/**
 * What the broker-agnostic behaviour suite needs from a broker: start it,
 * make a password valid or revoke it, drop a user's connections, publish and
 * watch from the broker side, and counters of what the broker saw on the
 * wire. One implementation per broker (`aedes-driver.ts`,
 * `mosquitto-driver.ts`, `ejabberd-driver.ts`, `rabbitmq-driver.ts`); the
 * suite (`core.suite.ts`) never asks which.
 */

import type { Endpoint, RealtimeClientOptions } from "@armaanjain/courier-web-sdk";

export type Transport = "tcp" | "ws";

/** What a test chooses of an endpoint; the driver supplies host, port and scheme. */
export type EndpointFields = Omit<Endpoint, "host" | "port" | "scheme">;

export interface ReceivedMessage {
  readonly topic: string;
  readonly payload: string;
  readonly qos: number;
}

export interface BrokerDriver {
  /** mqtt.js options every client of this broker needs (the protocol version). */
  readonly mqtt: NonNullable<RealtimeClientOptions["mqtt"]>;
  /**
   * mqtt.js options for a session the broker keeps across connections
   * (`clean: false`, plus a Session Expiry Interval on MQTT 5, where
   * `clean: false` alone ends the session when the connection does).
   */
  readonly persistentSession: NonNullable<RealtimeClientOptions["mqtt"]>;
  endpoint(transport: Transport, fields: EndpointFields): Endpoint;
  /**
   * Makes `password` the one valid password of `username` (creating the
   * user). The user's live connections are dropped, as a credential store
   * that rotates a token does.
   */
  setPassword(username: string, password: string): Promise<void>;
  /** No password works for `username` any more, and its connections are dropped: the token expired. */
  revoke(username: string): Promise<void>;
  /** Drops `username`'s connections from the broker side; its password keeps working. */
  kick(username: string): Promise<void>;
  /** Publishes from the broker side (resolves once the broker took it). */
  publish(topic: string, payload: string, qos: 0 | 1): Promise<void>;
  /** Messages on `filter` from now on, as the broker routes them (the list fills as they come). */
  watch(filter: string): Promise<ReceivedMessage[]>;
  /** Times the broker accepted a CONNECT from `clientId`. */
  acceptedConnects(clientId: string): Promise<readonly number[]>;
  /** CONNECTs the broker refused with a CONNACK failure code. */
  refusedConnects(): Promise<number>;
  /** One entry per SUBSCRIBE packet `clientId` sent: its filters. */
  subscribePacketsOf(clientId: string): Promise<string[][]>;
  /** Client identifiers the broker holds a live connection for. */
  connectedIds(): string[];
  close(): Promise<void>;
}

/**
 * What a core test needs that some brokers cannot do: drop a connection,
 * revoke a password, keep a session, or refuse credentials over WebSocket
 * with a CONNACK (the refresh-flow test follows that CONNACK step by step).
 */
export type Capability = "kick" | "revoke" | "persistentSession" | "refusalOverWebSocket";

export interface BrokerKind {
  readonly name: string;
  /** False when the broker is not installed here (the suite is then skipped, loudly). */
  readonly available: boolean;
  /**
   * "test" (the default): a fresh broker per test. "file": one broker for
   * every test of the suite (a broker that takes seconds to start); tests
   * then count what the broker saw from their own start.
   */
  readonly scope?: "test" | "file";
  /** What this broker cannot do, each with the reason; the tests that need it are skipped. */
  readonly lacks?: Partial<Record<Capability, string>>;
  start(): Promise<BrokerDriver>;
}

/** The endpoint of a broker listening on 127.0.0.1 (`/mqtt` for WebSocket). */
export function loopbackEndpoint(
  ports: { readonly tcpPort: number; readonly wsPort: number },
  transport: Transport,
  fields: EndpointFields,
): Endpoint {
  return transport === "tcp"
    ? { host: "127.0.0.1", port: ports.tcpPort, scheme: "mqtt", ...fields }
    : { host: "127.0.0.1", port: ports.wsPort, scheme: "ws", path: "/mqtt", ...fields };
}
