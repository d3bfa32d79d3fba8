/**
 * Debian Chromium, started by the test as a user would run it, driven by
 * `playwright-core` over the DevTools protocol on 127.0.0.1.
 *
 * Why not `chromium.launch()`: Playwright then adds its own switches, among
 * them `--disable-background-timer-throttling`,
 * `--disable-renderer-backgrounding` and
 * `--disable-backgrounding-occluded-windows`, and emulates focus on every
 * page, which keeps every page "visible" — switching off exactly the
 * behaviour of hidden tabs the page-lifecycle tests are about. Here Chromium
 * gets only the switches below (and a fresh profile), and
 * `connectOverCDP(…, { noDefaults: true })` leaves its default context
 * alone, so `Page.setWebLifecycleState` can really hide and freeze a page.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** No background traffic, no first-run UI, no QUIC: nothing but the test's own requests. */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
] as const;

export interface Chromium {
  readonly browser: Browser;
  /** The default context: its pages share an origin's storage, Web Locks and BroadcastChannels. */
  readonly context: BrowserContext;
  /** Every URL the browser requested (pages, scripts, fetches, WebSockets). */
  readonly requests: readonly string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Chromium> {
  const profile = await mkdtemp(join(tmpdir(), "courier-e2e-profile-"));
  const child: ChildProcess = spawn(
    CHROMIUM,
    [
      ...CHROMIUM_FLAGS,
      `--user-data-dir=${profile}`,
      "--remote-debugging-address=127.0.0.1",
      "--remote-debugging-port=0",
      "--window-size=1600,1000",
      "about:blank",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Chromium did not start within 60 s:\n${stderr}`)),
      60_000,
    );
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Chromium exited (${code}) before it listened:\n${stderr}`));
    });
  });
  const browser = await chromium.connectOverCDP(endpoint, { noDefaults: true });
  const context = browser.contexts()[0];
  if (!context) throw new Error("Chromium has no default context");
  const requests: string[] = [];
  const watch = (page: Page) => {
    page.on("request", (request) => requests.push(request.url()));
    page.on("websocket", (ws) => requests.push(ws.url()));
  };
  context.on("page", watch);
  for (const page of context.pages()) watch(page);
  return {
    browser,
    context,
    requests,
    newPage: () => context.newPage(),
    async close() {
      const exited = child.exitCode === null ? once(child, "exit") : Promise.resolve();
      // Closes Chromium itself (for a CDP connection, browser.close() only disconnects).
      await browser
        .newBrowserCDPSession()
        .then((session) => session.send("Browser.close"))
        .catch(() => {});
      await browser.close().catch(() => {});
      const timeout = new Promise((resolve) => setTimeout(resolve, 10_000).unref());
      if ((await Promise.race([exited.then(() => "exited"), timeout])) !== "exited") {
        child.kill("SIGKILL");
        await exited;
      }
      await rm(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}

/** URLs that went anywhere but this machine's loopback (there must be none). */
export function externalRequests(requests: readonly string[]): string[] {
  return requests.filter((url) => {
    if (/^(data|about|blob|chrome-error):/.test(url)) return false;
    const { hostname } = new URL(url);
    return hostname !== "127.0.0.1";
  });
}
