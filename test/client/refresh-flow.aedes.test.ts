/**
 * The page's "Token Refresh on Auth Error" flow on aedes only: the endpoint
 * `onAuthFailure` returns is merged over the current one, read from the
 * CONNECT aedes recorded. The flow's six steps and a token expiring
 * mid-session run on every broker in `test/brokers/core.suite.ts`.
 */

import {
  AuthRefreshError,
  type CourierError,
  type Endpoint,
  NotAuthorizedError,
  RealtimeClient,
} from "@armaanjain/courier-web-sdk";
import { afterEach, describe, expect, test } from "vitest";
import { TestBroker } from "../support/broker.js";
import { ClientPool } from "../support/clients.js";

let broker: TestBroker;
const pool = new ClientPool();
const track = pool.track;
afterEach(async () => {
  await pool.closeAll();
  await broker?.close();
});

describe("refresh flow on CONNACK 5", () => {
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

describe("a hung onAuthFailure", () => {
  test("does not block later refreshes: after a refresh timeout the handler is called again and its answer connects", async () => {
    broker = await TestBroker.start({
      authenticate: (_u, password) => (password === "good" ? true : 5),
    });
    let calls = 0;
    const client = track(
      new RealtimeClient({
        endpoint: {
          host: "127.0.0.1",
          port: broker.tcpPort,
          username: "alice",
          password: "expired",
          clientId: "hung-handler",
        },
        // Ignores its abort signal and never settles the first time.
        onAuthFailure: async () => {
          calls += 1;
          if (calls === 1) await new Promise(() => {});
          return { password: "good" } as Endpoint;
        },
        timeouts: { refreshSeconds: 1 },
        refreshWaitSeconds: 0.05,
        retryBackoff: { baseSeconds: 0.2, ceilSeconds: 1 },
      }),
    );
    const started = Date.now();
    await client.connect();
    expect(Date.now() - started).toBeLessThan(6000);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(broker.connects.filter((c) => c.accepted).at(-1)?.password).toBe("good");
  }, 15_000);

  test("a late answer of an abandoned call is not applied to a newer attempt", async () => {
    broker = await TestBroker.start({
      authenticate: (_u, password) => (password === "second" ? true : 5),
    });
    let calls = 0;
    let releaseFirst: (() => void) | undefined;
    const client = track(
      new RealtimeClient({
        endpoint: {
          host: "127.0.0.1",
          port: broker.tcpPort,
          username: "alice",
          password: "expired",
          clientId: "late-answer",
        },
        onAuthFailure: async () => {
          calls += 1;
          if (calls === 1) {
            await new Promise<void>((resolve) => {
              releaseFirst = resolve;
            });
            return { password: "first-late" } as Endpoint;
          }
          // The second call answers after the first one's late answer.
          await new Promise((resolve) => setTimeout(resolve, 300));
          return { password: "second" } as Endpoint;
        },
        timeouts: { refreshSeconds: 1 },
        refreshWaitSeconds: 0.05,
        retryBackoff: { baseSeconds: 0.2, ceilSeconds: 1 },
      }),
    );
    const connected = client.connect();
    // Let the first call time out and the second one start, then answer the first.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    releaseFirst?.();
    await connected;
    expect(calls).toBe(2);
    expect(broker.connects.map((c) => c.password)).not.toContain("first-late");
  });
});

describe("a refused token is reported", () => {
  test("every CONNACK 5 with onAuthFailure set is an error event (which refusal, when the refresh is) and sets client.error", async () => {
    broker = await TestBroker.start({
      authenticate: (_u, password) => (password === "fresh" ? true : 5),
    });
    let calls = 0;
    const client = track(
      new RealtimeClient({
        endpoint: {
          host: "127.0.0.1",
          port: broker.tcpPort,
          username: "alice",
          password: "stale",
          clientId: "reported",
        },
        // The first answer is refused too; the second is accepted.
        onAuthFailure: async () =>
          ({ password: ++calls === 1 ? "still-stale" : "fresh" }) as Endpoint,
        refreshWaitSeconds: 0.05,
        retryBackoff: { baseSeconds: 0.2, ceilSeconds: 1 },
      }),
    );
    const errors: CourierError[] = [];
    const seenError: (CourierError | null)[] = [];
    client.on("error", (error) => {
      errors.push(error);
      seenError.push(client.error);
    });
    await client.connect();
    const refusals = errors.filter((e): e is NotAuthorizedError => e instanceof NotAuthorizedError);
    expect(refusals.map((e) => e.retry?.attempt)).toEqual([1, 2]);
    expect(refusals[0]?.retry?.retryInMs).toBe(0);
    expect(refusals[1]?.retry?.retryInMs).toBeGreaterThan(0);
    expect(refusals[1]?.message).toMatch(
      /Refusal 2: asking onAuthFailure for new credentials in \d/,
    );
    expect(seenError.filter((e) => e instanceof NotAuthorizedError)).toHaveLength(2);
  });

  test("a handler that returns the very credentials just refused is reported as such, and the client keeps backing off", async () => {
    broker = await TestBroker.start({ authenticate: () => 5 });
    const client = track(
      new RealtimeClient({
        endpoint: {
          host: "127.0.0.1",
          port: broker.tcpPort,
          username: "alice",
          password: "stale",
          clientId: "same-again",
        },
        onAuthFailure: async () => ({ password: "stale" }) as Endpoint,
        refreshWaitSeconds: 0.05,
        retryBackoff: { baseSeconds: 0.5, ceilSeconds: 1 },
      }),
    );
    const errors: CourierError[] = [];
    client.on("error", (error) => errors.push(error));
    client.connect().catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const unchanged = errors.filter(
      (e) => e instanceof AuthRefreshError && e.reason === "unchanged",
    );
    expect(unchanged.length).toBeGreaterThanOrEqual(1);
    expect(unchanged[0]?.message).not.toContain("stale");
    // Backed off: 0 s, then ≥ 0.5 s, ≥ 1 s between refusals; not one per refresh wait.
    expect(broker.connects.length).toBeGreaterThanOrEqual(2);
    expect(broker.connects.length).toBeLessThanOrEqual(4);
    expect(client.state).not.toBe("failed");
  });
});
