/**
 * The core behaviour suite, once, for any broker (DESIGN.md behaviours 2, 3,
 * 4, 5, 8, 9, 10): the refresh flow, deduplication, backoff, restoring
 * subscriptions, the offline queue and clean shutdown. Each broker's test
 * file calls `coreBehaviourSuite(kind)`; the broker is reached only through
 * its `BrokerDriver`, so a case that passes here passes on the wire of
 * every broker it runs on.
 */

import { RealtimeClient, type RealtimeClientOptions } from "@armaanjain/courier-web-sdk";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { nextState, reach, recordStates, sleep, waitFor } from "../support/wait.js";
import { cleanShutdownCases } from "./core-shutdown.js";
import type { BrokerDriver, BrokerKind, Capability, Transport } from "./driver.js";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/**
 * Gaps between consecutive timestamps against a backoff sequence: never
 * shorter, and not so much longer that a doubling would pass.
 */
function expectGaps(
  times: readonly number[],
  expected: readonly number[],
  slack: (want: number) => number = (want) => Math.min(150, want * 0.5 + 40),
): void {
  const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
  expect(gaps).toHaveLength(expected.length);
  gaps.forEach((gap, i) => {
    const want = expected[i] ?? 0;
    const where = `gap ${i + 1} of ${gaps.join(", ")}`;
    expect(gap, where).toBeGreaterThanOrEqual(want - 2);
    expect(gap, where).toBeLessThan(want + slack(want));
  });
}

export function coreBehaviourSuite(kind: BrokerKind): void {
  describe.skipIf(!kind.available)(`core behaviour on ${kind.name}`, () => {
    let broker: BrokerDriver;
    let ids = 0;
    // Client identifiers stay unique on a broker that outlives one suite (sessions persist).
    const run = Math.random().toString(36).slice(2, 6);
    const clients: RealtimeClient[] = [];

    if (kind.scope === "file") {
      beforeAll(async () => {
        broker = await kind.start();
      }, 120_000);
      afterEach(async () => {
        await Promise.all(clients.splice(0).map((c) => c.disconnect()));
      });
      afterAll(async () => {
        await broker?.close();
      });
    } else {
      beforeEach(async () => {
        broker = await kind.start();
      });
      afterEach(async () => {
        await Promise.all(clients.splice(0).map((c) => c.disconnect()));
        await broker.close();
      });
    }

    const nextId = (prefix: string) => `${prefix}-${run}-${++ids}`;

    /**
     * Skips the running test, with the broker's reason, where the broker lacks one of
     * `capabilities`. (A behaviour the broker supports always runs.)
     */
    const requires = (skip: (note?: string) => never, ...capabilities: Capability[]) => {
      for (const capability of capabilities) {
        const reason = kind.lacks?.[capability];
        if (!reason) continue;
        const note = `${kind.name} lacks ${capability}: ${reason}`;
        console.warn(`skipped: ${note}`);
        skip(note);
      }
    };

    /** A client of this broker: its protocol version, no platform watcher, `extra` on top. */
    function client(
      options: Omit<RealtimeClientOptions, "mqtt"> & { mqtt?: RealtimeClientOptions["mqtt"] },
    ): RealtimeClient {
      const c = new RealtimeClient({
        environment: false,
        ...options,
        mqtt: { ...broker.mqtt, ...options.mqtt },
      });
      clients.push(c);
      return c;
    }

    describe("refresh flow", () => {
      test.for<Transport>(["tcp", "ws"])(
        "over %s: refused → force-disconnect → onAuthFailure once → exactly 2 s → new token → subscriptions restored → connected",
        async (transport, { skip }) => {
          if (transport === "ws") requires(skip, "refusalOverWebSocket");
          const id = nextId(`flow-${transport}`);
          await broker.setPassword("alice", "token-2");
          const refusedBefore = await broker.refusedConnects();
          const calls: { at: number; brokerHadSocket: boolean }[] = [];
          let resolvedAt = 0;
          const c = client({
            endpoint: broker.endpoint(transport, {
              username: "alice",
              password: "token-1",
              clientId: id,
            }),
            onAuthFailure: async () => {
              calls.push({ at: Date.now(), brokerHadSocket: broker.connectedIds().includes(id) });
              await sleep(50);
              resolvedAt = Date.now();
              return { password: "token-2" };
            },
          });
          const { states } = recordStates(c);
          const received: string[] = [];
          const subs = [
            c.subscribe("rooms/+/chat", (m) => received.push(text(m.payload)), { qos: 1 }),
            c.subscribe("rooms/42/presence", () => {}, { qos: 0 }),
          ];

          await c.connect();
          await Promise.all(subs);

          expect(states).toEqual([
            "connecting",
            "authFailed",
            "refreshing",
            "waiting",
            "reconnecting",
            "restoring",
            "connected",
          ]);
          expect(calls).toHaveLength(1);
          // Step 2: the refused session is gone before the provider is asked.
          expect(calls[0]?.brokerHadSocket).toBe(false);
          expect((await broker.refusedConnects()) - refusedBefore).toBe(1);
          // Steps 4–5: the reconnection's CONNECT comes 2 s after onAuthFailure resolved.
          const accepted = await broker.acceptedConnects(id);
          expect(accepted).toHaveLength(1);
          const wait = (accepted[0] ?? 0) - resolvedAt;
          expect(wait).toBeGreaterThanOrEqual(1995);
          expect(wait).toBeLessThan(2500);
          // Step 6: both filters restored in one SUBSCRIBE packet, and live.
          expect(await broker.subscribePacketsOf(id)).toEqual([
            ["rooms/+/chat", "rooms/42/presence"],
          ]);
          await broker.publish("rooms/7/chat", "hello", 1);
          await waitFor(() => received.length === 1, 5000, "message on the restored filter");
          expect(received).toEqual(["hello"]);
        },
      );

      test("a token that expires mid-session: dropped, refused on reconnect, refreshed once; the kept session delivers what was published meanwhile", async ({
        skip,
      }) => {
        requires(skip, "revoke", "persistentSession");
        const id = nextId("expiry");
        let issued = 1;
        await broker.setPassword("bob", "t1");
        let calls = 0;
        const c = client({
          endpoint: broker.endpoint("tcp", { username: "bob", password: "t1", clientId: id }),
          onAuthFailure: async () => {
            calls += 1;
            issued += 1;
            await broker.setPassword("bob", `t${issued}`);
            return { password: `t${issued}` };
          },
          refreshWaitSeconds: 0.1,
          retryBackoff: { baseSeconds: 0.05, ceilSeconds: 1 },
          mqtt: broker.persistentSession,
        });
        const seen: number[] = [];
        const restored: unknown[] = [];
        c.on("restored", (r) => restored.push(r));
        await c.connect();
        await c.subscribe("feed", (m) => seen.push(Number(text(m.payload))), { qos: 1 });

        const { states } = recordStates(c);
        const back = nextState(c, "connected", 15_000);
        await broker.revoke("bob");
        await waitFor(() => !broker.connectedIds().includes(id), 5000, "session dropped");
        // Published while the client is away; the broker keeps them in the session.
        for (let i = 1; i <= 20; i++) await broker.publish("feed", String(i), 1);
        await back;
        await waitFor(() => new Set(seen).size >= 20, 5000, "queued messages");

        expect(states).toContain("authFailed");
        expect(calls).toBe(1);
        expect([...new Set(seen)].sort((a, b) => a - b)).toEqual(
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        // The broker kept the session: nothing was re-subscribed.
        expect(restored.at(-1)).toEqual({
          filters: 0,
          packets: 0,
          rejected: [],
          sessionPresent: true,
        });
        expect(await broker.subscribePacketsOf(id)).toEqual([["feed"]]);
      });
    });

    describe("deduplication", () => {
      test("five clients sharing one provider, refused at once, twice: one onAuthFailure call per wave", async ({
        skip,
      }) => {
        requires(skip, "revoke");
        await broker.setPassword("carol", "fresh-1");
        const refusedBefore = await broker.refusedConnects();
        let calls = 0;
        const group: RealtimeClient[] = [];
        const onAuthFailure = async () => {
          calls += 1;
          // Hold the refresh until every client has asked for it: they share this one call.
          await waitFor(
            () => group.every((g) => g.state === "refreshing"),
            10_000,
            "all five refreshing",
          );
          const token = `fresh-${calls + 1}`;
          await broker.setPassword("carol", token);
          return { password: token };
        };
        for (let i = 0; i < 5; i++) {
          group.push(
            client({
              endpoint: broker.endpoint("tcp", {
                username: "carol",
                password: "stale",
                clientId: nextId("dedup"),
              }),
              onAuthFailure,
              refreshWaitSeconds: 0.1,
              retryBackoff: { baseSeconds: 0.05 },
            }),
          );
        }
        await Promise.all(group.map((g) => g.connect()));
        expect(calls).toBe(1);

        // The token expires for everyone: one more call, once the first has settled.
        await broker.revoke("carol");
        await Promise.all(group.map((g) => reach(g, "refreshing", 10_000)));
        await Promise.all(group.map((g) => reach(g, "connected", 10_000)));
        expect(calls).toBe(2);
        expect((await broker.refusedConnects()) - refusedBefore).toBeGreaterThanOrEqual(10);
      });

      test("auth errors arriving while a refresh is in flight do not start another", async () => {
        await broker.setPassword("solo", "ok");
        let calls = 0;
        let release: () => void = () => {};
        const c = client({
          endpoint: broker.endpoint("tcp", {
            username: "solo",
            password: "bad",
            clientId: nextId("solo"),
          }),
          onAuthFailure: async () => {
            calls += 1;
            await new Promise<void>((resolve) => {
              release = resolve;
            });
            return { password: "ok" };
          },
          refreshWaitSeconds: 0.05,
        });
        const connected = c.connect();
        await new Promise<void>((resolve) =>
          c.on("stateChange", (s) => s.state === "refreshing" && resolve()),
        );
        // Further connect() calls and endpoint updates during the refresh change nothing.
        for (let i = 0; i < 10; i++) void c.connect();
        await sleep(50);
        expect(c.state).toBe("refreshing");
        release();
        await connected;
        expect(calls).toBe(1);
      });
    });

    describe("backoff", () => {
      test("credentials refused again and again: waits between refreshes double up to the ceiling", async () => {
        await broker.setPassword("dave", "never-issued");
        const callTimes: number[] = [];
        const c = client({
          endpoint: broker.endpoint("tcp", { username: "dave", password: "bad" }),
          onAuthFailure: async () => {
            callTimes.push(Date.now());
            return { password: "still-bad" };
          },
          refreshWaitSeconds: 0,
          retryBackoff: { baseSeconds: 0.2, ceilSeconds: 0.8 },
        });
        c.connect().catch(() => {});
        await waitFor(() => callTimes.length >= 6, 15_000, "six refreshes");
        // Between two refreshes: one refused CONNECT (a few ms) plus auth retry n's backoff.
        expectGaps(callTimes.slice(0, 6), [200, 400, 800, 800, 800]);
      });

      test("onAuthFailure that rejects: auth retries back off, then the first good answer connects", async () => {
        await broker.setPassword("hana", "good");
        const callTimes: number[] = [];
        const errors: string[] = [];
        const c = client({
          endpoint: broker.endpoint("tcp", { username: "hana", password: "bad" }),
          onAuthFailure: async () => {
            callTimes.push(Date.now());
            if (callTimes.length < 4) throw new Error("token service down");
            return { password: "good" };
          },
          refreshWaitSeconds: 0.05,
          retryBackoff: { baseSeconds: 0.1, ceilSeconds: 1 },
        });
        c.on("error", (e) => errors.push(e.code));
        await c.connect();
        expectGaps(callTimes, [100, 200, 400], (want) => Math.min(120, want * 0.9 + 40));
        expect(errors.filter((e) => e === "AUTH_REFRESH_FAILED")).toHaveLength(3);
      });

      test("a dropped connection reconnects with the same credentials after the backoff and calls no provider", async ({
        skip,
      }) => {
        requires(skip, "kick");
        const id = nextId("net");
        await broker.setPassword("erin", "p");
        const refusedBefore = await broker.refusedConnects();
        let calls = 0;
        const c = client({
          endpoint: broker.endpoint("tcp", { username: "erin", password: "p", clientId: id }),
          onAuthFailure: async () => {
            calls += 1;
            return { password: "other" };
          },
          retryBackoff: { baseSeconds: 0.3, ceilSeconds: 1 },
        });
        await c.connect();
        const dropped = nextState(c, "backoff");
        const back = nextState(c, "connected");
        const kickedAt = Date.now();
        await broker.kick("erin");
        await dropped;
        await back;
        const accepted = await broker.acceptedConnects(id);
        expect(accepted).toHaveLength(2);
        expect((accepted[1] ?? 0) - kickedAt).toBeGreaterThanOrEqual(295);
        expect(calls).toBe(0);
        expect((await broker.refusedConnects()) - refusedBefore).toBe(0);
      });
    });

    describe("restore", () => {
      test("25 tracked filters come back in ⌈25/10⌉ SUBSCRIBE packets after a reconnect, and all work", async ({
        skip,
      }) => {
        requires(skip, "kick");
        const id = nextId("restore");
        await broker.setPassword("frank", "p");
        const c = client({
          endpoint: broker.endpoint("tcp", { username: "frank", password: "p", clientId: id }),
          subscribeBatchSize: 10,
          retryBackoff: { baseSeconds: 0.05 },
        });
        const got = new Set<string>();
        await c.connect();
        const filters = Array.from({ length: 25 }, (_, i) => `r/${i}`);
        await Promise.all(filters.map((f) => c.subscribe(f, (m) => got.add(m.topic), { qos: 1 })));
        const before = (await broker.subscribePacketsOf(id)).length;
        const restored: unknown[] = [];
        c.on("restored", (r) => restored.push(r));

        const back = nextState(c, "connected");
        await broker.kick("frank");
        await back;

        const packets = (await broker.subscribePacketsOf(id)).slice(before);
        expect(packets.map((p) => p.length)).toEqual([10, 10, 5]);
        expect(packets.flat().sort()).toEqual([...filters].sort());
        expect(restored).toEqual([
          { filters: 25, packets: 3, rejected: [], sessionPresent: false },
        ]);
        for (const i of [0, 12, 24]) await broker.publish(`r/${i}`, "x", 1);
        await waitFor(() => got.size === 3, 5000, "messages on restored filters");
      });
    });

    describe("offline queue", () => {
      test("publishes made while the token is being refreshed are flushed in order once restored; every promise resolves", async ({
        skip,
      }) => {
        requires(skip, "revoke");
        await broker.setPassword("gina", "g1");
        const seen = await broker.watch("q/#");
        let release: () => void = () => {};
        const c = client({
          endpoint: broker.endpoint("tcp", { username: "gina", password: "g1" }),
          onAuthFailure: async () => {
            await new Promise<void>((resolve) => {
              release = resolve;
            });
            await broker.setPassword("gina", "g2");
            return { password: "g2" };
          },
          refreshWaitSeconds: 0.05,
          retryBackoff: { baseSeconds: 0.05 },
        });
        await c.connect();
        await broker.revoke("gina");
        await reach(c, "refreshing", 10_000);

        const sent = Array.from({ length: 30 }, (_, i) =>
          c.publish("q/seq", String(i), { qos: 1 }),
        );
        const mixed = ([0, 1, 2] as const).map((qos) => c.publish("q/mixed", String(qos), { qos }));
        expect(c.pendingPublishes).toBe(33);
        release();
        await Promise.all([...sent, ...mixed]);
        expect(c.pendingPublishes).toBe(0);
        await waitFor(() => seen.length >= 33, 5000, "every queued publish at the broker");
        expect(seen.filter((m) => m.topic === "q/seq").map((m) => Number(m.payload))).toEqual(
          Array.from({ length: 30 }, (_, i) => i),
        );
        expect(
          seen
            .filter((m) => m.topic === "q/mixed")
            .map((m) => m.payload)
            .sort(),
        ).toEqual(["0", "1", "2"]);
      });
    });

    describe("clean shutdown", () => {
      cleanShutdownCases({ broker: () => broker, nextId, canKick: !kind.lacks?.kick });
    });
  });
}
