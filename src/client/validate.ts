/**
 * Reading one option by its path: a value of the expected kind, or its
 * default from the table of option defaults when left out; anything else
 * throws `InvalidOptionsError` naming the option.
 */

import { defaultOf, type OptionPath } from "../defaults.js";
import { InvalidOptionsError } from "../errors.js";
import { shown } from "../services/values.js";

export { shown };

type Valued<T> = {
  [K in OptionPath]: ReturnType<typeof defaultOf<K>> extends T ? K : never;
}[OptionPath];

/** The longest duration option, in seconds (what a timer can hold). */
// MAX_TIMER_MS / 1000, written out: a division at the top level would stay in every bundle.
export const MAX_DURATION_SECONDS = 2_147_483.647;

export function seconds(
  value: unknown,
  path: Valued<number>,
  allowZero = false,
  fallback: number = defaultOf(path),
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    value < 0 ||
    (!allowZero && value === 0)
  ) {
    throw new InvalidOptionsError(
      path,
      `expected a ${allowZero ? "non-negative" : "positive"} number of seconds, got ${shown(value)}`,
    );
  }
  if (value > MAX_DURATION_SECONDS) {
    throw new InvalidOptionsError(
      path,
      `expected at most ${MAX_DURATION_SECONDS} seconds (timers cannot hold longer delays), got ${value}`,
    );
  }
  return value;
}

export function count(value: unknown, path: Valued<number>, allowInfinity = false): number {
  if (value === undefined) return defaultOf(path);
  const ok =
    typeof value === "number" &&
    value >= 1 &&
    (Number.isInteger(value) || (allowInfinity && value === Number.POSITIVE_INFINITY));
  if (!ok) throw new InvalidOptionsError(path, `expected a positive integer, got ${shown(value)}`);
  return value;
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: Valued<T>): T {
  if (value === undefined) return defaultOf(path) as unknown as T;
  if (!allowed.includes(value as T)) {
    throw new InvalidOptionsError(
      path,
      `expected one of ${allowed.join(", ")}, got ${shown(value)}`,
    );
  }
  return value as T;
}

export function objectOrEmpty(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidOptionsError(field, "expected an object");
  }
  return value as Record<string, unknown>;
}

/** Edit distance between two short names (case-insensitive). */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let row = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i += 1) {
    const next = [i];
    for (let j = 1; j <= y.length; j += 1) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + cost);
    }
    row = next;
  }
  return row[y.length] ?? 0;
}

/** The known name `key` most likely meant, if one is close. */
export function nearest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const prefixed = known.find((name) => name.toLowerCase().startsWith(lower) && lower.length >= 3);
  if (prefixed) return prefixed;
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.ceil(key.length / 3)) + 1;
  for (const name of known) {
    const d = distance(key, name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Throws `InvalidOptionsError` for a key of `value` that is not one of
 * `known` (a typo would otherwise be ignored and its option left at its
 * default), naming it and the known key it most likely meant.
 */
export function onlyKnownKeys(
  value: Record<string, unknown>,
  known: readonly string[],
  parent: string,
): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const field = parent ? `${parent}.${key}` : key;
    const guess = nearest(key, known);
    throw new InvalidOptionsError(
      field,
      `unknown option${guess ? ` (did you mean ${parent ? `${parent}.` : ""}${guess}?)` : ""}; known: ${known.join(", ")}`,
    );
  }
}
