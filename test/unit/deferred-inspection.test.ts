/**
 * The `inspect` option's redaction is loaded when `inspect` is given; the
 * events the machine reports meanwhile (the root actor's creation, its
 * first snapshot) wait and arrive first, in order, redacted like the rest.
 */

import { RealtimeClient } from "@armaanjain/courier-web-sdk";
import { expect, test } from "vitest";
import type { InspectionEvent } from "xstate";
import { waitFor } from "../support/wait.js";

test("events from before the redaction code loaded arrive first, in order, and redacted", async () => {
  const events: InspectionEvent[] = [];
  const client = new RealtimeClient({
    endpoint: { host: "127.0.0.1", port: 1, username: "u", password: "a-long-secret-password" },
    inspect: (event) => events.push(event),
  });
  // Synchronously, nothing unredacted went out.
  const atOnce = events.length;
  await waitFor(() => events.length > 0, 5000, "inspection events");
  expect(atOnce).toBe(0);
  expect(events[0]?.type).toBe("@xstate.actor");
  expect(events.map((e) => e.type)).toContain("@xstate.snapshot");
  const before = events.length;
  client.updateEndpoint({ host: "127.0.0.1", port: 1, password: "another-long-secret-password" });
  await waitFor(() => events.length > before, 5000, "the event after loading");
  // Later events are delivered as they happen (no longer held back).
  expect(events.at(-1)?.type).toMatch(/^@xstate\./);
  const text = JSON.stringify(events, (_k, v) => (typeof v === "bigint" ? String(v) : v));
  expect(text).not.toContain("a-long-secret-password");
  expect(text).not.toContain("another-long-secret-password");
  await client.disconnect();
});
