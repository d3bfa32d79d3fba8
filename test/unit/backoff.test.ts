import { describe, expect, it } from "vitest";
import { type BackoffPolicy, backoffDelay, type Jitter } from "../../src/services/backoff.js";

/** The page's defaults: 1 → 2 → 4 → 8 → 16 → 32 → 60 → 60 seconds. */
const PAGE: BackoffPolicy = { baseSeconds: 1, ceilSeconds: 60, jitter: "none" };

/** A random source that always returns `value` (must be in [0, 1)). */
const fixed = (value: number) => () => value;
/** Just below 1, the largest value a `Math.random`-like source can return. */
const ALMOST_ONE = 1 - Number.EPSILON;

const policy = (jitter: Jitter, baseSeconds = 1, ceilSeconds = 60): BackoffPolicy => ({
  baseSeconds,
  ceilSeconds,
  jitter,
});

describe("backoffDelay, jitter none (the page's sequence)", () => {
  it.each([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [4, 8_000],
    [5, 16_000],
    [6, 32_000],
    [7, 60_000],
    [8, 60_000],
    [9, 60_000],
  ])("attempt %i waits %i ms", (attempt, expected) => {
    expect(backoffDelay(attempt, PAGE, fixed(0.5))).toBe(expected);
  });

  it("does not consult the random source", () => {
    let calls = 0;
    const random = () => {
      calls++;
      return 0.5;
    };
    for (let attempt = 1; attempt <= 10; attempt++) backoffDelay(attempt, PAGE, random);
    expect(calls).toBe(0);
  });

  it.each([50, 1_000, 1_023, 1_024, 1_025, 10_000, Number.MAX_SAFE_INTEGER])(
    "huge attempt %i stays at the ceiling (no NaN, no Infinity)",
    (attempt) => {
      const delay = backoffDelay(attempt, PAGE, fixed(0.5));
      expect(Number.isFinite(delay)).toBe(true);
      expect(delay).toBe(60_000);
    },
  );

  it.each([
    [0, 1_000],
    [-3, 1_000],
    [1.9, 1_000],
    [2.5, 2_000],
  ])("attempt %d is treated as a whole attempt ≥ 1 → %i ms", (attempt, expected) => {
    expect(backoffDelay(attempt, PAGE, fixed(0.5))).toBe(expected);
  });

  it.each([
    [1, 50],
    [2, 100],
    [3, 200],
    [4, 400],
    [5, 800],
    [6, 1_000],
    [7, 1_000],
  ])("fractional base 0.05 s, ceil 1 s: attempt %i waits %i ms", (attempt, expected) => {
    expect(backoffDelay(attempt, policy("none", 0.05, 1), fixed(0))).toBe(expected);
  });

  it("base equal to ceil is flat", () => {
    for (let attempt = 1; attempt <= 20; attempt++) {
      expect(backoffDelay(attempt, policy("none", 5, 5), fixed(0))).toBe(5_000);
    }
  });
});

/** `min(ceil, base · 2^(attempt-1))` in ms, the value jitter spreads. */
function expOf(attempt: number, p: BackoffPolicy): number {
  return Math.min(p.ceilSeconds * 1000, p.baseSeconds * 1000 * 2 ** (attempt - 1));
}

describe("backoffDelay, jitter full: [0, exp)", () => {
  it.each([
    [1, 0, 0],
    [1, 0.5, 500],
    [1, ALMOST_ONE, 999],
    [3, 0.5, 2_000],
    [7, 0, 0],
    [7, 0.5, 30_000],
    [7, ALMOST_ONE, 59_999],
    [1000, 0.25, 15_000],
  ])("attempt %i, random %d → %i ms", (attempt, r, expected) => {
    expect(backoffDelay(attempt, policy("full"), fixed(r))).toBe(expected);
  });
});

describe("backoffDelay, jitter equal: [exp/2, exp)", () => {
  it.each([
    [1, 0, 500],
    [1, 0.5, 750],
    [1, ALMOST_ONE, 999],
    [4, 0, 4_000],
    [4, ALMOST_ONE, 7_999],
    [9, 0, 30_000],
    [9, ALMOST_ONE, 59_999],
  ])("attempt %i, random %d → %i ms", (attempt, r, expected) => {
    expect(backoffDelay(attempt, policy("equal"), fixed(r))).toBe(expected);
  });
});

describe("backoffDelay, jitter decorrelated: [base, min(ceil, 3·previous))", () => {
  it.each([
    // [previousMs, random, expected]
    [undefined, 0, 1_000],
    [undefined, 0.5, 2_000],
    [undefined, ALMOST_ONE, 2_999],
    [1_000, 0.5, 2_000],
    [4_000, 0, 1_000],
    [4_000, 0.5, 6_500],
    [4_000, ALMOST_ONE, 11_999],
    [30_000, ALMOST_ONE, 59_999],
    [60_000, 0.5, 30_500],
    [1e12, ALMOST_ONE, 59_999],
  ])("previous %s ms, random %d → %i ms", (previous, r, expected) => {
    expect(backoffDelay(3, policy("decorrelated"), fixed(r), previous)).toBe(expected);
  });

  it("does not depend on the attempt number", () => {
    const delays = [1, 2, 10, 1000].map((a) =>
      backoffDelay(a, policy("decorrelated"), fixed(0.3), 5_000),
    );
    expect(new Set(delays).size).toBe(1);
  });

  it("returns base when the previous delay was at or below base", () => {
    expect(backoffDelay(2, policy("decorrelated"), fixed(0.9), 1_000 / 3)).toBe(1_000);
  });
});

describe("backoffDelay bounds over many Math.random draws", () => {
  const DRAWS = 5_000;
  const policies: BackoffPolicy[] = [
    policy("full"),
    policy("equal"),
    policy("decorrelated"),
    policy("full", 0.05, 1),
    policy("equal", 0.05, 1),
    policy("decorrelated", 0.05, 1),
    policy("decorrelated", 2, 7),
  ];

  it.each(policies)("$jitter, base $baseSeconds s, ceil $ceilSeconds s", (p) => {
    const base = p.baseSeconds * 1000;
    const ceil = p.ceilSeconds * 1000;
    let previous: number | undefined;
    for (let i = 0; i < DRAWS; i++) {
      const attempt = 1 + (i % 40);
      const delay = backoffDelay(attempt, p, Math.random, previous);
      expect(Number.isFinite(delay)).toBe(true);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(ceil);
      const exp = expOf(attempt, p);
      if (p.jitter === "full") {
        expect(delay).toBeLessThan(exp);
      } else if (p.jitter === "equal") {
        expect(delay).toBeGreaterThanOrEqual(exp / 2);
        expect(delay).toBeLessThan(exp);
      } else {
        const high = Math.min(ceil, 3 * (previous ?? base));
        expect(delay).toBeGreaterThanOrEqual(base);
        if (high > base) expect(delay).toBeLessThan(high);
        else expect(delay).toBe(base);
      }
      previous = delay;
    }
  });

  it("draws randomness per call (two calls with Math.random differ)", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 50; i++) seen.add(backoffDelay(7, policy("full"), Math.random));
    expect(seen.size).toBeGreaterThan(1);
  });
});
