/**
 * Retry delays. A pure function: the randomness comes in as an argument,
 * drawn per call.
 */

/** The jitter modes, listed once. */
export const JITTERS = ["none", "full", "equal", "decorrelated"] as const;

/** How retries of many clients are spread: `none` (the page's exact sequence), `full`, `equal` or `decorrelated`. */
export type Jitter = (typeof JITTERS)[number];

/** How retries back off: `min(ceilSeconds, baseSeconds·2^(n-1))`, with optional jitter. */
export interface BackoffPolicy {
  /** Delay before the first retry, in seconds. */
  readonly baseSeconds: number;
  /** Largest delay, in seconds. */
  readonly ceilSeconds: number;
  readonly jitter: Jitter;
}

/** A source of uniform random numbers in [0, 1), like `Math.random`. */
export type Random = () => number;

/**
 * The delay before retry `attempt` (1, 2, 3, …), in milliseconds.
 *
 * With `exp = min(ceil, base · 2^(attempt-1))` (the page's 1 → 2 → 4 → … → 60 → 60):
 * - `none`: exactly `exp`;
 * - `full`: uniform in `[0, exp)`;
 * - `equal`: uniform in `[exp/2, exp)`;
 * - `decorrelated`: uniform in `[base, min(ceil, 3 · previous))`, where
 *   `previous` is the delay this function returned for the retry before
 *   (`base` for the first retry); never above `ceil`.
 *
 * Bounds: every mode returns a value in `[0, ceilSeconds·1000]`; `none`,
 * `equal` and `decorrelated` never return less than `min(base, ceil)/2`.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: Random,
  previousMs?: number,
): number {
  const base = policy.baseSeconds * 1000;
  const ceil = policy.ceilSeconds * 1000;
  const n = Math.max(1, Math.floor(attempt));
  // 2^(n-1) overflows to Infinity long after min() has chosen ceil; no special case needed.
  const exp = Math.min(ceil, base * 2 ** (n - 1));
  switch (policy.jitter) {
    case "none":
      return exp;
    case "full":
      return Math.floor(random() * exp);
    case "equal":
      return Math.floor(exp / 2 + random() * (exp / 2));
    case "decorrelated": {
      const low = Math.min(base, ceil);
      const high = Math.min(ceil, 3 * (previousMs ?? low));
      return Math.floor(low + random() * Math.max(0, high - low));
    }
  }
}
