/**
 * DESIGN.md behaviour 6: errors that retrying cannot fix stop in `failed`
 * with a typed error — no loop. `connect()` starts again from there.
 */

import {
  ConnectionRefusedError,
  InvalidOptionsError,
  NotAuthorizedError,
  RealtimeClient,
  RetriesExhaustedError,
} from "@armaanjain/courier-web-sdk";
import { afterEach, expect, test } from "vitest";
import { TestBroker } from "../support/broker.js";
import { ClientPool } from "../support/clients.js";
import { reach, sleep } from "../support/wait.js";

let broker: TestBroker;
const pool = new ClientPool();
const client = pool.make;
afterEach(async () => {
  await pool.closeAll();
  await broker?.close();
});

test("identifier rejected (CONNACK 2) → failed with ConnectionRefusedError, one attempt only", async () => {
  broker = await TestBroker.start({ authenticate: () => 2 });
  const c = client({ endpoint: { host: "127.0.0.1", port: broker.tcpPort, clientId: "dup" } });
  const errors: unknown[] = [];
  c.on("error", (e) => errors.push(e));
  const err = await c.connect().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConnectionRefusedError);
  expect((err as ConnectionRefusedError).reasonCode).toBe(2);
  expect(c.state).toBe("failed");
  expect(c.error).toBe(err);
  expect(errors).toEqual([err]);
  await sleep(300);
  expect(broker.connects).toHaveLength(1);
});

test("unsupported protocol version (an MQTT 5 CONNECT to a 3.1.1-only broker) → failed", async () => {
  broker = await TestBroker.start();
  const c = client({
    endpoint: { host: "127.0.0.1", port: broker.tcpPort },
    mqtt: { protocolVersion: 5 },
  });
  const err = await c.connect().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConnectionRefusedError);
  expect((err as ConnectionRefusedError).reasonCode).toBe(1);
  expect((err as Error).message).toMatch(/unacceptable protocol version/);
  expect(c.state).toBe("failed");
});

test("auth rejected without onAuthFailure → failed with NotAuthorizedError; updateEndpoint + connect() recovers", async () => {
  broker = await TestBroker.start({ authenticate: (_u, p) => (p === "right" ? true : 5) });
  const c = client({
    endpoint: { host: "127.0.0.1", port: broker.tcpPort, username: "u", password: "wrong" },
  });
  const err = await c.connect().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(NotAuthorizedError);
  expect((err as NotAuthorizedError).reasonCode).toBe(5);
  expect((err as Error).message).toMatch(/onAuthFailure/);
  expect((err as Error).message).not.toContain("wrong");
  expect(c.state).toBe("failed");
  await sleep(200);
  expect(broker.connects).toHaveLength(1);

  // In failed, publish and subscribe are refused at once.
  await expect(c.publish("t", "x")).rejects.toMatchObject({ code: "CLIENT_FAILED" });

  c.updateEndpoint({ host: "127.0.0.1", port: broker.tcpPort, username: "u", password: "right" });
  await c.connect();
  expect(c.state).toBe("connected");
  expect(c.error).toBeNull();
});

test("CONNACK 4 (bad user name or password) takes the auth path like 5", async () => {
  broker = await TestBroker.start({ authenticate: (_u, p) => (p === "ok" ? true : 4) });
  let calls = 0;
  const c = client({
    endpoint: { host: "127.0.0.1", port: broker.tcpPort, username: "u", password: "no" },
    onAuthFailure: async () => {
      calls += 1;
      return { password: "ok" };
    },
    refreshWaitSeconds: 0.01,
  });
  await c.connect();
  expect(calls).toBe(1);
});

test("server unavailable (CONNACK 3) is retried, not terminal", async () => {
  let refuse = true;
  broker = await TestBroker.start({ authenticate: () => (refuse ? 3 : true) });
  const c = client({
    endpoint: { host: "127.0.0.1", port: broker.tcpPort },
    retryBackoff: { baseSeconds: 0.05 },
  });
  const connected = c.connect();
  await reach(c, "backoff");
  refuse = false;
  await connected;
  expect(broker.connects.length).toBeGreaterThanOrEqual(2);
});

test("maxRetries spent → failed with RetriesExhaustedError", async () => {
  broker = await TestBroker.start({ authenticate: () => 3 });
  const c = client({
    endpoint: { host: "127.0.0.1", port: broker.tcpPort },
    retryBackoff: { baseSeconds: 0.01, ceilSeconds: 0.02, maxRetries: 3 },
  });
  const err = await c.connect().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RetriesExhaustedError);
  expect(broker.connects).toHaveLength(4); // the first attempt + 3 retries
});

test("a malformed endpoint is refused at construction with the field named", () => {
  expect(() => new RealtimeClient({ endpoint: { host: "mqtt://x", port: 1883 } })).toThrow(
    InvalidOptionsError,
  );
  try {
    new RealtimeClient({ endpoint: { host: "x", port: 0 } });
  } catch (e) {
    expect((e as InvalidOptionsError).field).toBe("endpoint.port");
  }
  expect(() => new RealtimeClient({ endpoint: { host: "x", port: 1, password: "p" } })).toThrow(
    /endpoint.username/,
  );
  expect(
    () =>
      new RealtimeClient({
        endpoint: { host: "x", port: 1 },
        retryBackoff: { baseSeconds: 5, ceilSeconds: 1 },
      }),
  ).toThrow(/retryBackoff.ceilSeconds/);
});
