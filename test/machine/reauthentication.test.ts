/**
 * Re-authentication in place (MQTT 5 §4.12.1, `mqtt5Auth`) on the statechart
 * alone: test actors and a SimulatedClock that is also the machine's wall
 * clock. When a refresh ahead brings fresh credentials, the machine
 * re-authenticates on the live connection; any failure (DISCONNECT, close,
 * timeout, a failing hook) reconnects at once with the fresh credentials and
 * is not retried in that session.
 */

import { describe, expect, test } from "vitest";
import { createActor, fromPromise, SimulatedClock } from "xstate";
import { ConnectionLostError, ReauthenticationError } from "../../src/errors.js";
import { connectionMachine, connectionStateOf } from "../../src/machines/connection.machine.js";
import {
  DEFAULT_RETRY,
  DEFAULT_TIMING,
  type ReauthenticateInput,
  type Renewal,
} from "../../src/machines/connection.types.js";
import type { ResolvedEndpoint } from "../../src/services/endpoint.js";
import { classifyDisconnect } from "../../src/services/reason-codes.js";
import { Secret } from "../../src/services/secret.js";
import { expirySuiteKeys } from "../model/faults.js";
import { everyTestRan, transitionRecorder } from "../support/transitions.js";
import { restoreNothing, testLinks } from "./support/test-link.js";

const recorder = transitionRecorder();

const T0 = 1_750_000_000_000;
const LIFETIME = 60_000;

function credentials(n: number, at: number): ResolvedEndpoint {
  return {
    host: "127.0.0.1",
    port: 1883,
    scheme: "mqtt",
    path: "/mqtt",
    username: "u",
    password: new Secret(`token-${n}`),
    clientId: "m1",
    receivedAt: at,
    expiresAt: at + LIFETIME,
    refreshAt: at + LIFETIME - 15_000,
  };
}

/** What the test's broker does with a re-authentication: accept, reject (a hook failed), or never answer. */
type Answer = "accept" | "reject" | "silent";

function harness(options: { canReauthenticate?: boolean; answer?: Answer } = {}) {
  const clock = new SimulatedClock();
  const now = () => T0 + clock.now();
  const { links, actions } = testLinks();
  const reauths: string[] = [];
  const renewals: Renewal[] = [];
  const errors: Error[] = [];
  let issued = 1;
  let answer: Answer = options.answer ?? "accept";
  const machine = connectionMachine.provide({
    actions,
    actors: {
      restoreSubscriptions: restoreNothing,
      refreshCredentials: fromPromise(async () => {
        issued += 1;
        return credentials(issued, now());
      }),
      reauthenticate: fromPromise<void, ReauthenticateInput>(async ({ input }) => {
        reauths.push(input.endpoint.password?.reveal() ?? "");
        if (answer === "reject") throw new ReauthenticationError("hook");
        if (answer === "silent") await new Promise(() => {});
      }),
    },
  });
  const actor = createActor(machine, {
    input: {
      endpoints: [credentials(1, T0)],
      retry: DEFAULT_RETRY,
      timing: DEFAULT_TIMING,
      hasCredentialsProvider: true,
      random: () => 0.5,
      now,
      canReauthenticate: options.canReauthenticate ?? true,
    },
    clock,
    inspect: recorder.inspect,
  });
  const states: string[] = [];
  actor.subscribe((s) => {
    const name = connectionStateOf(s.value);
    if (states.at(-1) !== name) states.push(name);
  });
  actor.on("notify.renewal", (e) => renewals.push(e.renewal));
  actor.on("notify.error", (e) => errors.push(e.error));
  actor.start();
  const flush = () => new Promise((resolve) => setTimeout(resolve, 0));
  const h = {
    actor,
    links,
    reauths,
    renewals,
    errors,
    states,
    send: actor.send.bind(actor),
    flush,
    setAnswer(next: Answer) {
      answer = next;
    },
    state: () => states.at(-1),
    value: () => JSON.stringify(actor.getSnapshot().value),
    linkPassword: () => actor.getSnapshot().context.linkCredentials?.password?.reveal(),
    async at(ms: number) {
      while (now() < T0 + ms) {
        clock.increment(Math.min(250, T0 + ms - now()));
        await flush();
      }
    },
    async connect() {
      actor.send({ type: "USER.CONNECT" });
      actor.send({ type: "MQTT.CONNACK", sessionPresent: true });
      await flush();
      expect(h.state()).toBe("connected");
    },
  };
  return h;
}

describe("re-authentication in place", () => {
  test("fresh credentials are presented on the live connection; accepted, they become the connection's and the next refresh point is scheduled", async () => {
    const h = harness();
    await h.connect();
    await h.at(45_000);
    expect(h.reauths).toEqual(["token-2"]);
    expect(h.links).toHaveLength(1);
    expect(h.links[0]?.stopped).toBe(false);
    expect(h.linkPassword()).toBe("token-2");
    expect(h.value()).toContain('"scheduled"');
    expect(h.renewals.map((r) => r.phase)).toEqual(["started", "succeeded", "reauthenticated"]);
    // The next lifetime re-authenticates again, at its own refresh point; still one connection.
    await h.at(90_000);
    expect(h.reauths).toEqual(["token-2", "token-3"]);
    expect(h.links).toHaveLength(1);
    expect(h.states).toEqual(["idle", "connecting", "restoring", "connected"]);
  });

  test("a DISCONNECT answering the AUTH 0x19: reconnect at once with the fresh credentials, told why; the next renewal rotates by reconnecting", async () => {
    const h = harness({ answer: "silent" });
    await h.connect();
    await h.at(45_000);
    expect(h.value()).toContain('"reauthenticating"');
    h.send({ type: "MQTT.DISCONNECT", refusal: classifyDisconnect(0x87) });
    expect(h.state()).toBe("reconnecting");
    expect(h.links).toHaveLength(2);
    expect(h.links[0]?.stopped).toBe(true);
    expect(h.links[1]?.password).toBe("token-2");
    expect(h.errors).toHaveLength(1);
    expect(h.errors[0]).toBeInstanceOf(ReauthenticationError);
    expect(h.errors[0]).toMatchObject({ failure: "disconnect", reasonCode: 0x87 });
    h.send({ type: "MQTT.CONNACK", sessionPresent: true });
    await h.flush();
    expect(h.state()).toBe("connected");
    // Never a loop: the next fresh credentials wait for the rotation, no AUTH 0x19 again.
    await h.at(45_000 + 45_000);
    expect(h.reauths).toHaveLength(1);
    expect(h.value()).toContain('"scheduled"');
    expect(h.linkPassword()).toBe("token-2");
  });

  test("no answer within timeouts.reauthSeconds: reconnect at once", async () => {
    const h = harness({ answer: "silent" });
    await h.connect();
    await h.at(45_000 + DEFAULT_TIMING.reauthTimeoutMs - 250);
    expect(h.value()).toContain('"reauthenticating"');
    await h.at(45_000 + DEFAULT_TIMING.reauthTimeoutMs);
    expect(h.state()).toBe("reconnecting");
    expect(h.links[1]?.password).toBe("token-2");
    expect(h.errors[0]).toMatchObject({ failure: "timeout" });
  });

  test("a failing onContinue hook (the actor rejects): reconnect at once", async () => {
    const h = harness({ answer: "reject" });
    await h.connect();
    await h.at(45_000);
    expect(h.state()).toBe("reconnecting");
    expect(h.errors[0]).toMatchObject({ failure: "hook" });
  });

  test("the connection closing during the exchange: reconnect at once, not a network backoff", async () => {
    const h = harness({ answer: "silent" });
    await h.connect();
    await h.at(45_000);
    h.send({ type: "MQTT.CLOSED", error: new ConnectionLostError("test") });
    expect(h.state()).toBe("reconnecting");
    expect(h.errors[0]).toMatchObject({ failure: "closed" });
  });

  test("a fatal DISCONNECT during the exchange (session taken over) still stops", async () => {
    const h = harness({ answer: "silent" });
    await h.connect();
    await h.at(45_000);
    h.send({ type: "MQTT.DISCONNECT", refusal: classifyDisconnect(0x8e) });
    expect(h.state()).toBe("failed");
  });

  test("without mqtt5Auth the refresh ahead is unchanged: fresh credentials wait for the next connection", async () => {
    const h = harness({ canReauthenticate: false });
    await h.connect();
    await h.at(45_000);
    expect(h.reauths).toEqual([]);
    expect(h.value()).toContain('"scheduled"');
    expect(h.linkPassword()).toBe("token-1");
  });

  test("a new connect() may re-authenticate in place again", async () => {
    const h = harness({ answer: "reject" });
    await h.connect();
    await h.at(45_000);
    expect(h.reauths).toHaveLength(1);
    h.send({ type: "USER.DISCONNECT" });
    h.send({ type: "MQTT.CLOSED", error: new ConnectionLostError("closed") });
    expect(h.state()).toBe("idle");
    h.setAnswer("accept");
    await h.connect();
    await h.at(45_000 + 45_000);
    expect(h.reauths).toHaveLength(2);
    expect(h.renewals.at(-1)?.phase).toBe("reauthenticated");
  });
});

// Last in the file, after every test above ran (skipped when only some run, with -t).
test("took every re-authentication transition the model's coverage table names this file for", (ctx) => {
  if (!everyTestRan(ctx.task)) ctx.skip();
  const keys = expirySuiteKeys("test/machine/reauthentication.test.ts");
  expect(keys.length).toBeGreaterThanOrEqual(7);
  expect(keys.filter((key) => !recorder.taken.has(key))).toEqual([]);
});
