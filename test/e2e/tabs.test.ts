/**
 * Several tabs refreshing at once (docs/browser.md, "Several tabs, one token
 * request"): two pages of one origin in one browser context, each with its
 * own `RealtimeClient` and `RemoteCredentials` (same token URL), start with
 * the same token — as a server-rendered page embeds the session's token — so
 * the broker closes both connections at its `exp`, and both clients, knowing
 * that expiry, go straight into the page's flow (`refreshAhead: false` here;
 * no CONNECT with the expired token). The token endpoint must see ONE request:
 *
 * - both tabs visible: they are refused within milliseconds of each other;
 *   one takes the Web Lock and asks, the other waits for the lock and takes
 *   the answer from the BroadcastChannel;
 * - the first tab in the background (a second tab in the same window hides
 *   it, and Chromium throttles its timers to whole seconds): closed at the
 *   same expiry, it refreshes at once too and takes the other tab's answer
 *   (before the client knew the expiry, it was refused a second later and
 *   reused the answer shared meanwhile).
 *
 * With `crossTabKey: false` each tab asks for itself: two requests (the control).
 */

import type { Endpoint } from "@armaanjain/courier-web-sdk";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import type { TokenResponse } from "../../demo/stack/index.js";
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

const TTL_SECONDS = 6;
const REFRESH = ["connected", "refreshing", "waiting", "reconnecting", "restoring", "connected"];

let world: World;
const pages: Page[] = [];
let publisher: Publisher | undefined;

beforeAll(async () => {
  // A token endpoint that takes 300 ms, as a real backend does.
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

/** One token from the endpoint, mapped as the pages map it. */
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

/** Two tabs on the same token; resolves with what each observed after one refresh each. */
async function twoTabsThroughExpiry(options: {
  crossTabKey?: false;
  bothVisible: boolean;
}): Promise<{
  tabs: Observed[];
  visibility: string[];
  requests: number;
  last: number;
}> {
  const { crossTabKey, bothVisible } = options;
  publisher = await Publisher.start(world.stack, "demo/ticks/eu");
  const initial = await sessionToken();
  const before = world.stack.counters.tokenRequestsByUser.viewer ?? 0;
  const tabs = [await openPage(world), await openPage(world)];
  pages.push(...tabs);
  if (bothVisible) {
    // The first tab was hidden by the second (same window): show it again.
    const cdp = await world.chromium.context.newCDPSession(tabs[0] as Page);
    await cdp.send("Emulation.setFocusEmulationEnabled", { enabled: true });
  }
  const visibility = await Promise.all(
    tabs.map((page) => page.evaluate(() => document.visibilityState)),
  );
  await Promise.all(
    tabs.map((page, i) =>
      startClient(page, {
        tokenUrl: world.tokenUrl,
        clientId: `e2e-tab-${i + 1}`,
        filter: "demo/ticks/#",
        initial,
        ...(crossTabKey === false ? { crossTabKey } : {}),
      }),
    ),
  );
  publisher.run(20);
  const refreshed = (o: Observed) =>
    o.states.some((s) => s.previous === "waiting") && o.states.at(-1)?.state === "connected";
  await Promise.all(tabs.map((page) => waitForPage(page, refreshed, undefined, 60_000)));
  const requests = (world.stack.counters.tokenRequestsByUser.viewer ?? 0) - before;
  const last = await publisher.stop();
  const observed = await Promise.all(
    tabs.map((page) => waitForPage(page, receivedUpTo, last, 30_000)),
  );
  return { tabs: observed, visibility, requests, last };
}

/** How far apart the two tabs started refreshing, in ms. */
function refusedApart(tabs: Observed[]): number {
  const [a, b] = tabs.map((o) => o.states.find((s) => s.state === "refreshing")?.at ?? 0);
  return Math.abs((a ?? 0) - (b ?? 0));
}

test("two visible tabs closed at once at the expiry: ONE token request (the second waits for the Web Lock and takes the first's answer); nothing lost", async () => {
  const { tabs, visibility, requests, last } = await twoTabsThroughExpiry({ bothVisible: true });
  expect(visibility).toEqual(["visible", "visible"]);
  expect(refusedApart(tabs)).toBeLessThan(250);
  expect(requests).toBe(1);
  // What the pages saw: one of them asked, the other did not; both went through the refresh.
  expect(tabs.map((o) => o.tokenRequests).sort()).toEqual([0, 1]);
  for (const o of tabs) {
    expect(statesOf(o).slice(-REFRESH.length)).toEqual(REFRESH);
    expect(missing(o, last)).toEqual([]);
  }
  console.log(
    `two visible tabs: refused ${refusedApart(tabs)} ms apart; ${requests} token request; ${last} messages each, none missing`,
  );
});

test("a background tab closed at the same expiry takes the credentials the other tab fetched: still ONE token request; nothing lost", async () => {
  const { tabs, visibility, requests, last } = await twoTabsThroughExpiry({ bothVisible: false });
  expect(visibility).toEqual(["hidden", "visible"]);
  expect(requests).toBe(1);
  // At the expiry both tabs enter the refresh at the close (no doomed CONNECT first), so either
  // may hold the Web Lock first: one of them asked, the other took its answer.
  expect(tabs.map((o) => o.tokenRequests).sort()).toEqual([0, 1]);
  for (const o of tabs) {
    expect(statesOf(o).slice(-REFRESH.length)).toEqual(REFRESH);
    expect(missing(o, last)).toEqual([]);
  }
  // Both knew the expiry, so both started refreshing at the close: the background tab asked
  // nobody and took the visible tab's answer, in about the token endpoint's latency (300 ms).
  const [background] = tabs;
  const refreshing = background?.states.find((s) => s.previous === "refreshing");
  expect(refreshing?.durationMs).toBeLessThan(1000);
  console.log(
    `background tab: refused ${refusedApart(tabs)} ms after the visible one; its refresh took ${refreshing?.durationMs} ms; ${requests} token request`,
  );
});

test("control, crossTabKey: false — each tab asks for itself: two requests", async () => {
  const { tabs, requests } = await twoTabsThroughExpiry({ crossTabKey: false, bothVisible: true });
  expect(requests).toBe(2);
  expect(tabs.map((o) => o.tokenRequests)).toEqual([1, 1]);
});
