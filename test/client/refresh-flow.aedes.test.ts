/**
 * The page's "Token Refresh on Auth Error" flow, end to end against a real
 * broker (aedes on 127.0.0.1): detect CONNACK 5 → force-disconnect → call
 * onAuthFailure once → wait 2 s → reconnect with the new credentials →
 * restore every tracked subscription → connected.
 */

import { afterEach, describe, expect, test } from "vitest";
import { type Endpoint, RealtimeClient } from "../../src/index.js";
import { TestBroker } from "../support/broker.js";
import { ClientPool } from "../support/clients.js";
import { reach, recordStates, sleep, waitFor } from "../support/wait.js";

let broker: TestBroker;
const pool = new ClientPool();
const track = pool.track;
afterEach(async () => {
  await pool.closeAll();
  await broker?.close();
});

describe("refresh flow on CONNACK 5", () => {
  test("runs the six steps in order, waiting exactly 2 s, and restores subscriptions", async () => {
    let valid = "token-2";
    broker = await TestBroker.start({
      authenticate: (_u, password) => (password === valid ? true : 5),
    });
    const calls: { at: number; brokerSockets: number }[] = [];
    let resolvedAt = 0;
    const client = track(
      new RealtimeClient({
        endpoint: {
          host: "127.0.0.1",
          port: broker.tcpPort,
          username: "u",
          password: "token-1",
          clientId: "flow-1",
        },
        onAuthFailure: async () => {
          calls.push({ at: Date.now(), brokerSockets: broker.clientIds().length });
          await sleep(50);
          resolvedAt = Date.now();
          return { host: "127.0.0.1", port: broker.tcpPort, username: "u", password: "token-2" };
        },
      }),
    );
    const { states } = recordStates(client);
    const received: string[] = [];
    const sub = client.subscribe(
      "rooms/+/chat",
      (m) => received.push(new TextDecoder().decode(m.payload)),
      { qos: 1 },
    );

    await client.connect();
    await sub;

    expect(states).toEqual([
      "connecting",
      "authFailed",
      "refreshing",
      "waiting",
      "reconnecting",
      "restoring",
      "connected",
    ]);
    expect(calls).toHaveLength(1);
    // Step 2: the rejected session is gone before the provider is asked.
    expect(calls[0]?.brokerSockets).toBe(0);
    // Steps 4–5: the reconnection's CONNECT comes 2 s after onAuthFailure resolved.
    const accepted = broker.connects.filter((c) => c.accepted);
    expect(accepted).toHaveLength(1);
    expect(accepted[0]?.password).toBe("token-2");
    const wait = (accepted[0]?.at ?? 0) - resolvedAt;
    expect(wait).toBeGreaterThanOrEqual(1995);
    expect(wait).toBeLessThan(2400);
    // Step 6: the subscription is restored and live.
    expect(broker.subscribePacketsOf("flow-1")).toEqual([["rooms/+/chat"]]);
    await broker.publish("rooms/42/chat", "hello", 1);
    await waitFor(() => received.length === 1, 2000, "message");
    expect(received).toEqual(["hello"]);
    valid = "never-used";
  });

  test("a token that expires mid-session: kicked, rejected on reconnect, refreshed, restored, nothing published meanwhile lost", async () => {
    let valid = "t1";
    broker = await TestBroker.start({
      authenticate: (_u, password) => (password === valid ? true : 5),
    });
    let issued = 1;
    let calls = 0;
    const client = track(
      new RealtimeClient({
        endpoint: {
          host: "127.0.0.1",
          port: broker.tcpPort,
          username: "u",
          password: "t1",
          clientId: "persistent-1",
        },
        onAuthFailure: async () => {
          calls += 1;
          issued += 1;
          valid = `t${issued}`;
          return { host: "127.0.0.1", port: broker.tcpPort, password: valid };
        },
        retryBackoff: { baseSeconds: 0.05, ceilSeconds: 1 },
        mqtt: { clean: false },
      }),
    );
    const seen: number[] = [];
    await client.connect();
    await client.subscribe("feed", (m) => seen.push(Number(new TextDecoder().decode(m.payload))), {
      qos: 1,
    });

    // The token expires: the broker stops accepting it and drops the session's socket.
    valid = "expired-for-everyone";
    broker.kick("persistent-1");
    await reach(client, "authFailed");
    // Published while the client is offline; the persistent session keeps them.
    for (let i = 1; i <= 20; i++) await broker.publish("feed", String(i), 1);
    await reach(client, "connected", 8000);
    await waitFor(() => seen.length >= 20, 3000, "queued messages");
    expect(calls).toBe(1);
    expect([...new Set(seen)].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(broker.connects.filter((c) => c.accepted).map((c) => c.password)).toEqual(["t1", "t2"]);
  });

  test("the returned endpoint is merged over the current one: omitted fields keep their values", async () => {
    broker = await TestBroker.start({
      authenticate: (_u, password) => (password === "fresh" ? true : 5),
    });
    const client = track(
      new RealtimeClient({
        endpoint: {
          host: "127.0.0.1",
          port: broker.tcpPort,
          username: "alice",
          password: "stale",
          clientId: "keep-me",
        },
        onAuthFailure: async () => ({ password: "fresh" }) as Endpoint,
        refreshWaitSeconds: 0.05,
      }),
    );
    await client.connect();
    const ok = broker.connects.find((c) => c.accepted);
    expect(ok).toMatchObject({ clientId: "keep-me", username: "alice", password: "fresh" });
  });
});
