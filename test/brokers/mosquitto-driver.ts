/**
 * The behaviour suite's driver for mosquitto (`test/support/mosquitto.ts`),
 * once per protocol version the client speaks to it: MQTT 3.1.1 and MQTT 5.
 */

import type { Endpoint } from "@armaanjain/courier-web-sdk";
import { Mosquitto } from "../support/mosquitto.js";
import { hasBinary } from "../support/requirements.js";
import {
  type BrokerDriver,
  type BrokerKind,
  type EndpointFields,
  loopbackEndpoint,
  type ReceivedMessage,
  type Transport,
} from "./driver.js";

class MosquittoDriver implements BrokerDriver {
  readonly mqtt: BrokerDriver["mqtt"];
  readonly persistentSession: BrokerDriver["persistentSession"];

  constructor(
    readonly broker: Mosquitto,
    protocolVersion: 4 | 5,
  ) {
    this.mqtt = { protocolVersion };
    this.persistentSession =
      protocolVersion === 5
        ? { clean: false, properties: { sessionExpiryInterval: 300 } }
        : { clean: false };
  }

  endpoint(transport: Transport, fields: EndpointFields): Endpoint {
    return loopbackEndpoint(this.broker, transport, fields);
  }

  setPassword(username: string, password: string): Promise<void> {
    return this.broker.setPassword(username, password);
  }

  revoke(username: string): Promise<void> {
    return this.broker.revoke(username);
  }

  kick(username: string): Promise<void> {
    return this.broker.kick(username);
  }

  publish(topic: string, payload: string, qos: 0 | 1): Promise<void> {
    return this.broker.publish(topic, payload, qos);
  }

  watch(filter: string): Promise<ReceivedMessage[]> {
    return this.broker.watch(filter);
  }

  async acceptedConnects(clientId: string): Promise<readonly number[]> {
    return (await this.broker.connectsOf(clientId)).map((c) => c.at);
  }

  async refusedConnects(): Promise<number> {
    return (await this.broker.refusalCodes()).length;
  }

  subscribePacketsOf(clientId: string): Promise<string[][]> {
    return this.broker.subscribePacketsOf(clientId);
  }

  connectedIds(): string[] {
    return this.broker.connectedIds();
  }

  close(): Promise<void> {
    return this.broker.close();
  }
}

export function mosquittoKind(protocolVersion: 4 | 5): BrokerKind {
  return {
    name: `mosquitto (MQTT ${protocolVersion === 5 ? "5" : "3.1.1"})`,
    available: hasBinary("mosquitto"),
    start: async () => new MosquittoDriver(await Mosquitto.start(), protocolVersion),
  };
}
