/**
 * The live statechart viewer (`npm run demo -- --web`), in Chromium at
 * 1400 px wide: the demo runs as a child process exactly as a user starts
 * it; the page shows the generated diagrams and lights the states the demo
 * clients are in. The test follows a client through a token expiry on the
 * page — the boxes lit one after the other: refreshing, waiting,
 * reconnecting, restoring, live — takes the screenshot docs/browser.md
 * shows while a client waits its 2 s, checks that the diagrams' text is
 * drawn at 12 px or more, that the log speaks the user's words (one line per
 * happening, reason codes named, the renewal and the final disconnect()
 * called what they are, the raw event one click away), that the page asked
 * nothing of any host but 127.0.0.1 and that its log holds no token.
 *
 * `UPDATE_SCREENSHOTS=1 npm run test:e2e` writes the screenshot to
 * docs/images/statechart-viewer.png; otherwise it goes to .e2e/artifacts/.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { copyFile, mkdir } from "node:fs/promises";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ROOT } from "./support/bundle.js";
import { type Chromium, externalRequests, launchChromium } from "./support/chromium.js";

const SCREENSHOT = `${ROOT}.e2e/artifacts/statechart-viewer.png`;
const DOCS_SCREENSHOT = `${ROOT}docs/images/statechart-viewer.png`;
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

declare global {
  interface Window {
    viewer: {
      ready: boolean;
      view: string;
      history: { client: string; id: string; at: number }[];
      messages: number;
      lines: { client?: string; text: string; state?: string; tone: string }[];
    };
  }
}

let demo: ChildProcess;
let url: string;
let chromium: Chromium;

beforeAll(async () => {
  demo = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "demo/index.ts",
      "--web",
      "--json",
      "--ttl",
      "4",
      // It ends by itself, so the clients' disconnect() shows in the log.
      "--duration",
      "16",
      "--clients",
      "2",
      "--rate",
      "10",
    ],
    { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: demo.stdout as NodeJS.ReadableStream });
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("the demo printed no viewer URL in 60 s")),
      60_000,
    );
    lines.on("line", (line) => {
      const event = JSON.parse(line) as { type: string; url?: string };
      if (event.type === "demo.web" && event.url) {
        clearTimeout(timer);
        resolve(event.url);
      }
    });
    demo.once("exit", (code) => reject(new Error(`the demo exited (${code}) before serving`)));
  });
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.close();
  if (demo && demo.exitCode === null) {
    const exited = once(demo, "exit");
    demo.kill("SIGINT");
    const timer = setTimeout(() => demo.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(timer);
  }
});

/** `expected` appears in `ids` in this order (other ids may come between). */
function inOrder(ids: readonly string[], expected: readonly string[]): boolean {
  let at = 0;
  for (const id of ids) if (id === expected[at]) at += 1;
  return at === expected.length;
}

/** The smallest size, in CSS pixels on screen, at which the shown diagram draws its text. */
async function smallestText(page: import("playwright-core").Page): Promise<number> {
  // To 0.01 px: a diagram placed at a fractional offset renders at a scale of 0.99999….
  const px = await page.evaluate(() =>
    Math.min(
      ...[...document.querySelectorAll("#chart svg text")].map((t) => {
        const text = t as SVGTextElement;
        const scale = text.getScreenCTM()?.a ?? 0;
        return Number.parseFloat(getComputedStyle(text).fontSize) * scale;
      }),
    ),
  );
  return Math.round(px * 100) / 100;
}

test("the viewer lights each client's state live through a refresh cycle, in the user's words, offline; screenshot", async () => {
  const page = await chromium.newPage();
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto(url);
  await page.waitForFunction(() => window.viewer?.ready, undefined, { polling: 100 });

  // A client in its 2 s wait after a refresh: its box lit and named, as the screenshot shows it.
  const waiting = await page.waitForFunction(
    () => {
      const box = document.getElementById("connection.session.waiting");
      return box?.classList.contains("current") ? box.dataset.clients : undefined;
    },
    undefined,
    { polling: 50, timeout: 60_000 },
  );
  const who = String(await waiting.jsonValue()).split(" ")[0] ?? "";
  expect(who).toMatch(/^(viewer-\d|publisher)$/);
  await mkdir(`${ROOT}.e2e/artifacts`, { recursive: true });
  await page.screenshot({ path: SCREENSHOT });
  if (process.env.UPDATE_SCREENSHOTS === "1") {
    await mkdir(`${ROOT}docs/images`, { recursive: true });
    await copyFile(SCREENSHOT, DOCS_SCREENSHOT);
  }

  // Readable at 100 %: the overview fits the pane beside the log, every text at 12 px or more.
  expect(await page.evaluate(() => window.viewer.view)).toBe("overview");
  expect(await smallestText(page)).toBeGreaterThanOrEqual(12);
  const fits = await page.evaluate(() => {
    const pane = document.getElementById("chart") as HTMLElement;
    return pane.scrollWidth <= pane.clientWidth;
  });
  expect(fits, "the overview needs no horizontal scrolling at 1400 px").toBe(true);

  // Then the same client, lit state by state, back to live (its box lit inside `live`: `scheduled`).
  const LIVE = "connection.session.link.connected.live";
  await page.waitForFunction(
    (name) => {
      const ids = window.viewer.history
        .filter((e) => e.client === name)
        .map((e) =>
          e.id.startsWith("connection.session.link.connected.live.")
            ? "connection.session.link.connected.live"
            : e.id,
        );
      return (
        ids.lastIndexOf("connection.session.link.connected.live") >
        ids.lastIndexOf("connection.session.waiting")
      );
    },
    who,
    { polling: 100, timeout: 30_000 },
  );
  const history = (
    await page.evaluate(
      (name) => window.viewer.history.filter((e) => e.client === name).map((e) => e.id),
      who,
    )
  ).map((id) => (id.startsWith(`${LIVE}.`) ? LIVE : id));
  expect(
    inOrder(history, [
      "connection.session.link.connected.live",
      "connection.session.refreshing",
      "connection.session.waiting",
      "connection.session.link.reconnecting",
      "connection.session.link.restoring",
      "connection.session.link.connected.live",
    ]),
    history.join(" → "),
  ).toBe(true);
  // viewer-1 renews ahead of each expiry: the viewer lit its `renewing` box, then `scheduled` again.
  await page.waitForFunction(
    () =>
      window.viewer.history.some(
        (e) =>
          e.client === "viewer-1" && e.id === "connection.session.link.connected.live.renewing",
      ),
    undefined,
    { polling: 100, timeout: 30_000 },
  );
  // In the overview a client in `live` is shown in `connected`: one lit box per client.
  const lit = await page.evaluate(() =>
    [...document.querySelectorAll("g.current")].map((g) => (g as SVGGElement).dataset.clients),
  );
  expect(lit.length).toBeGreaterThan(0);

  // Every state, at its own size too: the pane scrolls instead of shrinking the text.
  await page.click('#views button[data-view="connection"]');
  await page.waitForFunction(() => document.getElementById("connection.session.link.closing"));
  expect(await smallestText(page)).toBeGreaterThanOrEqual(12);
  await page.screenshot({ path: `${ROOT}.e2e/artifacts/statechart-viewer-full.png` });
  await page.click('#views button[data-view="overview"]');

  // The log, in the user's words. The renewal after the broker closed the connection at the
  // token's known expiry (no CONNECT with the expired token, so no refusal), and why:
  const lines = () => page.evaluate(() => window.viewer.lines);
  const mine = (await lines()).filter((l) => l.client === who);
  expect(mine.map((l) => l.text)).toEqual(
    expect.arrayContaining([
      "renewing credentials after the broker closed the connection at their expiry — the broker ended it, token expired: asking onAuthFailure",
      expect.stringMatching(/^new credentials received \(valid until \d\d:\d\d:\d\d\)$/),
    ]),
  );
  expect(mine.find((l) => l.text.startsWith("renewing credentials"))?.tone).toBe("renewal");
  // One line per happening: never XState's internal names, never raw JSON, never the same
  // line twice in a row for a client (a socket close used to show twice).
  for (const line of await lines()) {
    expect(line.text).not.toMatch(/xstate\.|[{}]/);
  }
  for (const name of new Set((await lines()).map((l) => l.client))) {
    const own = (await lines()).filter((l) => l.client === name);
    own.forEach((line, i) => {
      const before = own[i - 1];
      if (before) expect(`${line.text} ${line.state}`).not.toBe(`${before.text} ${before.state}`);
    });
  }
  // The raw inspection event: one click on the line. The line is held by its element: new lines
  // are prepended while the demo runs, so "the first line" moves between the click and the check.
  const first = await page.locator("#log li details").first().elementHandle();
  if (!first) throw new Error("the log has no line to open");
  await (await first.$("summary"))?.click();
  const pre = await first.$("pre");
  const raw = (await pre?.textContent()) ?? "";
  expect(await pre?.isVisible()).toBe(true);
  expect(raw).toContain('"type"');

  // The demo ends by itself: each client's disconnect() is named as such, and what follows it
  // is the close it asked for, never a lost connection and a backoff.
  const CLIENTS = ["viewer-1", "viewer-2", "publisher"];
  const ASKED = "disconnect(): closing the connection, as asked";
  await page.waitForFunction(
    ({ names, asked }) =>
      names.every((name) => {
        const own = window.viewer.lines.filter((l) => l.client === name);
        const at = own.findIndex((l) => l.text === asked);
        return at >= 0 && own.slice(at).some((l) => l.state === "idle");
      }),
    { names: CLIENTS, asked: ASKED },
    { polling: 200, timeout: 60_000 },
  );
  for (const name of CLIENTS) {
    const own = (await lines()).filter((l) => l.client === name);
    // The client's own lines (the demo's, such as messages arriving, interleave).
    const after = own.slice(own.findIndex((l) => l.text === ASKED)).filter((l) => l.state);
    expect(after.at(-1)?.state, name).toBe("idle");
    for (const line of after) {
      expect(["closing", "idle"], `${name}: ${line.text}`).toContain(line.state);
      expect(line.text).not.toMatch(/lost|backoff/i);
    }
    if (after.some((l) => l.state === "closing")) {
      expect(after.map((l) => l.text)).toContain("disconnected, as disconnect() asked");
    }
  }

  const log = (await page.locator("#log").textContent()) ?? "";
  expect(log).toContain("[redacted]");
  expect(log).not.toMatch(JWT);
  // Everything the page loaded came from the demo's server on 127.0.0.1.
  expect(externalRequests(chromium.requests)).toEqual([]);
  expect(chromium.requests.map((r) => new URL(r).pathname)).toEqual(
    expect.arrayContaining([
      "/",
      "/viewer.js",
      "/viewer.css",
      "/overview.svg",
      "/connection.svg",
      "/events",
    ]),
  );
  if (process.env.VIEWER_LOG === "1") {
    for (const l of await lines()) console.log(`${l.client ?? ""} ${l.text} ${l.state ?? ""}`);
  }
  console.log(`viewer: ${who} through ${history.length} lit states; screenshot ${SCREENSHOT}`);
});
