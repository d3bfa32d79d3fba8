/**
 * Devtools in the browser (docs/browser.md, "Devtools"):
 * `@statelyai/inspect`'s browser inspector passed as `inspect`, exactly as
 * docs/browser.md shows, with the inspector window replaced by a page of
 * this origin in an iframe (no external host) that keeps what it is posted.
 * Through a real token expiry and refresh, the inspector gets the whole
 * story — and no token: every JWT the broker saw, and its signature alone,
 * is searched for in every event as the inspector window received it
 * (serialized by the inspector, then structured-cloned by `postMessage`).
 */

import { afterAll, beforeAll, expect, test } from "vitest";
import { findSecrets } from "../support/scan.js";
import { externalRequests } from "./support/chromium.js";
import {
  openPage,
  startClient,
  startWorld,
  statesOf,
  type World,
  waitForPage,
} from "./support/harness.js";

let world: World;
/** Every password (JWT) a CONNECT carried, accepted or not. */
const tokens: string[] = [];

beforeAll(async () => {
  world = await startWorld({ ttlSeconds: 4, tokenLatencyMs: 50 });
  const { broker } = world.stack;
  const authenticate = broker.authenticate;
  broker.authenticate = (client, username, password, done) => {
    if (password) tokens.push(password.toString("utf8"));
    authenticate.call(broker, client, username, password, done);
  };
});

afterAll(async () => {
  expect(externalRequests(world.chromium.requests)).toEqual([]);
  await world?.close();
});

test("the Stately browser inspector sees a whole refresh cycle, and no token in any event it is posted", async () => {
  const page = await openPage(world, "/devtools.html");
  await startClient(page, {
    tokenUrl: world.tokenUrl,
    clientId: "e2e-devtools",
    filter: "demo/#",
  });
  const seen = await waitForPage(
    page,
    (o) => o.states.some((s) => s.previous === "waiting") && o.states.at(-1)?.state === "connected",
  );
  expect(statesOf(seen)).toContain("refreshing");

  const inspector = page.frames().find((frame) => frame.url().endsWith("/receiver.html"));
  if (!inspector) throw new Error("the inspector frame is missing");
  // The inspector posts on idle callbacks: wait until it has told the end of the story.
  await inspector.waitForFunction(
    () =>
      window.received.some((event) => {
        const e = event as { type?: string; snapshot?: { value?: unknown } };
        return (
          e.type === "@xstate.snapshot" &&
          String(JSON.stringify(e.snapshot?.value)).includes('"live"')
        );
      }) &&
      window.received.filter((event) => JSON.stringify(event).includes('"waiting"')).length > 0,
    undefined,
    { polling: 100, timeout: 30_000 },
  );
  const received = await inspector.evaluate(() => window.received);

  // The story is there: the refresh states (entered at the known expiry, no refusal first),
  // the provider's done event, redacted credentials.
  const text = JSON.stringify(received);
  for (const state of ["refreshing", "waiting", "reconnecting", "restoring"]) {
    expect(text).toContain(`"${state}"`);
  }
  expect(text).toContain("xstate.done.actor");
  expect(text).toContain('"username":"[redacted]"');
  expect(text).toContain('"password":"[redacted]"');

  // And no token: the JWTs the broker saw (at least the first and the refreshed one), whole or signature.
  const unique = [...new Set(tokens)];
  expect(unique.length).toBeGreaterThanOrEqual(2);
  const needles = unique.flatMap((jwt) => [jwt, jwt.split(".")[2] ?? jwt]);
  expect(findSecrets(received, needles)).toEqual([]);
  console.log(
    `inspector window got ${received.length} events through a refresh cycle; ${unique.length} tokens searched: 0 hits`,
  );
});
