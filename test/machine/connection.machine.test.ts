/**
 * The statechart on its own: `machine.provide({ actors })` with test actors
 * and a SimulatedClock, so delays are exact and no socket exists. These pin
 * the sequences the real-broker tests can only check with tolerances.
 */

import { describe, expect, test } from "vitest";
import { createActor, fromPromise, SimulatedClock } from "xstate";
import { ConnectionLostError } from "../../src/errors.js";
import { connectionMachine, connectionStateOf } from "../../src/machines/connection.machine.js";
import {
  type ConnectionEvent,
  type ConnectionInput,
  DEFAULT_RETRY,
  DEFAULT_TIMING,
} from "../../src/machines/connection.types.js";
import type { ResolvedEndpoint } from "../../src/services/endpoint.js";
import { classifyConnack, classifyDisconnect } from "../../src/services/reason-codes.js";
import { Secret } from "../../src/services/secret.js";
import { restoreNothing, testLinks } from "./support/test-link.js";

const endpoint: ResolvedEndpoint = {
  host: "127.0.0.1",
  port: 1883,
  scheme: "mqtt",
  path: "/mqtt",
  username: "u",
  password: new Secret("token-1"),
  clientId: "m1",
};

function input(overrides: Partial<ConnectionInput> = {}): ConnectionInput {
  return {
    endpoints: [endpoint],
    retry: DEFAULT_RETRY,
    timing: DEFAULT_TIMING,
    hasCredentialsProvider: true,
    random: Math.random,
    ...overrides,
  };
}

/** The test plays the broker: the link actions record commands, the test sends MQTT.* events. */
function harness(
  options: { refresh?: () => Promise<ResolvedEndpoint>; input?: Partial<ConnectionInput> } = {},
) {
  const clock = new SimulatedClock();
  const { links, actions } = testLinks();
  let refreshCalls = 0;
  const machine = connectionMachine.provide({
    actions,
    actors: {
      restoreSubscriptions: restoreNothing,
      refreshCredentials: fromPromise(async () => {
        refreshCalls += 1;
        return options.refresh
          ? options.refresh()
          : { ...endpoint, password: new Secret(`token-${refreshCalls + 1}`) };
      }),
    },
  });
  const actor = createActor(machine, { input: input(options.input), clock });
  const states: string[] = [];
  actor.subscribe((s) => {
    const name = connectionStateOf(s.value);
    if (states.at(-1) !== name) states.push(name);
  });
  actor.start();
  const send = (event: ConnectionEvent) => actor.send(event);
  return {
    actor,
    clock,
    states,
    links,
    send,
    /** Lets promise actors settle. */
    flush: () => new Promise((resolve) => setTimeout(resolve, 0)),
    get refreshCalls() {
      return refreshCalls;
    },
    state: () => states.at(-1),
    delay: () => actor.getSnapshot().context.retryDelayMs,
    refuse: (code = 5) => send({ type: "MQTT.REFUSED", refusal: classifyConnack(code, 4) }),
    closed: () => send({ type: "MQTT.CLOSED", error: new ConnectionLostError("test") }),
  };
}

describe("connection machine", () => {
  test("closes before any CONNACK: the third in a row refreshes (with a provider) and the backoff goes on growing after it; without a provider, backoff only", async () => {
    const early = () =>
      ({
        type: "MQTT.CLOSED",
        error: new ConnectionLostError("closed before CONNACK"),
        beforeConnack: true,
      }) as const;
    const h = harness();
    const errors: string[] = [];
    h.actor.on("notify.error", (e) => errors.push(e.error.message));
    h.send({ type: "USER.CONNECT" });
    h.send(early());
    expect(h.state()).toBe("backoff");
    h.clock.increment(h.delay());
    h.send(early());
    expect(h.state()).toBe("backoff");
    const second = h.delay();
    h.clock.increment(second);
    // A close with a socket error is a network loss: it breaks the run.
    h.closed();
    expect(h.actor.getSnapshot().context.earlyCloses).toBe(0);
    for (let i = 0; i < 2; i++) {
      h.clock.increment(h.delay());
      h.send(early());
      expect(h.state()).toBe("backoff");
    }
    h.clock.increment(h.delay());
    h.send(early());
    expect(h.state()).toBe("refreshing");
    expect(errors.at(-1)).toMatch(/closed 3 connections in a row before any CONNACK/);
    await h.flush();
    expect(h.refreshCalls).toBe(1);
    h.clock.increment(DEFAULT_TIMING.refreshWaitMs);
    expect(h.state()).toBe("reconnecting");
    const before = h.actor.getSnapshot().context.networkFailures;
    h.send(early());
    expect(h.state()).toBe("backoff");
    expect(h.actor.getSnapshot().context.networkFailures).toBe(before + 1);
    expect(h.delay()).toBeGreaterThan(second);

    const without = harness({ input: { hasCredentialsProvider: false } });
    without.send({ type: "USER.CONNECT" });
    for (let i = 0; i < 5; i++) {
      without.send(early());
      expect(without.state()).toBe("backoff");
      without.clock.increment(without.delay());
    }
    expect(without.refreshCalls).toBe(0);
  });

  test("the page's flow: authFailed → refreshing → waiting 2000 ms exactly → reconnecting → restoring → connected", async () => {
    const h = harness();
    h.send({ type: "USER.CONNECT" });
    h.refuse(5);
    expect(h.state()).toBe("authFailed");
    expect(h.links[0]?.commands).toEqual(["force"]);
    h.closed();
    expect(h.state()).toBe("refreshing");
    await h.flush();
    expect(h.state()).toBe("waiting");
    expect(h.actor.getSnapshot().context.endpoints[0]?.password?.reveal()).toBe("token-2");
    h.clock.increment(1999);
    expect(h.state()).toBe("waiting");
    h.clock.increment(1);
    expect(h.state()).toBe("reconnecting");
    expect(h.links).toHaveLength(2);
    expect(h.links[0]?.stopped).toBe(true);
    h.send({ type: "MQTT.CONNACK", sessionPresent: false });
    await h.flush();
    expect(h.states).toEqual([
      "idle",
      "connecting",
      "authFailed",
      "refreshing",
      "waiting",
      "reconnecting",
      "restoring",
      "connected",
    ]);
    expect(h.refreshCalls).toBe(1);
  });

  test("auth retries wait 1 → 2 → 4 → 8 → 16 → 32 → 60 → 60 s (credentials rejected again each time)", async () => {
    const h = harness();
    h.send({ type: "USER.CONNECT" });
    const waits: number[] = [];
    h.refuse(5);
    h.closed();
    await h.flush(); // refreshed → waiting
    for (let n = 1; n <= 8; n++) {
      h.clock.increment(2000); // the page's 2 s wait
      expect(h.state()).toBe("reconnecting");
      h.refuse(5);
      h.closed();
      expect(h.state()).toBe("authBackoff");
      waits.push(h.delay());
      h.clock.increment(h.delay() - 1);
      expect(h.state()).toBe("authBackoff");
      h.clock.increment(1);
      expect(h.state()).toBe("refreshing");
      await h.flush();
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
    expect(h.refreshCalls).toBe(9);
  });

  test("network retries wait 1 → 2 → 4 … s and call no provider; only a stable connection resets the counter", async () => {
    const h = harness();
    h.send({ type: "USER.CONNECT" });
    const waits: number[] = [];
    for (let n = 1; n <= 4; n++) {
      h.closed();
      expect(h.state()).toBe("backoff");
      waits.push(h.delay());
      h.clock.increment(h.delay());
      expect(h.state()).toBe("reconnecting");
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000]);
    expect(h.refreshCalls).toBe(0);
    h.send({ type: "MQTT.CONNACK", sessionPresent: false });
    await h.flush();
    expect(h.state()).toBe("connected");
    h.clock.increment(9_999);
    h.closed(); // dropped before the connection counted as stable
    expect(h.delay()).toBe(16_000);
    h.clock.increment(16_000);
    h.send({ type: "MQTT.CONNACK", sessionPresent: false });
    await h.flush();
    h.clock.increment(10_000); // stable: counters reset
    h.closed();
    expect(h.delay()).toBe(1000);
  });

  test("any number of auth errors during a refresh: one provider call", async () => {
    let release: (e: ResolvedEndpoint) => void = () => {};
    const h = harness({
      refresh: () =>
        new Promise((resolve) => {
          release = resolve;
        }),
    });
    h.send({ type: "USER.CONNECT" });
    h.refuse(5);
    h.closed();
    expect(h.state()).toBe("refreshing");
    for (let i = 0; i < 10; i++) {
      h.refuse(5);
      h.send({ type: "MQTT.DISCONNECT", refusal: classifyDisconnect(0x87) });
      h.closed();
      h.send({ type: "USER.CONNECT" });
    }
    expect(h.state()).toBe("refreshing");
    expect(h.refreshCalls).toBe(1);
    release(endpoint);
    await h.flush();
    expect(h.state()).toBe("waiting");
    expect(h.refreshCalls).toBe(1);
  });

  test("MQTT 5 auth reason codes in CONNACK and DISCONNECT take the auth path; 0x8E stops", async () => {
    for (const code of [0x86, 0x87, 0x8c]) {
      const h = harness();
      h.send({ type: "USER.CONNECT" });
      h.send({ type: "MQTT.REFUSED", refusal: classifyConnack(code, 5) });
      expect(h.state()).toBe("authFailed");
    }
    const h = harness();
    h.send({ type: "USER.CONNECT" });
    h.send({ type: "MQTT.CONNACK", sessionPresent: false });
    await h.flush();
    h.send({ type: "MQTT.DISCONNECT", refusal: classifyDisconnect(0x87) });
    expect(h.state()).toBe("authFailed");

    const taken = harness();
    taken.send({ type: "USER.CONNECT" });
    taken.send({ type: "MQTT.CONNACK", sessionPresent: false });
    await taken.flush();
    taken.send({ type: "MQTT.DISCONNECT", refusal: classifyDisconnect(0x8e) });
    expect(taken.state()).toBe("failed");
    expect(taken.actor.getSnapshot().context.error?.code).toBe("CONNECTION_REFUSED");
  });

  test("a busy broker (0x89) is retried with a longer backoff", () => {
    const h = harness();
    h.send({ type: "USER.CONNECT" });
    h.send({ type: "MQTT.REFUSED", refusal: classifyConnack(0x89, 5) });
    expect(h.state()).toBe("backoff");
    expect(h.delay()).toBe(4000);
  });

  test("a refresh that never settles times out and counts as a failed refresh", () => {
    const h = harness({ refresh: () => new Promise(() => {}) });
    h.send({ type: "USER.CONNECT" });
    h.refuse(5);
    h.closed();
    h.clock.increment(29_999);
    expect(h.state()).toBe("refreshing");
    h.clock.increment(1);
    expect(h.state()).toBe("authBackoff");
    expect(h.actor.getSnapshot().context.error?.message).toMatch(/did not settle within 30000 ms/);
  });

  test("no delayed event is left pending in failed or idle", () => {
    const h = harness({ input: { hasCredentialsProvider: false } });
    h.send({ type: "USER.CONNECT" });
    h.refuse(5);
    h.closed();
    expect(h.state()).toBe("failed");
    expect(h.actor.getSnapshot().context.error?.code).toBe("NOT_AUTHORIZED");
    h.clock.increment(10 * 60_000);
    expect(h.state()).toBe("failed");
    h.send({ type: "USER.DISCONNECT" });
    h.clock.increment(10 * 60_000);
    expect(h.state()).toBe("idle");
    expect(h.links.every((l) => l.stopped)).toBe(true);
  });

  test("the snapshot never holds the password in readable form", async () => {
    const h = harness();
    h.send({ type: "USER.CONNECT" });
    h.refuse(5);
    h.closed();
    await h.flush();
    const json = JSON.stringify(h.actor.getSnapshot());
    expect(json).not.toContain("token-1");
    expect(json).not.toContain("token-2");
    expect(json).toContain("[redacted]");
  });

  test("browser offline drops a live connection to the reconnect path at once; online skips the rest of the backoff", async () => {
    const h = harness();
    h.send({ type: "USER.CONNECT" });
    h.send({ type: "MQTT.CONNACK", sessionPresent: false });
    await h.flush();
    h.send({ type: "NET.OFFLINE" });
    expect(h.state()).toBe("backoff");
    expect(h.links[0]?.stopped).toBe(true);
    h.send({ type: "NET.ONLINE" });
    expect(h.state()).toBe("reconnecting");
    expect(h.links).toHaveLength(2);
  });

  test("a page visible again pings the broker: a PINGRESP keeps the connection, silence drops it", async () => {
    const h = harness();
    h.send({ type: "USER.CONNECT" });
    h.send({ type: "MQTT.CONNACK", sessionPresent: false });
    await h.flush();
    h.send({ type: "PAGE.VISIBLE" });
    expect(h.links[0]?.commands).toEqual(["ping"]);
    expect(h.state()).toBe("connected");
    h.send({ type: "MQTT.PONG" });
    h.clock.increment(60_000);
    expect(h.state()).toBe("connected");

    h.send({ type: "PAGE.VISIBLE" });
    expect(h.links[0]?.commands).toEqual(["ping", "ping"]);
    h.clock.increment(4999);
    expect(h.state()).toBe("connected");
    h.clock.increment(1);
    expect(h.state()).toBe("backoff");
    expect(h.actor.getSnapshot().context.error?.message).toMatch(/PROBE_TIMEOUT/);
  });

  test("an endpoint list fails over to the next entry on network loss; refreshed credentials apply to every entry", async () => {
    const second: ResolvedEndpoint = {
      ...endpoint,
      host: "10.0.0.2",
      password: new Secret("token-1"),
    };
    const h = harness({ input: { endpoints: [endpoint, second] } });
    const hosts = () => h.actor.getSnapshot().context.endpoints.map((e) => e.host);
    const index = () => h.actor.getSnapshot().context.endpointIndex;
    h.send({ type: "USER.CONNECT" });
    expect(index()).toBe(0);
    h.closed();
    expect(index()).toBe(1);
    h.clock.increment(1000);
    h.closed();
    expect(index()).toBe(0);
    h.clock.increment(2000);
    h.refuse(5);
    h.closed();
    await h.flush();
    const passwords = h.actor.getSnapshot().context.endpoints.map((e) => e.password?.reveal());
    expect(passwords).toEqual(["token-2", "token-2"]);
    expect(hosts()).toEqual(["127.0.0.1", "10.0.0.2"]);
  });

  test("MQTT 5 server moved with a Server Reference: the next connection goes there", async () => {
    const h = harness();
    h.send({ type: "USER.CONNECT" });
    h.send({ type: "MQTT.CONNACK", sessionPresent: false });
    await h.flush();
    h.send({ type: "MQTT.DISCONNECT", refusal: classifyDisconnect(0x9d, "other.example:1884") });
    expect(h.state()).toBe("backoff");
    const next = h.actor.getSnapshot().context.endpoints[0];
    expect([next?.host, next?.port, next?.password?.reveal()]).toEqual([
      "other.example",
      1884,
      "token-1",
    ]);
  });
});
