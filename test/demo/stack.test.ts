/**
 * The demo stack's broker hooks and token endpoint, on real connections:
 * signature and `exp` are verified (CONNACK 5 otherwise), expiry is enforced
 * on live connections, topic grants are enforced, and the endpoint answers in
 * the page's `RemoteCredentials` shape.
 */

import { RemoteCredentials } from "@armaanjain/courier-web-sdk";
import { connect, type IConnackPacket } from "mqtt";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  type Stack,
  type StackEvent,
  startStack,
  type TokenResponse,
} from "../../demo/stack/index.js";
import { waitFor } from "../support/wait.js";
import { closed, connectOnce, subscribe } from "./mqtt-probe.js";

let stack: Stack;
let events: StackEvent[];
const open: { end(force: boolean): void }[] = [];

beforeEach(async () => {
  stack = await startStack({ ttlSeconds: 60 });
  events = [];
  stack.on((event) => events.push(event));
});
afterEach(async () => {
  for (const client of open.splice(0)) client.end(true);
  await stack.stop();
});

async function login(userId: string, jwt: string | undefined, extra = {}) {
  const outcome = await connectOnce(stack.brokerUrl, {
    clientId: `${userId}-${Math.random().toString(16).slice(2, 8)}`,
    username: userId,
    ...(jwt === undefined ? {} : { password: jwt }),
    ...extra,
  });
  open.push(outcome.client);
  return outcome;
}

describe("token endpoint", () => {
  test("answers { broker: { host, port }, userId, jwt }, which the page's mapper turns into a working endpoint", async () => {
    // The page's "Remote Credentials Provider" sample, with the scheme of the TCP listener.
    const creds = new RemoteCredentials(stack.tokenUrl, (response: TokenResponse) => ({
      host: response.broker.host,
      port: response.broker.port,
      username: response.userId,
      password: response.jwt,
      scheme: "mqtt",
    }));
    const endpoint = await creds.getCredentials();
    expect(endpoint).toMatchObject({ host: "127.0.0.1", port: stack.tcpPort, username: "viewer" });

    const raw = (await (await fetch(stack.tokenUrl)).json()) as Record<string, unknown>;
    expect(Object.keys(raw).sort()).toEqual(["broker", "jwt", "userId"]);
    expect(stack.counters.tokenRequestsByUser).toEqual({ viewer: 2 });
    expect(events.filter((e) => e.type === "token.issued").map((e) => e.request)).toEqual([1, 2]);

    const accepted = await login("viewer", String(endpoint.password));
    expect(accepted.code).toBe(0);
  });

  test("?user= picks the user, ?transport=ws the WebSocket port; unknown users get 403", async () => {
    const publisher = (await (
      await fetch(`${stack.tokenUrl}?user=publisher&transport=ws`)
    ).json()) as TokenResponse;
    expect(publisher.userId).toBe("publisher");
    expect(publisher.broker.port).toBe(stack.wsPort);
    expect((await fetch(`${stack.tokenUrl}?user=mallory`)).status).toBe(403);
    expect((await fetch(`${stack.tokenUrl}?transport=carrier-pigeon`)).status).toBe(400);
    expect(stack.counters.tokenRequests).toBe(1);

    const overWs = await connectOnce(stack.wsUrl, {
      clientId: "ws-1",
      username: "publisher",
      password: publisher.jwt,
    });
    open.push(overWs.client);
    expect(overWs.code).toBe(0);
  });
});

describe("authenticate: JWT signature and exp", () => {
  test("an expired token gets CONNACK 5", async () => {
    const { jwt } = await stack.issueToken("viewer", { ttlSeconds: -1 });
    expect((await login("viewer", jwt)).code).toBe(5);
    expect(events).toContainEqual(
      expect.objectContaining({ type: "broker.refused", returnCode: 5, reason: "expired" }),
    );
  });

  test("a token signed by someone else, or for another user, gets CONNACK 5; no token gets 4", async () => {
    const other = await startStack();
    try {
      const { jwt: foreign } = await other.issueToken("viewer");
      expect((await login("viewer", foreign)).code).toBe(5);
    } finally {
      await other.stop();
    }
    const { jwt } = await stack.issueToken("viewer");
    expect((await login("publisher", jwt)).code).toBe(5);
    expect((await login("viewer", `${jwt.slice(0, -4)}AAAA`)).code).toBe(5);
    expect((await login("viewer", undefined)).code).toBe(4);
    expect(stack.counters.refusals).toEqual({ invalid: 2, "wrong-user": 1, missing: 1 });
    expect(stack.counters.connects).toBe(0);
  });

  test("a connection is closed when its token expires; reconnecting with that token gets CONNACK 5", async () => {
    const { jwt, claims } = await stack.issueToken("viewer", { ttlSeconds: 1 });
    const first = await login("viewer", jwt);
    expect(first.code).toBe(0);
    const closedAt = await closed(first.client);
    // exp is a whole second: the broker closes at exp, not before, and not long after.
    expect(closedAt).toBeGreaterThanOrEqual(claims.expiresAt);
    expect(closedAt - claims.expiresAt).toBeLessThan(1000);
    expect(events).toContainEqual(
      expect.objectContaining({ type: "broker.kicked", reason: "expired", userId: "viewer" }),
    );
    expect((await login("viewer", jwt)).code).toBe(5);
  });

  test("revoke() and expire() close the holders' connections and refuse their tokens", async () => {
    const viewer = await stack.issueToken("viewer");
    const publisher = await stack.issueToken("publisher");
    const v = await login("viewer", viewer.jwt);
    const p = await login("publisher", publisher.jwt);
    const vClosed = closed(v.client);
    expect(stack.revoke("viewer")).toBe(1);
    await vClosed;
    expect(p.client.connected).toBe(true);
    expect((await login("viewer", viewer.jwt)).code).toBe(5);

    const pClosed = closed(p.client);
    expect(stack.expire()).toBe(1);
    await pClosed;
    expect((await login("publisher", publisher.jwt)).code).toBe(5);
    expect(stack.counters.refusals).toEqual({ revoked: 1, expired: 1 });
    // A token issued afterwards is not affected.
    expect((await login("viewer", (await stack.issueToken("viewer")).jwt)).code).toBe(0);
  });
});

describe("authorizeSubscribe / authorizePublish: topic grants", () => {
  test("filters outside the grant get SUBACK 0x80; the others are granted", async () => {
    const { jwt } = await stack.issueToken("viewer");
    const { client } = await login("viewer", jwt);
    const granted = await subscribe(client, ["demo/rooms/+/chat", "#", "other/x", "demo/#"]);
    expect(granted).toEqual([1, 128, 128, 1]);
    expect(stack.counters.subscribeDenied).toBe(2);
  });

  test("a publish outside the grant closes the connection and reaches no one", async () => {
    const all = await stack.issueToken("spy", {
      grants: { subscribe: ["#"], publish: [] },
    });
    const spy = await login("spy", all.jwt);
    expect(await subscribe(spy.client, ["#"])).toEqual([1]);
    const seen: string[] = [];
    spy.client.on("message", (topic) => seen.push(topic));

    const pub = await login("publisher", (await stack.issueToken("publisher")).jwt);
    await pub.client.publishAsync("demo/ok", "1", { qos: 1 });
    const pubClosed = closed(pub.client);
    pub.client.publish("secret/plans", "2", { qos: 0 });
    await pubClosed;
    // A viewer may not publish at all.
    const viewer = await login("viewer", (await stack.issueToken("viewer")).jwt);
    const viewerClosed = closed(viewer.client);
    viewer.client.publish("demo/ok", "3", { qos: 0 });
    await viewerClosed;

    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual(["demo/ok"]);
    expect(stack.counters.publishDenied).toBe(2);
  });
});

describe("persistent sessions across token expiry", () => {
  test("QoS 1 messages published while a clean: false client is away are delivered after it logs in again", async () => {
    const first = await stack.issueToken("viewer", { ttlSeconds: 1 });
    const session = { clientId: "keeper", clean: false };
    const a = await login("viewer", first.jwt, session);
    expect(await subscribe(a.client, ["demo/#"])).toEqual([1]);
    await closed(a.client);

    const pub = await login("publisher", (await stack.issueToken("publisher")).jwt);
    for (const n of [1, 2, 3]) await pub.client.publishAsync(`demo/${n}`, String(n), { qos: 1 });
    expect((await login("viewer", first.jwt, session)).code).toBe(5);

    // Listening before CONNACK: the broker sends the queued messages right after it.
    const b = connect(stack.brokerUrl, {
      ...session,
      reconnectPeriod: 0,
      username: "viewer",
      password: (await stack.issueToken("viewer")).jwt,
    });
    open.push(b);
    const got: string[] = [];
    b.on("message", (_topic, payload) => got.push(payload.toString()));
    const connack = await new Promise<IConnackPacket>((resolve) => b.once("connect", resolve));
    expect(connack.sessionPresent).toBe(true);
    await waitFor(() => got.length >= 3, 5000, "the queued messages");
    expect(got).toEqual(["1", "2", "3"]);
  });
});
