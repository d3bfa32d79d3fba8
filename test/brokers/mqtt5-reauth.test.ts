/**
 * Re-authentication in place (MQTT 5 §4.12.1, the `mqtt5Auth` option) on a
 * real broker that re-authenticates: mosquitto 2.0 with the project's JWT
 * plugin (test/support/mosquitto-jwt/jwt_auth.c). Tokens are short-lived
 * HS256 JWTs; the broker ends a connection at its token's `exp` with
 * DISCONNECT 0x87 unless an AUTH 0x19 with a fresh token moved it, and logs
 * every re-authentication it accepts or refuses.
 */

import {
  type ConnectionState,
  type Mqtt5AuthRound,
  RealtimeClient,
  type RealtimeClientOptions,
  ReauthenticationError,
  type Renewal,
} from "@armaanjain/courier-web-sdk";
import { afterEach, describe, expect, test } from "vitest";
import { type JwtMosquitto, startJwtMosquitto } from "../support/mosquitto-jwt.js";
import { hasBinary } from "../support/requirements.js";
import { transitionRecorder } from "../support/transitions.js";
import { waitFor } from "../support/wait.js";

const LIFETIME_S = 4;
const text = (payload: Uint8Array) => new TextDecoder().decode(payload);

describe.skipIf(!hasBinary("mosquitto-jwt-plugin"))(
  "re-authentication in place on mosquitto + JWT plugin (MQTT 5)",
  () => {
    let b: JwtMosquitto | undefined;
    const clients: RealtimeClient[] = [];
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((c) => c.disconnect()));
      await b?.close();
      b = undefined;
    });

    function client(
      broker: JwtMosquitto,
      clientId: string,
      extra: Partial<RealtimeClientOptions> = {},
    ): { client: RealtimeClient; issued: () => number } {
      let issued = 1;
      const endpoint = { host: "127.0.0.1", port: broker.broker.tcpPort, clientId };
      const c = new RealtimeClient({
        endpoint: { ...endpoint, username: "u", password: broker.token(LIFETIME_S) },
        onAuthFailure: async () => {
          issued += 1;
          return { ...endpoint, username: "u", password: broker.token(LIFETIME_S) };
        },
        mqtt5Auth: { method: broker.method },
        mqtt: { protocolVersion: 5 },
        environment: false,
        ...extra,
      });
      clients.push(c);
      return { client: c, issued: () => issued };
    }

    function track(c: RealtimeClient) {
      const states: ConnectionState[] = [];
      const renewals: Renewal[] = [];
      const errors: Error[] = [];
      c.on("stateChange", (change) => states.push(change.state));
      c.on("renewal", (r) => renewals.push(r));
      c.on("error", (e) => errors.push(e));
      const count = (phase: Renewal["phase"]) => renewals.filter((r) => r.phase === phase).length;
      return { states, renewals, errors, count };
    }

    async function log(broker: JwtMosquitto, pattern: RegExp): Promise<number> {
      return (await broker.broker.logLines()).filter((line) => pattern.test(line)).length;
    }

    test("three token lifetimes re-authenticated in place: 0 disconnects, 0 refused CONNECTs, nothing lost at QoS 1 either way, publishes in flight acknowledged", async () => {
      const broker = await startJwtMosquitto();
      b = broker;
      const recorder = transitionRecorder();
      const { client: c, issued } = client(broker, `reauth-${process.pid}-a`, {
        inspect: recorder.inspect,
      });
      const t = track(c);
      const up = new Set<string>();
      const down = new Set<string>();
      await c.connect();
      await c.subscribe("rooms/up", (m) => up.add(text(m.payload)), { qos: 1 });
      await c.subscribe("rooms/down", (m) => down.add(text(m.payload)), { qos: 1 });
      const statesAtStart = t.states.length;

      // Publishes issued the moment fresh credentials arrive, just before the AUTH 0x19 is written.
      const inFlight: Promise<void>[] = [];
      c.on("renewal", (r) => {
        if (r.phase !== "succeeded") return;
        for (let i = 0; i < 20; i++) {
          inFlight.push(
            c.publish("rooms/up", `renewal-${r.attempt}-${inFlight.length}`, { qos: 1 }),
          );
        }
      });
      let sentUp = 0;
      let sentDown = 0;
      let running = true;
      const upstream = (async () => {
        while (running) {
          sentUp += 1;
          await c.publish("rooms/up", `up-${sentUp}`, { qos: 1 });
          await new Promise((r) => setTimeout(r, 25));
        }
      })();
      const downstream = (async () => {
        while (running) {
          sentDown += 1;
          await broker.broker.publish("rooms/down", `down-${sentDown}`, 1);
          await new Promise((r) => setTimeout(r, 25));
        }
      })();
      // Three lifetimes: the first token's and two renewed ones, each past its original exp.
      await waitFor(() => t.count("reauthenticated") >= 3, 30_000);
      running = false;
      await Promise.all([upstream, downstream]);
      await Promise.all(inFlight);
      await waitFor(() => up.size >= sentUp + inFlight.length && down.size >= sentDown, 5000);

      // Never left `connected`: no reconnect, no restore.
      expect(t.states.slice(statesAtStart)).toEqual([]);
      expect(c.state).toBe("connected");
      expect(t.errors).toEqual([]);
      expect(await broker.broker.refusalCodes()).toEqual([]);
      expect(await log(broker, /re-authentication accepted/)).toBeGreaterThanOrEqual(3);
      // One token per lifetime, and each one presented on the live connection.
      expect(issued() - 1).toBe(t.count("succeeded"));
      expect(t.count("reauthenticated")).toBe(t.count("succeeded"));
      expect(inFlight.length).toBeGreaterThanOrEqual(60);
      expect(up.size).toBe(sentUp + inFlight.length);
      expect(down.size).toBe(sentDown);
      const reauthDone = [...recorder.taken].filter((k) =>
        /\.live\.reauthenticating\|xstate\.done\.actor\./.test(k),
      );
      expect(reauthDone).toHaveLength(1);
    }, 60_000);

    test("a broker that refuses the re-authentication (DISCONNECT 0x87): reconnect at once with the fresh token, then rotate by reconnecting — never re-authenticate again that session", async () => {
      const broker = await startJwtMosquitto({ reauth: "refuse" });
      b = broker;
      const { client: c } = client(broker, `reauth-${process.pid}-b`);
      const t = track(c);
      const received = new Set<string>();
      await c.connect();
      await c.subscribe("rooms/r", (m) => received.add(text(m.payload)), { qos: 1 });
      const statesAtStart = t.states.length;
      let sent = 0;
      let running = true;
      const publishing = (async () => {
        while (running) {
          sent += 1;
          await c.publish("rooms/r", `m-${sent}`, { qos: 1 });
          await new Promise((r) => setTimeout(r, 25));
        }
      })();
      // The refused re-authentication, then one lifetime rotated by reconnecting at the old exp.
      await waitFor(
        () => t.states.slice(statesAtStart).filter((s) => s === "connected").length >= 2,
        30_000,
      );
      running = false;
      await publishing;
      await waitFor(() => received.size >= sent, 5000);

      const reauthErrors = t.errors.filter((e) => e instanceof ReauthenticationError);
      expect(reauthErrors).toHaveLength(1);
      expect(reauthErrors[0]).toMatchObject({ failure: "disconnect", reasonCode: 0x87 });
      expect(await log(broker, /re-authentication refused/)).toBe(1);
      expect(t.count("reauthenticated")).toBe(0);
      // Each outage straight back: no backoff, no refresh, no 2 s wait.
      expect(t.states.slice(statesAtStart)).toEqual([
        "reconnecting",
        "restoring",
        "connected",
        "reconnecting",
        "restoring",
        "connected",
      ]);
      expect(await broker.broker.refusalCodes()).toEqual([]);
      expect(received.size).toBe(sent);
    }, 60_000);

    test("without mqtt5Auth (the token as password) the refresh-ahead rotation is unchanged: a reconnect per lifetime, no AUTH sent", async () => {
      const broker = await startJwtMosquitto();
      b = broker;
      const { client: c } = client(broker, `reauth-${process.pid}-e`, { mqtt5Auth: undefined });
      const t = track(c);
      await c.connect();
      const statesAtStart = t.states.length;
      await waitFor(
        () => t.states.slice(statesAtStart).filter((s) => s === "connected").length >= 2,
        30_000,
      );
      expect(t.states.slice(statesAtStart)).toEqual([
        "reconnecting",
        "restoring",
        "connected",
        "reconnecting",
        "restoring",
        "connected",
      ]);
      expect(t.count("reauthenticated")).toBe(0);
      expect(await log(broker, /re-authentication/)).toBe(0);
      expect(await broker.broker.refusalCodes()).toEqual([]);
    }, 60_000);

    test("mosquitto 2.0.11's own answer to a refused re-authentication (a second CONNACK 0x87 on the live connection): reconnect at once with the fresh token", async () => {
      const broker = await startJwtMosquitto({ reauth: "refuse", refusal: "broker" });
      b = broker;
      const { client: c } = client(broker, `reauth-${process.pid}-d`);
      const t = track(c);
      await c.connect();
      const statesAtStart = t.states.length;
      await waitFor(() => t.errors.some((e) => e instanceof ReauthenticationError), 15_000);
      await waitFor(() => c.state === "connected" && t.states.length > statesAtStart, 10_000);
      expect(t.states.slice(statesAtStart)).toEqual(["reconnecting", "restoring", "connected"]);
      const error = t.errors.find((e) => e instanceof ReauthenticationError);
      // mqtt.js reads that CONNACK as a protocol error and closes; the client does not wait for its bound.
      expect(error).toMatchObject({ failure: "closed" });
      // The one CONNACK 0x87 is the broker's answer to the AUTH 0x19; the reconnection was accepted.
      expect(await broker.broker.refusalCodes()).toEqual([0x87]);
    }, 60_000);

    test("a broker's AUTH 0x18 challenge goes through mqtt5Auth.onContinue, at CONNECT and on the live connection", async () => {
      const broker = await startJwtMosquitto({ challenge: true });
      b = broker;
      const rounds: { reauthentication: boolean; round: number; token: string | undefined }[] = [];
      const { client: c } = client(broker, `reauth-${process.pid}-c`, {
        mqtt5Auth: {
          method: broker.method,
          // The plugin sends a nonce and wants it back.
          onContinue: (challenge, round: Mqtt5AuthRound) => {
            rounds.push({
              reauthentication: round.reauthentication,
              round: round.round,
              token: round.credentials.password,
            });
            return challenge;
          },
        },
      });
      const t = track(c);
      await c.connect();
      const statesAtStart = t.states.length;
      await waitFor(() => t.count("reauthenticated") >= 2, 30_000);

      expect(t.states.slice(statesAtStart)).toEqual([]);
      expect(t.errors).toEqual([]);
      expect(rounds.map((r) => [r.reauthentication, r.round])).toEqual([
        [false, 1],
        [true, 1],
        [true, 1],
      ]);
      // Each re-authentication's round is told the fresh token, not the one the connection opened with.
      expect(new Set(rounds.map((r) => r.token)).size).toBe(3);
      expect(await log(broker, /challenge answered, re-authentication accepted/)).toBe(2);
    }, 60_000);
  },
);
