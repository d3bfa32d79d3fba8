/**
 * The browser build (docs/browser.md, "Using it in a page"): the package
 * works through a bundler (Vite) and as plain ES modules, `mqtt` resolves to
 * its browser build, and no Node built-in reaches the browser.
 */

import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { externalRequests } from "./support/chromium.js";
import {
  openPage,
  Publisher,
  receivedUpTo,
  startClient,
  startWorld,
  statesOf,
  type World,
  waitForPage,
} from "./support/harness.js";

describe("through Vite", () => {
  const bundle = inject("bundle");
  const app = bundle.entries.find((entry) => entry.page === "index.html");

  test("the SDK comes from the package's exports (dist/), mqtt from its browser ESM build, xstate from its ESM build", () => {
    expect(app?.modules).toContain("dist/index.js");
    expect(app?.modules).toContain("node_modules/xstate/dist/xstate.esm.js");
    // mqtt.js is loaded by the first connect(): a chunk of its own, not in the first one.
    expect(app?.lazyModules).toContain("node_modules/mqtt/dist/mqtt.esm.js");
    expect(app?.modules.filter((m) => m.includes("node_modules/mqtt/"))).toEqual([]);
    // Not mqtt's Node build, not the SDK's sources.
    const all = [...(app?.modules ?? []), ...(app?.lazyModules ?? [])];
    expect(all.filter((m) => m.startsWith("node_modules/mqtt/build/"))).toEqual([]);
    expect(all.filter((m) => m.startsWith("src/"))).toEqual([]);
  });

  test("no Node built-in is imported by anything in any page's graph", () => {
    expect(bundle.builtins).toEqual([]);
    expect(bundle.warnings.filter((w) => /externalized|node:|built-in/i.test(w))).toEqual([]);
    for (const entry of bundle.entries) {
      const all = [...entry.modules, ...entry.lazyModules];
      expect(all.filter((m) => m.includes("__vite-browser-external"))).toEqual([]);
    }
  });

  test("its size is reported (the budget is `npm run size`'s, docs/benchmarks.md)", () => {
    expect(app?.gzipBytes).toBeGreaterThan(0);
    console.log(
      `Vite bundle of index.html, first chunk (SDK + xstate; mqtt.js loaded on connect()): ${app?.bytes} bytes minified, ${app?.gzipBytes} bytes gzipped`,
    );
  });
});

describe("as plain ES modules (no bundler: an import map in the page)", () => {
  let world: World;
  let publisher: Publisher;

  beforeAll(async () => {
    world = await startWorld({ ttlSeconds: 60 });
    publisher = await Publisher.start(world.stack, "demo/alerts");
  });

  afterAll(async () => {
    await publisher?.close();
    await world?.close();
  });

  test("dist/index.js loads in Chromium as is, connects over ws:// and receives", async () => {
    const page = await openPage(world, "/esm/");
    await startClient(page, {
      tokenUrl: world.tokenUrl,
      clientId: "e2e-esm",
      filter: "demo/alerts",
    });
    for (let i = 0; i < 5; i++) publisher.publish();
    const last = await publisher.stop();
    const seen = await waitForPage(page, receivedUpTo, last, 30_000);
    expect(statesOf(seen)).toEqual(["connecting", "restoring", "connected"]);
    expect(seen.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    // What the page loaded: the package and its two dependencies, unbundled.
    const paths = world.chromium.requests.map((url) => new URL(url).pathname);
    expect(paths).toEqual(
      expect.arrayContaining([
        "/dist/index.js",
        "/node_modules/mqtt/dist/mqtt.esm.js",
        "/node_modules/xstate/dist/xstate.esm.js",
      ]),
    );
    expect(externalRequests(world.chromium.requests)).toEqual([]);
  });
});
