/**
 * MQTT 5 session expiry against a real mosquitto (DESIGN.md behaviour 8):
 * a session kept by its Session Expiry Interval comes back with
 * `sessionPresent` — nothing re-subscribed, queued QoS 1 messages delivered —
 * and one that expired while the client was away is restored in full.
 */

import { describe, expect, test } from "vitest";
import { hasBinary } from "../support/requirements.js";
import { nextState, waitFor } from "../support/wait.js";
import { useMqtt5Setup, V5 } from "./mqtt5-setup.js";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe.skipIf(!hasBinary("mosquitto"))("MQTT 5 session expiry on mosquitto", () => {
  const f = useMqtt5Setup();

  test("a session kept by its expiry interval: after the refresh nothing is re-subscribed and every queued QoS 1 message arrives", async () => {
    const id = f.nextId("kept");
    const provider = f.renewing();
    const c = f.client({
      id,
      port: f.mosquitto.tcpPort,
      onAuthFailure: provider.onAuthFailure,
      refreshWaitSeconds: 0.1,
      retryBackoff: { baseSeconds: 0.05 },
      mqtt: { ...V5, clean: false, properties: { sessionExpiryInterval: 60 } },
    });
    const seen: number[] = [];
    const restored: unknown[] = [];
    c.on("restored", (r) => restored.push(r));
    await c.connect();
    await Promise.all(
      ["kept/a", "kept/b", "kept/c"].map((filter) =>
        c.subscribe(filter, (m) => seen.push(Number(text(m.payload))), { qos: 1 }),
      ),
    );
    expect(await f.mosquitto.subscribePacketsOf(id)).toEqual([["kept/a", "kept/b", "kept/c"]]);

    const back = nextState(c, "connected");
    await f.mosquitto.revoke("alice");
    await waitFor(() => !f.mosquitto.connectedIds().includes(id), 5000, "dropped");
    for (let i = 0; i < 50; i++) await f.mosquitto.publish(`kept/${"abc"[i % 3]}`, String(i), 1);
    await back;
    await waitFor(() => new Set(seen).size === 50, 5000, "50 queued messages");

    expect(provider.calls).toBe(1);
    expect(restored.at(-1)).toEqual({ filters: 0, packets: 0, rejected: [], sessionPresent: true });
    expect(await f.mosquitto.subscribePacketsOf(id)).toHaveLength(1);
    expect((await f.mosquitto.connectsOf(id)).map((x) => x.cleanStart)).toEqual([false, false]);
    expect([...new Set(seen)].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
  });

  test("a session that expired while the client was away: sessionPresent false, every filter subscribed again", async () => {
    const id = f.nextId("expired");
    const provider = f.renewing();
    const c = f.client({
      id,
      port: f.mosquitto.tcpPort,
      onAuthFailure: async () => {
        // Hold the refresh until mosquitto has expired the session (interval 1 s).
        await f.mosquitto.waitForLine(new RegExp(`^Expiring client ${id} due to timeout`), 10_000);
        return provider.onAuthFailure();
      },
      refreshWaitSeconds: 0.05,
      retryBackoff: { baseSeconds: 0.05 },
      mqtt: { ...V5, clean: false, properties: { sessionExpiryInterval: 1 } },
    });
    const restored: unknown[] = [];
    c.on("restored", (r) => restored.push(r));
    await c.connect();
    await c.subscribe("gone/a", () => {}, { qos: 1 });
    await c.subscribe("gone/b", () => {}, { qos: 1 });
    const back = nextState(c, "connected", 15_000);
    await f.mosquitto.revoke("alice");
    await back;
    expect(restored.at(-1)).toEqual({
      filters: 2,
      packets: 1,
      rejected: [],
      sessionPresent: false,
    });
    expect((await f.mosquitto.subscribePacketsOf(id)).at(-1)).toEqual(["gone/a", "gone/b"]);
  });
});
