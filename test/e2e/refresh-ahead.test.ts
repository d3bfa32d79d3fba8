/**
 * Renewing ahead of the expiry in Chromium (README "What happens when the
 * token expires"), against the demo's stack: aedes closes each connection at
 * its JWT's `exp`.
 *
 * - Two tabs of one origin on the same token, renewing ahead: ONE token
 *   request between them (the first asks under the Web Lock, the other takes
 *   its answer from the BroadcastChannel), both rotate at the expiry with no
 *   refused CONNECT, nothing lost.
 * - A tab frozen through its refresh point (CDP `Page.setWebLifecycleState`:
 *   its timers do not run) renews as soon as it runs again, before the
 *   expiry; the broker then closes at `exp` and it rotates, nothing refused.
 */

import type { Endpoint } from "@armaanjain/courier-web-sdk";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import type { TokenResponse } from "../../demo/stack/index.js";
import { sleep } from "../support/wait.js";
import type { Observed } from "./pages/protocol.js";
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

const TTL_SECONDS = 8;

let world: World;
const pages: Page[] = [];
let publisher: Publisher | undefined;

beforeAll(async () => {
  world = await startWorld({ ttlSeconds: TTL_SECONDS, tokenLatencyMs: 300 });
});

afterEach(async () => {
  for (const page of pages.splice(0)) {
    await page.evaluate(() => window.e2e.disconnect()).catch(() => {});
    await page.close();
  }
  await publisher?.close();
  publisher = undefined;
});

afterAll(async () => {
  expect(externalRequests(world.chromium.requests)).toEqual([]);
  await world?.close();
});

async function sessionToken(): Promise<Endpoint> {
  const response = await fetch(world.tokenUrl);
  const body = (await response.json()) as TokenResponse;
  return {
    host: body.broker.host,
    port: body.broker.port,
    username: body.userId,
    password: body.jwt,
    scheme: "ws",
    path: "/mqtt",
  };
}

const refused = () =>
  Object.values(world.stack.counters.refusals).reduce((sum, n) => sum + (n ?? 0), 0);

/** Came back to `connected` after the first expiry. */
const rotated = (o: Observed) =>
  o.states.filter((s) => s.state === "connected").length >= 2 &&
  o.states.at(-1)?.state === "connected";

test("two tabs on one token renewing ahead: ONE token request before the expiry, both rotate with no refused CONNECT; nothing lost", async () => {
  publisher = await Publisher.start(world.stack, "demo/ticks/eu");
  const initial = await sessionToken();
  const before = world.stack.counters.tokenRequestsByUser.viewer ?? 0;
  const refusedBefore = refused();
  const tabs = [await openPage(world), await openPage(world)];
  pages.push(...tabs);
  const cdp = await world.chromium.context.newCDPSession(tabs[0] as Page);
  await cdp.send("Emulation.setFocusEmulationEnabled", { enabled: true });
  await Promise.all(
    tabs.map((page, i) =>
      startClient(page, {
        tokenUrl: world.tokenUrl,
        clientId: `e2e-ahead-${i + 1}`,
        filter: "demo/ticks/#",
        initial,
        refreshAhead: {},
      }),
    ),
  );
  publisher.run(20);
  const renewed = (o: Observed) => o.renewals.some((r) => r.phase === "succeeded");
  await Promise.all(tabs.map((page) => waitForPage(page, renewed, undefined, 30_000)));
  const kicksAtRenewal = world.stack.counters.kicks;
  const requests = (world.stack.counters.tokenRequestsByUser.viewer ?? 0) - before;
  await Promise.all(tabs.map((page) => waitForPage(page, rotated, undefined, 30_000)));
  const last = await publisher.stop();
  const observed = await Promise.all(
    tabs.map((page) => waitForPage(page, receivedUpTo, last, 30_000)),
  );
  // Both renewed before the broker closed their connections at the old expiry.
  expect(kicksAtRenewal).toBe(0);
  expect(requests).toBe(1);
  expect(observed.map((o) => o.tokenRequests).sort()).toEqual([0, 1]);
  expect(refused() - refusedBefore).toBe(0);
  for (const o of observed) {
    expect(statesOf(o).slice(-3)).toEqual(["reconnecting", "restoring", "connected"]);
    expect(statesOf(o)).not.toContain("authFailed");
    expect(missing(o, last)).toEqual([]);
  }
  console.log(
    `two tabs renewing ahead: ${requests} token request; ${last} messages each, none missing`,
  );
});

test("a tab frozen through its refresh point renews as soon as it runs again, before the expiry; no refused CONNECT", async () => {
  const initial = await sessionToken();
  const receivedAt = Date.now();
  const before = world.stack.counters.tokenRequestsByUser.viewer ?? 0;
  const refusedBefore = refused();
  const page = await openPage(world);
  pages.push(page);
  // Lead min(2 s, L/4) + 0: the refresh point lies 2 s before the expiry (about 6 s from now).
  await startClient(page, {
    tokenUrl: world.tokenUrl,
    clientId: "e2e-frozen-ahead",
    filter: "demo/ticks/#",
    initial,
    refreshAhead: { marginSeconds: 2, jitterSeconds: 0 },
  });
  const cdp = await world.chromium.context.newCDPSession(page);
  await cdp.send("Page.setWebLifecycleState", { state: "frozen" });
  // Frozen until past the refresh point, still before the expiry.
  await sleep(Math.max(0, receivedAt + (TTL_SECONDS - 1.3) * 1000 - Date.now()));
  expect(world.stack.counters.tokenRequestsByUser.viewer ?? 0).toBe(before);
  const resumedAt = Date.now();
  await cdp.send("Page.setWebLifecycleState", { state: "active" });
  await cdp.send("Emulation.setFocusEmulationEnabled", { enabled: true });
  const o = await waitForPage(
    page,
    (x: Observed) => x.renewals.some((r) => r.phase === "succeeded"),
    undefined,
    20_000,
  );
  const started = o.renewals.find((r) => r.phase === "started");
  expect(started?.at).toBeGreaterThanOrEqual(resumedAt);
  expect(world.stack.counters.tokenRequestsByUser.viewer ?? 0).toBe(before + 1);
  // Past the old token's expiry: the broker closed that connection; the tab is back on the new one.
  await sleep(Math.max(0, receivedAt + TTL_SECONDS * 1000 + 1000 - Date.now()));
  const after = await waitForPage(
    page,
    (x: Observed) => x.states.at(-1)?.state === "connected",
    undefined,
    20_000,
  );
  expect(world.stack.counters.kicks).toBeGreaterThanOrEqual(1);
  expect(statesOf(after)).not.toContain("authFailed");
  expect(statesOf(after)).not.toContain("refreshing");
  expect(refused() - refusedBefore).toBe(0);
  console.log(
    `frozen tab: renewal started ${(started?.at ?? 0) - resumedAt} ms after it ran again; states ${statesOf(after).join(" → ")}`,
  );
});
