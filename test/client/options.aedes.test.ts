/**
 * Options that would misbehave only once the client runs — a duration no
 * timer can hold, an mqtt.js option outside MQTT's range — are refused at
 * construction: the broker sees no CONNECT at all. The longest duration that
 * is accepted still behaves as a long delay, not as a 1 ms one.
 */

import { InvalidOptionsError, RealtimeClient } from "@armaanjain/courier-web-sdk";
import { afterEach, describe, expect, test } from "vitest";
import { TestBroker } from "../support/broker.js";
import { sleep } from "../support/wait.js";

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
