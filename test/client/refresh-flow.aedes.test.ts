/**
 * The page's "Token Refresh on Auth Error" flow on aedes only: the endpoint
 * `onAuthFailure` returns is merged over the current one, read from the
 * CONNECT aedes recorded. The flow's six steps and a token expiring
 * mid-session run on every broker in `test/brokers/core.suite.ts`.
 */

import { type Endpoint, RealtimeClient } from "@armaanjain/courier-web-sdk";
import { afterEach, describe, expect, test } from "vitest";
import { TestBroker } from "../support/broker.js";
import { ClientPool } from "../support/clients.js";

let broker: TestBroker;
const pool = new ClientPool();
const track = pool.track;
afterEach(async () => {
  await pool.closeAll();
  await broker?.close();
});

describe("refresh flow on CONNACK 5", () => {
  test("the returned endpoint is merged over the current one: omitted fields keep their values", async () => {
    broker = await TestBroker.start({
      authenticate: (_u, password) => (password === "fresh" ? true : 5),
    });
    const client = track(
      new RealtimeClient({
        endpoint: {
          host: "127.0.0.1",
          port: broker.tcpPort,
          username: "alice",
          password: "stale",
          clientId: "keep-me",
        },
        onAuthFailure: async () => ({ password: "fresh" }) as Endpoint,
        refreshWaitSeconds: 0.05,
      }),
    );
    await client.connect();
    const ok = broker.connects.find((c) => c.accepted);
    expect(ok).toMatchObject({ clientId: "keep-me", username: "alice", password: "fresh" });
  });
});
