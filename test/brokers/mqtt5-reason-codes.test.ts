/**
 * MQTT 5 against a real mosquitto (DESIGN.md behaviours 1, 6, 8): CONNACK
 * and DISCONNECT reason codes, each classified (auth, session taken over,
 * busy, redirect), and session expiry with `sessionPresent`.
 *
 * Where mosquitto 2.0.11 sends the code itself, the test uses that: 0x87 for
 * a bad password, 0x8C for an authentication method it does not support,
 * 0x98 when a revoked user is dropped. The codes it never sends come from
 * `FaultProxy` in front of it, which writes a real MQTT 5 packet generated
 * with mqtt-packet: CONNACK 0x86, DISCONNECT 0x86/0x87/0x8C, 0x89, 0x97,
 * 0x9C/0x9D with a Server Reference, and 0x8E on a session takeover
 * (mosquitto 2.0.11 closes the old connection without it; 2.0.15 fixed that).
 */

import { connect } from "mqtt";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  ConnectionRefusedError,
  type CourierError,
  NotAuthorizedError,
  RealtimeClient,
  type RealtimeClientOptions,
  RetriesExhaustedError,
} from "../../src/index.js";
import { FaultProxy } from "../support/fault-proxy.js";
import { Mosquitto } from "../support/mosquitto.js";
import { hasBinary } from "../support/requirements.js";
import { recordStates, sleep, waitFor } from "../support/wait.js";
import { nextState } from "./next-state.js";

const V5 = { protocolVersion: 5 } as const;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe.skipIf(!hasBinary("mosquitto"))("MQTT 5 on mosquitto", () => {
  let mosquitto: Mosquitto;
  let proxy: FaultProxy;
  const extra: { close(): Promise<void> }[] = [];
  const clients: RealtimeClient[] = [];
  let ids = 0;

  beforeEach(async () => {
    mosquitto = await Mosquitto.start({ alice: "good" });
    proxy = await FaultProxy.start({ host: "127.0.0.1", port: mosquitto.tcpPort });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.disconnect()));
    await proxy.close();
    await Promise.all(extra.splice(0).map((b) => b.close()));
    await mosquitto.close();
  });

  const nextId = (prefix: string) => `${prefix}-${++ids}`;

  /** A client of alice's: through the proxy unless `port` says otherwise. */
  function client(
    options: Partial<RealtimeClientOptions> & { id: string; port?: number; password?: string },
  ) {
    const { port, id, password, ...rest } = options;
    const c = new RealtimeClient({
      endpoint: {
        host: "127.0.0.1",
        port: port ?? proxy.port,
        username: "alice",
        password: password ?? "good",
        clientId: id,
      },
      environment: false,
      ...rest,
      mqtt: { ...V5, ...rest.mqtt },
    });
    clients.push(c);
    return c;
  }

  function errorsOf(c: RealtimeClient): CourierError[] {
    const errors: CourierError[] = [];
    c.on("error", (e) => errors.push(e));
    return errors;
  }

  describe("CONNACK codes that take the auth path", () => {
    test("0x87 not authorized — mosquitto's answer to a bad password: refresh, reconnect, connected", async () => {
      const id = nextId("connack87");
      let calls = 0;
      const c = client({
        id,
        port: mosquitto.tcpPort,
        password: "expired",
        onAuthFailure: async () => {
          calls += 1;
          return { password: "good" } as never;
        },
        refreshWaitSeconds: 0.05,
      });
      const { states } = recordStates(c);
      await c.connect();
      expect(mosquitto.refusals.map((r) => r.reasonCode)).toEqual([0x87]);
      expect(states.slice(0, 4)).toEqual(["connecting", "authFailed", "refreshing", "waiting"]);
      expect(calls).toBe(1);
    });

    test("0x87 without onAuthFailure: failed with NotAuthorizedError carrying 0x87", async () => {
      const c = client({ id: nextId("noprovider"), port: mosquitto.tcpPort, password: "expired" });
      const error = await c.connect().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotAuthorizedError);
      expect((error as NotAuthorizedError).reasonCode).toBe(0x87);
      expect(c.state).toBe("failed");
    });

    test("0x8C bad authentication method — mosquitto refuses a method it has no plugin for: auth path, provider asked, then retries run out", async () => {
      // A provider returns an Endpoint; it cannot change the CONNECT's Authentication
      // Method, so every reconnection is refused again and the auth retries run out.
      let calls = 0;
      const c = client({
        id: nextId("connack8c"),
        port: mosquitto.tcpPort,
        onAuthFailure: async () => {
          calls += 1;
          return { password: "good" } as never;
        },
        refreshWaitSeconds: 0.05,
        retryBackoff: { baseSeconds: 0.05, maxRetries: 1 },
        mqtt: { ...V5, properties: { authenticationMethod: "X-COURIER-UNSUPPORTED" } },
      });
      const { states } = recordStates(c);
      const error = await c.connect().catch((e: unknown) => e);
      expect(mosquitto.refusals.map((r) => r.reasonCode)).toEqual([0x8c, 0x8c, 0x8c]);
      expect(states.slice(0, 3)).toEqual(["connecting", "authFailed", "refreshing"]);
      expect(states).toContain("authBackoff");
      expect(states).not.toContain("backoff");
      expect(calls).toBe(2);
      expect(error).toBeInstanceOf(RetriesExhaustedError);
      const cause = (error as Error).cause as ConnectionRefusedError;
      expect(cause.reasonCode).toBe(0x8c);
    });

    test("0x86 bad user name or password (from the proxy): refresh, and the next CONNECT reaches mosquitto and is accepted", async () => {
      const id = nextId("connack86");
      let calls = 0;
      await mosquitto.setPassword("alice", "rotated");
      const c = client({
        id,
        onAuthFailure: async () => {
          calls += 1;
          return { password: "rotated" } as never;
        },
        refreshWaitSeconds: 0.05,
      });
      proxy.refuseNextConnect(0x86);
      const { states } = recordStates(c);
      await c.connect();
      expect(proxy.connects.map((x) => x.forwarded)).toEqual([false, true]);
      expect(mosquitto.connectsOf(id)).toHaveLength(1);
      expect(states).toEqual([
        "connecting",
        "authFailed",
        "refreshing",
        "waiting",
        "reconnecting",
        "restoring",
        "connected",
      ]);
      expect(calls).toBe(1);
    });
  });

  describe("server DISCONNECT, classified by reason code", () => {
    test("0x87 not authorized (what EMQX or HiveMQ send when a token expires mid-session): authFailed → refresh → reconnect with the new token; no network backoff", async () => {
      const id = nextId("dis-87");
      let calls = 0;
      const c = client({
        id,
        onAuthFailure: async () => {
          calls += 1;
          await mosquitto.setPassword("alice", "renewed");
          return { password: "renewed" } as never;
        },
        refreshWaitSeconds: 0.05,
        retryBackoff: { baseSeconds: 5 },
      });
      await c.connect();
      const { states } = recordStates(c);
      const back = nextState(c, "connected");
      await proxy.disconnect(id, 0x87, { reasonString: "token expired" });
      await back;
      expect(states).toEqual([
        "authFailed",
        "refreshing",
        "waiting",
        "reconnecting",
        "restoring",
        "connected",
      ]);
      expect(calls).toBe(1);
      expect(mosquitto.connectsOf(id)).toHaveLength(2);
    });

    test.each([
      { code: 0x86, hex: "0x86" },
      { code: 0x8c, hex: "0x8C" },
    ])(
      "$hex is not a DISCONNECT code (MQTT 5 §3.14.2.1): mqtt.js drops the packet as malformed, the client retries, and the stale token's CONNACK 0x87 starts the refresh",
      async ({ code }) => {
        const id = nextId(`dis-${code}`);
        let calls = 0;
        const c = client({
          id,
          onAuthFailure: async () => {
            calls += 1;
            await mosquitto.setPassword("alice", "renewed");
            return { password: "renewed" } as never;
          },
          refreshWaitSeconds: 0.05,
          retryBackoff: { baseSeconds: 0.3 },
        });
        await c.connect();
        const { states } = recordStates(c);
        const dropped = nextState(c, "backoff");
        const back = nextState(c, "connected");
        await proxy.disconnect(id, code);
        await dropped;
        await mosquitto.revoke("alice");
        await back;
        expect(states).toEqual([
          "backoff",
          "reconnecting",
          "authFailed",
          "refreshing",
          "waiting",
          "reconnecting",
          "restoring",
          "connected",
        ]);
        expect(mosquitto.refusals.map((r) => r.reasonCode)).toEqual([0x87]);
        expect(calls).toBe(1);
      },
    );

    test("0x98 administrative action (mosquitto dropping a revoked user): a network retry, refused with 0x87, then the refresh", async () => {
      const id = nextId("dis-98");
      let calls = 0;
      const c = client({
        id,
        port: mosquitto.tcpPort,
        onAuthFailure: async () => {
          calls += 1;
          await mosquitto.setPassword("alice", "renewed");
          return { password: "renewed" } as never;
        },
        refreshWaitSeconds: 0.05,
        retryBackoff: { baseSeconds: 0.05 },
      });
      await c.connect();
      const errors = errorsOf(c);
      const { states } = recordStates(c);
      const back = nextState(c, "connected");
      await mosquitto.revoke("alice");
      await back;
      expect(errors[0]).toBeInstanceOf(ConnectionRefusedError);
      expect((errors[0] as ConnectionRefusedError).reasonCode).toBe(0x98);
      expect(mosquitto.refusals.map((r) => r.reasonCode)).toEqual([0x87]);
      expect(states.slice(0, 4)).toEqual(["backoff", "reconnecting", "authFailed", "refreshing"]);
      expect(calls).toBe(1);
    });

    test("0x8E session taken over (a second connection with the same clientId): failed, no reconnect, no fight", async () => {
      await proxy.close();
      proxy = await FaultProxy.start(
        { host: "127.0.0.1", port: mosquitto.tcpPort },
        { sessionTakeover: true },
      );
      const id = nextId("takeover");
      const c = client({ id, retryBackoff: { baseSeconds: 0.05 } });
      await c.connect();
      const failed = nextState(c, "failed");
      const other = connect(`mqtt://127.0.0.1:${proxy.port}`, {
        ...V5,
        clientId: id,
        username: "alice",
        password: "good",
        reconnectPeriod: 0,
      });
      extra.push({
        close: () => new Promise<void>((resolve) => other.end(true, {}, () => resolve())),
      });
      await failed;
      expect(c.error).toBeInstanceOf(ConnectionRefusedError);
      expect((c.error as ConnectionRefusedError).reasonCode).toBe(0x8e);
      expect(c.error?.message).toMatch(/unique clientId/);
      await sleep(500);
      // Ours connected once; the other connection holds the session and is left alone.
      expect(proxy.connects.map((x) => x.clientId)).toEqual([id, id]);
      expect(mosquitto.connectedIds()).toEqual([id]);
      expect(other.connected).toBe(true);
    });

    test("on mosquitto 2.0.11 itself a takeover is a bare close, which the client can only treat as network loss (why the proxy sends 0x8E)", async () => {
      const id = nextId("bare-takeover");
      const c = client({ id, port: mosquitto.tcpPort, retryBackoff: { baseSeconds: 5 } });
      await c.connect();
      const dropped = nextState(c, "backoff");
      const other = connect(`mqtt://127.0.0.1:${mosquitto.tcpPort}`, {
        ...V5,
        clientId: id,
        username: "alice",
        password: "good",
        reconnectPeriod: 0,
      });
      extra.push({
        close: () => new Promise<void>((resolve) => other.end(true, {}, () => resolve())),
      });
      await dropped;
      expect(c.error).not.toMatchObject({ reasonCode: 0x8e });
    });

    test("server busy 0x89 and quota exceeded 0x97 back off 4× longer than a plain retryable code", async () => {
      const id = nextId("busy");
      const c = client({
        id,
        retryBackoff: { baseSeconds: 0.1, ceilSeconds: 10, resetAfterSeconds: 0.02 },
      });
      await c.connect();
      const gaps: Record<string, number> = {};
      for (const code of [0x80, 0x89, 0x8b, 0x97]) {
        // Each DISCONNECT is failure 1: the retry counter was reset by a stable connection.
        await sleep(100);
        const back = nextState(c, "connected");
        const before = proxy.connects.length;
        const at = Date.now();
        await proxy.disconnect(id, code);
        await back;
        gaps[`0x${code.toString(16)}`] = (proxy.connects[before]?.at ?? 0) - at;
      }
      // retry 1 of a plain failure waits base (100 ms); a busy broker's, base·2^3 (400 ms).
      for (const plain of ["0x80", "0x8b"]) {
        expect(gaps[plain], JSON.stringify(gaps)).toBeGreaterThanOrEqual(98);
        expect(gaps[plain], JSON.stringify(gaps)).toBeLessThan(300);
      }
      for (const busy of ["0x89", "0x97"]) {
        expect(gaps[busy], JSON.stringify(gaps)).toBeGreaterThanOrEqual(398);
        expect(gaps[busy], JSON.stringify(gaps)).toBeLessThan(700);
      }
    });

    test("server moved 0x9D and use another server 0x9C with a Server Reference: the next connection goes there", async () => {
      const other = await Mosquitto.start({ alice: "good" });
      extra.push(other);
      const id = nextId("moved");
      const c = client({ id, retryBackoff: { baseSeconds: 0.05 } });
      await c.connect();

      // 0x9D: the proxy says the server moved to mosquitto's own port.
      let back = nextState(c, "connected");
      await proxy.disconnect(id, 0x9d, { serverReference: `127.0.0.1:${mosquitto.tcpPort}` });
      await back;
      expect(proxy.connects).toHaveLength(1);
      expect(mosquitto.connectsOf(id)).toHaveLength(2);

      // 0x9C from the broker the client now talks to (through a second proxy): another server.
      const front = await FaultProxy.start({ host: "127.0.0.1", port: mosquitto.tcpPort });
      extra.push(front);
      c.updateEndpoint({ host: "127.0.0.1", port: front.port });
      back = nextState(c, "connected");
      await mosquitto.kick("alice");
      await back;
      back = nextState(c, "connected");
      await front.disconnect(id, 0x9c, { serverReference: `127.0.0.1:${other.tcpPort}` });
      await back;
      expect(other.connectsOf(id)).toHaveLength(1);
      expect(front.connects).toHaveLength(1);
    });

    test("0x9C without a Server Reference: a plain retry of the same endpoint", async () => {
      const id = nextId("noref");
      const c = client({ id, retryBackoff: { baseSeconds: 0.05 } });
      await c.connect();
      const back = nextState(c, "connected");
      await proxy.disconnect(id, 0x9c);
      await back;
      expect(proxy.connects).toHaveLength(2);
    });
  });

  describe("session expiry and sessionPresent", () => {
    test("a session kept by its expiry interval: after the refresh nothing is re-subscribed and every queued QoS 1 message arrives", async () => {
      const id = nextId("kept");
      let calls = 0;
      const c = client({
        id,
        port: mosquitto.tcpPort,
        onAuthFailure: async () => {
          calls += 1;
          await mosquitto.setPassword("alice", "renewed");
          return { password: "renewed" } as never;
        },
        refreshWaitSeconds: 0.1,
        retryBackoff: { baseSeconds: 0.05 },
        mqtt: { ...V5, clean: false, properties: { sessionExpiryInterval: 60 } },
      });
      const seen: number[] = [];
      const restored: unknown[] = [];
      c.on("restored", (r) => restored.push(r));
      await c.connect();
      await Promise.all(
        ["kept/a", "kept/b", "kept/c"].map((f) =>
          c.subscribe(f, (m) => seen.push(Number(text(m.payload))), { qos: 1 }),
        ),
      );
      expect(mosquitto.subscribePacketsOf(id)).toEqual([["kept/a", "kept/b", "kept/c"]]);

      const back = nextState(c, "connected");
      await mosquitto.revoke("alice");
      await waitFor(() => !mosquitto.connectedIds().includes(id), 5000, "dropped");
      for (let i = 0; i < 50; i++) await mosquitto.publish(`kept/${"abc"[i % 3]}`, String(i), 1);
      await back;
      await waitFor(() => new Set(seen).size === 50, 5000, "50 queued messages");

      expect(calls).toBe(1);
      expect(restored.at(-1)).toEqual({
        filters: 0,
        packets: 0,
        rejected: [],
        sessionPresent: true,
      });
      expect(mosquitto.subscribePacketsOf(id)).toHaveLength(1);
      expect(mosquitto.connectsOf(id).map((x) => x.cleanStart)).toEqual([false, false]);
      expect([...new Set(seen)].sort((a, b) => a - b)).toEqual(
        Array.from({ length: 50 }, (_, i) => i),
      );
    });

    test("a session that expired while the client was away: sessionPresent false, every filter subscribed again", async () => {
      const id = nextId("expired");
      const c = client({
        id,
        port: mosquitto.tcpPort,
        onAuthFailure: async () => {
          // Hold the refresh until mosquitto has expired the session (interval 1 s).
          await mosquitto.waitForLine(new RegExp(`^Expiring client ${id} due to timeout`), 10_000);
          await mosquitto.setPassword("alice", "renewed");
          return { password: "renewed" } as never;
        },
        refreshWaitSeconds: 0.05,
        retryBackoff: { baseSeconds: 0.05 },
        mqtt: { ...V5, clean: false, properties: { sessionExpiryInterval: 1 } },
      });
      const restored: unknown[] = [];
      c.on("restored", (r) => restored.push(r));
      await c.connect();
      await c.subscribe("gone/a", () => {}, { qos: 1 });
      await c.subscribe("gone/b", () => {}, { qos: 1 });
      const back = nextState(c, "connected", 15_000);
      await mosquitto.revoke("alice");
      await back;
      expect(restored.at(-1)).toEqual({
        filters: 2,
        packets: 1,
        rejected: [],
        sessionPresent: false,
      });
      expect(mosquitto.subscribePacketsOf(id).at(-1)).toEqual(["gone/a", "gone/b"]);
    });
  });
});
