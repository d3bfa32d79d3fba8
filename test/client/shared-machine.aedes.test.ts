/**
 * Every client runs the same provided machine (session.ts provides it once:
 * a per-client `provide()` cost ~50 KB each). Each client's actors must still
 * reach that client's own session: its own broker, subscriptions and outbox.
 */

import { type Message, RealtimeClient } from "@armaanjain/courier-web-sdk";
import { afterEach, expect, test } from "vitest";
import { TestBroker } from "../support/broker.js";
import { waitFor } from "../support/wait.js";

const brokers: TestBroker[] = [];
const clients: RealtimeClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

test("clients sharing the machine keep their own connection, subscriptions and publishes", async () => {
  const [a, b] = await Promise.all([TestBroker.start(), TestBroker.start()]);
  brokers.push(a, b);
  const make = (broker: TestBroker, clientId: string) => {
    const c = new RealtimeClient({
      endpoint: { host: "127.0.0.1", port: broker.tcpPort, clientId },
      retryBackoff: { baseSeconds: 0.05 },
      environment: false,
    });
    clients.push(c);
    return c;
  };
  const one = make(a, "one");
  const two = make(b, "two");
  const got: Record<string, string[]> = { one: [], two: [] };
  const record = (who: string) => (m: Message) => got[who]?.push(m.topic);
  // Subscribed before connecting: each connection restores its own.
  const subscribed = [one.subscribe("x/one", record("one")), two.subscribe("x/two", record("two"))];
  await Promise.all([one.connect(), two.connect(), ...subscribed]);

  expect(a.subscribePacketsOf("one")).toEqual([["x/one"]]);
  expect(b.subscribePacketsOf("two")).toEqual([["x/two"]]);
  expect(a.clientIds()).toEqual(["one"]);
  expect(b.clientIds()).toEqual(["two"]);

  await one.publish("x/one", "1", { qos: 1 });
  await two.publish("x/two", "2", { qos: 1 });
  await waitFor(() => got.one?.length === 1 && got.two?.length === 1);
  expect(got).toEqual({ one: ["x/one"], two: ["x/two"] });

  // A reconnection of one restores its subscriptions on its broker only.
  a.kick("one");
  await waitFor(() => a.subscribePacketsOf("one").length === 2);
  expect(b.subscribePacketsOf("two")).toEqual([["x/two"]]);
});
