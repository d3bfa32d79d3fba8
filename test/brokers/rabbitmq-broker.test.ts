/**
 * What RabbitMQ 3.10 (Debian, `rabbitmq_mqtt` + `rabbitmq_web_mqtt`, the
 * internal user database and `rabbitmq_auth_backend_oauth2` for JWTs) does at
 * revocation, at token expiry and in the corners where it departs from
 * MQTT 3.1.1 — measured with plain mqtt.js connections, so that
 * `docs/scaling.md` says what was seen, and a broker upgrade that changes it
 * shows up here. One node for the whole file.
 */

import { connect, type IClientOptions, type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { RabbitMq, rabbitmqInstalled } from "../support/rabbitmq.js";
import { canRun, hasBinary } from "../support/requirements.js";
import { sleep, waitFor } from "../support/wait.js";

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
});
