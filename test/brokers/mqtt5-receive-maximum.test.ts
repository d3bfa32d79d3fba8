/**
 * MQTT 5 flow control against a real mosquitto: its CONNACK announces
 * Receive Maximum 20, and it answers the 21st QoS 2 PUBLISH still awaiting
 * PUBREL with PUBREC 0x97 (quota exceeded) and drops the message. A client
 * must not send more unacknowledged QoS 1/2 PUBLISHes than that
 * [MQTT-3.3.4-7]; the offline queue flushing after a refresh is exactly when
 * it would.
 */

import { RealtimeClient } from "@armaanjain/courier-web-sdk";
import { afterEach, beforeEach, expect, test } from "vitest";
import { Mosquitto } from "../support/mosquitto.js";
import { hasBinary } from "../support/requirements.js";
import { waitFor } from "../support/wait.js";

const available = hasBinary("mosquitto");
let mosquitto: Mosquitto;
const clients: RealtimeClient[] = [];

beforeEach(async () => {
  if (available) mosquitto = await Mosquitto.start({ alice: "good" });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
  await mosquitto?.close();
});

test.skipIf(!available)(
  "60 QoS 2 publishes queued during a refresh: all delivered after it, none refused for quota, never more than 20 in flight",
  async () => {
    const seen = await mosquitto.watch("flow/#");
    const c = new RealtimeClient({
      endpoint: {
        host: "127.0.0.1",
        port: mosquitto.tcpPort,
        username: "alice",
        password: "expired",
        clientId: "flow",
      },
      onAuthFailure: async () => ({ password: "good" }),
      refreshWaitSeconds: 0.05,
      environment: false,
      mqtt: { protocolVersion: 5 },
    });
    clients.push(c);
    const results = Array.from({ length: 60 }, (_, i) =>
      c.publish("flow/x", String(i), { qos: 2 }).then(
        () => "delivered",
        (e: Error) => e.message,
      ),
    );
    await c.connect();
    const outcomes = await Promise.all(results);
    expect(outcomes.filter((o) => o !== "delivered")).toEqual([]);
    await waitFor(() => seen.length === 60, 5000, "60 messages at the subscriber");
    expect(seen.map((m) => Number(m.payload))).toEqual(Array.from({ length: 60 }, (_, i) => i));

    // What mosquitto saw: PUBREC codes, and the most QoS 2 messages it held awaiting PUBREL.
    let inFlight = 0;
    let most = 0;
    const codes = new Set<string>();
    for (const line of await mosquitto.logLines()) {
      const pubrec = /^Sending PUBREC to flow \(m\d+, rc(\d+)\)$/.exec(line);
      if (pubrec?.[1]) {
        codes.add(pubrec[1]);
        if (pubrec[1] === "0") most = Math.max(most, ++inFlight);
      }
      if (/^Received PUBREL from flow /.test(line)) inFlight -= 1;
    }
    expect([...codes]).toEqual(["0"]);
    expect(most).toBeLessThanOrEqual(20);
  },
);
