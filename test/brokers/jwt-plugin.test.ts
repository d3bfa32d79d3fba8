/**
 * The JWT auth plugin of the test broker (test/support/mosquitto-jwt/jwt_auth.c)
 * on a real mosquitto, driven by plain mqtt.js clients (no SDK): what it
 * accepts and refuses, that a connection ends at its token's `exp` with
 * DISCONNECT 0x87, and that an AUTH 0x19 with a fresh token moves that
 * expiry (MQTT 5 §4.12.1). Other suites rely on exactly this behaviour.
 */

import mqtt, {
  type IConnackPacket,
  type IDisconnectPacket,
  type MqttClient,
  type Packet,
} from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type AuthPacket, onAuthPacket, sendAuth } from "../../src/services/mqtt-internals.js";
import {
  type JwtBrokerOptions,
  type JwtMosquitto,
  signJwt,
  startJwtMosquitto,
} from "../support/mosquitto-jwt.js";
import { hasBinary } from "../support/requirements.js";
import { sleep, waitFor } from "../support/wait.js";

const available = hasBinary("mosquitto-jwt-plugin");
const NOT_AUTHORIZED = 0x87;
const BAD_AUTHENTICATION_METHOD = 0x8c;

let ids = 0;
const open: MqttClient[] = [];

/** What one plain mqtt.js connection saw, with the time of each event. */
interface Conn {
  readonly client: MqttClient;
  readonly clientId: string;
  /** Every packet received, in order. */
  readonly packets: Packet[];
  /** The CONNACK that accepted it. */
  readonly connack: IConnackPacket;
  readonly closed: Promise<number>;
  /** The server DISCONNECT, if one came, and when. */
  disconnect?: { packet: IDisconnectPacket; at: number };
}

interface ConnectOptions {
  /** The token as the CONNECT password. */
  readonly password?: string;
  /** The token as Authentication Data under `method` (default "JWT"). */
  readonly authData?: string;
  readonly method?: string;
  /** Answers a broker's AUTH 0x18 (the plugin's challenge). */
  readonly onAuth?: (packet: AuthPacket) => Uint8Array | undefined;
  /** Over the WebSocket listener instead of TCP. */
  readonly ws?: boolean;
}

function rawClient(
  b: JwtMosquitto,
  options: ConnectOptions,
): { client: MqttClient; clientId: string } {
  ids += 1;
  const clientId = `jwt-${process.pid}-${ids}`;
  const properties =
    options.authData === undefined
      ? undefined
      : {
          authenticationMethod: options.method ?? b.method,
          authenticationData: Buffer.from(options.authData),
        };
  const url = options.ws
    ? `ws://127.0.0.1:${b.broker.wsPort}`
    : `mqtt://127.0.0.1:${b.broker.tcpPort}`;
  const client = mqtt.connect(url, {
    clientId,
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    username: options.password === undefined ? undefined : "alice",
    password: options.password,
    properties,
    manualConnect: true,
  });
  if (options.onAuth) onAuthPacket(client, options.onAuth);
  client.on("error", () => {});
  open.push(client);
  return { client, clientId };
}

/** Connects; resolves once accepted, rejects with the refusing reason code. */
async function connect(b: JwtMosquitto, options: ConnectOptions): Promise<Conn> {
  const { client, clientId } = rawClient(b, options);
  const packets: Packet[] = [];
  client.on("packetreceive", (packet) => packets.push(packet));
  const closed = new Promise<number>((resolve) => client.once("close", () => resolve(Date.now())));
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once("connect", resolve);
    client.once("error", (error) => reject(error));
    client.once("close", () => reject(new Error("closed before CONNACK")));
    client.connect();
  });
  const conn: Conn = { client, clientId, packets, connack, closed };
  client.on("disconnect", (packet) => {
    conn.disconnect = { packet, at: Date.now() };
  });
  return conn;
}

/** The reason code of the CONNACK that refuses this CONNECT. */
async function refusalOf(b: JwtMosquitto, options: ConnectOptions): Promise<number> {
  const error = await connect(b, options).then(
    () => {
      throw new Error("the broker accepted the connection");
    },
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ code: expect.any(Number) });
  return (error as { code: number }).code;
}

/** Publishes QoS 1 to a topic the client subscribed to; resolves when the message comes back. */
async function roundTrip(conn: Conn): Promise<void> {
  const topic = `jwt/${conn.clientId}`;
  await conn.client.subscribeAsync(topic, { qos: 1 });
  const back = new Promise<string>((resolve) =>
    conn.client.once("message", (_t, payload) => resolve(payload.toString())),
  );
  await conn.client.publishAsync(topic, "ping", { qos: 1 });
  expect(await back).toBe("ping");
}

/** Sends AUTH 0x19 with `token`; resolves with the broker's next AUTH or DISCONNECT. */
function reauthenticate(conn: Conn, b: JwtMosquitto, token: string): Promise<Packet> {
  const answer = new Promise<Packet>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no answer to AUTH 0x19 within 5 s")), 5000);
    const onPacket = (packet: Packet) => {
      if (packet.cmd !== "auth" && packet.cmd !== "disconnect" && packet.cmd !== "connack") return;
      clearTimeout(timer);
      conn.client.off("packetreceive", onPacket);
      resolve(packet);
    };
    conn.client.on("packetreceive", onPacket);
  });
  sendAuth(conn.client, { reasonCode: 0x19, method: b.method, data: Buffer.from(token) });
  return answer;
}

afterEach(async () => {
  await Promise.all(
    open.splice(0).map((c) => new Promise<void>((resolve) => c.end(true, {}, () => resolve()))),
  );
});

function useBroker(options: JwtBrokerOptions = {}): () => JwtMosquitto {
  let broker: JwtMosquitto | undefined;
  beforeAll(async () => {
    if (available) broker = await startJwtMosquitto(options);
  });
  afterAll(async () => {
    await broker?.close();
  });
  return () => {
    if (!broker) throw new Error("broker not started");
    return broker;
  };
}

describe.skipIf(!available)("JWT auth plugin on mosquitto: CONNECT", () => {
  const b = useBroker();

  test("a valid token as the password is accepted, and messages flow", async () => {
    const conn = await connect(b(), { password: b().token(60) });
    expect(conn.connack.reasonCode).toBe(0);
    await roundTrip(conn);
  });

  test("a valid token as Authentication Data is accepted; the CONNACK names the method", async () => {
    const conn = await connect(b(), { authData: b().token(60) });
    expect(conn.connack.reasonCode).toBe(0);
    expect(conn.connack.properties?.authenticationMethod).toBe("JWT");
    await roundTrip(conn);
  });

  test("expired, badly signed, alg none, exp-less or garbage tokens get CONNACK 0x87, on both paths", async () => {
    const broker = b();
    const now = Date.now() / 1000;
    const header = (alg: string) =>
      Buffer.from(JSON.stringify({ alg, typ: "JWT" })).toString("base64url");
    const body = Buffer.from(JSON.stringify({ exp: now + 60 })).toString("base64url");
    const bad = {
      expired: broker.token(-1),
      "wrong secret": signJwt("not-the-secret", { exp: now + 60 }),
      "alg none": `${header("none")}.${body}.`,
      "no exp": signJwt(broker.secret, { sub: "alice" }),
      "string exp": signJwt(broker.secret, { exp: "tomorrow" }),
      garbage: "not a token",
    };
    for (const [why, token] of Object.entries(bad)) {
      expect([why, await refusalOf(broker, { password: token })]).toEqual([why, NOT_AUTHORIZED]);
      expect([why, await refusalOf(broker, { authData: token })]).toEqual([why, NOT_AUTHORIZED]);
    }
    const logged = (await broker.broker.logLines()).filter((l) => l.startsWith("jwt_auth:"));
    for (const reason of [
      "expired",
      "bad signature",
      "alg is not HS256",
      "no numeric exp",
      "not a JWT",
    ]) {
      expect(
        logged.some((l) => l.includes(reason)),
        reason,
      ).toBe(true);
    }
  });

  test("another Authentication Method gets CONNACK 0x8C Bad authentication method", async () => {
    expect(await refusalOf(b(), { authData: b().token(60), method: "SCRAM-SHA-1" })).toBe(
      BAD_AUTHENTICATION_METHOD,
    );
  });
});

describe.skipIf(!available)("JWT auth plugin on mosquitto: expiry and re-authentication", () => {
  const b = useBroker();

  for (const [path, ws] of [
    ["password", false],
    ["authData", false],
    ["authData", true],
  ] as const) {
    test(`at its token's exp the connection gets DISCONNECT 0x87 (${path}, ${ws ? "WebSocket" : "TCP"})`, async () => {
      const lifetime = 1.5;
      const token = b().token(lifetime);
      const exp =
        JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()).exp * 1000;
      const conn = await connect(
        b(),
        path === "password" ? { password: token, ws } : { authData: token, ws },
      );
      const closedAt = await conn.closed;
      expect(conn.disconnect?.packet.reasonCode).toBe(NOT_AUTHORIZED);
      // Not before exp; within the plugin's tick (≤ 100 ms) plus generous scheduling slack.
      expect(conn.disconnect?.at).toBeGreaterThanOrEqual(exp);
      expect(closedAt - exp).toBeLessThan(2000);
    });
  }

  test("AUTH 0x19 with a fresh token is answered AUTH 0x00 and moves the expiry: the connection outlives the old exp, messages flow, and it ends at the new exp", async () => {
    const broker = b();
    const conn = await connect(broker, { authData: broker.token(1.5) });
    const oldExp = Date.now() + 1500;
    const fresh = broker.token(4);
    const newExp = Date.now() + 4000;
    const answer = await reauthenticate(conn, broker, fresh);
    expect(answer).toMatchObject({
      cmd: "auth",
      reasonCode: 0,
      properties: { authenticationMethod: "JWT" },
    });
    await sleep(Math.max(0, oldExp - Date.now()) + 1000);
    expect(conn.disconnect).toBeUndefined();
    expect(conn.client.connected).toBe(true);
    await roundTrip(conn);
    await conn.closed;
    expect(conn.disconnect?.packet.reasonCode).toBe(NOT_AUTHORIZED);
    expect(conn.disconnect?.at).toBeGreaterThanOrEqual(newExp - 50);
    // One CONNACK in the whole life of the connection: no reconnect happened.
    expect(conn.packets.filter((p) => p.cmd === "connack")).toHaveLength(1);
  });

  test("AUTH 0x19 with an expired or badly signed token: DISCONNECT 0x87, the connection ends", async () => {
    const broker = b();
    for (const token of [
      broker.token(-1),
      signJwt("not-the-secret", { exp: Date.now() / 1000 + 60 }),
    ]) {
      const conn = await connect(broker, { authData: broker.token(60) });
      const answer = await reauthenticate(conn, broker, token);
      expect(answer).toMatchObject({ cmd: "disconnect", reasonCode: NOT_AUTHORIZED });
      await conn.closed;
    }
  });

  test("a password-path connection cannot re-authenticate: mosquitto closes it without a DISCONNECT (its CONNECT named no method)", async () => {
    const broker = b();
    const conn = await connect(broker, { password: broker.token(60) });
    // mqtt.js itself would refuse an AUTH here only if it checked; it does not.
    sendAuth(conn.client, {
      reasonCode: 0x19,
      method: broker.method,
      data: Buffer.from(broker.token(60)),
    });
    await conn.closed;
    expect(conn.disconnect).toBeUndefined();
  });
});

describe.skipIf(!available)("JWT auth plugin on mosquitto: reauth refuse", () => {
  const b = useBroker({ reauth: "refuse" });

  test("every re-authentication is refused with DISCONNECT 0x87, even with a valid token; CONNECT still works", async () => {
    const conn = await connect(b(), { authData: b().token(60) });
    await roundTrip(conn);
    const answer = await reauthenticate(conn, b(), b().token(120));
    expect(answer).toMatchObject({ cmd: "disconnect", reasonCode: NOT_AUTHORIZED });
    await conn.closed;
  });
});

describe.skipIf(!available)(
  "JWT auth plugin on mosquitto: refusal broker (mosquitto 2.0.11's own answer)",
  () => {
    const b = useBroker({ refusal: "broker" });

    test("a refused re-authentication gets a second CONNACK 0x87 on the live connection; mqtt.js calls it a protocol error (0x82)", async () => {
      const conn = await connect(b(), { authData: b().token(60) });
      const errors: unknown[] = [];
      conn.client.on("error", (e) => errors.push(e));
      const answer = await reauthenticate(conn, b(), b().token(-1));
      expect(answer).toMatchObject({ cmd: "connack", reasonCode: NOT_AUTHORIZED });
      await conn.closed;
      expect(conn.disconnect).toBeUndefined();
      expect(errors).toContainEqual(expect.objectContaining({ code: 0x82 }));
    });
  },
);

describe.skipIf(!available)("JWT auth plugin on mosquitto: challenge (a 0x18 round)", () => {
  const b = useBroker({ challenge: true });
  /** Answers the broker's AUTH 0x18 by sending its nonce back, counting the rounds. */
  const echo = (rounds: AuthPacket[]) => (packet: AuthPacket) => {
    rounds.push(packet);
    return packet.reasonCode === 0x18 ? packet.properties?.authenticationData : undefined;
  };

  test("CONNECT: AUTH 0x18 carries a nonce; sending it back in AUTH 0x18 completes the CONNECT", async () => {
    const rounds: AuthPacket[] = [];
    const conn = await connect(b(), { authData: b().token(60), onAuth: echo(rounds) });
    expect(conn.connack.reasonCode).toBe(0);
    expect(rounds.map((p) => p.reasonCode)).toEqual([0x18]);
    expect(rounds[0]?.properties?.authenticationData?.toString()).toMatch(/^[0-9a-f]{32}$/);
    await roundTrip(conn);
  });

  test("CONNECT: a wrong answer to the challenge gets CONNACK 0x87", async () => {
    const code = await refusalOf(b(), {
      authData: b().token(60),
      onAuth: () => Buffer.from("wrong"),
    });
    expect(code).toBe(NOT_AUTHORIZED);
  });

  test("re-authentication: 0x19 → 0x18 nonce → 0x18 answer → 0x00, and the expiry moves", async () => {
    const rounds: AuthPacket[] = [];
    const conn = await connect(b(), { authData: b().token(1.5), onAuth: echo(rounds) });
    const oldExp = Date.now() + 1500;
    const first = await reauthenticate(conn, b(), b().token(60));
    expect(first).toMatchObject({ cmd: "auth", reasonCode: 0x18 });
    // The hook sees the broker's AUTH 0x00 after mqtt.js's `packetreceive`.
    await waitFor(() => rounds.length === 3, 5000, "the AUTH 0x00 that ends the exchange");
    expect(rounds.map((p) => p.reasonCode)).toEqual([0x18, 0x18, 0x00]);
    await sleep(Math.max(0, oldExp - Date.now()) + 800);
    expect(conn.disconnect).toBeUndefined();
    await roundTrip(conn);
  });
});
