/**
 * The mqtt.js members the SDK uses beyond mqtt.js's public API
 * (src/services/mqtt-internals.ts) still exist. The behaviour they serve —
 * a QoS 1 PUBLISH before CONNACK acknowledged after it — is tested on a real
 * broker in test/brokers/publish-before-connack.test.ts; this fails first,
 * and names the cause, the day an mqtt.js upgrade removes them.
 */

import mqtt from "mqtt";
import { expect, test } from "vitest";
import { hasInternals } from "../../src/services/mqtt-internals.js";

test("mqtt.js still has handleMessage and _sendPacket", () => {
  const client = mqtt.connect("mqtt://127.0.0.1:1", { manualConnect: true, reconnectPeriod: 0 });
  // manualConnect: nothing is opened, so there is nothing to end.
  expect(hasInternals(client)).toBe(true);
});

test("the check can fail: a client without the private writer is reported", () => {
  const client = mqtt.connect("mqtt://127.0.0.1:1", { manualConnect: true, reconnectPeriod: 0 });
  Object.defineProperty(client, "_sendPacket", { value: undefined });
  expect(hasInternals(client)).toBe(false);
});
