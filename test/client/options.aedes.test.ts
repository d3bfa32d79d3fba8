/**
 * Options that would misbehave only once the client runs — a duration no
 * timer can hold, an mqtt.js option outside MQTT's range — are refused at
 * construction: the broker sees no CONNECT at all. The longest duration that
 * is accepted still behaves as a long delay, not as a 1 ms one. Mistakes in
 * calls are refused at the call (a listener that is not a function), and a
 * publish after disconnect() settles at once.
 */

import {
  ClientClosedError,
  InvalidOptionsError,
  RealtimeClient,
} from "@armaanjain/courier-web-sdk";
import { afterEach, describe, expect, test } from "vitest";
import { TestBroker } from "../support/broker.js";
import { sleep, waitFor } from "../support/wait.js";

let broker: TestBroker;
const clients: RealtimeClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.disconnect();
  await broker?.close();
});

const refusedBy = (extra: Record<string, unknown>, field: string) => {
  let thrown: unknown;
  try {
    clients.push(
      new RealtimeClient({
        endpoint: { host: "127.0.0.1", port: broker.tcpPort },
        ...extra,
      } as never),
    );
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(InvalidOptionsError);
  expect((thrown as InvalidOptionsError).field).toBe(field);
};

describe("options refused at construction, before any CONNECT", () => {
  test.each<[string, Record<string, unknown>, string]>([
    [
      "a backoff of 3e6 s (past what a timer holds)",
      { retryBackoff: { baseSeconds: 3e6, ceilSeconds: 3e6 } },
      "retryBackoff.baseSeconds",
    ],
    [
      "a connect timeout of 3e6 s",
      { timeouts: { connectSeconds: 3e6 } },
      "timeouts.connectSeconds",
    ],
    ["mqtt.keepalive -1", { mqtt: { keepalive: -1 } }, "mqtt.keepalive"],
  ])("%s", async (_, extra, field) => {
    broker = await TestBroker.start();
    refusedBy(extra, field);
    await sleep(200);
    expect(broker.connects).toHaveLength(0);
  });
});

test("the longest accepted backoff waits: one CONNECT in a second, not one per millisecond", async () => {
  // The broker refuses the first CONNECT as unavailable (a network-class retry): with a
  // backoff at the timer limit, the client must still be waiting after a second, not retrying
  // every millisecond.
  broker = await TestBroker.start({ authenticate: () => 3 });
  const client = new RealtimeClient({
    endpoint: { host: "127.0.0.1", port: broker.tcpPort },
    retryBackoff: { baseSeconds: 2_147_483.647, ceilSeconds: 2_147_483.647 },
    timeouts: { connectSeconds: 2_147_483.647 },
  });
  clients.push(client);
  client.on("error", () => {});
  void client.connect().catch(() => {});
  await sleep(1_000);
  expect(broker.connects.length).toBe(1);
  expect(client.state).toBe("backoff");
});

test('on("message", "x") throws at once; the next message reaches the other listeners, nothing uncaught', async () => {
  broker = await TestBroker.start();
  const client = new RealtimeClient({ endpoint: { host: "127.0.0.1", port: broker.tcpPort } });
  clients.push(client);
  expect(() => client.on("message", "x" as never)).toThrow(InvalidOptionsError);
  expect(() => client.on("message", "x" as never)).toThrow(/listener.*got the string "x"/);
  const got: string[] = [];
  client.on("message", (m) => got.push(m.topic));
  await client.connect();
  await client.subscribe("t/#", () => {});
  await client.publish("t/1", "hello", { qos: 1 });
  await waitFor(() => got.length === 1, 5_000);
  expect(got).toEqual(["t/1"]);
});

describe("publish() after disconnect()", () => {
  const endpoint = () => ({ host: "127.0.0.1", port: broker.tcpPort });

  test("settles at once with ClientClosedError; nothing reaches the broker, and connect() publishes again", async () => {
    broker = await TestBroker.start();
    const client = new RealtimeClient({ endpoint: endpoint() });
    clients.push(client);
    await client.connect();
    await client.disconnect();
    expect(client.state).toBe("idle");
    const outcome = await Promise.race([
      client.publish("t/after", "late", { qos: 1 }).then(
        () => "resolved",
        (error: unknown) => error,
      ),
      sleep(1_000).then(() => "still pending"),
    ]);
    expect(outcome).toBeInstanceOf(ClientClosedError);
    expect(client.pendingPublishes).toBe(0);
    await client.connect();
    await client.publish("t/again", "ok", { qos: 1 });
    expect(broker.published.map((p) => p.topic)).toEqual(["t/again"]);
  });

  test('with offlineQueue.afterDisconnect "queue", it waits for the next connect() and is delivered', async () => {
    broker = await TestBroker.start();
    const client = new RealtimeClient({
      endpoint: endpoint(),
      offlineQueue: { afterDisconnect: "queue" },
    });
    clients.push(client);
    await client.connect();
    await client.disconnect();
    const published = client.publish("t/queued", "held", { qos: 1 });
    await sleep(200);
    expect(client.pendingPublishes).toBe(1);
    await client.connect();
    await published;
    expect(broker.published.map((p) => p.topic)).toEqual(["t/queued"]);
  });

  test("before the first connect() a publish is queued, as ever", async () => {
    broker = await TestBroker.start();
    const client = new RealtimeClient({ endpoint: endpoint() });
    clients.push(client);
    const published = client.publish("t/early", "first", { qos: 1 });
    await client.connect();
    await published;
    expect(broker.published.map((p) => p.topic)).toEqual(["t/early"]);
  });
});

test('a QoS given as the string "1" is refused as a string, by publish(), subscribe() and messages()', async () => {
  broker = await TestBroker.start();
  const client = new RealtimeClient({ endpoint: { host: "127.0.0.1", port: broker.tcpPort } });
  clients.push(client);
  const qos = "1" as never;
  await expect(client.publish("t", "x", { qos })).rejects.toThrow('got the string "1"');
  await expect(client.subscribe("t", () => {}, { qos })).rejects.toThrow('got the string "1"');
  expect(() => client.messages("t", { qos })).toThrow('got the string "1"');
});
