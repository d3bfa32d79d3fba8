/**
 * Refreshing ahead of the credentials' expiry and rotating to the fresh ones
 * (DESIGN.md behaviours 11 and 12), on the statechart alone: test actors and
 * a SimulatedClock that is also the machine's wall clock, so every refresh
 * point and expiry is exact.
 */

import { describe, expect, test } from "vitest";
import { createActor, fromPromise, SimulatedClock } from "xstate";
import { AuthRefreshError, ConnectionLostError } from "../../src/errors.js";
import { connectionMachine, connectionStateOf } from "../../src/machines/connection.machine.js";
import {
  type ConnectionEvent,
  DEFAULT_RETRY,
  DEFAULT_TIMING,
  type RefreshCredentialsInput,
  type Renewal,
} from "../../src/machines/connection.types.js";
import type { ResolvedEndpoint } from "../../src/services/endpoint.js";
import { classifyDisconnect } from "../../src/services/reason-codes.js";
import { Secret } from "../../src/services/secret.js";
import { expirySuiteKeys } from "../model/faults.js";
import { everyTestRan, transitionRecorder } from "../support/transitions.js";
import { restoreNothing, testLinks } from "./support/test-link.js";

/** The transitions the model-based coverage table counts on this file (test/model/faults.ts). */
const recorder = transitionRecorder();

const T0 = 1_750_000_000_000;
const LIFETIME = 60_000;

/** Credentials received at `at`, expiring `LIFETIME` later, refreshed 15 s before. */
function credentials(n: number, at: number, refreshAhead = true): ResolvedEndpoint {
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
    ...(refreshAhead ? { refreshAt: at + LIFETIME - 15_000 } : {}),
  };
}

type Refresh = (input: RefreshCredentialsInput, at: number) => Promise<ResolvedEndpoint>;

function harness(
  options: {
    endpoint?: ResolvedEndpoint;
    refresh?: Refresh;
    withClock?: boolean;
    provider?: boolean;
  } = {},
) {
  const clock = new SimulatedClock();
  const now = () => T0 + clock.now();
  const { links, actions } = testLinks();
  const calls: { reason: string | undefined; at: number; retry: number }[] = [];
  const renewals: Renewal[] = [];
  const errors: string[] = [];
  const machine = connectionMachine.provide({
    actions,
    actors: {
      restoreSubscriptions: restoreNothing,
      refreshCredentials: fromPromise(async ({ input }) => {
        calls.push({ reason: input.reason, at: now(), retry: input.retry });
        return options.refresh
          ? options.refresh(input, now())
          : credentials(calls.length + 1, now());
      }),
    },
  });
  const actor = createActor(machine, {
    input: {
      endpoints: [options.endpoint ?? credentials(1, T0)],
      retry: DEFAULT_RETRY,
      timing: DEFAULT_TIMING,
      hasCredentialsProvider: options.provider ?? true,
      random: () => 0.5,
      ...(options.withClock === false ? {} : { now }),
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
  actor.on("notify.error", (e) => errors.push(e.error.code));
  actor.start();
  const send = (event: ConnectionEvent) => actor.send(event);
  const flush = () => new Promise((resolve) => setTimeout(resolve, 0));
  const h = {
    actor,
    clock,
    now,
    states,
    links,
    calls,
    renewals,
    errors,
    send,
    flush,
    state: () => states.at(-1),
    value: () => JSON.stringify(actor.getSnapshot().value),
    endpoint: () => actor.getSnapshot().context.endpoints[0] as ResolvedEndpoint,
    /**
     * Advances the clock to `T0 + ms` in 250 ms steps, letting promises settle
     * between (a SimulatedClock fires every due timer at the step's end time).
     */
    async at(ms: number) {
      while (now() < T0 + ms) {
        h.clock.increment(Math.min(250, T0 + ms - now()));
        await flush();
      }
    },
    closed: () => send({ type: "MQTT.CLOSED", error: new ConnectionLostError("test") }),
    async connect() {
      send({ type: "USER.CONNECT" });
      send({ type: "MQTT.CONNACK", sessionPresent: true });
      await flush();
      expect(h.state()).toBe("connected");
    },
  };
  return h;
}

describe("refresh ahead of the expiry", () => {
  test("asks at the refresh point, told `expiring`, while the connection stays up", async () => {
    const h = harness();
    await h.connect();
    await h.at(44_999);
    expect(h.calls).toHaveLength(0);
    await h.at(45_000);
    expect(h.calls).toEqual([{ reason: "expiring", at: T0 + 45_000, retry: 0 }]);
    expect(h.state()).toBe("connected");
    expect(h.links).toHaveLength(1);
    expect(h.links[0]).toMatchObject({ commands: [], stopped: false });
    // The fresh credentials are the next connection's; the live one keeps its own.
    expect(h.endpoint().password?.reveal()).toBe("token-2");
    expect(h.renewals).toEqual([
      { phase: "started", attempt: 1 },
      { phase: "succeeded", attempt: 1, expiresAt: T0 + 45_000 + LIFETIME },
    ]);
    expect(h.value()).toContain('"scheduled"');
  });

  test("the broker closes at the old expiry: reconnect at once with the fresh credentials (no backoff, no 2 s wait)", async () => {
    const h = harness();
    await h.connect();
    await h.at(LIFETIME);
    h.closed();
    expect(h.state()).toBe("reconnecting");
    expect(h.links).toHaveLength(2);
    expect(h.links[0]?.stopped).toBe(true);
    expect(h.links[1]?.password).toBe("token-2");
    h.send({ type: "MQTT.CONNACK", sessionPresent: true });
    await h.flush();
    expect(h.states).toEqual([
      "idle",
      "connecting",
      "restoring",
      "connected",
      "reconnecting",
      "restoring",
      "connected",
    ]);
    expect(h.calls).toHaveLength(1);
    // The next lifetime: one refresh ahead again, at its own refresh point.
    await h.at(45_000 + 45_000);
    expect(h.calls.map((c) => c.at - T0)).toEqual([45_000, 90_000]);
  });

  test.each([
    ["87", 0x87],
    ["98", 0x98],
    ["A0", 0xa0],
  ])("an MQTT 5 DISCONNECT 0x%s at the expiry rotates at once too", async (_hex, code) => {
    const h = harness();
    await h.connect();
    await h.at(LIFETIME - 200);
    h.send({ type: "MQTT.DISCONNECT", refusal: classifyDisconnect(code) });
    expect(h.state()).toBe("reconnecting");
    expect(h.links).toHaveLength(2);
    expect(h.links[1]?.password).toBe("token-2");
    expect(h.calls).toHaveLength(1);
  });

  test("a close long before the expiry is a network loss, fresh credentials or not", async () => {
    const h = harness();
    await h.connect();
    await h.at(50_000);
    h.closed();
    expect(h.state()).toBe("backoff");
  });

  test("a session-takeover DISCONNECT at the expiry still stops (fatal), it does not rotate", async () => {
    const h = harness();
    await h.connect();
    await h.at(LIFETIME);
    h.send({ type: "MQTT.DISCONNECT", refusal: classifyDisconnect(0x8e) });
    expect(h.state()).toBe("failed");
  });

  test("the page becoming visible after the refresh point passed: refresh as soon as the ping is answered", async () => {
    const h = harness();
    await h.connect();
    await h.at(44_000);
    h.send({ type: "PAGE.VISIBLE" });
    await h.at(46_000);
    expect(h.calls).toHaveLength(0);
    h.send({ type: "MQTT.PONG" });
    h.clock.increment(0); // the timer re-armed on return is already due
    await h.flush();
    expect(h.calls).toEqual([{ reason: "expiring", at: T0 + 46_000, retry: 0 }]);
  });

  test("updateEndpoint() while waiting re-arms the timer at the new credentials' refresh point", async () => {
    const h = harness();
    await h.connect();
    await h.at(10_000);
    h.send({ type: "USER.UPDATE_ENDPOINT", endpoint: credentials(7, T0 + 10_000) });
    await h.at(45_000);
    expect(h.calls).toHaveLength(0);
    await h.at(55_000);
    expect(h.calls).toEqual([{ reason: "expiring", at: T0 + 55_000, retry: 0 }]);
    expect(h.links).toHaveLength(1);
  });
});

describe("when the refresh ahead fails", () => {
  test("the connection stays; retries after the auth backoff until the expiry; then the page's flow at the close", async () => {
    const h = harness({
      refresh: async (input) => {
        if (input.reason === "expiring")
          throw new AuthRefreshError("rejected", "token endpoint 500");
        return credentials(9, h.now(), true);
      },
    });
    await h.connect();
    await h.at(LIFETIME + 5000);
    // 45 s, then 1 s, 2 s, 4 s later (the page's backoff); 8 s more would fall past the expiry.
    expect(h.calls.map((c) => c.at - T0)).toEqual([45_000, 46_000, 48_000, 52_000]);
    expect(h.calls.every((c) => c.reason === "expiring")).toBe(true);
    expect(h.links).toHaveLength(1);
    expect(h.state()).toBe("connected");
    expect(h.renewals.filter((r) => r.phase === "failed")).toHaveLength(4);
    expect(h.renewals.at(-1)).toEqual({ phase: "lapsed", attempt: 4 });
    expect(h.errors.filter((c) => c === "AUTH_REFRESH_FAILED")).toHaveLength(4);
    // The broker closes: a known-expired close goes straight into the page's flow, no CONNECT first.
    h.closed();
    expect(h.state()).toBe("refreshing");
    expect(h.links).toHaveLength(1);
    await h.flush();
    expect(h.calls.at(-1)?.reason).toBe("refused");
    expect(h.state()).toBe("waiting");
    await h.at(LIFETIME + 5000 + 1999);
    expect(h.state()).toBe("waiting");
    await h.at(LIFETIME + 5000 + 2000);
    expect(h.state()).toBe("reconnecting");
    expect(h.links[1]?.password).toBe("token-9");
    expect(h.errors).toContain("CREDENTIALS_EXPIRED");
  });

  test("updateEndpoint() after the refresh ahead lapsed: the new credentials' refresh point is waited for again", async () => {
    let failing = true;
    const h = harness({
      refresh: async () => {
        if (failing) throw new AuthRefreshError("rejected", "down");
        return credentials(5, h.now());
      },
    });
    await h.connect();
    await h.at(LIFETIME);
    expect(h.value()).toContain('"lapsed"');
    failing = false;
    h.send({ type: "USER.UPDATE_ENDPOINT", endpoint: credentials(4, h.now()) });
    expect(h.value()).toContain('"scheduled"');
    await h.at(LIFETIME + 45_000);
    expect(h.calls.at(-1)).toEqual({ reason: "expiring", at: T0 + LIFETIME + 45_000, retry: 0 });
  });

  test("an answer with the credentials already held counts as a failure (stale), backed off", async () => {
    const h = harness({ refresh: async () => credentials(1, T0) });
    await h.connect();
    await h.at(46_500);
    expect(h.calls.map((c) => c.at - T0)).toEqual([45_000, 46_000]);
    const failed = h.renewals.find((r) => r.phase === "failed");
    expect(failed && "error" in failed && (failed.error as AuthRefreshError).reason).toBe("stale");
  });

  test("a refresh that never settles times out after timeouts.refreshSeconds, then is retried", async () => {
    const h = harness({
      endpoint: { ...credentials(1, T0), expiresAt: T0 + 3_600_000, refreshAt: T0 + 1000 },
      refresh: () => new Promise(() => {}),
    });
    await h.connect();
    await h.at(1000 + 30_000);
    expect(h.calls).toHaveLength(1);
    await h.at(1000 + 30_000 + 1000);
    expect(h.calls).toHaveLength(2);
    expect(h.errors).toEqual(["AUTH_REFRESH_FAILED"]);
  });
});

describe("expiry known, refresh ahead off", () => {
  test("a close at the expiry enters the page's flow at once: refresh → 2 s → reconnect, no CONNECT with the expired token", async () => {
    const h = harness({ endpoint: credentials(1, T0, false) });
    await h.connect();
    await h.at(LIFETIME + 100);
    expect(h.calls).toHaveLength(0);
    h.closed();
    expect(h.state()).toBe("refreshing");
    expect(h.links).toHaveLength(1);
    await h.flush();
    expect(h.calls).toEqual([{ reason: "refused", at: T0 + LIFETIME + 100, retry: 0 }]);
    await h.at(LIFETIME + 100 + 2000);
    expect(h.state()).toBe("reconnecting");
    expect(h.links).toHaveLength(2);
    expect(h.links[1]?.password).toBe("token-2");
    expect(h.states).toEqual([
      "idle",
      "connecting",
      "restoring",
      "connected",
      "refreshing",
      "waiting",
      "reconnecting",
    ]);
  });

  test("an MQTT 5 DISCONNECT 0xA0 at the expiry goes through authFailed into the page's flow", async () => {
    const h = harness({ endpoint: credentials(1, T0, false) });
    await h.connect();
    await h.at(LIFETIME);
    h.send({ type: "MQTT.DISCONNECT", refusal: classifyDisconnect(0xa0) });
    expect(h.state()).toBe("authFailed");
    h.closed();
    expect(h.state()).toBe("refreshing");
    expect(h.links).toHaveLength(1);
  });
});

describe("expiry unknown: exactly as before", () => {
  test("an opaque password: no refresh ahead, a close is a network loss", async () => {
    const { expiresAt: _e, refreshAt: _r, ...opaque } = credentials(1, T0);
    const h = harness({ endpoint: opaque });
    await h.connect();
    await h.at(3_600_000);
    expect(h.calls).toHaveLength(0);
    h.closed();
    expect(h.state()).toBe("backoff");
  });

  test("a machine given no clock never acts on an expiry", async () => {
    const h = harness({ withClock: false });
    await h.connect();
    await h.at(LIFETIME * 2);
    expect(h.calls).toHaveLength(0);
    h.closed();
    expect(h.state()).toBe("backoff");
  });

  test("without a provider there is no refresh ahead", async () => {
    const h = harness({ provider: false });
    await h.connect();
    // Nothing to refresh ahead of: no timer is held while connected (only STABLE_CONNECTION's).
    expect(h.value()).toContain('"unscheduled"');
    await h.at(LIFETIME - 1000);
    expect(h.calls).toHaveLength(0);
  });

  test("no refresh point: no timer; new credentials with one schedule it, and it is kept through NET.ONLINE", async () => {
    const h = harness({ endpoint: credentials(1, T0, false) });
    await h.connect();
    expect(h.value()).toContain('"unscheduled"');
    const pending = () => Object.keys(h.actor.system.getSnapshot()._scheduledEvents).length;
    await h.at(20_000); // STABLE_CONNECTION (10 s) has fired: nothing is scheduled.
    expect(pending()).toBe(0);
    h.send({ type: "USER.UPDATE_ENDPOINT", endpoint: credentials(2, h.now()) });
    expect(h.value()).toContain('"scheduled"');
    expect(pending()).toBe(1);
    h.send({ type: "NET.ONLINE" });
    expect(h.value()).toContain('"scheduled"');
    // Other credentials, again with a refresh point: scheduled anew from them.
    h.send({ type: "USER.UPDATE_ENDPOINT", endpoint: credentials(3, h.now()) });
    await h.at(20_000 + LIFETIME - 15_001);
    expect(h.calls).toHaveLength(0);
    await h.at(20_000 + LIFETIME - 15_000);
    expect(h.calls).toEqual([
      { reason: "expiring", at: T0 + 20_000 + LIFETIME - 15_000, retry: 0 },
    ]);
  });

  test("a refresh point beyond the longest timer (24.8 days): the timer is armed again when it fires", async () => {
    const far = 30 * 24 * 3600_000;
    const endpoint = { ...credentials(1, T0), expiresAt: T0 + far + 15_000, refreshAt: T0 + far };
    const h = harness({ endpoint });
    await h.connect();
    h.clock.increment(2_147_483_647);
    await h.flush();
    expect(h.value()).toContain('"scheduled"');
    expect(h.calls).toHaveLength(0);
    h.clock.increment(far - 2_147_483_647);
    await h.flush();
    expect(h.calls).toHaveLength(1);
    expect(h.calls[0]?.reason).toBe("expiring");
  });
});

// Last in the file, after every test above ran (skipped when only some run, with -t).
test("took every expiry-driven transition the model's coverage table names this file for", (ctx) => {
  if (!everyTestRan(ctx.task)) ctx.skip();
  const keys = expirySuiteKeys("test/machine/refresh-ahead.test.ts");
  expect(keys.length).toBeGreaterThan(0);
  expect(keys.filter((key) => !recorder.taken.has(key))).toEqual([]);
});
