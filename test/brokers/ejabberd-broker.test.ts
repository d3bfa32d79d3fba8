/**
 * What ejabberd 23.01 (Debian, `mod_mqtt`) does at revocation and at token
 * expiry — its internal accounts and `auth_method: jwt` (HS256, claims `jid`
 * and `exp`) — measured with plain mqtt.js connections over MQTT 3.1.1 and 5,
 * so that `docs/scaling.md` says what was seen. One node for the whole file.
 */

import { connect, type IClientOptions, type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { EJABBERD_JWT_HOST, Ejabberd, ejabberdUnavailable } from "../support/ejabberd.js";
import { canRun, hasBinary } from "../support/requirements.js";
import { sleep, waitFor } from "../support/wait.js";

const available = hasBinary("ejabberdctl") && canRun("ejabberdctl", ejabberdUnavailable());

const open: MqttClient[] = [];

/** The CONNACK code of one attempt (0 accepted), or null when it closed without a CONNACK. */
async function attempt(
  url: string,
  options: IClientOptions,
): Promise<{ client: MqttClient; code: number | null }> {
  const client = connect(url, { reconnectPeriod: 0, connectTimeout: 10_000, ...options });
  open.push(client);
  return new Promise((resolve) => {
    client.once("connect", () => resolve({ client, code: 0 }));
    client.on("error", (error) => {
      const code = (error as { code?: unknown }).code;
      if (typeof code === "number") resolve({ client, code });
    });
    client.once("close", () => resolve({ client, code: null }));
  });
}

function acked(client: MqttClient, topic: string): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 5000);
    client.publish(topic, "x", { qos: 1 }, (error) => {
      clearTimeout(timer);
      resolve(!error);
    });
  });
}

describe.skipIf(!available)("ejabberd 23.01 as found (measured)", () => {
  let ejabberd: Ejabberd;
  let n = 0;
  const id = (prefix: string) => `${prefix}-${++n}`;

  beforeAll(async () => {
    ejabberd = await Ejabberd.start();
  }, 60_000);
  afterEach(() => {
    for (const client of open.splice(0)) client.end(true);
  });
  afterAll(async () => {
    await ejabberd?.close();
  });

  for (const [version, refused] of [
    [4, 5],
    [5, 0x87],
  ] as const) {
    test(`MQTT ${version === 5 ? "5" : "3.1.1"}: a changed password leaves live connections (TCP and WebSocket) up and publishing; a new CONNECT with the old one is refused with ${refused}`, async () => {
      const user = `rev${version}`;
      await ejabberd.setPassword(user, "old");
      const base = { username: user, password: "old", protocolVersion: version };
      const tcp = await attempt(`mqtt://127.0.0.1:${ejabberd.tcpPort}`, {
        ...base,
        clientId: id(user),
      });
      const ws = await attempt(`ws://127.0.0.1:${ejabberd.wsPort}${ejabberd.wsPath}`, {
        ...base,
        clientId: id(user),
      });
      expect([tcp.code, ws.code]).toEqual([0, 0]);
      await ejabberd.setPassword(user, "new");
      await sleep(1500);
      expect(await acked(tcp.client, "rev/t")).toBe(true);
      expect(await acked(ws.client, "rev/t")).toBe(true);
      const again = await attempt(`mqtt://127.0.0.1:${ejabberd.tcpPort}`, {
        ...base,
        clientId: id(user),
      });
      expect(again.code).toBe(refused);
    });

    test(`MQTT ${version === 5 ? "5" : "3.1.1"}: a JWT connection outlives its \`exp\` (still publishing 2 s after); a CONNECT with the expired JWT is refused with ${refused}`, async () => {
      const user = `jwt${version}`;
      const exp = Math.floor(Date.now() / 1000) + 3;
      const options = {
        username: `${user}@${EJABBERD_JWT_HOST}`,
        password: ejabberd.jwt(user, exp),
        protocolVersion: version,
      };
      const url = `mqtt://127.0.0.1:${ejabberd.tcpPort}`;
      const live = await attempt(url, { ...options, clientId: id(user), keepalive: 1 });
      expect(live.code).toBe(0);
      await waitFor(() => Date.now() > exp * 1000 + 2000, 10_000, "2 s past exp");
      expect(live.client.connected).toBe(true);
      expect(await acked(live.client, "jwt/t")).toBe(true);
      const late = await attempt(url, { ...options, clientId: id(user) });
      expect(late.code).toBe(refused);
    });
  }
});
