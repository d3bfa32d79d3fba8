/**
 * DESIGN.md behaviours 4 and 5 against a real broker: auth retries back off
 * 1 → 2 → 4 → … → ceil (scaled down with a small baseSeconds), network loss
 * reconnects with the current credentials and never calls the provider, and
 * the auth-retry counter is its own.
 */

import { afterEach, expect, test } from "vitest";
import { RealtimeClient } from "../../src/index.js";
import { TestBroker } from "../support/broker.js";
import { reach, sleep, waitFor } from "../support/wait.js";

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

test("credentials rejected again and again: waits between refreshes double up to the ceiling", async () => {
  broker = await TestBroker.start({ authenticate: () => 5 });
  const callTimes: number[] = [];
  const client = new RealtimeClient({
    endpoint: { host: "127.0.0.1", port: broker.tcpPort, username: "u", password: "bad" },
    onAuthFailure: async () => {
      callTimes.push(Date.now());
      return { password: "still-bad" } as never;
    },
    refreshWaitSeconds: 0,
    retryBackoff: { baseSeconds: 0.1, ceilSeconds: 0.8 },
  });
  clients.push(client);
  client.connect().catch(() => {});
  await waitFor(() => callTimes.length >= 7, 10_000, "seven refreshes");
  callTimes.length = 7;
  // Between two refreshes: one CONNECT round trip (a few ms) plus auth retry n's backoff.
  expectGaps(callTimes, [100, 200, 400, 800, 800, 800]);
});

test("onAuthFailure that rejects: auth retries back off, then the first good answer connects", async () => {
  broker = await TestBroker.start({ authenticate: (_u, p) => (p === "good" ? true : 5) });
  const callTimes: number[] = [];
  const errors: string[] = [];
  const client = new RealtimeClient({
    endpoint: { host: "127.0.0.1", port: broker.tcpPort, username: "u", password: "bad" },
    onAuthFailure: async () => {
      callTimes.push(Date.now());
      if (callTimes.length < 4) throw new Error("token service down");
      return { password: "good" } as never;
    },
    refreshWaitSeconds: 0.05,
    retryBackoff: { baseSeconds: 0.1, ceilSeconds: 1 },
  });
  clients.push(client);
  client.on("error", (e) => errors.push(e.code));
  await client.connect();
  expectGaps(callTimes, [100, 200, 400]);
  expect(errors.filter((e) => e === "AUTH_REFRESH_FAILED")).toHaveLength(3);
});

test("network loss reconnects with the current credentials after backoff and calls no provider", async () => {
  broker = await TestBroker.start();
  let calls = 0;
  const client = new RealtimeClient({
    endpoint: {
      host: "127.0.0.1",
      port: broker.tcpPort,
      username: "u",
      password: "p",
      clientId: "net-1",
    },
    onAuthFailure: async () => {
      calls += 1;
      return { password: "other" } as never;
    },
    retryBackoff: { baseSeconds: 0.2, ceilSeconds: 1 },
  });
  clients.push(client);
  await client.connect();
  const kickedAt = Date.now();
  broker.kick("net-1");
  await reach(client, "backoff");
  await reach(client, "connected");
  const reconnect = broker.connects.at(-1);
  expect(reconnect?.password).toBe("p");
  expect((reconnect?.at ?? 0) - kickedAt).toBeGreaterThanOrEqual(195);
  expect(calls).toBe(0);
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
      return { password: "new" } as never;
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
