/**
 * What the React hooks share per client, against aedes: reference-counted
 * subscriptions and connection, releases deferred by one task (a double
 * mount keeps the one SUBSCRIBE and the one connection), and nothing thrown
 * at a closed or failed client.
 */

import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import type { Message, RealtimeClient } from "../../src/index.js";
import { storeOf } from "../../src/react/store.js";
import { TestBroker } from "../support/broker.js";
import { ClientPool } from "../support/clients.js";
import { reach, sleep, waitFor } from "../support/wait.js";

let broker: TestBroker;
const pool = new ClientPool();
let n = 0;
beforeAll(async () => {
  broker = await TestBroker.start({
    authenticate: (_u, password) => (password === "banned" ? 2 : true),
  });
});
afterEach(async () => pool.closeAll());
afterAll(async () => broker.close());

function client(password?: string): { client: RealtimeClient; id: string } {
  n += 1;
  const id = `store-${n}`;
  return {
    id,
    client: pool.make({
      endpoint: { host: "127.0.0.1", port: broker.tcpPort, clientId: id, username: "u", password },
      environment: false,
    }),
  };
}

const packetsOf = (id: string) => ({
  subscribe: broker.subscribePacketsOf(id),
  unsubscribe: broker.unsubscribePackets.filter((p) => p.clientId === id).map((p) => p.filters),
});
const text = (m: Message) => new TextDecoder().decode(m.payload);

test("a double mount (release, then retain in the same task) keeps one SUBSCRIBE and one connection", async () => {
  const { client: c, id } = client();
  const store = storeOf(c);
  const got: string[] = [];
  // StrictMode: effect, cleanup, effect again — synchronously.
  store.holdConnection()();
  const releaseConnection = store.holdConnection();
  store.retain("st/a", 1, () => got.push("first"))();
  const release = store.retain("st/a", 1, (m) => got.push(text(m)));
  await reach(c, "connected");
  await waitFor(() => store.state("1:st/a").status === "active", 5000, "active");
  await broker.publish("st/a", "x", 1);
  await waitFor(() => got.length === 1, 5000, "a message");
  expect(got).toEqual(["x"]);
  expect(broker.connects.filter((r) => r.clientId === id)).toHaveLength(1);
  expect(packetsOf(id)).toEqual({ subscribe: [["st/a"]], unsubscribe: [] });
  release();
  await waitFor(() => packetsOf(id).unsubscribe.length === 1, 5000, "UNSUBSCRIBE");
  expect(packetsOf(id).unsubscribe).toEqual([["st/a"]]);
  expect(store.state("1:st/a").status).toBe("inactive");
  releaseConnection();
  await reach(c, "idle");
});

test("two holders of one filter share it; the last release unsubscribes", async () => {
  const { client: c, id } = client();
  await c.connect();
  const store = storeOf(c);
  const a: string[] = [];
  const b: string[] = [];
  const releaseA = store.retain("st/shared", 0, (m) => a.push(text(m)));
  const releaseB = store.retain("st/shared", 0, (m) => b.push(text(m)));
  await waitFor(() => store.state("0:st/shared").status === "active", 5000, "active");
  await broker.publish("st/shared", "1");
  await waitFor(() => a.length === 1 && b.length === 1, 5000, "both");
  releaseA();
  await sleep(50);
  expect(packetsOf(id).unsubscribe).toEqual([]);
  await broker.publish("st/shared", "2");
  await waitFor(() => b.length === 2, 5000, "b's second");
  expect(a).toEqual(["1"]);
  releaseB();
  await waitFor(() => packetsOf(id).unsubscribe.length === 1, 5000, "UNSUBSCRIBE");
  expect(packetsOf(id).subscribe).toEqual([["st/shared"]]);
});

test("a failed client: retaining and holding throw nothing, the state says failed", async () => {
  const { client: c } = client("banned");
  const store = storeOf(c);
  const release = store.holdConnection();
  await reach(c, "failed");
  const releaseTopic = store.retain("st/x", 0, () => {});
  await waitFor(() => store.state("0:st/x").status === "failed", 5000, "failed");
  expect(store.state("0:st/x").error?.code).toBe("CLIENT_FAILED");
  releaseTopic();
  release();
  await sleep(20);
});

test("a subscription cancelled by disconnect() is asked again when the client connects again", async () => {
  const { client: c, id } = client();
  const store = storeOf(c);
  const release = store.retain("st/again", 0, () => {});
  await c.disconnect();
  await waitFor(() => store.state("0:st/again").status === "failed", 5000, "cancelled");
  expect(store.state("0:st/again").error?.code).toBe("CLIENT_CLOSED");
  await c.connect();
  await waitFor(() => store.state("0:st/again").status === "active", 5000, "active again");
  expect(packetsOf(id).subscribe).toEqual([["st/again"]]);
  release();
});

test("a listener that throws does not stop the others; the client reports it", async () => {
  const { client: c } = client();
  await c.connect();
  const errors: unknown[] = [];
  c.on("error", (e) => errors.push(e));
  const store = storeOf(c);
  const got: string[] = [];
  store.retain("st/throw", 0, () => {
    throw new Error("boom");
  });
  store.retain("st/throw", 0, (m) => got.push(text(m)));
  await waitFor(() => store.state("0:st/throw").status === "active", 5000, "active");
  await broker.publish("st/throw", "y");
  await waitFor(() => got.length === 1, 5000, "the other listener");
  expect(errors).toMatchObject([{ code: "HANDLER_FAILED", filter: "st/throw" }]);
});
