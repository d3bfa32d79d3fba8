/**
 * The PUBLISH size the outbox holds against the broker's Maximum Packet
 * Size is the size mqtt-packet (the codec mqtt.js uses) encodes.
 */

import { generate } from "mqtt-packet";
import { describe, expect, test } from "vitest";
import type { PublishRequest } from "../../src/services/live-connection.js";
import { publishPacketBytes, utf8Length } from "../../src/services/packet-size.js";

const cases: PublishRequest[] = [
  { topic: "a", payload: "", qos: 0, retain: false },
  { topic: "big", payload: "x".repeat(400), qos: 1, retain: false },
  { topic: "ünï/cødé", payload: "é".repeat(100), qos: 2, retain: true },
  { topic: "emoji/😀/€", payload: "a😀b\u{10FFFF}€ह", qos: 1, retain: false },
  { topic: "lone/\uD800x", payload: "\uDC00\uD83D", qos: 1, retain: false },
  { topic: "t", payload: new Uint8Array(20_000), qos: 1, retain: false },
  { topic: "t", payload: "x".repeat(2_100_000), qos: 0, retain: false },
  {
    topic: "props",
    payload: "p",
    qos: 1,
    retain: false,
    properties: {
      payloadFormatIndicator: true,
      messageExpiryInterval: 60,
      topicAlias: 3,
      responseTopic: "reply/here",
      correlationData: Buffer.from("corr-1"),
      contentType: "application/json",
      userProperties: { a: "1", many: ["x", "yy"] },
    },
  },
];

describe("publishPacketBytes", () => {
  for (const request of cases) {
    for (const protocolVersion of [4, 5] as const) {
      const name = `${request.topic} QoS ${request.qos}, ${typeof request.payload === "string" ? request.payload.length : request.payload.byteLength} bytes, MQTT ${protocolVersion === 5 ? "5" : "3.1.1"}`;
      test(name, () => {
        const packet = {
          cmd: "publish" as const,
          topic: request.topic,
          payload:
            typeof request.payload === "string" ? request.payload : Buffer.from(request.payload),
          qos: request.qos,
          retain: request.retain,
          dup: false,
          ...(request.qos > 0 ? { messageId: 1 } : {}),
          ...(protocolVersion === 5 && request.properties
            ? { properties: request.properties }
            : {}),
        };
        const encoded = generate(packet, { protocolVersion }).length;
        expect(publishPacketBytes(request, protocolVersion)).toBe(encoded);
      });
    }
  }
});

describe("utf8Length", () => {
  const encoder = new TextEncoder();
  for (const text of [
    "",
    "ascii",
    "é",
    "€",
    "ह",
    "😀",
    "a😀b",
    "\uD800",
    "\uDC00",
    "\uD83D\uD83D\uDE00",
    "\uDE00\uD83D",
    "x\uD800",
  ]) {
    test(JSON.stringify(text), () => {
      expect(utf8Length(text)).toBe(encoder.encode(text).length);
      expect(utf8Length(text)).toBe(Buffer.byteLength(text));
    });
  }
});
