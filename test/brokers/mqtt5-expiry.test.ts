/**
 * Credentials that expire, on a real mosquitto speaking MQTT 5 (DESIGN.md
 * behaviours 11, 12). Each token is its own dynamic-security user with an
 * `expiresAt`; at that moment the test revokes it, and mosquitto drops the
 * connection with DISCONNECT 0x98 (administrative action) — an expiry the
 * broker enforces for real. A CONNECT with an expired token would be
 * refused (0x86), and mosquitto's log would show it.
 */

import { randomBytes } from "node:crypto";
import { type ConnectionState, RealtimeClient, type Renewal } from "@armaanjain/courier-web-sdk";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { expirySuiteKeys } from "../model/faults.js";
import { FaultProxy } from "../support/fault-proxy.js";
import { Mosquitto } from "../support/mosquitto.js";
import { hasBinary } from "../support/requirements.js";
import { everyTestRan, transitionRecorder } from "../support/transitions.js";
import { waitFor } from "../support/wait.js";

/** The transitions the model-based coverage table counts on this file (test/model/faults.ts). */
const recorder = transitionRecorder();

const LIFETIME_MS = 4000;

describe.skipIf(!hasBinary("mosquitto"))("expiring credentials on mosquitto (MQTT 5)", () => {
  let mosquitto: Mosquitto;
  let proxy: FaultProxy | undefined;
  const clients: RealtimeClient[] = [];
  const timers: NodeJS.Timeout[] = [];
  beforeEach(async () => {
    mosquitto = await Mosquitto.start({});
  });
  afterEach(async () => {
    for (const timer of timers.splice(0)) clearTimeout(timer);
    await Promise.all(clients.splice(0).map((c) => c.disconnect()));
    await proxy?.close();
    proxy = undefined;
    await mosquitto.close();
  });

  /** A token authority: a new user per token, revoked at its expiry (mosquitto drops its connections). */
  function authority(onExpiry?: (username: string) => Promise<void>) {
    let issued = 0;
    const issue = async () => {
      issued += 1;
      const username = `token-${issued}`;
      const password = randomBytes(12).toString("hex");
      await mosquitto.setPassword(username, password);
      const expiresAt = Date.now() + LIFETIME_MS;
      timers.push(
        setTimeout(() => void (onExpiry ?? ((u) => mosquitto.revoke(u)))(username), LIFETIME_MS),
      );
      return { username, password, expiresAt };
    };
    return {
      issue,
      get issued() {
        return issued;
      },
    };
  }

  function track(client: RealtimeClient) {
    const outages: { path: ConnectionState[]; ms: number }[] = [];
    const renewals: Renewal[] = [];
    let current: { path: ConnectionState[]; since: number } | undefined;
    let up = false;
    client.on("stateChange", (change) => {
      if (change.state === "connected") {
        if (current) outages.push({ path: current.path, ms: change.at - current.since });
        current = undefined;
        up = true;
      } else if (up) {
        current ??= { path: [], since: change.at };
        current.path.push(change.state);
      }
    });
    client.on("renewal", (r) => renewals.push(r));
    return { outages, renewals };
  }

  test("refresh ahead: three lifetimes, 0 refused CONNECTs, one call each, reconnect at once, nothing lost at QoS 1 with a kept session", async () => {
    const tokens = authority();
    const first = await tokens.issue();
    const client = new RealtimeClient({
      inspect: recorder.inspect,
      endpoint: { host: "127.0.0.1", port: mosquitto.tcpPort, clientId: "v5-ahead", ...first },
      onAuthFailure: async () => ({
        host: "127.0.0.1",
        port: mosquitto.tcpPort,
        ...(await tokens.issue()),
      }),
      environment: false,
      mqtt: { protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 300 } },
    });
    clients.push(client);
    const t = track(client);
    const received = new Set<string>();
    await client.connect();
    await client.subscribe("rooms/1", (m) => received.add(new TextDecoder().decode(m.payload)), {
      qos: 1,
    });
    let sent = 0;
    let publishing = true;
    const publishing$ = (async () => {
      while (publishing) {
        sent += 1;
        await mosquitto.publish("rooms/1", String(sent), 1);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await waitFor(() => t.outages.length >= 3, 30_000);
    publishing = false;
    await publishing$;
    await waitFor(() => received.size >= sent, 5000);

    expect(await mosquitto.refusalCodes()).toEqual([]);
    // The first token was issued before connecting; then one per lifetime (perhaps one ahead of the next).
    expect(tokens.issued - 1).toBeGreaterThanOrEqual(3);
    expect(tokens.issued - 1).toBeLessThanOrEqual(t.outages.length + 1);
    for (const outage of t.outages) {
      expect(outage.path).toEqual(["reconnecting", "restoring"]);
      expect(outage.ms).toBeLessThan(1000);
    }
    // The broker kept the session: no SUBSCRIBE after the first.
    expect(await mosquitto.subscribePacketsOf("v5-ahead")).toHaveLength(1);
    expect(received.size).toBe(sent);
  }, 40_000);

  test.each([
    [0x87, "not authorized"],
    [0xa0, "maximum connect time"],
  ])(
    "a DISCONNECT 0x%s (%s) at the expiry: reconnect at once with the fresh token",
    async (code) => {
      const mosq = mosquitto;
      proxy = await FaultProxy.start({ host: "127.0.0.1", port: mosq.tcpPort });
      const p = proxy;
      const tokens = authority(async (username) => {
        await p.disconnect("v5-code", code);
        await mosq.revoke(username);
      });
      const first = await tokens.issue();
      const client = new RealtimeClient({
        inspect: recorder.inspect,
        endpoint: { host: "127.0.0.1", port: p.port, clientId: "v5-code", ...first },
        onAuthFailure: async () => ({ host: "127.0.0.1", port: p.port, ...(await tokens.issue()) }),
        environment: false,
        mqtt: { protocolVersion: 5 },
      });
      clients.push(client);
      const t = track(client);
      await client.connect();
      await waitFor(() => t.outages.length >= 1, 15_000);
      expect(t.outages[0]?.path).toEqual(["reconnecting", "restoring"]);
      expect(await mosq.refusalCodes()).toEqual([]);
      expect(tokens.issued).toBe(2);
    },
    30_000,
  );

  test("refresh ahead off: the DISCONNECT at the expiry enters the page's flow; no CONNECT with the expired token", async () => {
    const tokens = authority();
    const first = await tokens.issue();
    const client = new RealtimeClient({
      inspect: recorder.inspect,
      endpoint: { host: "127.0.0.1", port: mosquitto.tcpPort, clientId: "v5-off", ...first },
      onAuthFailure: async () => ({
        host: "127.0.0.1",
        port: mosquitto.tcpPort,
        ...(await tokens.issue()),
      }),
      refreshAhead: false,
      environment: false,
      mqtt: { protocolVersion: 5 },
    });
    clients.push(client);
    const t = track(client);
    await client.connect();
    await waitFor(() => t.outages.length >= 1, 15_000);
    expect(t.outages[0]?.path).toEqual([
      "authFailed",
      "refreshing",
      "waiting",
      "reconnecting",
      "restoring",
    ]);
    expect(t.outages[0]?.ms).toBeGreaterThanOrEqual(2000);
    expect(await mosquitto.refusalCodes()).toEqual([]);
    expect(tokens.issued).toBe(2);
  }, 30_000);

  test.each([
    ["ahead of", 300],
    ["behind", -300],
  ])(
    "a token server whose clock is 5 min %s the client's: refreshed ahead all the same (lifetime counted from receipt)",
    async (_how, skewSeconds) => {
      let issued = 0;
      const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
      const issue = async () => {
        issued += 1;
        const username = `skewed-${issued}`;
        // The JWT's claims are the token server's: its clock is `skewSeconds` off ours.
        const iat = Math.floor(Date.now() / 1000) + skewSeconds;
        const claims = { sub: username, iat, exp: iat + LIFETIME_MS / 1000 };
        const password = `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url(claims)}.${randomBytes(8).toString("base64url")}`;
        await mosquitto.setPassword(username, password);
        timers.push(setTimeout(() => void mosquitto.revoke(username), LIFETIME_MS));
        return { host: "127.0.0.1", port: mosquitto.tcpPort, username, password };
      };
      const first = await issue();
      const client = new RealtimeClient({
        inspect: recorder.inspect,
        endpoint: { ...first, clientId: "v5-skew" },
        onAuthFailure: issue,
        environment: false,
        mqtt: { protocolVersion: 5 },
      });
      clients.push(client);
      const t = track(client);
      await client.connect();
      await waitFor(() => t.outages.length >= 2, 20_000);
      for (const outage of t.outages) expect(outage.path).toEqual(["reconnecting", "restoring"]);
      expect(await mosquitto.refusalCodes()).toEqual([]);
      expect(t.renewals.filter((r) => r.phase === "succeeded").length).toBeGreaterThanOrEqual(2);
    },
    30_000,
  );

  // Last in the file, after every test above ran (skipped when only some run, with -t).
  test("took every expiry-driven transition the model's coverage table names this file for", (ctx) => {
    if (!everyTestRan(ctx.task)) ctx.skip();
    const keys = expirySuiteKeys("test/brokers/mqtt5-expiry.test.ts");
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((key) => !recorder.taken.has(key))).toEqual([]);
  });
});
