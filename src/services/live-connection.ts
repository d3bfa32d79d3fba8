/**
 * What the subscription registry and the outbox speak to: one accepted
 * connection to the broker, and the packets that go over it. The broker
 * adapter implements it over mqtt.js; anything that speaks MQTT could.
 */

import type { IPublishPacket } from "mqtt";

/** MQTT quality of service: 0 at most once, 1 at least once, 2 exactly once. */
export type Qos = 0 | 1 | 2;

/** A message as handlers receive it. */
export interface Message {
  readonly topic: string;
  /** The raw payload. `new TextDecoder().decode(message.payload)` for text. */
  readonly payload: Uint8Array;
  readonly qos: Qos;
  readonly retain: boolean;
  /** True when the broker is re-delivering (QoS 1/2). */
  readonly dup: boolean;
  /** MQTT 5 properties (user properties, content type, …), when present. */
  readonly properties?: IPublishPacket["properties"];
}

export interface PublishRequest {
  readonly topic: string;
  readonly payload: string | Uint8Array;
  readonly qos: Qos;
  readonly retain: boolean;
  readonly properties?: IPublishPacket["properties"];
}

/** A connection the broker accepted, as the registry and the outbox use it. */
export interface LiveConnection {
  readonly protocolVersion: number;
  /** The broker's Maximum Packet Size (MQTT 5 CONNACK), if it announced one. */
  readonly maximumPacketSize: number | undefined;
  /**
   * The broker's Receive Maximum (MQTT 5 CONNACK, §3.2.2.3.3): the most QoS 1/2
   * PUBLISHes it takes unacknowledged. Undefined when it announced none (65 535).
   */
  readonly receiveMaximum?: number | undefined;
  /**
   * One SUBSCRIBE packet; resolves with one granted QoS / reason code per
   * filter. `rh`: MQTT 5 Retain Handling (§3.8.3.1), 0 when left out.
   */
  subscribe(filters: readonly { filter: string; qos: Qos; rh?: 0 | 1 | 2 }[]): Promise<number[]>;
  /** One UNSUBSCRIBE packet. */
  unsubscribe(filters: readonly string[]): Promise<void>;
  /**
   * One PUBLISH packet. `done` is called without an error on delivery
   * (written for QoS 0, PUBACK/PUBCOMP for 1/2), with the request and this
   * connection, so that one function can serve every publish.
   */
  publish<R extends PublishRequest>(request: R, done: PublishDone<R>): void;
}

/** Called once a publish is delivered (no error) or failed, by the connection it was written to. */
export type PublishDone<R extends PublishRequest> = (
  request: R,
  error: Error | null | undefined,
  connection: LiveConnection,
) => void;

/** The received PUBLISH packet as a `Message`. */
export function messageOf(topic: string, payload: Uint8Array, packet: IPublishPacket): Message {
  return {
    topic,
    payload,
    qos: packet.qos,
    retain: packet.retain,
    dup: packet.dup,
    ...(packet.properties ? { properties: packet.properties } : {}),
  };
}
