/**
 * What RabbitMQ 3.10 (Debian, `rabbitmq_mqtt` + `rabbitmq_web_mqtt`, the
 * internal user database and `rabbitmq_auth_backend_oauth2` for JWTs) does at
 * revocation, at token expiry and in the corners where it departs from
 * MQTT 3.1.1 — measured with plain mqtt.js connections, so that
 * `docs/scaling.md` says what was seen, and a broker upgrade that changes it
 * shows up here. Then what the SDK must do with those deviations (each a
 * defect of the SDK today, asserted as it should behave). One node for the
 * whole file.
 */

import { connect, type IClientOptions, type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import {
  RealtimeClient,
  type RealtimeClientOptions,
  SubscriptionRejectedError,
} from "../../src/index.js";
import { ClientPool } from "../support/clients.js";
import { RabbitMq, rabbitmqInstalled } from "../support/rabbitmq.js";
import { canRun, hasBinary } from "../support/requirements.js";
import { reach, sleep, waitFor } from "../support/wait.js";
import { WireTap } from "../support/wire-tap.js";

const available =
  hasBinary("rabbitmq-server") &&
  canRun(
    "rabbitmq-server",
    rabbitmqInstalled() ? null : "no /usr/lib/rabbitmq/bin/rabbitmq-server",
  );

/** What became of one mqtt.js connection attempt. */
interface Attempt {
  client: MqttClient;
  /** The CONNACK's return code, or null when the connection closed without one. */
  code: number | null;
  sessionPresent: boolean;
}

const open: MqttClient[] = [];

function attempt(url: string, options: IClientOptions): Promise<Attempt> {
  const client = connect(url, { reconnectPeriod: 0, connectTimeout: 10_000, ...options });
  open.push(client);
  return new Promise((resolve) => {
    client.once("connect", (connack) =>
      resolve({ client, code: 0, sessionPresent: connack.sessionPresent }),
    );
    client.on("error", (error) => {
      const code = (error as { code?: unknown }).code;
      if (typeof code === "number") resolve({ client, code, sessionPresent: false });
    });
    client.once("close", () => resolve({ client, code: null, sessionPresent: false }));
  });
}

/** Resolves "acked" on PUBACK, "closed" if the connection ends first, "pending" after `ms`. */
function publishOutcome(
  client: MqttClient,
  topic: string,
  ms: number,
): Promise<"acked" | "closed" | "pending"> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("pending"), ms);
    client.once("close", () => {
      clearTimeout(timer);
      resolve("closed");
    });
    client.publish(topic, "x", { qos: 1 }, (error) => {
      clearTimeout(timer);
      resolve(error ? "closed" : "acked");
    });
  });
}

describe.skipIf(!available)("RabbitMQ 3.10 as found (measured)", () => {
  let rabbit: RabbitMq;
  let tcp: string;
  let ws: string;
  let n = 0;
  const id = (prefix: string) => `${prefix}-${++n}`;

  beforeAll(async () => {
    rabbit = await RabbitMq.start({ oauth2: true });
    tcp = `mqtt://127.0.0.1:${rabbit.tcpPort}`;
    ws = `ws://127.0.0.1:${rabbit.wsPort}${rabbit.wsPath}`;
  }, 120_000);
  afterEach(() => {
    for (const client of open.splice(0)) client.end(true);
  });
  afterAll(async () => {
    await rabbit?.close();
  });

  test("a changed password: live connections (TCP and Web MQTT) stay up and keep publishing; a new CONNECT with the old one is refused with return code 4 over TCP, closed without a CONNACK over Web MQTT", async () => {
    await rabbit.setPassword("rev", "old");
    const viaTcp = await attempt(tcp, { username: "rev", password: "old", clientId: id("rev") });
    const viaWs = await attempt(ws, { username: "rev", password: "old", clientId: id("rev") });
    expect([viaTcp.code, viaWs.code]).toEqual([0, 0]);
    await rabbit.setPassword("rev", "new");
    await sleep(1500);
    expect(await publishOutcome(viaTcp.client, "rev/t", 5000)).toBe("acked");
    expect(await publishOutcome(viaWs.client, "rev/t", 5000)).toBe("acked");
    expect(viaTcp.client.connected && viaWs.client.connected).toBe(true);

    const again = await attempt(tcp, { username: "rev", password: "old", clientId: id("rev") });
    expect(again.code).toBe(4);
    const againWs = await attempt(ws, { username: "rev", password: "old", clientId: id("rev") });
    expect(againWs.code).toBeNull();
  });

  test("JWT expiry over TCP: the connection outlives `exp` while idle and is closed (no PUBACK) at the first PUBLISH after it; a CONNECT with the expired JWT is refused", async () => {
    const exp = Math.floor(Date.now() / 1000) + 3;
    const token = rabbit.jwt("jwt-tcp", exp);
    const c = await attempt(tcp, { username: "jwt-tcp", password: token, clientId: id("jwt") });
    expect(c.code).toBe(0);
    expect(await publishOutcome(c.client, "jwt/t", 5000)).toBe("acked");
    await waitFor(() => Date.now() > exp * 1000 + 1500, 10_000, "past exp");
    expect(c.client.connected).toBe(true);
    const closedAt = Date.now();
    expect(await publishOutcome(c.client, "jwt/t", 5000)).toBe("closed");
    expect(Date.now() - closedAt).toBeLessThan(2000);

    const late = await attempt(tcp, { username: "jwt-tcp", password: token, clientId: id("jwt") });
    expect(late.code).toBe(4);
  });

  test("JWT expiry over Web MQTT: after `exp` the socket stays open and answers PINGREQ, but a QoS 1 PUBLISH is never acknowledged", async () => {
    const exp = Math.floor(Date.now() / 1000) + 3;
    const token = rabbit.jwt("jwt-ws", exp);
    const c = await attempt(ws, {
      username: "jwt-ws",
      password: token,
      clientId: id("jwt-ws"),
      keepalive: 1,
    });
    expect(c.code).toBe(0);
    expect(await publishOutcome(c.client, "jwt/w", 5000)).toBe("acked");
    await waitFor(() => Date.now() > exp * 1000 + 1500, 10_000, "past exp");
    let pongs = 0;
    c.client.on("packetreceive", (packet) => {
      if (packet.cmd === "pingresp") pongs += 1;
    });
    expect(await publishOutcome(c.client, "jwt/w", 6000)).toBe("pending");
    expect(c.client.connected).toBe(true);
    expect(pongs).toBeGreaterThanOrEqual(2);
  }, 30_000);

  test("a SUBSCRIBE the topic permissions forbid closes the connection: no SUBACK, not even 0x80", async () => {
    await rabbit.setPassword("narrow", "p");
    await rabbit.setTopicPermissions("narrow", ".*", "^allowed\\..*");
    const c = await attempt(tcp, { username: "narrow", password: "p", clientId: id("narrow") });
    expect(c.code).toBe(0);
    const granted = await new Promise((resolve) =>
      c.client.subscribe("allowed/a", { qos: 1 }, (error, g) => resolve(error ?? g?.[0]?.qos)),
    );
    expect(granted).toBe(1);
    const suback: unknown[] = [];
    c.client.on("packetreceive", (packet) => {
      if (packet.cmd === "suback") suback.push(packet);
    });
    const closed = new Promise<void>((resolve) => c.client.once("close", () => resolve()));
    c.client.subscribe("secret/x", { qos: 1 }, () => {});
    await closed;
    expect(suback).toEqual([]);
  });

  test("clean: false keeps the QoS 1 subscriptions only, yet the next CONNACK says sessionPresent = 1", async () => {
    await rabbit.setPassword("sess", "p");
    const clientId = id("sess");
    const options = { username: "sess", password: "p", clientId, clean: false };
    const first = await attempt(tcp, options);
    await new Promise((resolve) =>
      first.client.subscribe({ "s/q0": { qos: 0 }, "s/q1": { qos: 1 } }, resolve),
    );
    await new Promise<void>((resolve) => first.client.end(false, {}, () => resolve()));

    const second = await attempt(tcp, options);
    expect(second.code).toBe(0);
    expect(second.sessionPresent).toBe(true);
    const got: string[] = [];
    second.client.on("message", (topic) => got.push(topic));
    await rabbit.publish("s/q0", "x", 1);
    await rabbit.publish("s/q1", "x", 1);
    await waitFor(() => got.includes("s/q1"), 5000, "the QoS 1 subscription's message");
    await sleep(500);
    expect(got).toEqual(["s/q1"]);
  });

  describe("the SDK against these deviations", () => {
    const pool = new ClientPool();
    let tap: WireTap;
    beforeAll(async () => {
      tap = await WireTap.start({
        host: "127.0.0.1",
        tcpPort: rabbit.tcpPort,
        wsPort: rabbit.wsPort,
        wsPath: rabbit.wsPath,
      });
    });
    afterEach(async () => {
      await pool.closeAll();
    });
    afterAll(async () => {
      await tap?.close();
    });

    const accepted = (clientId: string) =>
      tap.connects.filter((c) => c.clientId === clientId && c.outcome === "accepted").length;

    test("a filter whose SUBSCRIBE closes the connection is isolated, and its subscribe() rejected with SubscriptionRejectedError after a bounded number of deaths; the other subscriptions keep working", async () => {
      await rabbit.setPassword("narrow-sdk", "p");
      await rabbit.setTopicPermissions("narrow-sdk", ".*", "^allowed\\..*");
      const clientId = id("narrow-sdk");
      const c = pool.make({
        endpoint: {
          host: "127.0.0.1",
          port: tap.tcpPort,
          username: "narrow-sdk",
          password: "p",
          clientId,
        },
        retryBackoff: { baseSeconds: 0.2, ceilSeconds: 1 },
        environment: false,
      });
      await c.connect();
      const got: string[] = [];
      await c.subscribe("allowed/a", (m) => got.push(new TextDecoder().decode(m.payload)), {
        qos: 1,
      });
      const forbidden = c
        .subscribe("secret/x", () => {}, { qos: 1 })
        .then(
          () => "resolved",
          (error: unknown) => error,
        );
      const outcome = await Promise.race([forbidden, sleep(20_000).then(() => "pending")]);
      expect(outcome, `subscribe() after ${accepted(clientId)} connections`).toBeInstanceOf(
        SubscriptionRejectedError,
      );
      // Bounded: a few deaths to isolate the filter and confirm it, not one per backoff forever.
      expect(accepted(clientId)).toBeLessThanOrEqual(6);
      await reach(c, "connected", 10_000);
      const carrying = () =>
        tap.subscribePackets.filter(
          (p) => p.clientId === clientId && p.filters.includes("secret/x"),
        ).length;
      const before = carrying();
      const connections = accepted(clientId);
      await sleep(3000);
      expect(carrying()).toBe(before);
      expect(accepted(clientId)).toBe(connections);
      await rabbit.publish("allowed/a", "still here", 1);
      await waitFor(() => got.includes("still here"), 5000, "the allowed filter's message");
    }, 40_000);

    test("Web MQTT refusing credentials by closing before any CONNACK: after a bounded number of such closes the provider is asked, and its credentials connect", async () => {
      await rabbit.setPassword("ws-sdk", "good");
      const clientId = id("ws-sdk");
      let calls = 0;
      const c = pool.make({
        endpoint: {
          host: "127.0.0.1",
          port: tap.wsPort,
          scheme: "ws",
          path: "/mqtt",
          username: "ws-sdk",
          password: "revoked",
          clientId,
        },
        onAuthFailure: async () => {
          calls += 1;
          return { password: "good" } as never;
        },
        refreshWaitSeconds: 0.1,
        retryBackoff: { baseSeconds: 0.2, ceilSeconds: 1 },
        environment: false,
      });
      c.connect().catch(() => {});
      const attempts = () => tap.connects.filter((x) => x.clientId === clientId).length;
      await reach(c, "connected", 20_000).catch((error: Error) => {
        throw new Error(`${error.message} (${attempts()} CONNECTs, ${calls} provider calls)`);
      });
      expect(calls).toBe(1);
      const closedEarly = tap.connects.filter(
        (x) => x.clientId === clientId && x.outcome === "closed",
      ).length;
      expect(closedEarly).toBeGreaterThanOrEqual(1);
      expect(closedEarly).toBeLessThanOrEqual(5);
    }, 30_000);

    test("a Web MQTT connection that stays open but acknowledges nothing (JWT expired) is noticed: the overdue PUBACK marks it dead, the client reconnects with a fresh token and the publish is delivered", async () => {
      let issued = 0;
      const token = (seconds: number) =>
        rabbit.jwt("ws-exp", Math.floor(Date.now() / 1000) + seconds);
      const c = pool.make({
        endpoint: {
          host: "127.0.0.1",
          port: tap.wsPort,
          scheme: "ws",
          path: "/mqtt",
          username: "ws-exp",
          password: token(3),
          clientId: id("ws-exp"),
        },
        onAuthFailure: async () => {
          issued += 1;
          return { password: token(600) } as never;
        },
        refreshWaitSeconds: 0.1,
        retryBackoff: { baseSeconds: 0.2, ceilSeconds: 1 },
        environment: false,
      });
      await c.connect();
      await c.publish("exp/t", "before", { qos: 1 });
      await sleep(4500); // past exp
      const late = c.publish("exp/t", "after", { qos: 1 }).then(
        () => "delivered",
        (error: unknown) => error,
      );
      expect(await Promise.race([late, sleep(30_000).then(() => "pending")])).toBe("delivered");
      expect(issued).toBeGreaterThanOrEqual(1);
    }, 45_000);

    test("a persistent session the broker keeps only partly (QoS 0 subscriptions dropped, sessionPresent = 1): with sessionPresent not trusted, every subscription is restored and keeps receiving", async () => {
      await rabbit.setPassword("sess-sdk", "p");
      const clientId = id("sess-sdk");
      const options: RealtimeClientOptions = {
        endpoint: {
          host: "127.0.0.1",
          port: tap.tcpPort,
          username: "sess-sdk",
          password: "p",
          clientId,
        },
        mqtt: { clean: false },
        // Re-subscribe on every connection, whatever sessionPresent says.
        trustSessionPresent: false,
        retryBackoff: { baseSeconds: 0.2, ceilSeconds: 1 },
        environment: false,
      };
      const c = pool.track(new RealtimeClient(options));
      await c.connect();
      const got: string[] = [];
      await c.subscribe("p/q0", (m) => got.push(m.topic), { qos: 0 });
      await c.subscribe("p/q1", (m) => got.push(m.topic), { qos: 1 });
      await rabbit.closeConnections([clientId]);
      await waitFor(() => accepted(clientId) === 2, 10_000, "the reconnection");
      await reach(c, "connected", 10_000);
      expect(tap.connects.at(-1)?.sessionPresent).toBe(true);
      await rabbit.publish("p/q0", "x", 1);
      await rabbit.publish("p/q1", "x", 1);
      await waitFor(() => got.includes("p/q0") && got.includes("p/q1"), 5000, "both filters").catch(
        () => {},
      );
      expect(got.sort()).toEqual(["p/q0", "p/q1"]);
    });
  });
});
