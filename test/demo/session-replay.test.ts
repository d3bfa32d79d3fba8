/**
 * The stack's fix for aedes' persistent-session replay (demo/stack/session-replay.ts).
 * When a clean: false session resumes, aedes delivers live messages as soon
 * as the session's subscriptions are restored, and replays the queue kept
 * meanwhile only after CONNACK. A message published in between is in both.
 * Unpatched, aedes sent it twice and, once the client had acknowledged the
 * live copy, closed the connection when its replay got there ("no such packet").
 */

import { connect, type MqttClient } from "mqtt";
import { afterEach, expect, test } from "vitest";
import { type Stack, type StackEvent, startStack } from "../../demo/stack/index.js";
import { sleep, waitFor } from "../support/wait.js";
import { closed, connectOnce, subscribe } from "./mqtt-probe.js";

let stack: Stack;
const open: MqttClient[] = [];
afterEach(async () => {
  for (const client of open.splice(0)) client.end(true);
  await stack.stop();
});

const QUEUED = 200;
const IN_BETWEEN = 20;

test("a message published while a persistent session resumes is delivered once, and the connection stays up", async () => {
  stack = await startStack({ ttlSeconds: 60 });
  const events: StackEvent[] = [];
  stack.on((event) => events.push(event));
  const got: string[] = [];
  const session = { clientId: "resumer", clean: false, username: "viewer", reconnectPeriod: 0 };
  const login = async () => {
    const client = connect(stack.brokerUrl, {
      ...session,
      password: (await stack.issueToken("viewer")).jwt,
    });
    open.push(client);
    client.on("message", (_topic, payload) => got.push(payload.toString()));
    await new Promise<void>((resolve) => client.once("connect", () => resolve()));
    return client;
  };

  const first = await login();
  await subscribe(first, ["demo/#"]);
  const kicked = closed(first);
  stack.expire("viewer");
  await kicked;

  // Queued for the session while it is away.
  const pub = await connectOnce(stack.brokerUrl, {
    clientId: "publisher-1",
    username: "publisher",
    password: (await stack.issueToken("publisher")).jwt,
  });
  open.push(pub.client);
  for (let n = 1; n <= QUEUED; n++)
    await pub.client.publishAsync("demo/queued", `q${n}`, { qos: 1 });

  // Published in between: the session's subscriptions are live again
  // ("client" is emitted once they are restored), its queue not yet replayed.
  stack.broker.once("client", (client) => {
    if (client.id !== session.clientId) return;
    for (let n = 1; n <= IN_BETWEEN; n++)
      stack.broker.publish(
        {
          cmd: "publish",
          topic: "demo/between",
          payload: Buffer.from(`b${n}`),
          qos: 1,
          retain: false,
          dup: false,
        },
        () => {},
      );
  });
  const resumed = await login();
  let closedByBroker = false;
  resumed.once("close", () => {
    closedByBroker = true;
  });

  await waitFor(() => got.length >= QUEUED + IN_BETWEEN || closedByBroker, 10_000, "the messages");
  // Anything sent twice would arrive within this.
  await sleep(300);
  expect(events.filter((e) => e.type === "broker.client-error")).toEqual([]);
  expect(closedByBroker).toBe(false);
  expect(got.filter((m) => m.startsWith("q"))).toHaveLength(QUEUED);
  expect(got.filter((m) => m.startsWith("b")).sort()).toEqual(
    Array.from({ length: IN_BETWEEN }, (_, i) => `b${i + 1}`).sort(),
  );
});
