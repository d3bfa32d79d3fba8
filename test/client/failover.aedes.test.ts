/**
 * Endpoint lists (failover) and platform signals against real brokers (aedes).
 */

import { RealtimeClient } from "@armaanjain/courier-web-sdk";
import { afterEach, expect, test } from "vitest";
import { TestBroker } from "../support/broker.js";
import { reach, waitFor } from "../support/wait.js";

const brokers: TestBroker[] = [];
const clients: RealtimeClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

test("an endpoint list: when the first broker goes away, the client reconnects to the next", async () => {
  const a = await TestBroker.start();
  const b = await TestBroker.start();
  brokers.push(a, b);
  const client = new RealtimeClient({
    endpoint: [
      { host: "127.0.0.1", port: a.tcpPort, username: "u", password: "p", clientId: "fo" },
      { host: "127.0.0.1", port: b.tcpPort },
    ],
    retryBackoff: { baseSeconds: 0.05 },
  });
  clients.push(client);
  await client.connect();
  await client.subscribe("fo/#", () => {});
  expect(a.connects.map((c) => c.clientId)).toEqual(["fo"]);
  a.stopListening();
  a.kick("fo");
  await reach(client, "backoff");
  await reach(client, "connected");
  // Same identity and credentials on the second server, subscriptions restored there.
  expect(b.connects).toMatchObject([
    { clientId: "fo", username: "u", password: "p", accepted: true },
  ]);
  expect(b.subscribePacketsOf("fo")).toEqual([["fo/#"]]);
});

test("platform signals from an environment watcher: offline drops at once, online reconnects now, visible pings", async () => {
  const broker = await TestBroker.start();
  brokers.push(broker);
  let notify: (signal: "offline" | "online" | "visible") => void = () => {};
  let watching = 0;
  const client = new RealtimeClient({
    endpoint: { host: "127.0.0.1", port: broker.tcpPort, clientId: "env" },
    retryBackoff: { baseSeconds: 30 }, // only the signal can make it reconnect within the test
    environment: (n) => {
      notify = n;
      watching += 1;
      return () => {
        watching -= 1;
      };
    },
  });
  clients.push(client);
  await client.connect();
  expect(watching).toBe(1);
  notify("offline");
  expect(client.state).toBe("backoff");
  await waitFor(() => broker.clientIds().length === 0, 2000, "socket dropped");
  notify("online");
  await reach(client, "connected", 2000);
  let pings = 0;
  broker.aedes.on("ping", () => {
    pings += 1;
  });
  notify("visible"); // the broker answers the ping: nothing changes
  await waitFor(() => pings === 1, 2000, "PINGREQ at the broker");
  await new Promise((r) => setTimeout(r, 200));
  expect(client.state).toBe("connected");
  expect(broker.connects).toHaveLength(2);
  await client.disconnect();
  expect(watching).toBe(0);
});
