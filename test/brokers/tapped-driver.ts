/**
 * The part of a behaviour-suite driver that is the same for every broker
 * reached through a `WireTap` (ejabberd, RabbitMQ): clients connect to the
 * tap, which forwards everything unchanged and counts what went over the
 * wire — accepted and refused CONNECTs, SUBSCRIBE packets, live connections —
 * since neither broker can tell a test that cheaply itself.
 */

import type { Endpoint } from "../../src/index.js";
import type { TappedConnect, WireTap } from "../support/wire-tap.js";
import {
  type BrokerDriver,
  type EndpointFields,
  loopbackEndpoint,
  type ReceivedMessage,
  type Transport,
} from "./driver.js";

/** What a tapped driver needs from its broker. */
export interface TappedBroker {
  setPassword(username: string, password: string): Promise<void>;
  publish(topic: string, payload: string, qos: 0 | 1): Promise<void>;
  watch(filter: string): Promise<ReceivedMessage[]>;
}

export abstract class TappedDriver implements BrokerDriver {
  abstract readonly mqtt: BrokerDriver["mqtt"];
  abstract readonly persistentSession: BrokerDriver["persistentSession"];

  constructor(
    readonly tap: WireTap,
    private readonly broker: TappedBroker,
  ) {}

  /** Ends `username`'s live connections, the broker's way. */
  abstract kick(username: string): Promise<void>;

  /** Whether a CONNECT's user name is `username` (some brokers add a domain). */
  protected isUser(connect: TappedConnect, username: string): boolean {
    return connect.username === username;
  }

  /** The client identifiers `username` has a live connection with. */
  protected liveIdsOf(username: string): string[] {
    return this.tap
      .live()
      .filter((c) => this.isUser(c, username))
      .map((c) => c.clientId);
  }

  endpoint(transport: Transport, fields: EndpointFields): Endpoint {
    return loopbackEndpoint(this.tap, transport, fields);
  }

  async setPassword(username: string, password: string): Promise<void> {
    await this.broker.setPassword(username, password);
    await this.kick(username);
  }

  async revoke(username: string): Promise<void> {
    await this.setPassword(username, `revoked-${Math.random().toString(36).slice(2)}`);
  }

  publish(topic: string, payload: string, qos: 0 | 1): Promise<void> {
    return this.broker.publish(topic, payload, qos);
  }

  watch(filter: string): Promise<ReceivedMessage[]> {
    return this.broker.watch(filter);
  }

  async acceptedConnects(clientId: string): Promise<readonly number[]> {
    return this.tap.connects
      .filter((c) => c.clientId === clientId && c.outcome === "accepted")
      .map((c) => c.at);
  }

  async refusedConnects(): Promise<number> {
    return this.tap.connects.filter((c) => c.outcome === "refused").length;
  }

  async subscribePacketsOf(clientId: string): Promise<string[][]> {
    return this.tap.subscribePackets.filter((p) => p.clientId === clientId).map((p) => p.filters);
  }

  connectedIds(): string[] {
    return this.tap.connectedIds();
  }

  async close(): Promise<void> {
    await this.tap.close();
  }
}
