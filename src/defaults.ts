/**
 * Every `RealtimeClient` option that has a default, once: its value, its
 * unit, and — for the timing options — the statechart delay it sets.
 * Option resolution, the statechart's input and its diagrams' delay labels
 * all read this table; the `@default` tags on the option types and the
 * README's options table say the same.
 */

import type {
  ConnectionDelayName,
  ConnectionTiming,
  RetryPolicy,
} from "./machines/connection.types.js";
import type { Jitter } from "./services/backoff.js";

/** One option of the defaults table: its default value and unit, and the machine delays it sets. */
export interface OptionDefault<T> {
  readonly value: T;
  /** `s` (seconds), `count`, `bytes`, or `mode` for a named choice. */
  readonly unit: "s" | "count" | "bytes" | "mode";
  /** The machine delays this option sets (the diagrams' "set by"). */
  readonly delays?: readonly ConnectionDelayName[];
}

function option<T>(
  value: T,
  unit: OptionDefault<T>["unit"],
  delays?: readonly ConnectionDelayName[],
): OptionDefault<T> {
  return delays ? { value, unit, delays } : { value, unit };
}

/** Keyed by the option's path in `RealtimeClientOptions`. */
export const OPTION_DEFAULTS = {
  "timeouts.connectSeconds": option(30, "s", ["CONNECT_TIMEOUT"]),
  "timeouts.restoreSeconds": option(30, "s", ["RESTORE_TIMEOUT"]),
  "timeouts.refreshSeconds": option(30, "s", ["REFRESH_TIMEOUT"]),
  "timeouts.closeSeconds": option(5, "s", ["CLOSE_TIMEOUT"]),
  "timeouts.probeSeconds": option(5, "s", ["PROBE_TIMEOUT"]),
  /** A PUBACK, PUBREC, PUBCOMP, SUBACK or UNSUBACK later than this marks the connection dead. */
  "timeouts.ackSeconds": option(20, "s"),
  /** The broker must answer a re-authentication (MQTT 5 AUTH 0x19) within this. */
  "timeouts.reauthSeconds": option(10, "s", ["REAUTH_TIMEOUT"]),
  /** The page's "Wait 2 seconds" between a refresh and the reconnection. */
  refreshWaitSeconds: option(2, "s", ["REFRESH_WAIT"]),
  "retryBackoff.resetAfterSeconds": option(10, "s", ["STABLE_CONNECTION"]),
  /** The page's backoff: 1 s → 2 s → 4 s → … → 60 s → 60 s. */
  "retryBackoff.baseSeconds": option(1, "s", [
    "RETRY_DELAY",
    "AUTH_RETRY_DELAY",
    "RENEW_RETRY_DELAY",
  ]),
  "retryBackoff.ceilSeconds": option(60, "s", [
    "RETRY_DELAY",
    "AUTH_RETRY_DELAY",
    "RENEW_RETRY_DELAY",
  ]),
  "retryBackoff.jitter": option<Jitter>("none", "mode"),
  "retryBackoff.maxRetries": option(Number.POSITIVE_INFINITY, "count"),
  "offlineQueue.maxMessages": option(1000, "count"),
  "offlineQueue.maxBytes": option(4 * 1024 * 1024, "bytes"),
  "offlineQueue.qos0": option<"queue" | "reject">("queue", "mode"),
  "offlineQueue.overflow": option<"rejectNew" | "dropOldest">("rejectNew", "mode"),
  "offlineQueue.afterDisconnect": option<"reject" | "queue">("reject", "mode"),
  subscribeBatchSize: option(100, "count"),
  trustSessionPresent: option(true, "mode"),
  /** Least lead of a refresh ahead of the credentials' expiry (at most a quarter of their lifetime). */
  "refreshAhead.marginSeconds": option(30, "s", ["REFRESH_AHEAD"]),
  /** Width of the per-token random spread added to that lead (at most a quarter of the lifetime). */
  "refreshAhead.jitterSeconds": option(30, "s", ["REFRESH_AHEAD"]),
} as const;

/** The dotted path of an option in `RealtimeClientOptions`, e.g. `"timeouts.connectSeconds"`. */
export type OptionPath = keyof typeof OPTION_DEFAULTS;

/** The default of one option. */
export function defaultOf<K extends OptionPath>(path: K): (typeof OPTION_DEFAULTS)[K]["value"] {
  return OPTION_DEFAULTS[path].value;
}

/** For each machine delay, the options that set it (the diagrams' "set by" column). */
export function delayOptions(): Readonly<Record<ConnectionDelayName, readonly OptionPath[]>> {
  const byDelay: Partial<Record<ConnectionDelayName, OptionPath[]>> = {};
  for (const [path, entry] of Object.entries(OPTION_DEFAULTS) as [
    OptionPath,
    OptionDefault<unknown>,
  ][]) {
    for (const delay of entry.delays ?? []) byDelay[delay] = [...(byDelay[delay] ?? []), path];
  }
  return byDelay as Record<ConnectionDelayName, OptionPath[]>;
}

const ms = (path: OptionPath & `${string}Seconds`) =>
  (OPTION_DEFAULTS[path].value as number) * 1000;

/** The machine timing of a client with default options (the page's 2 s wait among them). */
export const DEFAULT_TIMING: ConnectionTiming = {
  refreshWaitMs: /* @__PURE__ */ ms("refreshWaitSeconds"),
  connectTimeoutMs: /* @__PURE__ */ ms("timeouts.connectSeconds"),
  restoreTimeoutMs: /* @__PURE__ */ ms("timeouts.restoreSeconds"),
  refreshTimeoutMs: /* @__PURE__ */ ms("timeouts.refreshSeconds"),
  closeTimeoutMs: /* @__PURE__ */ ms("timeouts.closeSeconds"),
  stableAfterMs: /* @__PURE__ */ ms("retryBackoff.resetAfterSeconds"),
  probeTimeoutMs: /* @__PURE__ */ ms("timeouts.probeSeconds"),
  reauthTimeoutMs: /* @__PURE__ */ ms("timeouts.reauthSeconds"),
};

/** The machine retry policy of a client with default options: the page's backoff, never giving up. */
export const DEFAULT_RETRY: RetryPolicy = {
  baseSeconds: /* @__PURE__ */ defaultOf("retryBackoff.baseSeconds"),
  ceilSeconds: /* @__PURE__ */ defaultOf("retryBackoff.ceilSeconds"),
  jitter: /* @__PURE__ */ defaultOf("retryBackoff.jitter"),
  maxRetries: /* @__PURE__ */ defaultOf("retryBackoff.maxRetries"),
};
