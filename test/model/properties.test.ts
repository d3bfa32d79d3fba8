/**
 * Property-based tests (fast-check): random sequences of what the outside
 * world can do — API calls, platform signals, broker packets reported by the
 * current link, actors settling, time passing — run on the production
 * machine with test actors and a clock that counts pending timers. After
 * every step the invariants must hold, whatever the configuration.
 */

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { type AnyMachineSnapshot, createActor, fromPromise, SimulatedClock } from "xstate";
import { ConnectionLostError } from "../../src/errors.js";
import { connectionMachine, connectionStateOf } from "../../src/machines/connection.machine.js";
import {
  type ConnectionContext,
  type ConnectionEvent,
  type ConnectionInput,
  DEFAULT_TIMING,
} from "../../src/machines/connection.types.js";
import type { Jitter } from "../../src/services/backoff.js";
import { classifyConnack, classifyDisconnect } from "../../src/services/reason-codes.js";
import { Secret } from "../../src/services/secret.js";
import {
  candidatePaths,
  eventName,
  eventsFor,
  handledTypes,
  initialSnapshot,
  modelEndpoint,
  SCENARIOS,
  serializeFor,
  stepMachine,
} from "./model-graph.js";

/** A SimulatedClock that knows which timers (XState's delayed events) are pending. */
class CountingClock extends SimulatedClock {
  readonly pending = new Set<number>();
  override setTimeout(fn: (...args: unknown[]) => void, timeout: number): number {
    const id: number = super.setTimeout(() => {
      this.pending.delete(id);
      fn();
    }, timeout);
    this.pending.add(id);
    return id;
  }
  override clearTimeout(id: number): void {
    this.pending.delete(id);
    super.clearTimeout(id);
  }
}

type Action =
  | { kind: "send"; event: ConnectionEvent }
  | { kind: "link"; event: ConnectionEvent }
  | { kind: "settle"; actor: "restore" | "refresh"; ok: boolean }
  | { kind: "tick"; ms: number };

const refusals = [
  ...[2, 3, 4, 5].map((code) => classifyConnack(code, 4)),
  ...[0x85, 0x86, 0x87, 0x88, 0x89, 0x8c].map((code) => classifyConnack(code, 5)),
  { ...classifyConnack(0x9c, 5), serverReference: "other.example.com:1884" },
];
const disconnects = [0x87, 0x8b, 0x89, 0x8e, 0x8a, 0x98].map((code) => classifyDisconnect(code));

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.constantFrom<Action>(
    { kind: "send", event: { type: "USER.CONNECT" } },
    { kind: "send", event: { type: "USER.DISCONNECT" } },
    { kind: "send", event: { type: "USER.UPDATE_ENDPOINT", endpoint: modelEndpoint } },
    { kind: "send", event: { type: "NET.OFFLINE" } },
    { kind: "send", event: { type: "NET.ONLINE" } },
    { kind: "send", event: { type: "PAGE.VISIBLE" } },
    { kind: "link", event: { type: "MQTT.CONNACK", sessionPresent: false } },
    { kind: "link", event: { type: "MQTT.CLOSED", error: new ConnectionLostError("gone") } },
    { kind: "link", event: { type: "MQTT.PONG" } },
    { kind: "settle", actor: "restore", ok: true },
    { kind: "settle", actor: "restore", ok: false },
    { kind: "settle", actor: "refresh", ok: true },
    { kind: "settle", actor: "refresh", ok: false },
  ),
  fc.constantFrom(...refusals).map<Action>((refusal) => ({
    kind: "link",
    event: { type: "MQTT.REFUSED", refusal },
  })),
  fc.constantFrom(...disconnects).map<Action>((refusal) => ({
    kind: "link",
    event: { type: "MQTT.DISCONNECT", refusal },
  })),
  fc.integer({ min: 0, max: 70_000 }).map<Action>((ms) => ({ kind: "tick", ms })),
);

const inputArb: fc.Arbitrary<ConnectionInput> = fc
  .record({
    baseSeconds: fc.constantFrom(0.5, 1, 2),
    extra: fc.constantFrom(0, 1, 30),
    jitter: fc.constantFrom<Jitter>("none", "full", "equal", "decorrelated"),
    maxRetries: fc.constantFrom(Number.POSITIVE_INFINITY, 1, 2, 3),
    provider: fc.boolean(),
    seed: fc.integer(),
  })
  .map(({ baseSeconds, extra, jitter, maxRetries, provider, seed }) => ({
    endpoints: [modelEndpoint],
    retry: { baseSeconds, ceilSeconds: baseSeconds + extra, jitter, maxRetries },
    timing: DEFAULT_TIMING,
    hasCredentialsProvider: provider,
    random: seeded(seed),
  }));

/** A small deterministic generator (mulberry32): a failing run replays from fast-check's seed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const leaf = (s: AnyMachineSnapshot) => connectionStateOf(s.value);
const inner = (s: AnyMachineSnapshot): string => {
  let v: unknown = s.value;
  while (typeof v === "object" && v !== null) v = Object.values(v)[0];
  return String(v);
};

async function run(input: ConnectionInput, actions: readonly Action[]): Promise<void> {
  const clock = new CountingClock();
  let alive = 0;
  const current: { link: ((event: ConnectionEvent) => void) | null } = { link: null };
  const pending: Record<"restore" | "refresh", { ok(v: unknown): void; fail(e: Error): void }[]> = {
    restore: [],
    refresh: [],
  };
  const providerCalls: { from: string; authFailures: number }[] = [];
  let before: AnyMachineSnapshot | null = null;
  const machine = connectionMachine.provide({
    actions: {
      openLink: ({ self }) => {
        alive += 1;
        current.link = (event) => self.send(event);
      },
      closeLink: () => {
        alive -= 1;
        current.link = null;
      },
    },
    actors: {
      restoreSubscriptions: fromPromise(
        () =>
          new Promise((ok, fail) => {
            pending.restore.push({ ok, fail });
          }),
      ) as never,
      refreshCredentials: fromPromise(() => {
        const snapshot = before as AnyMachineSnapshot;
        providerCalls.push({
          from: inner(snapshot),
          authFailures: (snapshot.context as ConnectionContext).authFailures,
        });
        return new Promise((ok, fail) => {
          pending.refresh.push({ ok, fail });
        });
      }) as never,
    },
  });
  const actor = createActor(machine, { input, clock });
  actor.start();
  const check = (label: string) => {
    const snapshot = actor.getSnapshot() as AnyMachineSnapshot;
    const state = leaf(snapshot);
    const c = snapshot.context as ConnectionContext;
    // 1. At most one connection attempt (link actor, socket owner) alive.
    expect(alive, `${label}: live links`).toBeLessThanOrEqual(1);
    // 3. Nothing scheduled once the client stopped.
    if (state === "idle" || state === "failed") {
      expect(clock.pending.size, `${label}: timers pending in ${state}`).toBe(0);
    }
    // 4. Backoff waits within their bounds.
    if (state === "backoff" || state === "authBackoff") {
      const { baseSeconds, ceilSeconds, jitter } = c.retry;
      expect(c.retryDelayMs, `${label}: backoff`).toBeLessThanOrEqual(ceilSeconds * 1000);
      expect(c.retryDelayMs).toBeGreaterThanOrEqual(
        jitter === "full" ? 0 : (Math.min(baseSeconds, ceilSeconds) * 1000) / 2,
      );
    }
  };
  const log: string[] = [];
  for (const action of actions) {
    before = actor.getSnapshot() as AnyMachineSnapshot;
    const label = `${log.join(" → ")} → ${action.kind === "tick" ? `tick ${action.ms}` : action.kind === "settle" ? `${action.actor} ${action.ok}` : eventName(action.event)}`;
    log.push(label.slice(label.lastIndexOf("→ ") + 2));
    if (action.kind === "send") actor.send(action.event);
    else if (action.kind === "link") current.link?.(action.event);
    else if (action.kind === "tick") clock.increment(action.ms);
    else {
      const call = pending[action.actor].shift();
      const output =
        action.actor === "refresh"
          ? { ...modelEndpoint, password: new Secret("fresh") }
          : { filters: 0, packets: 0, rejected: [], sessionPresent: false };
      if (action.ok) call?.ok(output);
      else call?.fail(new Error("failed"));
    }
    await settle();
    check(label);
  }
  // 2. The provider is called only on the auth path, after an auth failure.
  for (const call of providerCalls) {
    expect(["authFailed", "authBackoff"]).toContain(call.from);
    expect(call.authFailures).toBeGreaterThanOrEqual(1);
  }
  if (!input.hasCredentialsProvider) expect(providerCalls).toEqual([]);
  actor.stop();
}

describe("properties of the machine under random event sequences", () => {
  test("one link at most; provider only on the auth path; no timer in idle/failed; backoff in bounds", async () => {
    await fc.assert(fc.asyncProperty(inputArb, fc.array(actionArb, { maxLength: 40 }), run), {
      numRuns: 300,
    });
  });

  test("a backoff wait is exactly the delay drawn for it", async () => {
    await fc.assert(
      fc.asyncProperty(inputArb, fc.integer({ min: 1, max: 6 }), async (input, failures) => {
        const clock = new SimulatedClock();
        const current: { link: ((event: ConnectionEvent) => void) | null } = { link: null };
        const machine = connectionMachine.provide({
          actions: {
            openLink: ({ self }) => {
              current.link = (event) => self.send(event);
            },
            closeLink: () => {
              current.link = null;
            },
          },
        });
        const actor = createActor(machine, {
          input: { ...input, retry: { ...input.retry, maxRetries: Number.POSITIVE_INFINITY } },
          clock,
        });
        actor.start();
        actor.send({ type: "USER.CONNECT" });
        for (let n = 1; n <= failures; n++) {
          current.link?.({ type: "MQTT.CLOSED", error: new ConnectionLostError("gone") });
          const wait = actor.getSnapshot().context.retryDelayMs;
          if (wait > 0) clock.increment(wait - 1);
          expect(leaf(actor.getSnapshot() as AnyMachineSnapshot)).toBe("backoff");
          clock.increment(1);
          expect(leaf(actor.getSnapshot() as AnyMachineSnapshot)).toBe("reconnecting");
        }
        actor.stop();
      }),
      { numRuns: 100 },
    );
  });

  test("the graph's state abstraction is sound: it predicts every step of random walks", () => {
    // model-graph.ts clips the retry counters in serializeState. If a guard read anything
    // the clipped key drops, a concrete walk would step somewhere the graph does not say.
    for (const scenario of SCENARIOS.filter((s) => s.provider && s.protocol === 5)) {
      const key = serializeFor(scenario);
      const graph = new Map<string, string>();
      for (const path of candidatePaths(scenario, false)) {
        for (const step of path.steps) {
          graph.set(`${key(step.from)} ${eventName(step.event)}`, key(step.to));
        }
      }
      fc.assert(
        fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 60 }), (choices) => {
          let snapshot = initialSnapshot(scenario);
          for (const choice of choices) {
            const events = handledTypes(snapshot.value).flatMap((t) => eventsFor(t, scenario));
            const event = events[choice % events.length];
            if (!event) return;
            const next = stepMachine(snapshot, event);
            const predicted = graph.get(`${key(snapshot)} ${eventName(event)}`);
            expect(predicted, `${key(snapshot)} ${eventName(event)}`).toBe(key(next));
            snapshot = next;
          }
        }),
        { numRuns: 200 },
      );
    }
  });
});
