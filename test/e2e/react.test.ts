/**
 * The React bindings in Debian Chromium: the React example (examples/react),
 * built by Vite in development mode so StrictMode double-mounts, against the
 * demo's broker and token endpoint with tokens living 6 s. While tokens
 * expire (the page's flow: close, refused CONNECT, refresh, 2 s wait,
 * reconnect, restore) the test mounts and unmounts components by clicking
 * the page, and asserts both what the page rendered and what the broker
 * saw: one connection at a time, one SUBSCRIBE per filter and connection
 * (two tickers share one), an UNSUBSCRIBE only when the last user of a
 * filter unmounts, and a DISCONNECT when the provider unmounts.
 */

import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type RunningExample, startExample } from "../../examples/run.js";
import { buildReactApp, type ExampleServer, servePage } from "../../examples/support/serve.js";
import { type Chromium, launchChromium } from "./support/chromium.js";

const TTL_SECONDS = 6;
const PUBLISHER = "example-publisher";

interface Connection {
  readonly clientId: string;
  readonly openedAt: number;
  closedAt: number | null;
  /** What the broker got on this connection, in order. */
  readonly packets: { kind: "subscribe" | "unsubscribe"; filters: string[] }[];
}

let example: RunningExample;
let chromium: Chromium;
const connections: Connection[] = [];
const kicks: { clientId: string; reason: string }[] = [];
/** CONNECTs the broker refused (the stale token, once per expiry). */
const refused: string[] = [];
let maxOpen = 0;

const open = () => connections.filter((c) => c.closedAt === null);
const current = (clientId: string) =>
  [...connections].reverse().find((c) => c.clientId === clientId && c.closedAt === null);

beforeAll(async () => {
  example = await startExample("react", { ttlSeconds: TTL_SECONDS });
  const aedes = example.stack.broker;
  aedes.on("client", (client) => {
    if (client.id === PUBLISHER) return;
    connections.push({ clientId: client.id, openedAt: Date.now(), closedAt: null, packets: [] });
    maxOpen = Math.max(maxOpen, open().length);
  });
  aedes.on("clientDisconnect", (client) => {
    const connection = current(client.id);
    if (connection) connection.closedAt = Date.now();
  });
  aedes.on("subscribe", (subs, client) => {
    current(client.id)?.packets.push({ kind: "subscribe", filters: subs.map((s) => s.topic) });
  });
  aedes.on("unsubscribe", (filters, client) => {
    current(client.id)?.packets.push({ kind: "unsubscribe", filters });
  });
  example.stack.on((event) => {
    if (event.type === "broker.kicked" && event.userId === "viewer")
      kicks.push({ clientId: event.clientId, reason: event.reason });
    if (event.type === "broker.refused" && event.clientId !== PUBLISHER)
      refused.push(event.clientId);
  });
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.close();
  await example?.stop();
});

async function waitText(page: Page, id: string, expected: string | RegExp, timeout = 30_000) {
  await page.waitForFunction(
    ([testId, source, flags]) => {
      const value = document.querySelector(`[data-testid="${testId}"]`)?.textContent ?? null;
      return value !== null && new RegExp(source as string, flags as string).test(value);
    },
    typeof expected === "string"
      ? [id, `^${expected}$`, ""]
      : [id, expected.source, expected.flags],
    { polling: 50, timeout },
  );
}

/** Waits until the page shows a tick at least as new as `seq`. */
async function waitSeq(page: Page, ticker: string, seq: number, timeout = 30_000) {
  await page.waitForFunction(
    ([id, min]) => {
      const value = Number(document.querySelector(`[data-testid="${id}"]`)?.textContent);
      return Number.isFinite(value) && value >= (min as number);
    },
    [`ticker-${ticker}-seq`, seq] as const,
    { polling: 50, timeout },
  );
}

async function until(predicate: () => boolean, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const subscribes = (c: Connection | undefined, filter: string) =>
  c?.packets.filter((p) => p.kind === "subscribe" && p.filters.includes(filter)).length ?? 0;
const unsubscribes = (c: Connection | undefined, filter: string) =>
  c?.packets.filter((p) => p.kind === "unsubscribe" && p.filters.includes(filter)).length ?? 0;

test("the bundle is React's development build (StrictMode double-mounts)", async () => {
  const url = new URL(example.pageUrl ?? "");
  const html = await (await fetch(url)).text();
  const script = /src="\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
  expect(script).toBeDefined();
  const code = await (await fetch(new URL(`/${script}`, url))).text();
  expect(code).toContain("react-dom-client.development");
  expect(code).not.toContain("react-dom-client.production");
  // Only the package's built files, as an app installs it.
  expect(await readdir(`${process.cwd()}/dist`)).toContain("react.js");
  expect(await readFile(`${process.cwd()}/examples/react/main.tsx`, "utf8")).toContain(
    "<StrictMode>",
  );
});

test("StrictMode, token expiries, components mounting and unmounting: one connection, shared subscriptions", async () => {
  const page = await chromium.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  // React reports its warnings with console.error. Chromium's own note that a write hit a
  // WebSocket the broker had just closed ("WebSocket is already in CLOSING or CLOSED state")
  // is about the socket, not the page, and comes with the closes this test causes.
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("WebSocket is already in"))
      errors.push(message.text());
  });
  // Every WebSocket the page opened to the broker, even one closed before its CONNECT.
  const sockets: string[] = [];
  page.on("websocket", (ws) => {
    if (ws.url().startsWith(`ws://127.0.0.1:${example.stack.wsPort}/`)) sockets.push(ws.url());
  });
  await page.goto(example.pageUrl ?? "");

  // Mounted twice by StrictMode: still one connection, one SUBSCRIBE per filter.
  await waitText(page, "state", "connected");
  await waitText(page, "ticker-A-status", "active");
  await waitText(page, "alerts-status", "active");
  await waitSeq(page, "A", example.publisher.last);
  expect(connections).toHaveLength(1);
  expect(sockets).toHaveLength(1);
  const first = connections[0];
  const id = first?.clientId ?? "";
  expect(subscribes(first, "demo/ticks/#")).toBe(1);
  expect(subscribes(first, "demo/alerts")).toBe(1);

  // A second ticker on the same filter shares the subscription: no SUBSCRIBE.
  await page.getByLabel("Ticker B").check();
  await waitText(page, "ticker-B-status", "active");
  await waitSeq(page, "B", example.publisher.last);
  // Unmounting one of the two leaves it; the last one unmounting unsubscribes.
  await page.getByLabel("Ticker A").uncheck();
  await waitSeq(page, "B", example.publisher.last + 2);
  expect(unsubscribes(current(id), "demo/ticks/#")).toBe(0);
  await page.getByLabel("Ticker B").uncheck();
  await until(() => unsubscribes(current(id), "demo/ticks/#") === 1, "UNSUBSCRIBE demo/ticks/#");
  // A conditional subscription: disabled unsubscribes, enabled subscribes again.
  await page.getByLabel("Alerts").uncheck();
  await waitText(page, "alerts-status", "inactive");
  await until(() => unsubscribes(current(id), "demo/alerts") === 1, "UNSUBSCRIBE demo/alerts");
  await page.getByLabel("Alerts").check();
  await page.getByLabel("Ticker A").check();
  await waitText(page, "ticker-A-status", "active");
  await waitText(page, "alerts-status", "active");
  expect(subscribes(current(id), "demo/ticks/#")).toBe(2);
  expect(subscribes(current(id), "demo/alerts")).toBe(2);

  // The token expires: the broker closes the connection; the page's flow brings it back.
  await until(() => kicks.length >= 1, "the first token expiry", 15_000);
  // Mount a second ticker while the client is not connected: the restore still asks once.
  await page.getByLabel("Ticker B").check();
  await until(
    () => connections.length >= 2 && connections.at(-1)?.closedAt === null,
    "the reconnection",
  );
  await waitText(page, "state", "connected");
  const afterExpiry = example.publisher.last;
  await waitSeq(page, "A", afterExpiry);
  await waitSeq(page, "B", afterExpiry);
  const second = current(id);
  expect(second).not.toBe(first);
  expect(subscribes(second, "demo/ticks/#")).toBe(1);
  expect(subscribes(second, "demo/alerts")).toBe(1);
  await example.publisher.alert("after the refresh");
  await waitText(page, "alerts", /after the refresh/);

  // A second expiry, lived through with both tickers mounted.
  await until(() => kicks.length >= 2, "the second token expiry", 15_000);
  await until(
    () => connections.length >= 3 && connections.at(-1)?.closedAt === null,
    "reconnection",
  );
  await waitText(page, "state", "connected");
  await waitSeq(page, "A", example.publisher.last);
  expect(subscribes(current(id), "demo/ticks/#")).toBe(1);

  // Signing out unmounts the provider: it disconnects the client it made.
  await page.getByRole("button", { name: "Sign out" }).click();
  await waitText(page, "signed-out", /Signed out/);
  await until(() => open().length === 0, "the page's connection to close");

  // Never two connections of the page at once; one per token (initial + one per expiry).
  expect(maxOpen).toBe(1);
  expect(new Set(connections.map((c) => c.clientId))).toEqual(new Set([id]));
  expect(connections).toHaveLength(1 + kicks.length);
  // Each WebSocket carried one CONNECT: accepted (a connection above) or refused (a stale token).
  expect(refused.length).toBeLessThanOrEqual(kicks.length);
  expect(sockets).toHaveLength(connections.length + refused.length);
  // One token request for the first token, one refresh per expiry: none doubled by StrictMode.
  expect(example.stack.counters.tokenRequestsByUser.viewer).toBe(1 + kicks.length);
  // On every connection, no filter was subscribed twice without an UNSUBSCRIBE between.
  for (const connection of connections) {
    const held = new Set<string>();
    for (const packet of connection.packets) {
      for (const filter of packet.filters) {
        if (packet.kind === "subscribe") {
          expect(held.has(filter), `${filter} subscribed twice`).toBe(false);
          held.add(filter);
        } else held.delete(filter);
      }
    }
  }
  expect(errors, errors.join("\n")).toEqual([]);
  await page.close();
});

test("a provider given a client neither connects nor disconnects it; its hooks share one subscription", async () => {
  const dir = await mkdtemp(join(tmpdir(), "courier-react-given-"));
  let server: ExampleServer | undefined;
  try {
    await buildReactApp(`${process.cwd()}/test/e2e/pages/react-given`, dir);
    server = await servePage(dir);
    const token = new URL(example.tokenUrl);
    const page = await chromium.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    const from = connections.length;
    const mine = () => connections.slice(from);
    await page.goto(`${server.origin}/?token=${encodeURIComponent(String(token))}`);
    await waitText(page, "one-status", "pending");
    await waitText(page, "two-status", "pending");
    // Mounted (twice, by StrictMode), the provider did not connect the client it was given.
    await new Promise((r) => setTimeout(r, 500));
    expect(await page.evaluate(() => window.given.client.state)).toBe("idle");
    expect(mine()).toEqual([]);

    // The app connects it: the two hooks' shared subscription is restored in one SUBSCRIBE.
    await page.evaluate(() => window.given.client.connect());
    await waitText(page, "one-state", "connected");
    await waitText(page, "one-status", "active");
    await waitText(page, "two-status", "active");
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="two-count"]')?.textContent) > 0,
      undefined,
      { polling: 50, timeout: 15_000 },
    );
    expect(mine()).toHaveLength(1);
    const connection = mine()[0];
    expect(subscribes(connection, "demo/ticks/#")).toBe(1);

    // Unmounting the provider: the last users of the filter are gone (UNSUBSCRIBE), the
    // client stays connected.
    await page.evaluate(() => window.given.setMounted(false));
    await waitText(page, "unmounted", "unmounted");
    await until(() => unsubscribes(connection, "demo/ticks/#") === 1, "UNSUBSCRIBE");
    await new Promise((r) => setTimeout(r, 300));
    expect(await page.evaluate(() => window.given.client.state)).toBe("connected");
    expect(connection?.closedAt).toBeNull();

    // Mounting again subscribes again; the app disconnects; mounting and unmounting at a
    // closed client throws nothing.
    await page.evaluate(() => window.given.setMounted(true));
    await waitText(page, "one-status", "active");
    expect(subscribes(connection, "demo/ticks/#")).toBe(2);
    await page.evaluate(() => window.given.client.disconnect());
    await waitText(page, "one-state", "idle");
    await until(() => connection?.closedAt !== null, "the connection to close");
    await page.evaluate(() => window.given.setMounted(false));
    await page.evaluate(() => window.given.setMounted(true));
    await waitText(page, "two-state", "idle");
    await new Promise((r) => setTimeout(r, 300));
    expect(mine()).toHaveLength(1);
    expect(errors).toEqual([]);
    await page.close();
  } finally {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  }
});
