/**
 * DESIGN.md behaviour 3: any number of auth errors during a refresh produce
 * one provider call — from one client or from several sharing a provider.
 */

import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { afterEach, expect, test } from "vitest";
import { RealtimeClient, RemoteCredentials } from "../../src/index.js";
import { TestBroker } from "../support/broker.js";
import { sleep } from "../support/wait.js";

let broker: TestBroker;
let server: Server | undefined;
const clients: RealtimeClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
  await broker?.close();
  if (server) {
    server.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  }
});

test("ten clients rejected at once during one refresh: one onAuthFailure call, all reconnect", async () => {
  let valid = "fresh";
  broker = await TestBroker.start({
    authenticate: (_u, password) => (password === valid ? true : 5),
  });
  let calls = 0;
  const onAuthFailure = async () => {
    calls += 1;
    await sleep(300);
    return { host: "127.0.0.1", port: broker.tcpPort, username: "u", password: "fresh" };
  };
  for (let i = 0; i < 10; i++) {
    clients.push(
      new RealtimeClient({
        endpoint: {
          host: "127.0.0.1",
          port: broker.tcpPort,
          username: "u",
          password: "stale",
          clientId: `c${i}`,
        },
        onAuthFailure,
        refreshWaitSeconds: 0.1,
      }),
    );
  }
  await Promise.all(clients.map((c) => c.connect()));
  expect(calls).toBe(1);
  expect(broker.connects.filter((c) => !c.accepted)).toHaveLength(10);
  expect(broker.connects.filter((c) => c.accepted)).toHaveLength(10);

  // A second refresh starts only after the first settled: a new wave of rejections calls again, once.
  valid = "fresher";
  for (const c of clients)
    c.updateEndpoint({ host: "127.0.0.1", port: broker.tcpPort, username: "u", password: "stale" });
  for (let i = 0; i < 10; i++) broker.kick(`c${i}`);
  await sleep(100);
  const refreshed = clients.map(
    (c) =>
      new Promise<void>((resolve) =>
        c.on("stateChange", (s) => s.state === "refreshing" && resolve()),
      ),
  );
  valid = "fresh";
  await Promise.all(refreshed);
  await Promise.all(clients.map((c) => c.connect()));
  expect(calls).toBe(2);
});

test("two clients sharing one RemoteCredentials: one HTTP request per refresh", async () => {
  broker = await TestBroker.start({
    authenticate: (_u, password) => (password === "jwt-ok" ? true : 5),
  });
  let requests = 0;
  server = createServer((_req, res) => {
    requests += 1;
    setTimeout(() => {
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({
          broker: { host: "127.0.0.1", port: broker.tcpPort },
          userId: "alice",
          jwt: "jwt-ok",
        }),
      );
    }, 200);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  const creds = new RemoteCredentials(`http://127.0.0.1:${port}/api/mqtt/token`, (response) => ({
    host: response.broker.host,
    port: response.broker.port,
    username: response.userId,
    password: response.jwt,
    scheme: "mqtt",
  }));
  for (const id of ["a", "b"]) {
    clients.push(
      new RealtimeClient({
        endpoint: {
          host: "127.0.0.1",
          port: broker.tcpPort,
          username: "alice",
          password: "expired",
          clientId: id,
        },
        onAuthFailure: creds,
        refreshWaitSeconds: 0.05,
      }),
    );
  }
  await Promise.all(clients.map((c) => c.connect()));
  expect(requests).toBe(1);
  expect(broker.connects.filter((c) => c.accepted).map((c) => c.username)).toEqual([
    "alice",
    "alice",
  ]);
});

test("auth errors arriving while a refresh is in flight do not start another", async () => {
  broker = await TestBroker.start({
    authenticate: (_u, password) => (password === "ok" ? true : 5),
  });
  let calls = 0;
  let release: () => void = () => {};
  const client = new RealtimeClient({
    endpoint: {
      host: "127.0.0.1",
      port: broker.tcpPort,
      username: "u",
      password: "bad",
      clientId: "solo",
    },
    onAuthFailure: async () => {
      calls += 1;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return { password: "ok" } as never;
    },
    refreshWaitSeconds: 0.05,
  });
  clients.push(client);
  const connected = client.connect();
  await new Promise<void>((resolve) =>
    client.on("stateChange", (s) => s.state === "refreshing" && resolve()),
  );
  // Further connect() calls and endpoint updates during the refresh change nothing.
  for (let i = 0; i < 10; i++) void client.connect();
  await sleep(50);
  expect(client.state).toBe("refreshing");
  release();
  await connected;
  expect(calls).toBe(1);
});
