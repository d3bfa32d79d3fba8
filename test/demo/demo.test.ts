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
  test("survives every expiry: ≥ 2 refresh cycles per viewer, one token request per cycle, nothing lost, exit 0", async () => {
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

    // Refresh cycles, counted from the state transitions themselves.
    const refreshes = (client: string) =>
      of("client.state").filter((e) => e.client === client && e.state === "refreshing").length;
    const perViewer = VIEWERS.map(refreshes);
    for (const n of perViewer) expect(n).toBeGreaterThanOrEqual(2);
    const cycles = Math.max(...perViewer);

    // Dedup: the shared RemoteCredentials asked once per cycle (its first request was the initial token).
    const viewerTokens = of("token.issued").filter((e) => e.userId === "viewer");
    expect(viewerTokens.length - 1).toBe(cycles);
    expect(perViewer).toEqual(VIEWERS.map(() => cycles));

    // Each cycle is the page's flow, with the 2 s wait.
    for (const viewer of VIEWERS) {
      const states = of("client.state").filter((e) => e.client === viewer);
      const path = states.map((e) => e.state).join(" ");
      const cycle = "authFailed refreshing waiting reconnecting restoring connected";
      expect(path.split(cycle).length - 1).toBeGreaterThanOrEqual(2);
      for (const left of states.filter((e) => e.previous === "waiting"))
        expect(left.durationMs).toBeGreaterThanOrEqual(1990);
    }
    expect(of("broker.refused").every((e) => e.returnCode === 5 && e.reason === "expired")).toBe(
      true,
    );
    const viewerKicks = of("broker.kicked").filter((e) => VIEWERS.includes(e.clientId));
    expect(viewerKicks.length).toBeGreaterThanOrEqual(2 * VIEWERS.length);

    // Nothing lost, by the summary and by the stream of restores.
    const summary = events.at(-1) as Of<"demo.summary">;
    expect(summary.type).toBe("demo.summary");
    expect(summary.ok).toBe(true);
    expect(summary.messages.lost).toBe(0);
    expect(summary.messages.published).toBeGreaterThan(100);
    expect(summary.messages.received).toBe(summary.messages.published * VIEWERS.length);
    expect(summary.messages.failed).toBe(0);
    expect(summary.refreshCycles).toBe(cycles);
    expect(summary.tokenRequests.viewerRefreshes).toBe(cycles);
    expect(summary.tokenRequests.viewerRefreshCalls).toBe(cycles * VIEWERS.length);
    const recoveries = of("client.restored").flatMap((e) =>
      e.recoveryMs === undefined ? [] : [e.recoveryMs],
    );
    expect(summary.worstRecoveryMs).toBe(Math.max(...recoveries));
    // The kept session needs no re-subscribing: every restore after a refresh had sessionPresent.
    const afterRefresh = of("client.restored").filter(
      (e) => e.recoveryMs !== undefined && e.client !== "publisher",
    );
    expect(afterRefresh.length).toBeGreaterThanOrEqual(2 * VIEWERS.length);
    for (const restore of afterRefresh)
      expect(restore).toMatchObject({ sessionPresent: true, filters: 0, packets: 0 });
  }, 90_000);
});

describe("npm run demo -- --clean (sessions not kept)", () => {
  test("loses what was published while the viewer refreshed, says so, and exits 1", async () => {
    const { code, stdout } = await runDemoProcess(
      ["--ttl", "3", "--duration", "5", "--clients", "1", "--clean", "--json"],
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
    expect(summary.clients["viewer-1"]?.lostSeqs?.length).toBeGreaterThan(0);
    // Without a kept session, the SDK re-subscribes every tracked filter, in one packet.
    const restores = events.filter(
      (e): e is Of<"client.restored"> => e.type === "client.restored" && e.client === "viewer-1",
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
