/**
 * A broker that writes a QoS 1/2 PUBLISH before its CONNACK — aedes 1.2
 * does, when a live message reaches a persistent session it is restoring
 * (its connect pipeline subscribes the session before it sends CONNACK; the
 * cluster test hits it on failover, and on every retry while messages keep
 * flowing). mqtt.js 5.16 cannot acknowledge such a PUBLISH before CONNACK
 * and reads nothing more until it has, so left alone the connection hangs
 * until the connect timeout (30 s by default).
 *
 * The client holds a QoS 1 one: it delivers it right after the CONNACK and
 * acknowledges it then, on the same connection. A QoS 2 one it cannot hold
 * (mqtt.js records it and queues the PUBREC before asking), so that
 * connection is dropped at once and the retry connects.
 *
 * Real aedes behind `FaultProxy`, which writes the early PUBLISH in front of
 * aedes' own CONNACK so the order is certain.
 */

import { Readable } from "node:stream";
import { ConnectionLostError, type Message, RealtimeClient } from "@armaanjain/courier-web-sdk";
import { Store } from "mqtt";
import { afterEach, expect, test } from "vitest";
import { TestBroker } from "../support/broker.js";
import { FaultProxy } from "../support/fault-proxy.js";
import { recordStates, waitFor } from "../support/wait.js";

let broker: TestBroker;
let proxy: FaultProxy;
let client: RealtimeClient | undefined;
afterEach(async () => {
  await client?.disconnect();
  await proxy?.close();
  await broker?.close();
});

/** aedes behind the proxy, a PUBLISH at `qos` written before the next CONNACK, and a client. */
async function clientFacingEarlyPublish(qos: 1 | 2) {
  broker = await TestBroker.start();
  proxy = await FaultProxy.start({ host: "127.0.0.1", port: broker.tcpPort });
  proxy.publishBeforeNextConnack("early/topic", "too soon", qos);
  const early = new RealtimeClient({
    endpoint: { host: "127.0.0.1", port: proxy.port, clientId: `early-qos${qos}` },
    retryBackoff: { baseSeconds: 0.05 },
    timeouts: { connectSeconds: 20 },
    environment: false,
  });
  client = early;
  const errors: unknown[] = [];
  early.on("error", (e) => errors.push(e));
  return { early, errors, states: recordStates(early).states };
}

test("a QoS 1 PUBLISH before CONNACK: held, delivered right after the CONNACK and acknowledged then, on the same connection", async () => {
  const { early, errors, states } = await clientFacingEarlyPublish(1);
  const received: { payload: string; state: string }[] = [];
  const subscribed = early.subscribe("early/#", (m: Message) => {
    received.push({ payload: new TextDecoder().decode(m.payload), state: early.state });
  });
  const started = Date.now();
  await early.connect();
  await subscribed;
  expect(Date.now() - started).toBeLessThan(5000);
  expect(states).toEqual(["connecting", "restoring", "connected"]);
  expect(errors).toEqual([]);
  expect(proxy.connects).toHaveLength(1);
  expect(received).toEqual([{ payload: "too soon", state: "restoring" }]);
  await waitFor(() => proxy.injectedAcks.length > 0, 2000, "the PUBACK of the early PUBLISH");
  expect(proxy.injectedAcks.map((a) => a.cmd)).toEqual(["puback"]);
}, 30_000);

test("a QoS 2 PUBLISH before CONNACK: the connection is dropped at once and the retry connects, well within the connect timeout", async () => {
  const { early, errors, states } = await clientFacingEarlyPublish(2);
  const started = Date.now();
  await early.connect();
  expect(Date.now() - started).toBeLessThan(5000);
  expect(states).toEqual(["connecting", "backoff", "reconnecting", "restoring", "connected"]);
  expect(errors[0]).toBeInstanceOf(ConnectionLostError);
  expect((errors[0] as Error).message).toMatch(/QoS 2 PUBLISH before CONNACK/);
  expect(proxy.connects).toHaveLength(2);
}, 30_000);

test("a QoS 1 PUBLISH right behind CONNACK (same TCP write) is legal: no drop, no retry", async () => {
  broker = await TestBroker.start();
  proxy = await FaultProxy.start({ host: "127.0.0.1", port: broker.tcpPort });
  proxy.publishAfterNextConnack("queued/topic", "right after", 1);
  // mqtt.js emits `connect` only once its outgoing store has been read to the end. In a
  // browser that comes after the next packet is handled; this store makes Node do the same,
  // so the PUBLISH behind the CONNACK is read before `connect`.
  class SlowStore extends Store {
    override createStream(): ReturnType<Store["createStream"]> {
      const stream = new Readable({
        objectMode: true,
        read() {
          setTimeout(() => this.push(null), 50);
        },
      });
      // mqtt.js types its streams as readable-stream's Readable; Node's works the same.
      return stream as unknown as ReturnType<Store["createStream"]>;
    }
  }
  client = new RealtimeClient({
    endpoint: { host: "127.0.0.1", port: proxy.port, clientId: "late" },
    retryBackoff: { baseSeconds: 0.05 },
    environment: false,
    mqtt: { outgoingStore: new SlowStore() },
  });
  const errors: unknown[] = [];
  client.on("error", (e) => errors.push(e));
  const { states } = recordStates(client);
  await client.connect();
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(states).toEqual(["connecting", "restoring", "connected"]);
  expect(errors).toEqual([]);
  expect(proxy.connects).toHaveLength(1);
});
