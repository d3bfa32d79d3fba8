/**
 * The behaviour suite's driver for aedes (in-process, MQTT 3.1.1): a real
 * `authenticate` hook checks each CONNECT against the one valid password per
 * user, and the broker's own events give the counters.
 */

import type { Endpoint } from "@armaanjain/courier-web-sdk";
import { TestBroker } from "../support/broker.js";
import {
  type BrokerDriver,
  type BrokerKind,
  type EndpointFields,
  loopbackEndpoint,
  type ReceivedMessage,
  type Transport,
} from "./driver.js";

class AedesDriver implements BrokerDriver {
  readonly mqtt = { protocolVersion: 4 as const };
  readonly persistentSession = { clean: false };
  readonly #passwords = new Map<string, string>();

  constructor(private readonly broker: TestBroker) {
    broker.authenticate = (username, password) =>
      username !== undefined && this.#passwords.get(username) === password ? true : 5;
  }

  endpoint(transport: Transport, fields: EndpointFields): Endpoint {
    return loopbackEndpoint(this.broker, transport, fields);
  }

  async setPassword(username: string, password: string): Promise<void> {
    this.#passwords.set(username, password);
    await this.kick(username);
  }

  async revoke(username: string): Promise<void> {
    this.#passwords.delete(username);
    await this.kick(username);
  }

  async kick(username: string): Promise<void> {
    for (const id of this.broker.clientIds()) {
      const last = this.broker.connects.filter((c) => c.clientId === id && c.accepted).at(-1);
      if (last?.username === username) this.broker.kick(id);
    }
  }

  publish(topic: string, payload: string, qos: 0 | 1): Promise<void> {
    return this.broker.publish(topic, payload, qos);
  }

  async watch(filter: string): Promise<ReceivedMessage[]> {
    const received: ReceivedMessage[] = [];
    const prefix = filter.endsWith("/#") ? filter.slice(0, -1) : null;
    this.broker.aedes.on("publish", (packet) => {
      const { topic } = packet;
      if (topic === filter || (prefix !== null && topic.startsWith(prefix))) {
        received.push({ topic, payload: packet.payload.toString(), qos: packet.qos });
      }
    });
    return received;
  }

  async acceptedConnects(clientId: string): Promise<readonly number[]> {
    return this.broker.connects
      .filter((c) => c.clientId === clientId && c.accepted)
      .map((c) => c.at);
  }

  async refusedConnects(): Promise<number> {
    return this.broker.connects.filter((c) => !c.accepted).length;
  }

  async subscribePacketsOf(clientId: string): Promise<string[][]> {
    return this.broker.subscribePacketsOf(clientId);
  }

  connectedIds(): string[] {
    return this.broker.clientIds();
  }

  close(): Promise<void> {
    return this.broker.close();
  }
}

export const aedesKind: BrokerKind = {
  name: "aedes (MQTT 3.1.1, in-process)",
  available: true,
  start: async () => new AedesDriver(await TestBroker.start()),
};
