/**
 * A publish larger than the broker's Maximum Packet Size (MQTT 5
 * §3.1.2-24: the client must not send it), against a real mosquitto with
 * `max_packet_size 256`: refused at once with a typed error and never sent;
 * and one the broker answered with DISCONNECT 0x95 (packet too large),
 * because the client did not know the limit, is not sent again.
 */

import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { ClientClosedError, CourierError, type RealtimeClient } from "../../src/index.js";
import { ClientPool } from "../support/clients.js";
import { FaultProxy } from "../support/fault-proxy.js";
import { Mosquitto } from "../support/mosquitto.js";
import { hasBinary } from "../support/requirements.js";
import { reach, sleep } from "../support/wait.js";

const settle = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p.then(
      () => "resolved" as const,
      (error: unknown) => error,
    ),
    sleep(ms).then(() => "pending" as const),
  ]);

describe.skipIf(!hasBinary("mosquitto"))(
  "Maximum Packet Size (mosquitto, max_packet_size 256)",
  () => {
    let mosquitto: Mosquitto;
    let proxy: FaultProxy;
    const pool = new ClientPool();

    beforeEach(async () => {
      mosquitto = await Mosquitto.start({ alice: "good" }, { config: ["max_packet_size 256"] });
    });
    afterEach(async () => {
      await pool.closeAll();
      await proxy?.close();
      await mosquitto?.close();
    });

    function client(id: string): RealtimeClient {
      return pool.make({
        endpoint: {
          host: "127.0.0.1",
          port: proxy.port,
          username: "alice",
          password: "good",
          clientId: id,
        },
        mqtt: { protocolVersion: 5 },
        retryBackoff: { baseSeconds: 0.5, ceilSeconds: 2 },
        environment: false,
      });
    }

    test("a 400-byte QoS 1 publish above the announced 256 is rejected at once with a typed error, and nothing is sent", async () => {
      proxy = await FaultProxy.start({ host: "127.0.0.1", port: mosquitto.tcpPort });
      const c = client("big-announced");
      await c.connect();
      const small = c.publish("small", "ok", { qos: 1 });
      const outcome = await settle(c.publish("big", "x".repeat(400), { qos: 1 }), 1000);
      await small;
      expect(outcome).toBeInstanceOf(CourierError);
      expect(outcome).not.toBeInstanceOf(ClientClosedError);
      await sleep(1500);
      expect(proxy.published.filter((p) => p.topic === "big")).toEqual([]);
      expect(proxy.connects).toHaveLength(1);
      expect(c.state).toBe("connected");
    });

    test("a publish the broker answered with DISCONNECT 0x95 is not re-sent on the next connections; its promise is rejected", async () => {
      // The client is not told the limit: the broker's DISCONNECT 0x95 is the first it hears of it.
      proxy = await FaultProxy.start(
        { host: "127.0.0.1", port: mosquitto.tcpPort },
        { hideMaximumPacketSize: true },
      );
      const c = client("big-hidden");
      await c.connect();
      const outcome = settle(c.publish("big", "x".repeat(400), { qos: 1 }), 6000);
      expect(await outcome).toBeInstanceOf(CourierError);
      await reach(c, "connected", 5000);
      await sleep(1000);
      expect(proxy.published.filter((p) => p.topic === "big")).toHaveLength(1);
      expect(proxy.connects.length).toBeLessThanOrEqual(2);
      await c.publish("small", "still fine", { qos: 1 });
    });
  },
);
