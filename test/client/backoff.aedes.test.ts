/**
 * DESIGN.md behaviours 4 and 5 on aedes only, where the case needs what only
 * the in-process broker can do (stop and start again on the same port, kick
 * a client the moment it is accepted) or no broker at all. The backoff cases
 * every broker can run (auth retries doubling to the ceiling, a rejecting
 * provider, a dropped connection) are in `test/brokers/core.suite.ts`.
 */

import { RealtimeClient } from "@armaanjain/courier-web-sdk";
import { afterEach, expect, test } from "vitest";
import { TestBroker } from "../support/broker.js";
import { sleep, waitFor } from "../support/wait.js";

/**
 * Checks the gaps between consecutive timestamps against the backoff
 * sequence: never shorter (timers do not fire early), and not much longer
 * (a loaded machine delays timers; the slack absorbs that, not a doubling).
 */
function expectGaps(times: number[], expected: number[], slackMs = 120): void {
  const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
  expect(gaps).toHaveLength(expected.length);
  gaps.forEach((gap, i) => {
    const want = expected[i] ?? 0;
    expect(gap, `gap ${i + 1} of ${gaps.join(", ")}`).toBeGreaterThanOrEqual(want - 2);
    expect(gap, `gap ${i + 1} of ${gaps.join(", ")}`).toBeLessThan(
      want + Math.min(slackMs, want * 0.9 + 40),
    );
  });
}

let broker: TestBroker;
const clients: RealtimeClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
  await broker?.close();
});

test("broker unreachable: reconnect attempts back off, and connect() resolves once it is back", async () => {
  broker = await TestBroker.start();
  const port = broker.tcpPort;
  await broker.close();
  const attempts: number[] = [];
  const client = new RealtimeClient({
    endpoint: { host: "127.0.0.1", port, username: "u", password: "p" },
    retryBackoff: { baseSeconds: 0.05, ceilSeconds: 0.4 },
  });
  clients.push(client);
  // The first connection of a process waits for mqtt.js to load (once): the gaps are the backoff's.
  await import("mqtt");
  client.on(
    "stateChange",
    (s) => (s.state === "connecting" || s.state === "reconnecting") && attempts.push(Date.now()),
  );
  const connected = client.connect();
  await waitFor(() => attempts.length >= 6, 5000, "six attempts");
  expectGaps(attempts.slice(0, 6), [50, 100, 200, 400, 400]);
  // The broker comes back on the same port.
  broker = await TestBroker.startOn(port);
  await connected;
  expect(client.state).toBe("connected");
});

test("network retries before the first auth error do not advance the auth-retry counter", async () => {
  broker = await TestBroker.start();
  const port = broker.tcpPort;
  await broker.close();
  let refreshes = 0;
  const client = new RealtimeClient({
    endpoint: { host: "127.0.0.1", port, username: "u", password: "old" },
    onAuthFailure: async () => {
      refreshes += 1;
      return { password: "new" };
    },
    refreshWaitSeconds: 0,
    retryBackoff: { baseSeconds: 0.05, ceilSeconds: 0.1 },
  });
  clients.push(client);
  const states: string[] = [];
  client.on("stateChange", (s) => states.push(s.state));
  const connected = client.connect();
  await sleep(500); // several network failures
  broker = await TestBroker.startOn(port, { authenticate: (_u, p) => (p === "new" ? true : 5) });
  await connected;
  // First auth error → refresh at once (no authBackoff), whatever the network retries before it.
  const fromAuth = states.slice(states.indexOf("authFailed"));
  expect(fromAuth).toEqual([
    "authFailed",
    "refreshing",
    "waiting",
    "reconnecting",
    "restoring",
    "connected",
  ]);
  expect(refreshes).toBe(1);
});

test("a broker that accepts then kicks at once cannot cause a tight loop", async () => {
  broker = await TestBroker.start();
  broker.aedes.on("clientReady", (c) => setImmediate(() => c.close()));
  const attempts: number[] = [];
  const client = new RealtimeClient({
    endpoint: { host: "127.0.0.1", port: broker.tcpPort },
    retryBackoff: { baseSeconds: 0.05, ceilSeconds: 0.4, resetAfterSeconds: 5 },
  });
  clients.push(client);
  client.on("stateChange", (s) => s.state === "reconnecting" && attempts.push(Date.now()));
  void client.connect();
  await sleep(1500);
  // 50 + 100 + 200 + 400 + 400 ms … : at most ~6 attempts in 1.5 s, not hundreds.
  expect(attempts.length).toBeGreaterThanOrEqual(3);
  expect(attempts.length).toBeLessThanOrEqual(7);
});

test("a CONNACK that never comes times out, drops that socket, and retries", async () => {
  // A listener that accepts TCP connections and never answers.
  const { createServer } = await import("node:net");
  const open = new Set<import("node:net").Socket>();
  let accepted = 0;
  const silent = createServer((socket) => {
    accepted += 1;
    open.add(socket);
    socket.resume(); // read (and drop) the CONNECT, so the client's FIN is seen
    socket.on("close", () => open.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  broker = await TestBroker.start();
  try {
    const client = new RealtimeClient({
      endpoint: { host: "127.0.0.1", port: (silent.address() as { port: number }).port },
      timeouts: { connectSeconds: 0.2 },
      retryBackoff: { baseSeconds: 0.05, ceilSeconds: 0.05 },
    });
    clients.push(client);
    void client.connect().catch(() => {});
    await waitFor(() => accepted >= 3, 3000, "three attempts");
    // Every abandoned attempt's socket was closed by the client: at most the live attempt is open.
    await waitFor(() => open.size <= 1, 1000, "abandoned sockets closed");
    await client.disconnect();
    await waitFor(() => open.size === 0, 1000, "last socket closed");
  } finally {
    for (const s of open) s.destroy();
    silent.close();
  }
});
