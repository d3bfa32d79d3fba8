/**
 * Page lifecycle in Chromium (docs/browser.md, "The page's lifecycle"): the
 * browser's own signals, not the socket, tell the client what happened.
 *
 * - `context.setOffline(true)` (DevTools network emulation: `navigator.onLine`
 *   false, `offline` fired): the client leaves a live connection for its
 *   reconnect path at once, without waiting for a keepalive timeout;
 *   `setOffline(false)` (`online`): it skips the rest of its backoff.
 * - Hidden tabs. Chromium hides and freezes a page itself through CDP
 *   `Page.setWebLifecycleState` (`frozen`: `visibilitychange` → hidden,
 *   `freeze`, timers and socket callbacks stop; `active`: `resume`, still
 *   hidden, timers throttled), and shows it again through
 *   `Emulation.setFocusEmulationEnabled` (`visibilitychange` → visible) —
 *   which only works because Playwright's own focus emulation is off
 *   (support/chromium.ts).
 *   - A frozen tab: Chromium 156 closes the WebSockets a page had when it
 *     resumes it (1001 to the server, 1006 in the page); the client
 *     reconnects, and the persistent session delivers what it missed.
 *   - A hidden, running tab whose connection died silently: a TCP proxy
 *     between the page and the broker stops forwarding without closing
 *     anything, so no event reaches the page and the keepalive (60 s here)
 *     is far off. Shown again, the client pings the broker (`probing`),
 *     gets no answer within `timeouts.probeSeconds`, and reconnects.
 */

import type { CDPSession, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
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
import { StallProxy } from "./support/stall-proxy.js";

let world: World;
const pages: Page[] = [];
const publishers: Publisher[] = [];

beforeAll(async () => {
  world = await startWorld({ ttlSeconds: 3600 });
});

afterEach(async () => {
  await world.chromium.context.setOffline(false);
  for (const page of pages.splice(0)) {
    await page.evaluate(() => window.e2e.disconnect()).catch(() => {});
    await page.close();
  }
  for (const publisher of publishers.splice(0)) await publisher.close();
});

afterAll(async () => {
  expect(externalRequests(world.chromium.requests)).toEqual([]);
  await world?.close();
});

async function publisherOn(topic: string, clientId: string): Promise<Publisher> {
  const publisher = await Publisher.start(world.stack, topic, clientId);
  publishers.push(publisher);
  return publisher;
}

/** When the page first saw `type` (after `since`). */
function signalAt(o: Observed, type: string, since = 0): number {
  const event = o.lifecycle.find((e) => e.type === type && e.at >= since);
  if (!event) throw new Error(`the page never saw ${type}; it saw ${JSON.stringify(o.lifecycle)}`);
  return event.at;
}

/** When the page first entered `state` (after `since`). */
function stateAt(o: Observed, state: string, since = 0): number {
  const change = o.states.find((s) => s.state === state && s.at >= since);
  if (!change) throw new Error(`the page never entered ${state}; states: ${statesOf(o)}`);
  return change.at;
}

describe("offline and online", () => {
  test("offline drops to the reconnect path at once; online reconnects now, not after the 20 s backoff; nothing lost", async () => {
    const publisher = await publisherOn("demo/rooms/42/chat", "e2e-publisher-offline");
    const page = await openPage(world);
    pages.push(page);
    await startClient(page, {
      tokenUrl: world.tokenUrl,
      clientId: "e2e-offline",
      filter: "demo/rooms/+/chat",
      keepaliveSeconds: 60,
      retryBackoff: { baseSeconds: 20, ceilSeconds: 20 },
    });
    publisher.run(20);
    await waitForPage(page, (o) => o.messages.length >= 5);

    await world.chromium.context.setOffline(true);
    const off = await waitForPage(page, (o) => o.states.at(-1)?.state === "backoff");
    const offlineAt = signalAt(off, "offline");
    const backoffAt = stateAt(off, "backoff");
    expect(backoffAt - offlineAt).toBeLessThan(500);

    // Still offline: the client waits out its backoff (20 s) and opens nothing.
    await sleep(1500);
    expect(await page.evaluate(() => window.e2e.state())).toBe("backoff");

    await world.chromium.context.setOffline(false);
    const back = await waitForPage(
      page,
      (o, since) => o.states.some((s) => s.state === "connected" && s.at > since),
      backoffAt,
    );
    const onlineAt = signalAt(back, "online");
    const reconnectingAt = stateAt(back, "reconnecting", onlineAt);
    expect(reconnectingAt - onlineAt).toBeLessThan(500);
    expect(stateAt(back, "connected", onlineAt) - offlineAt).toBeLessThan(10_000);
    expect(statesOf(back)).toEqual([
      "connecting",
      "restoring",
      "connected",
      "backoff",
      "reconnecting",
      "restoring",
      "connected",
    ]);

    const last = await publisher.stop();
    const done = await waitForPage(page, receivedUpTo, last, 30_000);
    expect(missing(done, last)).toEqual([]);
    console.log(
      `offline→backoff ${backoffAt - offlineAt} ms; online→reconnecting ${reconnectingAt - onlineAt} ms; ${last} messages, none missing`,
    );
  });
});

describe("a connection that died silently while the page was hidden", () => {
  const PROBE_SECONDS = 1.5;
  let proxy: StallProxy;

  beforeAll(async () => {
    proxy = await StallProxy.start(world.stack.wsPort);
  });

  afterAll(async () => {
    await proxy?.close();
  });

  async function pageThroughProxy(clientId: string, filter: string) {
    const page = await openPage(world);
    pages.push(page);
    const cdp: CDPSession = await world.chromium.context.newCDPSession(page);
    await startClient(page, {
      tokenUrl: world.tokenUrl,
      clientId,
      filter,
      // Through the proxy; a keepalive far away, so only the probe can notice.
      port: proxy.port,
      keepaliveSeconds: 60,
      probeSeconds: PROBE_SECONDS,
      retryBackoff: { baseSeconds: 0.5, ceilSeconds: 0.5 },
    });
    return { page, cdp };
  }

  const freeze = (cdp: CDPSession) => cdp.send("Page.setWebLifecycleState", { state: "frozen" });
  const resume = (cdp: CDPSession) => cdp.send("Page.setWebLifecycleState", { state: "active" });
  const show = (cdp: CDPSession) =>
    cdp.send("Emulation.setFocusEmulationEnabled", { enabled: true });

  test("a frozen tab comes back: Chromium closes its WebSocket on resume, the client reconnects at once; nothing lost", async () => {
    const publisher = await publisherOn("demo/alerts", "e2e-publisher-frozen");
    const { page, cdp } = await pageThroughProxy("e2e-frozen", "demo/alerts");
    publisher.run(20);
    await waitForPage(page, (o) => o.messages.length >= 5);

    const freezing = Date.now();
    await freeze(cdp);
    // Frozen: no timer, no socket callback runs in the page, while messages pile up at the broker.
    await sleep(3000);
    await resume(cdp);
    await show(cdp);

    const done = await waitForPage(
      page,
      (o) => o.states.at(-1)?.state === "connected" && o.states.some((s) => s.state === "backoff"),
    );
    const frozenAt = signalAt(done, "freeze");
    const resumedAt = signalAt(done, "resume");
    expect(
      done.lifecycle.filter((e) => e.at >= freezing).map((e) => `${e.type}:${e.visibility}`),
    ).toEqual([
      "visibilitychange:hidden",
      "freeze:hidden",
      "resume:hidden",
      "visibilitychange:visible",
    ]);
    // Nothing ran while frozen; on resume Chromium closed the WebSocket (1006 in the page).
    expect(done.states.filter((s) => s.at > frozenAt && s.at < resumedAt)).toEqual([]);
    expect(statesOf(done).slice(-4)).toEqual(["backoff", "reconnecting", "restoring", "connected"]);
    const connectedAt = stateAt(done, "connected", resumedAt);
    expect(connectedAt - resumedAt).toBeLessThan(3000);

    const last = await publisher.stop();
    const all = await waitForPage(page, receivedUpTo, last, 30_000);
    expect(missing(all, last)).toEqual([]);
    console.log(
      `frozen ${resumedAt - frozenAt} ms; resume→connected ${connectedAt - resumedAt} ms; ${last} messages, none missing`,
    );
  });

  test("a hidden tab (running, timers throttled) whose connection died silently, shown again: the ping probe finds it within probeSeconds; nothing lost", async () => {
    const publisher = await publisherOn("demo/ticks/eu", "e2e-publisher-hidden");
    const page = await openPage(world);
    pages.push(page);
    const cdp = await world.chromium.context.newCDPSession(page);
    // Hidden and running (frozen, then resumed while still hidden), before the client starts:
    // Chromium closes WebSockets a page had when it was frozen, not ones opened afterwards.
    await freeze(cdp);
    await resume(cdp);
    expect(await page.evaluate(() => document.visibilityState)).toBe("hidden");
    await startClient(page, {
      tokenUrl: world.tokenUrl,
      clientId: "e2e-hidden",
      filter: "demo/ticks/#",
      // Through the proxy; a keepalive far away, so only the probe can notice.
      port: proxy.port,
      keepaliveSeconds: 60,
      probeSeconds: PROBE_SECONDS,
      retryBackoff: { baseSeconds: 0.5, ceilSeconds: 0.5 },
    });
    publisher.run(20);
    await waitForPage(page, (o) => o.messages.length >= 5);
    const accepted = proxy.accepted;

    expect(proxy.stall()).toBeGreaterThanOrEqual(1);
    // Hidden for a while, the connection dead: the page still believes it is connected.
    await sleep(3000);
    expect(await page.evaluate(() => [document.visibilityState, window.e2e.state()])).toEqual([
      "hidden",
      "connected",
    ]);

    await show(cdp);
    const done = await waitForPage(
      page,
      (o) => o.states.at(-1)?.state === "connected" && o.states.some((s) => s.state === "backoff"),
    );
    const visibleAt = done.lifecycle.find(
      (e) => e.type === "visibilitychange" && e.visibility === "visible",
    )?.at;
    if (visibleAt === undefined)
      throw new Error(`never visible: ${JSON.stringify(done.lifecycle)}`);
    const backoffAt = stateAt(done, "backoff", visibleAt);
    // The probe's PINGREQ went into the void; PROBE_TIMEOUT moved the client on.
    expect(backoffAt - visibleAt).toBeGreaterThanOrEqual(PROBE_SECONDS * 1000 - 50);
    expect(backoffAt - visibleAt).toBeLessThan(PROBE_SECONDS * 1000 + 1500);
    expect(done.errors.map((e) => e.message)).toEqual(
      expect.arrayContaining([expect.stringContaining("PROBE_TIMEOUT")]),
    );
    expect(statesOf(done)).toEqual([
      "connecting",
      "restoring",
      "connected",
      "backoff",
      "reconnecting",
      "restoring",
      "connected",
    ]);
    expect(proxy.accepted).toBe(accepted + 1);

    const last = await publisher.stop();
    const all = await waitForPage(page, receivedUpTo, last, 30_000);
    expect(missing(all, last)).toEqual([]);
    console.log(
      `visible→backoff ${backoffAt - visibleAt} ms (probe ${PROBE_SECONDS} s); ${last} messages, none missing`,
    );
  });
});
