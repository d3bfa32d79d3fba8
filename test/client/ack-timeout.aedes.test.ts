/**
 * An acknowledgement that never comes on a connection that stays open (the
 * broker still answers pings): past `timeouts.ackSeconds` the connection is
 * taken as dead, closed, and the client reconnects and sends the publish
 * again, instead of leaving its promise pending forever.
 */

import { RealtimeClient } from "@armaanjain/courier-web-sdk";
import { afterEach, expect, test } from "vitest";
import { TestBroker } from "../support/broker.js";
import { ClientPool } from "../support/clients.js";
import { FaultProxy, PacketType } from "../support/fault-proxy.js";
import { reach } from "../support/wait.js";

let broker: TestBroker;
let proxy: FaultProxy;
const pool = new ClientPool();
afterEach(async () => {
  await pool.closeAll();
  await proxy?.close();
  await broker?.close();
});

test("a PUBACK overdue past timeouts.ackSeconds closes the connection; the publish is sent again on the next one and settles", async () => {
  broker = await TestBroker.start();
  proxy = await FaultProxy.start({ host: "127.0.0.1", port: broker.tcpPort });
  const client = pool.track(
    new RealtimeClient({
      endpoint: { host: "127.0.0.1", port: proxy.port, clientId: "ack-timeout" },
      timeouts: { ackSeconds: 1 },
      retryBackoff: { baseSeconds: 0.2, ceilSeconds: 1 },
      mqtt: { keepalive: 1 },
      environment: false,
    }),
  );
  await client.connect();
  const first = proxy.current;
  // This connection keeps answering pings but never passes a PUBACK on.
  first?.holdToClient.add(PacketType.PUBACK);
  const started = Date.now();
  const errors: string[] = [];
  client.on("error", (error) => errors.push(error.message));
  await client.publish("t/ack", "once", { qos: 1 });
  const took = Date.now() - started;
  expect(took).toBeGreaterThanOrEqual(900);
  expect(took).toBeLessThan(5000);
  expect(first?.closed).toBe(true);
  expect(first?.seen).toContain("b:13"); // PINGRESPs kept coming: only the acknowledgement was missing.
  expect(proxy.connections.length).toBe(2);
  expect(errors.some((m) => /acknowledged nothing within 1 s/.test(m))).toBe(true);
  expect(broker.published.filter((p) => p.topic === "t/ack").length).toBeGreaterThanOrEqual(1);
  await reach(client, "connected", 5000);
});

test("with acknowledgements flowing, no timer is left and nothing reconnects", async () => {
  broker = await TestBroker.start();
  proxy = await FaultProxy.start({ host: "127.0.0.1", port: broker.tcpPort });
  const client = pool.track(
    new RealtimeClient({
      endpoint: { host: "127.0.0.1", port: proxy.port, clientId: "ack-ok" },
      timeouts: { ackSeconds: 0.5 },
      environment: false,
    }),
  );
  await client.connect();
  for (let i = 0; i < 50; i++) await client.publish("t/ok", String(i), { qos: 1 });
  await client.subscribe("t/ok", () => {}, { qos: 1 });
  await new Promise((resolve) => setTimeout(resolve, 1200));
  expect(proxy.connections.length).toBe(1);
  expect(client.state).toBe("connected");
});
