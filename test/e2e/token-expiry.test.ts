/**
 * The main end-to-end test (docs/browser.md, "How it is tested"): in Debian
 * Chromium, a page served from 127.0.0.1 loads the Vite bundle of the SDK,
 * gets its token from the demo's token endpoint through `RemoteCredentials`,
 * connects over ws:// to aedes' WebSocket listener and lives through two
 * token expiries — the broker closes the connection at the token's `exp`;
 * the client knows that expiry (the JWT's `exp`), so with `refreshAhead:
 * false` it goes straight into the page's flow: it refreshes, waits exactly
 * the page's 2 s, reconnects and restores, without first sending a CONNECT
 * the broker would refuse — while a publisher sends numbered QoS 1 messages.
 * Every assertion is on what the page observed.
 */

import { afterAll, beforeAll, expect, test } from "vitest";
import { externalRequests } from "./support/chromium.js";
import {
  missing,
  openPage,
  Publisher,
  receivedUpTo,
  startClient,
  startWorld,
  statesOf,
  type World,
  waitForPage,
} from "./support/harness.js";

const TTL_SECONDS = 5;
const REFRESH_CYCLE = ["refreshing", "waiting", "reconnecting", "restoring", "connected"];

let world: World;
let publisher: Publisher;

beforeAll(async () => {
  world = await startWorld({ ttlSeconds: TTL_SECONDS, tokenLatencyMs: 50 });
  publisher = await Publisher.start(world.stack, "demo/ticks/eu");
});

afterAll(async () => {
  await publisher?.close();
  await world?.close();
});

test("a page lives through two token expiries: refresh, 2 s wait, reconnect, restore; every message arrives", async () => {
  const page = await openPage(world);
  await startClient(page, {
    tokenUrl: world.tokenUrl,
    clientId: "e2e-page",
    filter: "demo/ticks/#",
  });
  publisher.run(20);

  // Two expiries: each ends with a connection restored after the 2 s wait.
  const refreshed = (o: { states: { previous: string; state: string }[] }) =>
    o.states.filter((s) => s.previous === "waiting" && s.state === "reconnecting").length;
  await waitForPage(page, (o) => {
    const cycles = o.states.filter((s) => s.previous === "waiting").length;
    return cycles >= 2 && o.states.at(-1)?.state === "connected";
  });
  const last = await publisher.stop();
  const done = await waitForPage(page, receivedUpTo, last, 30_000);

  expect(statesOf(done)).toEqual([
    "connecting",
    "restoring",
    "connected",
    ...REFRESH_CYCLE,
    ...REFRESH_CYCLE,
  ]);
  expect(refreshed(done)).toBe(2);
  // The page's "wait 2 seconds", measured in the page: from entering `waiting` to leaving it.
  const waits = done.states.filter((s) => s.previous === "waiting").map((s) => s.durationMs);
  for (const wait of waits) {
    expect(wait).toBeGreaterThanOrEqual(2000);
    expect(wait).toBeLessThan(2600);
  }
  // One token for the start, one per expiry; the page counted its own requests.
  expect(done.tokenRequests).toBe(3);
  // Nothing lost: every message published reached the page (QoS 1 may repeat one).
  expect(missing(done, last)).toEqual([]);
  // And messages kept coming after each reconnection, not only before the first expiry.
  const reconnectedAt = done.states.filter((s) => s.previous === "restoring").map((s) => s.at);
  for (const at of reconnectedAt) {
    expect(done.messages.filter((m) => m.at >= at).length).toBeGreaterThan(0);
  }
  // The server saw the same story, and never a CONNECT with the expired token.
  expect(world.stack.counters.refusals.expired ?? 0).toBe(0);
  expect(world.stack.counters.kicks).toBe(2);
  expect(world.stack.counters.tokenRequestsByUser.viewer).toBe(3);
  expect(externalRequests(world.chromium.requests)).toEqual([]);
  console.log(
    `e2e: ${last} messages, none missing; waits ${waits.join(", ")} ms; states ${statesOf(done).length}`,
  );
});
