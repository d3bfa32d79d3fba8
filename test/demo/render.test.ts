/** The terminal timeline: plain when piped, colour and a rewritten status line on a terminal. */

import { expect, test } from "vitest";
import { TerminalRenderer } from "../../demo/render/terminal.js";
import { DEFAULT_CONFIG } from "../../demo/scenario/config.js";
import type { DemoEvent } from "../../demo/scenario/events.js";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

const events: DemoEvent[] = [
  {
    type: "demo.started",
    at: T0,
    config: DEFAULT_CONFIG,
    brokerUrl: "mqtt://127.0.0.1:1883",
    tokenUrl: "http://127.0.0.1:8080/api/mqtt/token",
    viewers: ["viewer-1"],
    filters: ["demo/#"],
  },
  {
    type: "token.issued",
    at: T0 + 5,
    userId: "viewer",
    transport: "tcp",
    request: 2,
    expiresAt: T0 + 10_005,
  },
  {
    type: "client.state",
    at: T0 + 1000,
    client: "viewer-1",
    state: "authFailed",
    previous: "reconnecting",
    durationMs: 4,
  },
  {
    type: "client.state",
    at: T0 + 1100,
    client: "viewer-1",
    state: "waiting",
    previous: "refreshing",
    durationMs: 100,
  },
  {
    type: "client.restored",
    at: T0 + 3200,
    client: "viewer-1",
    filters: 3,
    packets: 1,
    rejected: 0,
    sessionPresent: false,
    recoveryMs: 200,
    offlineMs: 3200,
  },
  ...Array.from(
    { length: 5 },
    (_, i): DemoEvent => ({
      type: "messages.rate",
      at: T0 + 4000 + i * 1000,
      published: 20,
      received: 20,
      missing: 0,
    }),
  ),
];

function render(options: ConstructorParameters<typeof TerminalRenderer>[1]): string {
  let out = "";
  const renderer = new TerminalRenderer({ write: (text) => (out += text) }, options);
  for (const event of events) renderer.event(event);
  renderer.close();
  return out;
}

test("piped: plain lines, each transition with the time spent in the previous state, a rate line every 5 s", () => {
  const out = render({ colour: false, live: false });
  expect(out).not.toContain("\u001b");
  expect(out).toContain("viewer-1   reconnecting → authFailed");
  expect(out).toContain("after 4 ms  auth failure");
  expect(out).toContain("refreshing → waiting");
  expect(out).toContain("got token #2; the 2 s wait");
  expect(out).toContain(
    "restored 3 filters in 1 SUBSCRIBE packet · recovered 200 ms beyond the 2 s wait",
  );
  expect(out.match(/msgs\/s/g)).toHaveLength(1);
});

test("on a terminal: colours, and the rate is one status line rewritten in place, never wider than the terminal", () => {
  const out = render({ colour: true, live: true, columns: () => 40 });
  expect(out).toContain("\u001b[31m");
  const statuses = out.split("\r\u001b[2K").filter((part) => part.includes("msgs/s"));
  expect(statuses.length).toBeGreaterThanOrEqual(5);
  for (const status of statuses) expect(status.length).toBeLessThanOrEqual(40);
});
