/**
 * The password never leaves the SDK through anything an app can reach
 * (STYLE.md §8; `Endpoint.password`: "never part of an error message or a
 * snapshot"): `client.error`, errors thrown by the constructor and by
 * `updateEndpoint()`, `error` events and `stateChange` payloads, serialized
 * with `JSON.stringify` (how errors end up in logs and telemetry).
 * Inspection events are covered elsewhere.
 */

import { once } from "node:events";
import { createServer } from "node:net";
import { inspect } from "node:util";
import {
  AuthRefreshError,
  ConnectionLostError,
  type CourierError,
  type Endpoint,
  InvalidOptionsError,
  NotAuthorizedError,
  RealtimeClient,
  type RealtimeClientOptions,
  type StateChange,
} from "@armaanjain/courier-web-sdk";
import { afterEach, describe, expect, test } from "vitest";
import { TestBroker } from "../support/broker.js";

const PASSWORD = "pw_SECRET_456";

let broker: TestBroker | undefined;
const clients: RealtimeClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.disconnect()));
  await broker?.close();
  broker = undefined;
});

/** A client that records its error events and state changes. */
function track(options: RealtimeClientOptions) {
  const client = new RealtimeClient(options);
  clients.push(client);
  const errors: CourierError[] = [];
  const changes: StateChange[] = [];
  client.on("error", (error) => errors.push(error));
  client.on("stateChange", (change) => changes.push(change));
  return { client, errors, changes };
}

function waitFor<T>(probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      const value = probe();
      if (value !== undefined) resolve(value);
      else if (Date.now() > deadline) reject(new Error("waitFor: timed out"));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

function expectNoPassword(value: unknown, what: string): void {
  const json = JSON.stringify(value);
  expect(json, `JSON.stringify(${what})`).toBeDefined();
  expect(json, `JSON.stringify(${what})`).not.toContain(PASSWORD);
  if (value instanceof Error) {
    expect(value.message, `${what}.message`).not.toContain(PASSWORD);
    expect(String(value), `String(${what})`).not.toContain(PASSWORD);
  }
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("errors thrown synchronously", () => {
  test.each([
    ["-1", -1],
    ["0", 0],
    ["65536", 65_536],
    ["1.5", 1.5],
    ["NaN", Number.NaN],
    ['"1883"', "1883"],
  ])(
    "new RealtimeClient with port %s and a password → InvalidOptionsError without the password",
    (_, port) => {
      const error = thrownBy(
        () =>
          new RealtimeClient({
            endpoint: {
              host: "broker.example.com",
              port,
              username: "u",
              password: PASSWORD,
            } as Endpoint,
          }),
      );
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as InvalidOptionsError).field).toBe("endpoint.port");
      expectNoPassword(error, "the error");
      expect(inspect(error)).not.toContain(PASSWORD);
    },
  );

  test("other malformed endpoint fields next to a password do not echo it either", () => {
    const endpoints = [
      { host: "", port: 1883, username: "u", password: PASSWORD },
      { host: "mqtt://broker.example.com", port: 1883, username: "u", password: PASSWORD },
      { host: "broker.example.com", port: 1883, username: "u", password: PASSWORD, scheme: "tcp" },
      { host: "broker.example.com", port: 1883, username: "u", password: PASSWORD, path: "mqtt" },
      { host: "broker.example.com", port: 1883, username: 7, password: PASSWORD },
    ];
    for (const endpoint of endpoints) {
      const error = thrownBy(() => new RealtimeClient({ endpoint } as RealtimeClientOptions));
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expectNoPassword(error, JSON.stringify({ ...endpoint, password: "…" }));
    }
  });

  test("updateEndpoint({ host: 'x', port: -1, password }) → InvalidOptionsError without the password", () => {
    const { client, errors } = track({
      endpoint: { host: "broker.example.com", port: 1883, username: "u", password: "old-pw" },
    });
    const error = thrownBy(() =>
      client.updateEndpoint({ host: "x", port: -1, password: PASSWORD }),
    );
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).field).toBe("endpoint.port");
    expectNoPassword(error, "the error");
    expect(inspect(error)).not.toContain(PASSWORD);
    // The rejected update changed nothing.
    expect(client.state).toBe("idle");
    expectNoPassword(client.error, "client.error");
    expectNoPassword(errors, "error events");
  });

  test("a valid updateEndpoint() does not expose the new password through the client", () => {
    const { client } = track({
      endpoint: { host: "broker.example.com", port: 1883, username: "u", password: "old-pw" },
    });
    client.updateEndpoint({ host: "broker.example.com", port: 1883, password: PASSWORD });
    expectNoPassword(client, "the client");
    expectNoPassword(client.error, "client.error");
  });
});

describe("errors reported while connecting", () => {
  test("client.error after a failed connection (nothing listening) has no password", async () => {
    const port = await closedPort();
    const { client, errors, changes } = track({
      endpoint: { host: "127.0.0.1", port, username: "u", password: PASSWORD },
      retryBackoff: { baseSeconds: 0.05, ceilSeconds: 0.05 },
    });
    void client.connect().catch(() => {});
    await waitFor(() => errors.find((e) => e instanceof ConnectionLostError));
    expect(client.error).toBeInstanceOf(ConnectionLostError);
    expectNoPassword(client.error, "client.error");
    expect(inspect(client.error, { depth: 10 })).not.toContain(PASSWORD);
    expectNoPassword(errors, "error events");
    expectNoPassword(changes, "stateChange events");
  });

  test("client.error when the broker rejects the password (no onAuthFailure) has no password", async () => {
    broker = await TestBroker.start({ authenticate: () => 5 });
    const { client, errors, changes } = track({
      endpoint: { host: "127.0.0.1", port: broker.tcpPort, username: "u", password: PASSWORD },
    });
    const rejection = await client.connect().then(
      () => undefined,
      (error: unknown) => error,
    );
    // The password really was sent, so there was something to leak.
    expect(broker.connects[0]?.password).toBe(PASSWORD);
    expect(client.state).toBe("failed");
    expect(client.error).toBeInstanceOf(NotAuthorizedError);
    expectNoPassword(client.error, "client.error");
    expectNoPassword(rejection, "the connect() rejection");
    expectNoPassword(errors, "error events");
    expectNoPassword(changes, "stateChange events");
    expect(changes.at(-1)?.error).toBeInstanceOf(NotAuthorizedError);
  });

  test("client.error when onAuthFailure throws an error quoting the password has no password", async () => {
    broker = await TestBroker.start({ authenticate: () => 5 });
    const { client, errors, changes } = track({
      endpoint: { host: "127.0.0.1", port: broker.tcpPort, username: "u", password: PASSWORD },
      onAuthFailure: async () => {
        throw new Error(`the token service refused ${PASSWORD}`);
      },
      retryBackoff: { baseSeconds: 0.05, ceilSeconds: 0.05 },
    });
    void client.connect().catch(() => {});
    const refreshError = await waitFor(() => errors.find((e) => e instanceof AuthRefreshError));
    expectNoPassword(refreshError, "the AuthRefreshError");
    expectNoPassword(client.error, "client.error");
    expectNoPassword(errors, "error events");
    expectNoPassword(changes, "stateChange events");
  });

  test("client.error when onAuthFailure returns a malformed endpoint carrying the password has no password", async () => {
    broker = await TestBroker.start({ authenticate: () => 5 });
    const { client, errors } = track({
      endpoint: { host: "127.0.0.1", port: broker.tcpPort, username: "u", password: "old-pw" },
      onAuthFailure: async () => ({
        host: "127.0.0.1",
        port: -1,
        username: "u",
        password: PASSWORD,
      }),
      retryBackoff: { baseSeconds: 0.05, ceilSeconds: 0.05 },
    });
    void client.connect().catch(() => {});
    const refreshError = await waitFor(() =>
      errors.find((e) => e instanceof AuthRefreshError && e.reason === "invalid"),
    );
    expectNoPassword(refreshError, "the AuthRefreshError");
    expect(inspect(refreshError, { depth: 10 })).not.toContain(PASSWORD);
    expectNoPassword(client.error, "client.error");
    expectNoPassword(errors, "error events");
  });
});
