/**
 * Credentials that expire, against the demo's stack: aedes accepting only
 * JWTs and closing each connection at its token's `exp` (MQTT 3.1.1 has no
 * DISCONNECT from the server: a plain close). DESIGN.md behaviours 11, 12.
 */

import {
  type AuthFailureContext,
  type ConnectionState,
  RealtimeClient,
  RemoteCredentials,
  type Renewal,
} from "@armaanjain/courier-web-sdk";
import { afterEach, describe, expect, test } from "vitest";
import { type Stack, startStack, type TokenResponse } from "../../demo/stack/index.js";
import { expirySuiteKeys } from "../model/faults.js";
import { everyTestRan, transitionRecorder } from "../support/transitions.js";
import { sleep, waitFor } from "../support/wait.js";

/** The transitions the model-based coverage table counts on this file (test/model/faults.ts). */
const recorder = transitionRecorder();

let stack: Stack | undefined;
const clients: RealtimeClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
  await stack?.stop();
  stack = undefined;
});

const TTL = 4;

const mapper = (r: TokenResponse) => ({
  host: r.broker.host,
  port: r.broker.port,
  username: r.userId,
  password: r.jwt,
  scheme: "mqtt" as const,
});

/** Every stay outside `connected` after the first connection: from the state left to the state entered. */
function track(client: RealtimeClient) {
  const outages: { path: ConnectionState[]; ms: number }[] = [];
  const renewals: Renewal[] = [];
  let current: { path: ConnectionState[]; since: number } | undefined;
  let connectedOnce = false;
  client.on("stateChange", (change) => {
    if (change.state === "connected") {
      if (current) outages.push({ path: current.path, ms: change.at - current.since });
      current = undefined;
      connectedOnce = true;
    } else if (connectedOnce) {
      current ??= { path: [], since: change.at };
      current.path.push(change.state);
    }
  });
  client.on("renewal", (r) => renewals.push(r));
  return { outages, renewals };
}

/** CONNECTs the broker refused, whatever the reason. */
const refused = (s: Stack) =>
  Object.values(s.counters.refusals).reduce((sum, n) => sum + (n ?? 0), 0);

/** A first token from the stack (not counted as a request) and the provider for the next ones. */
async function viewer(s: Stack) {
  const first = await s.issueToken("viewer");
  const provider = new RemoteCredentials(`${s.tokenUrl}?user=viewer`, mapper, {
    crossTabKey: false,
  });
  return { first, provider };
}

/** A QoS 1 message every 50 ms from the broker itself to `topic`; returns the sent count. */
function publishEvery(s: Stack, topic: string) {
  let sent = 0;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    sent += 1;
    s.broker.publish(
      {
        cmd: "publish",
        topic,
        payload: Buffer.from(String(sent)),
        qos: 1,
        retain: false,
        dup: false,
      },
      () => {},
    );
    setTimeout(tick, 50);
  };
  tick();
  return {
    stop() {
      stopped = true;
      return sent;
    },
  };
}

describe("refresh ahead on, against a broker that closes at exp", () => {
  test("three lifetimes: one token request each, 0 refused CONNECTs, reconnect at once, nothing lost at QoS 1", async () => {
    stack = await startStack({ ttlSeconds: TTL });
    const s = stack;
    const { first, provider } = await viewer(s);
    const client = new RealtimeClient({
      inspect: recorder.inspect,
      endpoint: {
        ...mapper({ broker: { host: s.host, port: s.tcpPort }, userId: "viewer", jwt: first.jwt }),
        clientId: "ahead-1",
      },
      onAuthFailure: provider,
      mqtt: { clean: false },
    });
    clients.push(client);
    const t = track(client);
    const received = new Set<string>();
    await client.connect();
    await client.subscribe("demo/ahead", (m) => received.add(new TextDecoder().decode(m.payload)), {
      qos: 1,
    });
    const publisher = publishEvery(s, "demo/ahead");
    const kicked = () => s.counters.kicks;
    // Three expiries, each followed by a connection again.
    await waitFor(() => t.outages.length >= 3, 30_000);
    const sent = publisher.stop();
    await waitFor(() => received.size >= sent, 5000);

    expect(refused(s), "CONNECTs refused (stale tokens)").toBe(0);
    // One request per lifetime: as many as expiries so far, plus perhaps the one ahead of the next.
    expect(s.counters.tokenRequests).toBeGreaterThanOrEqual(kicked());
    expect(s.counters.tokenRequests).toBeLessThanOrEqual(kicked() + 1);
    expect(kicked()).toBe(t.outages.length);
    expect(t.renewals.filter((r) => r.phase === "failed")).toEqual([]);
    expect(t.outages.length).toBeGreaterThanOrEqual(3);
    for (const outage of t.outages) {
      // No backoff, no refresh, no 2 s wait: straight back.
      expect(outage.path).toEqual(["reconnecting", "restoring"]);
      expect(outage.ms, "offline per expiry, ms").toBeLessThan(1000);
    }
    expect(received.size).toBe(sent);
  }, 40_000);
});

describe("refresh ahead off, expiry known", () => {
  test("the close at exp enters the page's flow at once: one call → 2 s → reconnect, no CONNECT with the expired token", async () => {
    stack = await startStack({ ttlSeconds: TTL });
    const s = stack;
    const { first, provider } = await viewer(s);
    const reasons: string[] = [];
    const client = new RealtimeClient({
      inspect: recorder.inspect,
      endpoint: {
        ...mapper({ broker: { host: s.host, port: s.tcpPort }, userId: "viewer", jwt: first.jwt }),
        clientId: "off-1",
      },
      onAuthFailure: async (context: AuthFailureContext) => {
        reasons.push(context.reason);
        return provider.getCredentials({ signal: context.signal });
      },
      refreshAhead: false,
    });
    clients.push(client);
    const t = track(client);
    await client.connect();
    await waitFor(() => t.outages.length >= 1, 15_000);
    expect(t.outages[0]?.path).toEqual(["refreshing", "waiting", "reconnecting", "restoring"]);
    expect(t.outages[0]?.ms).toBeGreaterThanOrEqual(2000);
    expect(t.outages[0]?.ms).toBeLessThan(3000);
    expect(reasons).toEqual(["refused"]);
    expect(refused(s), "CONNECTs refused").toBe(0);
    expect(s.counters.tokenRequests).toBe(1);
  }, 30_000);
});

describe("refresh ahead failing", () => {
  test("the connection stays until exp, every failure told; then the page's flow, nothing lost", async () => {
    stack = await startStack({ ttlSeconds: TTL });
    const s = stack;
    const { first, provider } = await viewer(s);
    const reasons: string[] = [];
    const client = new RealtimeClient({
      inspect: recorder.inspect,
      endpoint: {
        ...mapper({ broker: { host: s.host, port: s.tcpPort }, userId: "viewer", jwt: first.jwt }),
        clientId: "failing-1",
      },
      onAuthFailure: async (context: AuthFailureContext) => {
        reasons.push(context.reason);
        if (context.reason === "expiring") throw new Error("token endpoint down");
        return provider.getCredentials({ signal: context.signal });
      },
      mqtt: { clean: false },
    });
    clients.push(client);
    const t = track(client);
    const errors: string[] = [];
    client.on("error", (e) => errors.push(e.code));
    const received = new Set<string>();
    await client.connect();
    await client.subscribe(
      "demo/failing",
      (m) => received.add(new TextDecoder().decode(m.payload)),
      { qos: 1 },
    );
    const publisher = publishEvery(s, "demo/failing");
    await waitFor(() => t.outages.length >= 1, 15_000);
    const sent = publisher.stop();
    await waitFor(() => received.size >= sent, 5000);
    expect(reasons[0]).toBe("expiring");
    expect(reasons).toContain("refused");
    const failures = t.renewals.filter((r) => r.phase === "failed").length;
    expect(failures).toBeGreaterThanOrEqual(1);
    expect(errors.filter((c) => c === "AUTH_REFRESH_FAILED")).toHaveLength(failures);
    expect(t.outages[0]?.path).toEqual(["refreshing", "waiting", "reconnecting", "restoring"]);
    expect(refused(s)).toBe(0);
    expect(received.size).toBe(sent);
  }, 30_000);
});

describe("a shared provider keeps its latest answer", () => {
  test("20 clients with jitter full refused over ~1 s make one token request", async () => {
    stack = await startStack({ ttlSeconds: 60 });
    const s = stack;
    const provider = new RemoteCredentials(`${s.tokenUrl}?user=viewer`, mapper, {
      crossTabKey: false,
    });
    const expired = await s.issueToken("viewer", { ttlSeconds: -1 });
    const group: RealtimeClient[] = [];
    for (let i = 0; i < 20; i++) {
      const client = new RealtimeClient({
        inspect: recorder.inspect,
        endpoint: {
          ...mapper({
            broker: { host: s.host, port: s.tcpPort },
            userId: "viewer",
            jwt: expired.jwt,
          }),
          clientId: `herd-${i}`,
        },
        onAuthFailure: provider,
        refreshWaitSeconds: 0.1,
        retryBackoff: { jitter: "full" },
      });
      group.push(client);
      clients.push(client);
    }
    // Spread over ~0.9 s, as a herd with full jitter would be.
    await Promise.all(
      group.map(async (client, i) => {
        await sleep(i * 45);
        await client.connect();
      }),
    );
    expect(refused(s)).toBe(20);
    expect(s.counters.tokenRequests).toBe(1);
  }, 30_000);

  test("five clients holding one token refresh ahead at their own points: one token request, every one rotated", async () => {
    stack = await startStack({ ttlSeconds: 8 });
    const s = stack;
    const { first, provider } = await viewer(s);
    const group = Array.from({ length: 5 }, (_, i) => {
      const client = new RealtimeClient({
        inspect: recorder.inspect,
        endpoint: {
          ...mapper({
            broker: { host: s.host, port: s.tcpPort },
            userId: "viewer",
            jwt: first.jwt,
          }),
          clientId: `sharer-${i}`,
        },
        onAuthFailure: provider,
        // Refresh points 6–7 s into the 8 s token: the fresh token's own come well after its rotation.
        refreshAhead: { marginSeconds: 1, jitterSeconds: 1 },
      });
      clients.push(client);
      return { client, t: track(client) };
    });
    await Promise.all(group.map((g) => g.client.connect()));
    await waitFor(() => group.every((g) => g.t.outages.length >= 1), 20_000);
    for (const g of group) {
      expect(g.t.renewals.slice(0, 2).map((r) => r.phase)).toEqual(["started", "succeeded"]);
      expect(g.t.outages[0]?.path).toEqual(["reconnecting", "restoring"]);
    }
    expect(s.counters.tokenRequests).toBe(1);
    expect(refused(s)).toBe(0);
  }, 30_000);
});

// Last in the file, after every test above ran (skipped when only some run, with -t).
test("took every expiry-driven transition the model's coverage table names this file for", (ctx) => {
  if (!everyTestRan(ctx.task)) ctx.skip();
  const keys = expirySuiteKeys("test/client/expiry-rotation.test.ts");
  expect(keys.length).toBeGreaterThan(0);
  expect(keys.filter((key) => !recorder.taken.has(key))).toEqual([]);
});
