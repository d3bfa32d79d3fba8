/** Flag parsing and the terminal's colour decision. */

import { describe, expect, test } from "vitest";
import { parseFlags, UsageError } from "../../demo/cli/flags.js";
import { palette, wantsColour } from "../../demo/render/colour.js";
import { DEFAULT_CONFIG } from "../../demo/scenario/config.js";

describe("parseFlags", () => {
  test("defaults, and every flag", () => {
    expect(parseFlags([])).toEqual({ kind: "run", config: DEFAULT_CONFIG, json: false });
    expect(
      parseFlags([
        "--ttl=3",
        "--duration",
        "0",
        "--clients",
        "5",
        "--rate",
        "50",
        "--jitter",
        "full",
        "--transport",
        "ws",
        "--token-latency",
        "0",
        "--clean",
        "--json",
      ]),
    ).toEqual({
      kind: "run",
      json: true,
      config: {
        ttlSeconds: 3,
        durationSeconds: 0,
        clients: 5,
        rate: 50,
        jitter: "full",
        transport: "ws",
        tokenLatencyMs: 0,
        cleanSession: true,
      },
    });
    expect(parseFlags(["-h"])).toEqual({ kind: "help" });
  });

  test("--web serves the viewer (any free port by default) and runs until Ctrl-C unless --duration is given", () => {
    expect(parseFlags(["--web"])).toEqual({
      kind: "run",
      json: false,
      web: { port: 0 },
      config: { ...DEFAULT_CONFIG, durationSeconds: 0 },
    });
    expect(parseFlags(["--web", "--port", "8080", "--duration", "30"])).toMatchObject({
      web: { port: 8080 },
      config: { durationSeconds: 30 },
    });
  });

  test.each<[string[], string]>([
    [["--tll", "3"], "Unknown option '--tll'"],
    [["--ttl"], "argument missing"],
    [["--ttl", "2"], "--ttl must be a number from 3 to 3600"],
    [["--ttl", "ten"], 'got "ten"'],
    [["--clients", "0"], "--clients must be a whole number from 1 to 50"],
    [["--clients", "2.5"], "whole number"],
    [["--duration=-1"], "--duration must be a number from 0"],
    [["--duration", "-1"], "use '--duration=-XYZ'"],
    [["--jitter", "some"], "--jitter must be one of none, full, equal, decorrelated"],
    [["--transport", "udp"], "--transport must be one of tcp, ws"],
    [["extra"], "Unexpected argument 'extra'"],
    [["--port", "8080"], "--port needs --web"],
    [["--web", "--port", "70000"], "--port must be a whole number from 0 to 65535"],
  ])("%j is refused: %s", (argv, message) => {
    expect(() => parseFlags(argv)).toThrow(UsageError);
    expect(() => parseFlags(argv)).toThrow(message);
  });
});

describe("colour", () => {
  test.each<[boolean, Record<string, string>, boolean]>([
    [true, {}, true],
    [false, {}, false],
    [true, { NO_COLOR: "1" }, false],
    // NO_COLOR set to the empty string does not count (no-color.org).
    [true, { NO_COLOR: "" }, true],
    [true, { TERM: "dumb" }, false],
    [false, { FORCE_COLOR: "1" }, true],
    [true, { NO_COLOR: "1", FORCE_COLOR: "1" }, false],
  ])("tty %s with %j: %s", (isTTY, env, expected) => {
    expect(wantsColour({ isTTY, env })).toBe(expected);
  });

  test("a plain palette adds no escape codes", () => {
    expect(palette(false).red("x")).toBe("x");
    expect(palette(true).red("x")).toBe("\u001b[31mx\u001b[39m");
  });
});
