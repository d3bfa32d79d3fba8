/**
 * The size on the wire of a PUBLISH packet, for the broker's Maximum Packet
 * Size (MQTT 5 §3.1.2.11.4, §3.2.2.3.6): a client must not send a packet
 * larger than the broker announced [MQTT-3.2.2-15]. Counted as the packet is
 * encoded: fixed header, topic, packet identifier, properties, payload.
 */

import type { PublishRequest } from "./live-connection.js";

/**
 * The UTF-8 length of `text` as encoders write it (a lone surrogate becomes
 * U+FFFD, 3 bytes), counted without encoding: a `TextEncoder.encode` per
 * publish allocated a buffer and cost more than the rest of the outbox.
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) bytes += code < 0x800 ? 1 : 2;
    // A high surrogate before a low one: a pair, two UTF-16 units for four bytes.
    if ((code & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
  }
  return bytes;
}

/** Bytes of a Variable Byte Integer (MQTT 5 §1.5.5). */
function varint(value: number): number {
  return value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;
}

function binary(value: unknown): number {
  if (typeof value === "string") return 2 + utf8Length(value);
  if (value instanceof Uint8Array) return 2 + value.byteLength;
  return 2;
}

/** The PUBLISH properties' length (MQTT 5 §3.3.2.3), without its own length prefix. */
function propertiesBytes(properties: NonNullable<PublishRequest["properties"]>): number {
  let bytes = 0;
  const p = properties as Record<string, unknown>;
  if (p.payloadFormatIndicator !== undefined) bytes += 2;
  if (p.messageExpiryInterval !== undefined) bytes += 5;
  if (p.topicAlias !== undefined) bytes += 3;
  if (p.responseTopic !== undefined) bytes += 1 + binary(p.responseTopic);
  if (p.correlationData !== undefined) bytes += 1 + binary(p.correlationData);
  if (p.contentType !== undefined) bytes += 1 + binary(p.contentType);
  const ids = p.subscriptionIdentifier;
  for (const id of Array.isArray(ids) ? ids : ids === undefined ? [] : [ids]) {
    bytes += 1 + varint(Number(id));
  }
  const user = p.userProperties as Record<string, string | string[]> | undefined;
  for (const [key, value] of Object.entries(user ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      bytes += 1 + binary(key) + binary(String(v));
    }
  }
  return bytes;
}

/**
 * The whole PUBLISH packet's size in bytes, as `protocolVersion` encodes it.
 * `payloadBytes`: the payload's length when the caller has it already.
 */
export function publishPacketBytes(
  request: PublishRequest,
  protocolVersion: number,
  payloadBytes?: number,
): number {
  const payload =
    payloadBytes ??
    (typeof request.payload === "string"
      ? utf8Length(request.payload)
      : request.payload.byteLength);
  let remaining = 2 + utf8Length(request.topic) + (request.qos > 0 ? 2 : 0) + payload;
  if (protocolVersion === 5) {
    const props = request.properties ? propertiesBytes(request.properties) : 0;
    remaining += varint(props) + props;
  }
  return 1 + varint(remaining) + remaining;
}
