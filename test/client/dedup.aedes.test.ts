/**
 * DESIGN.md behaviour 3 on aedes only: two clients sharing one
 * `RemoteCredentials` against a real HTTP token endpoint. Deduplication
 * across clients and within one client runs on every broker in
 * `test/brokers/core.suite.ts`.
 */

import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { RealtimeClient, RemoteCredentials } from "@armaanjain/courier-web-sdk";
import { afterEach, expect, test } from "vitest";
import { TestBroker } from "../support/broker.js";

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
