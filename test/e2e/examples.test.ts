/**
 * The plain-page example (examples/browser: no bundler, an import map, the
 * package's dist/) in Debian Chromium against the demo stack, tokens living
 * 4 s: the page connects, reads ticks with `for await`, lives through a
 * token expiry and keeps reading; leaving the page disconnects.
 */

import { afterAll, beforeAll, expect, test } from "vitest";
import { type RunningExample, startExample } from "../../examples/run.js";
import { type Chromium, externalRequests, launchChromium } from "./support/chromium.js";

let example: RunningExample;
let chromium: Chromium;
const kicked: string[] = [];
const accepted: string[] = [];

beforeAll(async () => {
  example = await startExample("browser", { ttlSeconds: 4 });
  example.stack.on((event) => {
    if (event.type === "broker.kicked" && event.userId === "viewer") kicked.push(event.clientId);
    if (event.type === "broker.accepted" && event.userId === "viewer")
      accepted.push(event.clientId);
  });
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.close();
  await example?.stop();
});

test("the plain page reads ticks through a token expiry", async () => {
  const page = await chromium.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(example.pageUrl ?? "");
  const seqAtLeast = (min: number) =>
    page.waitForFunction((m) => Number(document.getElementById("seq")?.textContent) >= m, min, {
      polling: 50,
      timeout: 30_000,
    });
  await page.waitForFunction(() => document.getElementById("state")?.textContent === "connected");
  await seqAtLeast(example.publisher.last);
  const deadline = Date.now() + 15_000;
  while (kicked.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(kicked).toHaveLength(1);
  await page.waitForFunction(
    // Renewed ahead of the expiry (the default): rotated to the fresh token at the close.
    () => document.getElementById("log")?.textContent?.includes("connected → reconnecting"),
    undefined,
    { polling: 50, timeout: 15_000 },
  );
  await page.waitForFunction(() => document.getElementById("state")?.textContent === "connected", {
    polling: 50,
    timeout: 15_000,
  });
  await seqAtLeast(example.publisher.last);
  expect(accepted.length).toBe(2);
  expect(new Set(accepted).size).toBe(1);
  // Leaving the page ends the loop and disconnects.
  await page.goto("about:blank");
  const closed = Date.now() + 10_000;
  while (example.stack.clientIds().some((id) => id === accepted[0]) && Date.now() < closed)
    await new Promise((r) => setTimeout(r, 50));
  expect(example.stack.clientIds()).not.toContain(accepted[0]);
  expect(errors).toEqual([]);
  expect(externalRequests(chromium.requests)).toEqual([]);
});
