/**
 * The redaction rules of inspection events (src/services/redact.ts), value
 * by value. The client-level proof — a real refresh cycle, every event
 * scanned — is test/client/inspect.aedes.test.ts.
 */

import { describe, expect, test } from "vitest";
import { createActor, createMachine } from "xstate";
import { AuthRefreshError, ConnectionLostError, CredentialsFetchError } from "../../src/errors.js";
import {
  REDACTED,
  redact,
  redactInspection,
  redactSnapshot,
  SecretList,
} from "../../src/services/redact.js";
import { Secret } from "../../src/services/secret.js";

const TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig_KNOWN";

function secrets(...values: string[]): SecretList {
  const list = new SecretList();
  for (const value of values) list.add(value);
  return list;
}

describe("redact()", () => {
  test.each([
    ["a Secret", new Secret(TOKEN), REDACTED],
    ["a password field", { password: "hunter2" }, { password: REDACTED }],
    ["a user name (the token, for some brokers)", { username: TOKEN }, { username: REDACTED }],
    [
      "token, jwt, accessToken, refresh_token, apiKey, Authorization",
      {
        token: "a",
        jwt: "b",
        accessToken: "c",
        refresh_token: "d",
        apiKey: "e",
        Authorization: "Bearer f",
      },
      {
        token: REDACTED,
        jwt: REDACTED,
        accessToken: REDACTED,
        refresh_token: REDACTED,
        apiKey: REDACTED,
        Authorization: REDACTED,
      },
    ],
    [
      "a credentials object, whole",
      { credentials: { user: "u", pass: "p" } },
      { credentials: REDACTED },
    ],
    [
      "numbers and booleans under credential-like names stay",
      { authFailures: 2, hasCredentialsProvider: true },
      { authFailures: 2, hasCredentialsProvider: true },
    ],
    [
      "an endpoint keeps where, loses who",
      {
        host: "broker.example.com",
        port: 443,
        scheme: "wss",
        path: "/mqtt",
        clientId: "courier_abc",
        username: "u",
        password: new Secret(TOKEN),
      },
      {
        host: "broker.example.com",
        port: 443,
        scheme: "wss",
        path: "/mqtt",
        clientId: "courier_abc",
        username: REDACTED,
        password: REDACTED,
      },
    ],
    ["bytes", { payload: new Uint8Array(5) }, { payload: "[5 bytes]" }],
    ["functions are dropped", { f: () => TOKEN, n: 1 }, { n: 1 }],
  ])("%s", (_, input, expected) => {
    expect(redact(input, secrets())).toEqual(expected);
  });

  test("a short password is not searched for inside other text (it would blank state names)", () => {
    const list = secrets("wait");
    expect(redact({ value: "waiting", password: "wait" }, list)).toEqual({
      value: "waiting",
      password: REDACTED,
    });
  });

  test("text that contains a secret the client has held, under any field, is redacted", () => {
    const list = secrets(TOKEN);
    expect(redact({ detail: `refused ${TOKEN} at 12:00` }, list)).toEqual({ detail: REDACTED });
    expect(redact([`x${TOKEN}`, "plain"], list)).toEqual([REDACTED, "plain"]);
  });

  test("the SDK's errors keep name, code, reason and message; their cause is redacted by the same rules", () => {
    const appError = new Error(`the token service refused ${TOKEN}`);
    const error = new AuthRefreshError("rejected", "onAuthFailure threw or rejected (Error).", {
      cause: appError,
    });
    expect(redact(error, secrets())).toEqual({
      name: "AuthRefreshError",
      code: "AUTH_REFRESH_FAILED",
      reason: "rejected",
      message: "Credential refresh failed (rejected): onAuthFailure threw or rejected (Error).",
      // An error the SDK did not write may quote anything: only its name.
      cause: { name: "Error" },
    });
    const fetchError = new CredentialsFetchError("http", "the token endpoint answered HTTP 500.", {
      status: 500,
    });
    expect(redact(fetchError, secrets())).toMatchObject({ status: 500, reason: "http" });
    const lost = new ConnectionLostError("the socket closed", { cause: new TypeError(TOKEN) });
    expect(JSON.stringify(redact(lost, secrets()))).not.toContain(TOKEN);
  });

  test("cycles and deep nesting end", () => {
    const deep: Record<string, unknown> = {};
    let at = deep;
    for (let i = 0; i < 40; i++) {
      at.next = {};
      at = at.next as Record<string, unknown>;
    }
    expect(JSON.stringify(redact(deep, secrets()))).toContain("[too deep]");
  });
});

describe("redactSnapshot()", () => {
  test("keeps the machine's definition and methods, redacts context and output", () => {
    const machine = createMachine({
      context: { endpoint: { host: "h", username: "u", password: new Secret(TOKEN) } },
      initial: "a",
      states: { a: { on: { GO: "b" } }, b: {} },
    });
    const actor = createActor(machine).start();
    const snapshot = redactSnapshot(actor.getSnapshot(), secrets()) as ReturnType<
      typeof actor.getSnapshot
    >;
    expect(snapshot.matches("a")).toBe(true);
    expect(snapshot.context).toEqual({
      endpoint: { host: "h", username: REDACTED, password: REDACTED },
    });
    expect(JSON.parse(JSON.stringify(snapshot))).toMatchObject({
      value: "a",
      context: { endpoint: { username: REDACTED } },
    });
    actor.stop();
  });
});

describe("redactInspection()", () => {
  test("forwards to a function or an observer object; actor references become read-only views", () => {
    const seen: unknown[] = [];
    const machine = createMachine({
      context: { username: TOKEN },
      initial: "a",
      states: { a: { on: { GO: "b" } }, b: {} },
    });
    const wrapped = redactInspection({ next: (event) => seen.push(event) }, secrets());
    const actor = createActor(machine, { inspect: wrapped }).start();
    actor.send({ type: "GO" });
    const actorEvent = seen.find((e) => (e as { type: string }).type === "@xstate.actor") as {
      actorRef: { sessionId: string; getSnapshot(): { context: unknown }; send(e: unknown): void };
    };
    expect(actorEvent.actorRef.sessionId).toBe(actor.sessionId);
    expect(actorEvent.actorRef.getSnapshot().context).toEqual({ username: REDACTED });
    // The view cannot drive the machine.
    actorEvent.actorRef.send({ type: "GO" });
    expect(JSON.stringify(seen)).not.toContain(TOKEN);
    actor.stop();
  });
});
