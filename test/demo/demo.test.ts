/**
 * `npm run demo` end to end, as a child process: a short run with tokens
 * living 3 s and three viewers sharing one RemoteCredentials. Everything is
 * asserted from its `--json` event stream, as a machine reading it would.
 */

import { describe, expect, test } from "vitest";
import type { DemoEvent } from "../../demo/scenario/events.js";
import { runDemoProcess } from "./run-demo.js";

type Of<T extends DemoEvent["type"]> = Extract<DemoEvent, { type: T }>;

const VIEWERS = ["viewer-1", "viewer-2", "viewer-3"];

describe("npm run demo -- --ttl 3 --duration 12 --clients 3 --json", () => {
  test("survives every expiry: viewers renewing ahead back in ms, the page's flow beside them, no refused CONNECT, nothing lost, exit 0", async () => {
    const { code, stdout, stderr } = await runDemoProcess(
      ["--ttl", "3", "--duration", "12", "--clients", "3", "--json"],
      60_000,
    );
    const events = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as DemoEvent);
    const of = <T extends DemoEvent["type"]>(type: T) =>
      events.filter((e): e is Of<T> => e.type === type);

    expect(stderr).toBe("");
    expect(code).toBe(0);

    // viewer-1 and viewer-2 renew ahead of each expiry; viewer-3 (refreshAhead: false) shows the
    // page's flow. Counted from the state transitions themselves.
    const AHEAD = ["viewer-1", "viewer-2"];
    const REACTIVE = "viewer-3";
    const pathOf = (client: string) =>
      of("client.state")
        .filter((e) => e.client === client)
        .map((e) => e.state)
        .join(" ");
    const refreshes = (client: string) =>
      of("client.state").filter((e) => e.client === client && e.state === "refreshing").length;
    const cycles = refreshes(REACTIVE);
    expect(cycles).toBeGreaterThanOrEqual(2);
    // Closed at the token's known expiry, it enters the page's flow with no refusal first.
    const cycle = "connected refreshing waiting reconnecting restoring connected";
    expect(pathOf(REACTIVE).split(cycle).length - 1).toBeGreaterThanOrEqual(2);
    for (const left of of("client.state").filter(
      (e) => e.client === REACTIVE && e.previous === "waiting",
    ))
      expect(left.durationMs).toBeGreaterThanOrEqual(1990);
    // Renewing ahead: straight back at every expiry, never a refresh after the close.
    for (const viewer of AHEAD) {
      expect(refreshes(viewer)).toBe(0);
      const rotation = "connected reconnecting restoring connected";
      expect(pathOf(viewer).split(rotation).length - 1).toBeGreaterThanOrEqual(2);
    }
    expect(of("broker.refused")).toEqual([]);
    const viewerKicks = of("broker.kicked").filter((e) => VIEWERS.includes(e.clientId));
    expect(viewerKicks.length).toBeGreaterThanOrEqual(2 * VIEWERS.length);

    // The summary compares both, honestly: offline per expiry and refused CONNECTs.
    const summary = events.at(-1) as Of<"demo.summary">;
    expect(summary.modes.ahead.viewers).toEqual(AHEAD);
    expect(summary.modes.reactive.viewers).toEqual([REACTIVE]);
    expect(summary.modes.ahead.refusedConnects).toBe(0);
    expect(summary.modes.reactive.refusedConnects).toBe(0);
    expect(summary.modes.ahead.expiries).toBeGreaterThanOrEqual(4);
    expect(summary.modes.ahead.worstOfflineMs).toBeLessThan(1000);
    expect(summary.modes.reactive.medianOfflineMs).toBeGreaterThanOrEqual(2000);
    expect(summary.refreshCycles).toBe(cycles);

    // Sharing: one RemoteCredentials for every viewer, fewer requests than refreshes asked for.
    const viewerTokens = of("token.issued").filter((e) => e.userId === "viewer");
    expect(summary.tokenRequests.viewerRefreshes).toBe(viewerTokens.length - 1);
    expect(summary.tokenRequests.viewerRefreshes).toBeLessThan(
      summary.tokenRequests.viewerRefreshCalls,
    );

    // Nothing lost, by the summary and by the stream of restores.
    expect(summary.type).toBe("demo.summary");
    expect(summary.ok).toBe(true);
    expect(summary.messages.lost).toBe(0);
    expect(summary.messages.published).toBeGreaterThan(100);
    expect(summary.messages.received).toBe(summary.messages.published * VIEWERS.length);
    expect(summary.messages.failed).toBe(0);
    const recoveries = of("client.restored").flatMap((e) =>
      e.recoveryMs === undefined ? [] : [e.recoveryMs],
    );
    expect(summary.worstRecoveryMs).toBe(Math.max(...recoveries));
    // The kept session needs no re-subscribing: every restore after an expiry had sessionPresent.
    const afterRefresh = of("client.restored").filter(
      (e) => e.offlineMs !== undefined && e.client !== "publisher",
    );
    expect(afterRefresh.length).toBeGreaterThanOrEqual(2 * VIEWERS.length);
    for (const restore of afterRefresh)
      expect(restore).toMatchObject({ sessionPresent: true, filters: 0, packets: 0 });
  }, 90_000);
});

describe("npm run demo -- --clean (sessions not kept)", () => {
  test("loses what was published while the viewer refreshed, says so, and exits 1", async () => {
    const { code, stdout } = await runDemoProcess(
      ["--ttl", "3", "--duration", "5", "--clients", "2", "--clean", "--json"],
      60_000,
    );
    const events = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as DemoEvent);
    const summary = events.at(-1) as Of<"demo.summary">;
    expect(code).toBe(1);
    expect(summary.ok).toBe(false);
    expect(summary.messages.lost).toBeGreaterThan(0);
    // viewer-2 is on the page's flow (refreshAhead: false): offline for the 2 s wait.
    expect(summary.clients["viewer-2"]?.lostSeqs?.length).toBeGreaterThan(0);
    // Without a kept session, the SDK re-subscribes every tracked filter, in one packet.
    const restores = events.filter(
      (e): e is Of<"client.restored"> => e.type === "client.restored" && e.client === "viewer-2",
    );
    expect(restores.at(-1)).toMatchObject({ sessionPresent: false, filters: 3, packets: 1 });
    expect(restores.at(-1)?.recoveryMs).toBeDefined();
  }, 60_000);
});

describe("flags", () => {
  test("a bad flag gets a clear message on stderr and exit code 2", async () => {
    const unknown = await runDemoProcess(["--tll", "3"], 30_000);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr).toContain("Unknown option '--tll'");
    expect(unknown.stderr).toContain("--help");

    const bad = await runDemoProcess(["--clients", "zero"], 30_000);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--clients must be a whole number from 1 to 50, got "zero"');
  });

  test("--help prints the flags with their defaults and exits 0", async () => {
    const { code, stdout } = await runDemoProcess(["--help"], 30_000);
    expect(code).toBe(0);
    for (const flag of ["--ttl", "--duration", "--clients", "--jitter", "--json", "--help"])
      expect(stdout).toContain(flag);
    expect(stdout).toContain("(default 10)");
  });
});
