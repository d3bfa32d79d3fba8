import { RealtimeClient } from "@armaanjain/courier-web-sdk";
import { afterEach, expect, test } from "vitest";
import { TestBroker } from "../support/broker.js";

let broker: TestBroker;
afterEach(async () => broker?.close());

test("connects, subscribes, publishes", async () => {
  broker = await TestBroker.start();
  const client = new RealtimeClient({ endpoint: { host: "127.0.0.1", port: broker.tcpPort } });
  const states: string[] = [];
  client.on("stateChange", (c) => states.push(c.state));
  await client.connect();
  const got: string[] = [];
  await client.subscribe("a/+", (m) => got.push(new TextDecoder().decode(m.payload)), { qos: 1 });
  await client.publish("a/b", "hello", { qos: 1 });
  await client.publish("a/c", new TextEncoder().encode("bytes"), { qos: 0 });
  await new Promise((r) => setTimeout(r, 100));
  expect(got).toEqual(["hello", "bytes"]);
  await client.disconnect();
  expect(states).toEqual(["connecting", "restoring", "connected", "closing", "idle"]);
});
