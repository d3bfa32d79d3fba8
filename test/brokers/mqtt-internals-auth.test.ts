/**
 * The mqtt.js internals that `src/services/mqtt-internals.ts` relies on
 * to write and read MQTT 5 AUTH packets (mqtt.js 5.16 has no public call for
 * it). These fail the day mqtt.js renames or changes them: that the members
 * exist, that an AUTH 0x19 really leaves the client (mqtt.js's own
 * `packetsend`, and mosquitto's log), and that the broker's answer reaches
 * the hook — against the JWT plugin's mosquitto, which re-authenticates.
 */

import mqtt, { type MqttClient, type Packet } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import {
  type AuthPacket,
  authInternalsPresent,
  onAuthPacket,
  sendAuth,
} from "../../src/services/mqtt-internals.js";
import { type JwtMosquitto, startJwtMosquitto } from "../support/mosquitto-jwt.js";
import { hasBinary } from "../support/requirements.js";
import { waitFor } from "../support/wait.js";

const available = hasBinary("mosquitto-jwt-plugin");

describe.skipIf(!available)("AUTH packets through mqtt.js internals", () => {
  let b: JwtMosquitto;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    b = await startJwtMosquitto({ challenge: true });
  });
  afterEach(async () => {
    await Promise.all(
      clients
        .splice(0)
        // A manualConnect client never connected has no stream to end.
        .filter((c) => c.stream !== undefined)
        .map((c) => new Promise<void>((resolve) => c.end(true, {}, () => resolve()))),
    );
  });
  afterAll(async () => {
    await b?.close();
  });

  function client(clientId: string, token = b.token(60)): MqttClient {
    const c = mqtt.connect(`mqtt://127.0.0.1:${b.broker.tcpPort}`, {
      clientId,
      protocolVersion: 5,
      reconnectPeriod: 0,
      manualConnect: true,
      properties: { authenticationMethod: b.method, authenticationData: Buffer.from(token) },
    });
    c.on("error", () => {});
    clients.push(c);
    return c;
  }

  const connected = (c: MqttClient) =>
    new Promise<void>((resolve, reject) => {
      c.once("connect", () => resolve());
      c.once("close", () => reject(new Error("closed before CONNACK")));
      c.connect();
    });

  test("mqtt.js 5.16 still has MqttClient._sendPacket and handleAuth, as functions", () => {
    const c = client(`internals-${process.pid}-a`);
    expect(authInternalsPresent(c)).toBe(true);
    const raw = c as unknown as Record<string, unknown>;
    expect(typeof raw._sendPacket).toBe("function");
    expect(typeof raw.handleAuth).toBe("function");
  });

  test("sendAuth writes a real AUTH 0x19 with method and data; the broker's 0x18 and 0x00 reach the hook, whose answer goes out", async () => {
    const id = `internals-${process.pid}-b`;
    const c = client(id);
    const seen: AuthPacket[] = [];
    onAuthPacket(c, (packet) => {
      seen.push(packet);
      return packet.reasonCode === 0x18 ? packet.properties?.authenticationData : undefined;
    });
    await connected(c);
    expect(seen.map((p) => p.reasonCode)).toEqual([0x18]); // the CONNECT's challenge

    const sent: Packet[] = [];
    c.on("packetsend", (packet) => sent.push(packet));
    const fresh = b.token(120);
    const received = b.broker.waitForLine(new RegExp(`^Received AUTH from ${id} \\(rc25, JWT\\)$`));
    sendAuth(c, { reasonCode: 0x19, method: b.method, data: new TextEncoder().encode(fresh) });
    await received;
    expect(sent[0]).toMatchObject({ cmd: "auth", reasonCode: 0x19 });
    const props = (sent[0] as AuthPacket).properties;
    expect(props?.authenticationMethod).toBe("JWT");
    expect(Buffer.from(props?.authenticationData ?? []).toString()).toBe(fresh);

    await waitFor(() => seen.length === 3, 5000, "the broker's AUTH 0x18 then 0x00");
    expect(seen.map((p) => p.reasonCode)).toEqual([0x18, 0x18, 0x00]);
    // The hook's answer to the broker's 0x18 went out as an AUTH 0x18 carrying the nonce.
    expect(sent[1]).toMatchObject({ cmd: "auth", reasonCode: 0x18 });
    expect((sent[1] as AuthPacket).properties?.authenticationData?.toString()).toBe(
      seen[1]?.properties?.authenticationData?.toString(),
    );
    expect(c.connected).toBe(true);
  });

  test("a hook that throws ends the connection, and mqtt.js emits its error", async () => {
    const c = client(`internals-${process.pid}-c`);
    const errors: Error[] = [];
    c.on("error", (e) => errors.push(e));
    onAuthPacket(c, () => {
      throw new Error("no answer for this challenge");
    });
    await expect(connected(c)).rejects.toThrow("closed before CONNACK");
    expect(errors.map((e) => e.message)).toContain("no answer for this challenge");
  });

  test("sendAuth refuses a client that is not connected; the removal restores mqtt.js's handleAuth", () => {
    const c = client(`internals-${process.pid}-d`);
    expect(() => sendAuth(c, { reasonCode: 0x19, method: "JWT" })).toThrow(/connected/);
    const original = (c as unknown as { handleAuth: unknown }).handleAuth;
    const off = onAuthPacket(c, () => undefined);
    expect((c as unknown as { handleAuth: unknown }).handleAuth).not.toBe(original);
    off();
    expect((c as unknown as { handleAuth: unknown }).handleAuth).toBe(original);
  });
});
