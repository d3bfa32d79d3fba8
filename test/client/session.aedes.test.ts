/**
 * DESIGN.md behaviours 7, 8 and 9 on aedes only, read from what aedes
 * recorded: updateEndpoint is used by the next connection only; tracked
 * subscriptions are restored in few SUBSCRIBE packets; publishes while
 * offline are queued and flushed in order, every promise settled. The
 * restore, offline-queue and kept-session cases every broker can run are in
 * `test/brokers/core.suite.ts`.
 */

import {
  ClientClosedError,
  QueueOverflowError,
  SubscriptionRejectedError,
} from "@armaanjain/courier-web-sdk";
import { afterEach, describe, expect, test } from "vitest";
import { TestBroker } from "../support/broker.js";
import { ClientPool } from "../support/clients.js";
import { reach, sleep, waitFor } from "../support/wait.js";

let broker: TestBroker;
const pool = new ClientPool();
const client = pool.make;
afterEach(async () => {
  await pool.closeAll();
  await broker?.close();
});

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("updateEndpoint", () => {
  test("never tears down a healthy connection; the next reconnection uses the new credentials", async () => {
    broker = await TestBroker.start();
    const c = client({
      endpoint: {
        host: "127.0.0.1",
        port: broker.tcpPort,
        username: "u",
        password: "first",
        clientId: "upd",
      },
      retryBackoff: { baseSeconds: 0.05 },
    });
    await c.connect();
    const states: string[] = [];
    c.on("stateChange", (s) => states.push(s.state));
    c.updateEndpoint({
      host: "127.0.0.1",
      port: broker.tcpPort,
      username: "u",
      password: "second",
    });
    await sleep(300);
    expect(states).toEqual([]);
    expect(c.state).toBe("connected");
    expect(broker.connects).toHaveLength(1);

    broker.kick("upd");
    await reach(c, "backoff");
    await reach(c, "connected");
    expect(broker.connects.map((x) => x.password)).toEqual(["first", "second"]);
    expect(broker.connects[1]?.clientId).toBe("upd");
  });

  test("can move the client to another broker for the next connection", async () => {
    broker = await TestBroker.start();
    const other = await TestBroker.start();
    try {
      const c = client({
        endpoint: { host: "127.0.0.1", port: broker.tcpPort, clientId: "mover" },
        retryBackoff: { baseSeconds: 0.05 },
      });
      await c.connect();
      c.updateEndpoint({ host: "127.0.0.1", port: other.tcpPort });
      broker.kick("mover");
      await reach(c, "backoff");
      await reach(c, "connected");
      expect(other.connects.map((x) => x.clientId)).toEqual(["mover"]);
    } finally {
      await pool.closeAll();
      await other.close();
    }
  });

  test("rejects a malformed endpoint with a typed error and keeps the old one", async () => {
    broker = await TestBroker.start();
    const c = client({ endpoint: { host: "127.0.0.1", port: broker.tcpPort } });
    expect(() => c.updateEndpoint({ host: "127.0.0.1", port: 99999 })).toThrow(/endpoint.port/);
    await c.connect();
    expect(broker.connects).toHaveLength(1);
  });
});

describe("subscriptions", () => {
  test("500 tracked filters are restored in ⌈500/100⌉ SUBSCRIBE packets after a reconnect, and all work", async () => {
    broker = await TestBroker.start();
    const c = client({
      endpoint: { host: "127.0.0.1", port: broker.tcpPort, clientId: "many" },
      retryBackoff: { baseSeconds: 0.05 },
    });
    const got = new Set<string>();
    await c.connect();
    await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        c.subscribe(`s/${i}`, (m) => got.add(m.topic), { qos: 1 }),
      ),
    );
    // Subscribed in the same tick: batched into packets too.
    expect(broker.subscribePacketsOf("many")).toHaveLength(5);

    const restored: { filters: number; packets: number }[] = [];
    c.on("restored", (r) => restored.push(r));
    broker.subscribePackets.length = 0;
    broker.kick("many");
    await reach(c, "backoff");
    await reach(c, "connected");
    const packets = broker.subscribePacketsOf("many");
    expect(packets).toHaveLength(5);
    expect(packets.flat().sort()).toEqual(Array.from({ length: 500 }, (_, i) => `s/${i}`).sort());
    expect(restored).toEqual([{ filters: 500, packets: 5, rejected: [], sessionPresent: false }]);
    for (let i = 0; i < 500; i += 50) await broker.publish(`s/${i}`, "x", 1);
    await waitFor(() => got.size === 10, 2000, "messages on restored filters");
  });

  test("subscribeBatchSize bounds the filters per packet", async () => {
    broker = await TestBroker.start();
    const c = client({
      endpoint: { host: "127.0.0.1", port: broker.tcpPort, clientId: "b8" },
      subscribeBatchSize: 8,
    });
    for (let i = 0; i < 20; i++) void c.subscribe(`t/${i}`, () => {});
    await c.connect();
    expect(broker.subscribePacketsOf("b8").map((p) => p.length)).toEqual([8, 8, 4]);
  });

  test("one filter subscribed twice: one SUBSCRIBE, both handlers; unsubscribing the last sends UNSUBSCRIBE", async () => {
    broker = await TestBroker.start();
    const c = client({ endpoint: { host: "127.0.0.1", port: broker.tcpPort, clientId: "twice" } });
    await c.connect();
    const a: string[] = [];
    const b: string[] = [];
    const subA = await c.subscribe("x/#", (m) => a.push(m.topic));
    const subB = await c.subscribe("x/#", (m) => b.push(m.topic));
    expect(broker.subscribePacketsOf("twice")).toEqual([["x/#"]]);
    await broker.publish("x/1", "1");
    await waitFor(() => a.length === 1 && b.length === 1);
    await subA.unsubscribe();
    expect(broker.unsubscribePackets).toEqual([]);
    await subB.unsubscribe();
    expect(broker.unsubscribePackets.map((p) => p.filters)).toEqual([["x/#"]]);
    expect(c.subscriptions).toEqual([]);
  });

  test("a refused filter rejects its subscribe() with SubscriptionRejectedError; the others work", async () => {
    broker = await TestBroker.start();
    // aedes answers SUBACK 0x80 for a null subscription (an error would drop the connection).
    broker.aedes.authorizeSubscribe = (_client, sub, done) =>
      done(null, sub.topic.startsWith("private/") ? null : sub);
    const c = client({ endpoint: { host: "127.0.0.1", port: broker.tcpPort } });
    await c.connect();
    const [bad, good] = await Promise.allSettled([
      c.subscribe("private/x", () => {}),
      c.subscribe("public/x", () => {}),
    ]);
    expect(bad.status).toBe("rejected");
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(SubscriptionRejectedError);
    expect((bad as PromiseRejectedResult).reason.filter).toBe("private/x");
    expect(good.status).toBe("fulfilled");
    expect(c.subscriptions).toEqual(["public/x"]);
  });

  test("refusals during a restore are reported, not thrown away", async () => {
    broker = await TestBroker.start();
    const c = client({
      endpoint: { host: "127.0.0.1", port: broker.tcpPort, clientId: "lost-grant" },
      retryBackoff: { baseSeconds: 0.05 },
    });
    await c.connect();
    await c.subscribe("a", () => {});
    await c.subscribe("b", () => {});
    // The new session grants less.
    broker.aedes.authorizeSubscribe = (_client, sub, done) =>
      done(null, sub.topic === "b" ? null : sub);
    const errors: unknown[] = [];
    const restored: unknown[] = [];
    c.on("error", (e) => errors.push(e));
    c.on("restored", (r) => restored.push(r));
    broker.kick("lost-grant");
    await reach(c, "backoff");
    await reach(c, "connected");
    expect(restored).toEqual([
      {
        filters: 2,
        packets: 1,
        rejected: [{ filter: "b", reasonCode: 128 }],
        sessionPresent: false,
      },
    ]);
    expect(errors.some((e) => e instanceof SubscriptionRejectedError && e.filter === "b")).toBe(
      true,
    );
  });
});

describe("offline publish queue", () => {
  test("publishes made while disconnected are flushed in order after restoring; every promise resolves", async () => {
    broker = await TestBroker.start();
    const port = broker.tcpPort;
    const c = client({
      endpoint: { host: "127.0.0.1", port, clientId: "pub" },
      retryBackoff: { baseSeconds: 0.05, ceilSeconds: 0.1 },
    });
    await c.connect();
    await broker.close();
    await reach(c, "backoff");
    const sent = Array.from({ length: 50 }, (_, i) => c.publish("q/seq", String(i), { qos: 1 }));
    const mixed = [0, 1, 2].map((qos) =>
      c.publish("q/mixed", String(qos), { qos: qos as 0 | 1 | 2 }),
    );
    expect(c.pendingPublishes).toBe(53);
    await sleep(200);
    broker = await TestBroker.startOn(port);
    await Promise.all([...sent, ...mixed]);
    const seen = broker.published.filter((p) => p.topic === "q/seq").map((p) => Number(p.payload));
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const mixedSeen = broker.published.filter((p) => p.topic === "q/mixed").map((p) => p.qos);
    expect(mixedSeen.sort()).toEqual([0, 1, 2]);
    expect(c.pendingPublishes).toBe(0);
  });

  test("overflow rejects with QueueOverflowError; disconnect() rejects the rest with ClientClosedError", async () => {
    broker = await TestBroker.start();
    const c = client({
      endpoint: { host: "127.0.0.1", port: broker.tcpPort },
      offlineQueue: { maxMessages: 3 },
    });
    const results = await Promise.allSettled([
      ...Array.from({ length: 4 }, (_, i) => c.publish("t", String(i), { qos: 1 })),
      (async () => {
        await sleep(10);
        await c.disconnect();
      })(),
    ]);
    const reasons = results
      .slice(0, 4)
      .map((r) => (r.status === "rejected" ? r.reason.constructor : null));
    expect(reasons).toEqual([
      ClientClosedError,
      ClientClosedError,
      ClientClosedError,
      QueueOverflowError,
    ]);
  });

  test("QoS 1 publishes cut off by a dropped connection are sent again: the subscriber sees every one", async () => {
    broker = await TestBroker.start();
    const publisher = client({
      endpoint: { host: "127.0.0.1", port: broker.tcpPort, clientId: "producer" },
      retryBackoff: { baseSeconds: 0.02, ceilSeconds: 0.05 },
    });
    const consumer = client({
      endpoint: { host: "127.0.0.1", port: broker.tcpPort, clientId: "consumer" },
      mqtt: { clean: false },
    });
    const seen = new Set<number>();
    await consumer.connect();
    await consumer.subscribe("stream", (m) => seen.add(Number(text(m.payload))), { qos: 1 });
    await publisher.connect();
    const all: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      all.push(publisher.publish("stream", String(i), { qos: 1 }));
      if ((i === 100 || i === 200) && broker.client("producer")) broker.kick("producer");
      if (i % 20 === 0) await sleep(1);
    }
    await Promise.all(all);
    await waitFor(() => seen.size === 300, 5000, "every message");
  });
});
