/**
 * Reading one option by its path: a value of the expected kind, or its
 * default from the table of option defaults when left out; anything else
 * throws `InvalidOptionsError` naming the option.
 */

import { defaultOf, type OptionPath } from "../defaults.js";
import { InvalidOptionsError } from "../errors.js";

type Valued<T> = {
  [K in OptionPath]: ReturnType<typeof defaultOf<K>> extends T ? K : never;
}[OptionPath];

/**
 * The longest delay a timer can hold: 2,147,483,647 ms (about 24.8 days). Node.js
 * and browsers fire a longer timer after 1 ms, so a longer duration is refused.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** The longest duration option, in seconds (`MAX_TIMER_MS`). */
export const MAX_DURATION_SECONDS = MAX_TIMER_MS / 1000;

/** A value as an error message shows it: a string is quoted and called a string. */
export function shown(value: unknown): string {
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "bigint") return `the bigint ${String(value)}n`;
  if (Array.isArray(value)) return "an array";
  if (typeof value === "function") return "a function";
  if (typeof value === "object" && value !== null) return "an object";
  return String(value);
}

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
