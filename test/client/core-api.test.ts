/**
 * The interfaces JavaScript users expect, against a real aedes broker:
 * `for await … of client.messages()` (bounded buffer, overflow policies,
 * leaving the loop unsubscribes), `AbortSignal` on connect/subscribe/publish
 * (a typed error, and nothing left behind: not in the client, not at the
 * broker), `once(event)`, and `await using client`.
 */

import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import {
  AbortError,
  type Message,
  MessageOverflowError,
  type RealtimeClient,
} from "../../src/index.js";
import { TestBroker } from "../support/broker.js";
import { ClientPool } from "../support/clients.js";
import { handleCounts, reach, sleep, waitFor } from "../support/wait.js";

let broker: TestBroker;
const pool = new ClientPool();
let n = 0;

beforeAll(async () => {
  broker = await TestBroker.start();
});
afterEach(async () => {
  await pool.closeAll();
  // Hooks a test installed (held SUBACKs or PUBACKs) do not outlive it.
  broker.aedes.authorizeSubscribe = (_client, sub, done) => done(null, sub);
  broker.aedes.authorizePublish = (_client, _packet, done) => done(null);
});
afterAll(async () => broker.close());

function client(port = broker.tcpPort): { client: RealtimeClient; id: string } {
  n += 1;
  const id = `core-${n}`;
  return {
    id,
    client: pool.make({
      endpoint: { host: "127.0.0.1", port, clientId: id },
      environment: false,
      retryBackoff: { baseSeconds: 0.05, ceilSeconds: 0.05 },
    }),
  };
}

const text = (m: Message) => new TextDecoder().decode(m.payload);
const unsubscribedBy = (id: string) =>
  broker.unsubscribePackets.filter((p) => p.clientId === id).flatMap((p) => p.filters);
const subscribedBy = (id: string) => broker.subscribePacketsOf(id).flat();

/** Rejects with what `promise` rejected with, or fails if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("messages(): async iteration", () => {
  test("delivers in order; break unsubscribes at the broker and in the client", async () => {
    const { client: c, id } = client();
    await c.connect();
    const stream = c.messages("it/order", { qos: 1 });
    const got: string[] = [];
    const loop = (async () => {
      for await (const message of stream) {
        got.push(text(message));
        if (got.length === 5) break;
      }
    })();
    await waitFor(() => subscribedBy(id).includes("it/order"), 5000, "SUBSCRIBE");
    for (let i = 1; i <= 7; i++) await broker.publish("it/order", String(i), 1);
    await loop;
    expect(got).toEqual(["1", "2", "3", "4", "5"]);
    await waitFor(() => unsubscribedBy(id).includes("it/order"), 5000, "UNSUBSCRIBE");
    expect(c.subscriptions).toEqual([]);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  test("subscribes only when iteration starts; return() before that sends nothing", async () => {
    const { client: c, id } = client();
    await c.connect();
    const stream = c.messages("it/lazy");
    await sleep(50);
    expect(c.subscriptions).toEqual([]);
    await stream.return();
    await sleep(50);
    expect(subscribedBy(id)).toEqual([]);
  });

  test("keeps iterating across a reconnection (tracked like subscribe())", async () => {
    const { client: c, id } = client();
    await c.connect();
    const stream = c.messages("it/reconnect", { qos: 1 });
    const first = stream.next();
    await waitFor(() => subscribedBy(id).includes("it/reconnect"), 5000, "SUBSCRIBE");
    await broker.publish("it/reconnect", "before", 1);
    expect(text((await first).value as Message)).toBe("before");
    broker.kick(id);
    await reach(c, "backoff");
    await reach(c, "connected");
    await broker.publish("it/reconnect", "after", 1);
    expect(text((await stream.next()).value as Message)).toBe("after");
    await stream.return();
  });

  const flood = async (
    overflow: "dropOldest" | "dropNewest" | "error",
  ): Promise<{ stream: ReturnType<RealtimeClient["messages"]>; id: string; errors: unknown[] }> => {
    const { client: c, id } = client();
    const errors: unknown[] = [];
    c.on("error", (e) => errors.push(e));
    await c.connect();
    const stream = c.messages(`it/flood/${overflow}`, { qos: 1, bufferSize: 3, overflow });
    const first = stream.next();
    await waitFor(() => subscribedBy(id).includes(`it/flood/${overflow}`), 5000, "SUBSCRIBE");
    await broker.publish(`it/flood/${overflow}`, "0", 1);
    expect(text((await first).value as Message)).toBe("0");
    // Nobody reads while ten more arrive: three fit in the buffer.
    for (let i = 1; i <= 10; i++) await broker.publish(`it/flood/${overflow}`, String(i), 1);
    return { stream, id, errors };
  };

  test('overflow "dropOldest" (the default policy) keeps the newest, counts and reports drops', async () => {
    const { stream, errors } = await flood("dropOldest");
    await waitFor(() => stream.dropped === 7, 5000, "7 drops");
    expect(stream.buffered).toBe(3);
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push(text((await stream.next()).value as Message));
    expect(got).toEqual(["8", "9", "10"]);
    // One report for the run of drops, not one per message.
    const reports = errors.filter((e) => e instanceof MessageOverflowError);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      code: "MESSAGE_OVERFLOW",
      policy: "dropOldest",
      dropped: 1,
    });
    await stream.return();
  });

  test('overflow "dropNewest" keeps the oldest', async () => {
    const { stream, errors } = await flood("dropNewest");
    await waitFor(() => stream.dropped === 7, 5000, "7 drops");
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push(text((await stream.next()).value as Message));
    expect(got).toEqual(["1", "2", "3"]);
    expect(errors.filter((e) => e instanceof MessageOverflowError)).toHaveLength(1);
    await stream.return();
  });

  test('overflow "error" yields what was buffered, then throws and unsubscribes', async () => {
    const { stream, id } = await flood("error");
    await waitFor(() => unsubscribedBy(id).includes("it/flood/error"), 5000, "UNSUBSCRIBE");
    const got: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const message of stream) got.push(text(message));
      })(),
    );
    expect(got).toEqual(["1", "2", "3"]);
    expect(error).toBeInstanceOf(MessageOverflowError);
    expect(error).toMatchObject({ policy: "error", bufferSize: 3 });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  test("aborting its signal ends the loop with AbortError and unsubscribes", async () => {
    const { client: c, id } = client();
    await c.connect();
    const controller = new AbortController();
    const got: string[] = [];
    const loop = (async () => {
      for await (const message of c.messages("it/abort", { signal: controller.signal }))
        got.push(text(message));
    })();
    await waitFor(() => subscribedBy(id).includes("it/abort"), 5000, "SUBSCRIBE");
    await broker.publish("it/abort", "one");
    await waitFor(() => got.length === 1, 5000, "a message");
    controller.abort(new Error("user left"));
    const error = await rejection(loop);
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ name: "AbortError", code: "ABORTED" });
    expect((error as Error).cause).toEqual(new Error("user left"));
    await waitFor(() => unsubscribedBy(id).includes("it/abort"), 5000, "UNSUBSCRIBE");
    expect(c.subscriptions).toEqual([]);
  });

  test("a refused filter ends the first read with the client's error", async () => {
    const { client: c } = client();
    // aedes answers SUBACK 0x80 for a null subscription.
    broker.aedes.authorizeSubscribe = (_client, sub, done) =>
      done(null, sub.topic === "it/refused" ? null : sub);
    await c.connect();
    const error = await rejection(c.messages("it/refused").next());
    expect(error).toMatchObject({ code: "SUBSCRIPTION_REJECTED", filter: "it/refused" });
    expect(c.subscriptions).toEqual([]);
  });

  test("bad options throw InvalidOptionsError at once", () => {
    const { client: c } = client();
    expect(() => c.messages("it/#/bad")).toThrow(/filter/i);
    expect(() => c.messages("it/x", { bufferSize: 0 })).toThrow(/bufferSize/);
    expect(() => c.messages("it/x", { overflow: "block" as never })).toThrow(/overflow/);
  });
});

describe("AbortSignal on connect()", () => {
  test("aborting while it retries rejects with AbortError and leaves the client idle, nothing open", async () => {
    const before = handleCounts();
    // A port nothing listens on: the client keeps retrying with backoff.
    const gone = await TestBroker.start();
    const port = gone.tcpPort;
    await gone.close();
    const { client: c } = client(port);
    const controller = new AbortController();
    const connecting = c.connect({ signal: controller.signal });
    await reach(c, "backoff");
    controller.abort();
    const error = await rejection(connecting);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as Error).message).toMatch(/connect\(\) aborted/);
    await reach(c, "idle");
    await sleep(100);
    expect(c.state).toBe("idle");
    const after = handleCounts();
    expect(after.TCPSocketWrap ?? 0).toBeLessThanOrEqual(before.TCPSocketWrap ?? 0);
  });

  test("an already aborted signal rejects without opening anything", async () => {
    const { client: c, id } = client();
    const error = await rejection(c.connect({ signal: AbortSignal.abort() }));
    expect(error).toBeInstanceOf(AbortError);
    await sleep(100);
    expect(c.state).toBe("idle");
    expect(broker.connects.filter((r) => r.clientId === id)).toEqual([]);
  });

  test("aborting after it connected changes nothing", async () => {
    const { client: c } = client();
    const controller = new AbortController();
    await c.connect({ signal: controller.signal });
    controller.abort();
    await sleep(50);
    expect(c.state).toBe("connected");
  });
});

describe("AbortSignal on subscribe()", () => {
  test("aborted while offline: rejects, is not tracked, and is never sent", async () => {
    const { client: c, id } = client();
    const controller = new AbortController();
    const pending = c.subscribe("ab/offline", () => {}, { signal: controller.signal });
    expect(c.subscriptions).toEqual(["ab/offline"]);
    controller.abort();
    expect(await rejection(pending)).toBeInstanceOf(AbortError);
    expect(c.subscriptions).toEqual([]);
    await c.connect();
    await c.subscribe("ab/other", () => {});
    expect(subscribedBy(id)).toEqual(["ab/other"]);
  });

  test("aborted while the SUBSCRIBE is in flight: rejects now, taken back after the SUBACK", async () => {
    const { client: c, id } = client();
    await c.connect();
    let release: (() => void) | null = null;
    broker.aedes.authorizeSubscribe = (_client, sub, done) => {
      release = () => done(null, sub);
    };
    const controller = new AbortController();
    const received: string[] = [];
    const pending = c.subscribe("ab/inflight", (m) => received.push(text(m)), {
      signal: controller.signal,
      qos: 1,
    });
    await waitFor(() => release !== null, 5000, "the SUBSCRIBE, held");
    controller.abort();
    expect(await rejection(pending)).toBeInstanceOf(AbortError);
    expect(c.subscriptions).toEqual([]);
    (release as unknown as () => void)();
    await waitFor(() => unsubscribedBy(id).includes("ab/inflight"), 5000, "UNSUBSCRIBE");
    await broker.publish("ab/inflight", "late", 1);
    await sleep(50);
    expect(received).toEqual([]);
  });

  test("aborted after the grant: unsubscribes, as addEventListener's signal does", async () => {
    const { client: c, id } = client();
    await c.connect();
    const controller = new AbortController();
    const received: string[] = [];
    const sub = await c.subscribe("ab/live", (m) => received.push(text(m)), {
      signal: controller.signal,
    });
    expect(sub.filter).toBe("ab/live");
    await broker.publish("ab/live", "1");
    await waitFor(() => received.length === 1, 5000, "a message");
    controller.abort();
    await waitFor(() => unsubscribedBy(id).includes("ab/live"), 5000, "UNSUBSCRIBE");
    await broker.publish("ab/live", "2");
    await sleep(50);
    expect(received).toEqual(["1"]);
    expect(c.subscriptions).toEqual([]);
  });

  test("aborting one of two subscribers of a filter leaves the other", async () => {
    const { client: c, id } = client();
    await c.connect();
    const controller = new AbortController();
    const a: string[] = [];
    const b: string[] = [];
    await c.subscribe("ab/shared", (m) => a.push(text(m)), { signal: controller.signal });
    await c.subscribe("ab/shared", (m) => b.push(text(m)));
    controller.abort();
    await broker.publish("ab/shared", "x");
    await waitFor(() => b.length === 1, 5000, "b's message");
    expect(a).toEqual([]);
    expect(c.subscriptions).toEqual(["ab/shared"]);
    expect(unsubscribedBy(id)).toEqual([]);
  });
});

describe("AbortSignal on publish()", () => {
  test("aborted while queued offline: rejects, leaves the queue, is never sent", async () => {
    const { client: c, id } = client();
    const controller = new AbortController();
    const aborted = c.publish("pb/queued", "dropped", { qos: 1, signal: controller.signal });
    const kept = c.publish("pb/queued", "kept", { qos: 1 });
    expect(c.pendingPublishes).toBe(2);
    controller.abort();
    expect(await rejection(aborted)).toBeInstanceOf(AbortError);
    expect(c.pendingPublishes).toBe(1);
    await c.connect();
    await kept;
    const sent = broker.published.filter((p) => p.clientId === id).map((p) => p.payload);
    expect(sent).toEqual(["kept"]);
    expect(c.pendingPublishes).toBe(0);
  });

  test("aborted while awaiting its PUBACK: rejects, is no longer pending, later publishes flow", async () => {
    const { client: c } = client();
    await c.connect();
    // The broker holds the first PUBLISH (and so its PUBACK) until released.
    let release: (() => void) | null = null;
    broker.aedes.authorizePublish = (_client, _packet, done) => {
      if (release === null) release = () => done(null);
      else done(null);
    };
    const controller = new AbortController();
    const pending = c.publish("pb/inflight", "held", { qos: 1, signal: controller.signal });
    await sleep(100);
    expect(c.pendingPublishes).toBe(1);
    controller.abort();
    expect(await rejection(pending)).toBeInstanceOf(AbortError);
    expect(c.pendingPublishes).toBe(0);
    // Its PUBACK, arriving late, is ignored; the next publish is acknowledged as usual.
    (release as unknown as () => void)();
    await c.publish("pb/inflight", "next", { qos: 1 });
    expect(c.pendingPublishes).toBe(0);
    expect(c.state).toBe("connected");
  });

  test("an already aborted signal queues nothing", async () => {
    const { client: c } = client();
    expect(await rejection(c.publish("pb/x", "y", { signal: AbortSignal.abort() }))).toBeInstanceOf(
      AbortError,
    );
    expect(c.pendingPublishes).toBe(0);
  });
});

describe("once(event)", () => {
  test("resolves with the first matching event", async () => {
    const { client: c } = client();
    const connected = c.once("stateChange", { filter: (change) => change.state === "connected" });
    const first = c.once("stateChange");
    void c.connect();
    expect((await first).previous).toBe("idle");
    const change = await connected;
    expect(change.state).toBe("connected");
    expect(change.durationMs).toBeGreaterThanOrEqual(0);
  });

  test("aborting rejects with AbortError and removes the listener", async () => {
    const { client: c } = client();
    const controller = new AbortController();
    let calls = 0;
    const waiting = c.once("stateChange", {
      signal: controller.signal,
      filter: () => {
        calls += 1;
        return false;
      },
    });
    await c.connect();
    const seen = calls;
    expect(seen).toBeGreaterThan(0);
    controller.abort();
    expect(await rejection(waiting)).toBeInstanceOf(AbortError);
    await c.disconnect();
    expect(calls).toBe(seen);
  });
});

describe("await using client", () => {
  test("disconnects at the end of the scope and ends open iterations", async () => {
    n += 1;
    const id = `core-${n}`;
    const { RealtimeClient } = await import("../../src/index.js");
    let outer: RealtimeClient | undefined;
    let loop: Promise<void> | undefined;
    const got: string[] = [];
    {
      await using c = new RealtimeClient({
        endpoint: { host: "127.0.0.1", port: broker.tcpPort, clientId: id },
        environment: false,
      });
      outer = c;
      await c.connect();
      const stream = c.messages("dispose/#");
      loop = (async () => {
        for await (const message of stream) got.push(text(message));
      })();
      await waitFor(() => subscribedBy(id).includes("dispose/#"), 5000, "SUBSCRIBE");
      await broker.publish("dispose/a", "a");
      await waitFor(() => got.length === 1, 5000, "a message");
    }
    expect(outer?.state).toBe("idle");
    // The loop ended (done) rather than waiting forever on a disconnected client.
    await loop;
    expect(got).toEqual(["a"]);
    await waitFor(() => broker.client(id) === undefined, 5000, "broker-side close");
  });
});
