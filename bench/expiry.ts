/**
 * Credentials that expire, side by side in one run against the demo's stack
 * (aedes closing each connection at its JWT's `exp`):
 *
 * - offline per expiry: a client renewing ahead (the default) against one
 *   with `refreshAhead: false` (the page's flow, entered at the close),
 *   running at the same time through the same token lifetimes;
 * - CONNECTs the broker refused per expiry (stale tokens), for both;
 * - a herd of 1,000 clients, each with its own provider, whose tokens were
 *   issued in the same second: the peak of token requests per second with
 *   the per-token jitter, and without (`jitterSeconds: 0`).
 */

import { RealtimeClient, RemoteCredentials } from "@armaanjain/courier-web-sdk";
import { type Stack, startStack, type TokenResponse } from "../demo/stack/index.js";
import { type BenchOutput, fmt, median, type Row } from "./support/stats.js";

const mapper = (r: TokenResponse) => ({
  host: r.broker.host,
  port: r.broker.port,
  username: r.userId,
  password: r.jwt,
  scheme: "mqtt" as const,
});

function provider(stack: Stack) {
  return new RemoteCredentials(`${stack.tokenUrl}?user=viewer`, mapper, { crossTabKey: false });
}

/** Offline stretches (ms) after the first connection: leaving `connected` → back in it. */
function offline(client: RealtimeClient): number[] {
  const stretches: number[] = [];
  let since: number | undefined;
  let up = false;
  client.on("stateChange", (change) => {
    if (change.state === "connected") {
      if (since !== undefined) stretches.push(change.at - since);
      since = undefined;
      up = true;
    } else if (up && since === undefined) since = change.at;
  });
  return stretches;
}

async function sideBySide(lifetimes: number, ttl: number) {
  const stack = await startStack({ ttlSeconds: ttl });
  const refusedOf = new Map<string, number>();
  stack.on((e) => {
    if (e.type === "broker.refused")
      refusedOf.set(e.clientId, (refusedOf.get(e.clientId) ?? 0) + 1);
  });
  const first = await stack.issueToken("viewer");
  const make = (clientId: string, refreshAhead: false | undefined) =>
    new RealtimeClient({
      endpoint: {
        ...mapper({
          broker: { host: stack.host, port: stack.tcpPort },
          userId: "viewer",
          jwt: first.jwt,
        }),
        clientId,
      },
      onAuthFailure: provider(stack),
      environment: false,
      mqtt: { clean: false },
      ...(refreshAhead === false ? { refreshAhead } : {}),
    });
  const ahead = make("bench-ahead", undefined);
  const reactive = make("bench-reactive", false);
  const aheadOffline = offline(ahead);
  const reactiveOffline = offline(reactive);
  await Promise.all([ahead.connect(), reactive.connect()]);
  const deadline = Date.now() + (lifetimes * ttl + 20) * 1000;
  while (
    (aheadOffline.length < lifetimes || reactiveOffline.length < lifetimes) &&
    Date.now() < deadline
  ) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all([ahead.disconnect(), reactive.disconnect()]);
  await stack.stop();
  return {
    ahead: aheadOffline.slice(0, lifetimes),
    reactive: reactiveOffline.slice(0, lifetimes),
    refusedAhead: refusedOf.get("bench-ahead") ?? 0,
    refusedReactive: refusedOf.get("bench-reactive") ?? 0,
  };
}

async function herd(size: number, ttl: number, jitterSeconds: number | undefined) {
  const stack = await startStack({ ttlSeconds: ttl });
  const requests: number[] = [];
  stack.on((e) => {
    if (e.type === "token.issued") requests.push(e.at);
  });
  const tokens = await Promise.all(Array.from({ length: size }, () => stack.issueToken("viewer")));
  const clients = tokens.map(
    (t, i) =>
      new RealtimeClient({
        endpoint: {
          ...mapper({
            broker: { host: stack.host, port: stack.tcpPort },
            userId: "viewer",
            jwt: t.jwt,
          }),
          clientId: `herd-${i}`,
        },
        onAuthFailure: provider(stack),
        environment: false,
        ...(jitterSeconds === undefined ? {} : { refreshAhead: { jitterSeconds } }),
      }),
  );
  await Promise.all(clients.map((c) => c.connect()));
  const deadline = Date.now() + (ttl + 20) * 1000;
  while (requests.length < size && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all(clients.map((c) => c.disconnect()));
  await stack.stop();
  const perSecond = new Map<number, number>();
  for (const at of requests)
    perSecond.set(Math.floor(at / 1000), (perSecond.get(Math.floor(at / 1000)) ?? 0) + 1);
  return {
    requests: requests.length,
    peak: Math.max(0, ...perSecond.values()),
    seconds: perSecond.size,
  };
}

export async function run({ quick }: { quick: boolean }): Promise<BenchOutput> {
  const lifetimes = quick ? 3 : 10;
  const ttl = quick ? 4 : 10;
  const side = await sideBySide(lifetimes, ttl);
  // 20 s tokens: a jitter window of 5 s (a quarter of the lifetime); shorter ones would hide the spread.
  const herdTtl = 20;
  const size = 1000;
  const jittered = await herd(size, herdTtl, undefined);
  const aligned = await herd(size, herdTtl, 0);
  const ahead = median(side.ahead);
  const reactive = median(side.reactive);
  const ratio = ahead / reactive;
  const rows: Row[] = [
    {
      benchmark: `Offline per expiry, refresh ahead vs the page's flow (${ttl} s JWTs, ${lifetimes} expiries, ms)`,
      measured: `${fmt(ahead, 1)} ms (max ${fmt(Math.max(...side.ahead), 1)})`,
      anchor: `refreshAhead: false, same run: ${fmt(reactive, 0)} ms (max ${fmt(Math.max(...side.reactive), 0)})`,
      ratio: `${fmt(ratio, 4)}×`,
      target: "≤ 0.01×",
      met: ratio <= 0.01,
      note: `${side.ahead.length} and ${side.reactive.length} expiries measured`,
    },
    {
      benchmark: "Refused (stale) CONNECTs per expiry",
      measured: fmt(side.refusedAhead / Math.max(1, side.ahead.length), 2),
      anchor: `refreshAhead: false: ${fmt(side.refusedReactive / Math.max(1, side.reactive.length), 2)}`,
      ratio: "",
      target: "0",
      met: side.refusedAhead === 0,
      note: "",
    },
    {
      benchmark: `Herd of ${fmt(size)} (own providers, tokens issued in one second, ${herdTtl} s): token requests, peak per second`,
      measured: `${fmt(jittered.peak)}/s over ${jittered.seconds} s`,
      anchor: `jitterSeconds: 0: ${fmt(aligned.peak)}/s over ${aligned.seconds} s`,
      ratio: `${fmt(jittered.peak / Math.max(1, aligned.peak), 2)}×`,
      target: "",
      met: null,
      note: `${jittered.requests} and ${aligned.requests} requests`,
    },
  ];
  return { rows, data: { side, jittered, aligned } };
}
