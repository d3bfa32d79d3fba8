/**
 * A herd: 1,000 clients, each with its own provider, whose tokens were all
 * issued in the same second, against the demo stack. Their refreshes ahead
 * spread over the jitter window instead of landing in one second
 * (README "What happens when the token expires"; DESIGN.md behaviour 11).
 */

import { RealtimeClient, RemoteCredentials } from "@armaanjain/courier-web-sdk";
import { afterAll, expect, test } from "vitest";
import { type Stack, startStack, type TokenResponse } from "../../demo/stack/index.js";
import { waitFor } from "../support/wait.js";

const HERD = 1000;
/** Quarter of it (5 s) is the jitter window for such a token. */
const TTL = 20;

let stack: Stack | undefined;
const clients: RealtimeClient[] = [];
afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
  await stack?.stop();
});

test(`${HERD} clients, tokens issued in the same second: token requests spread over the jitter window`, async () => {
  stack = await startStack({ ttlSeconds: TTL });
  const s = stack;
  const requests: number[] = [];
  s.on((event) => {
    if (event.type === "token.issued") requests.push(event.at);
  });
  const mapper = (r: TokenResponse) => ({
    host: r.broker.host,
    port: r.broker.port,
    username: r.userId,
    password: r.jwt,
    scheme: "mqtt" as const,
  });
  const tokens = await Promise.all(Array.from({ length: HERD }, () => s.issueToken("viewer")));
  const issuedAt = tokens.map((t) => t.claims.expiresAt);
  expect(new Set(issuedAt).size, "tokens issued within one second").toBeLessThanOrEqual(2);
  for (const [i, token] of tokens.entries()) {
    clients.push(
      new RealtimeClient({
        endpoint: {
          host: s.host,
          port: s.tcpPort,
          username: "viewer",
          password: token.jwt,
          clientId: `herd-${i}`,
        },
        onAuthFailure: new RemoteCredentials(`${s.tokenUrl}?user=viewer`, mapper, {
          crossTabKey: false,
        }),
        environment: false,
      }),
    );
  }
  await Promise.all(clients.map((c) => c.connect()));
  await waitFor(() => requests.length >= HERD, (TTL + 10) * 1000);
  const perSecond = new Map<number, number>();
  for (const at of requests) {
    const second = Math.floor(at / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  const peak = Math.max(...perSecond.values());
  console.log(`herd of ${HERD}: token requests over ${perSecond.size} s, peak ${peak}/s`);
  // u uniform over a 5 s window: about 200 a second; far from all 1,000 at once.
  expect(perSecond.size).toBeGreaterThanOrEqual(4);
  expect(peak).toBeLessThan(HERD * 0.4);
  expect(Object.values(s.counters.refusals).reduce((a, n) => a + (n ?? 0), 0)).toBe(0);
}, 90_000);
