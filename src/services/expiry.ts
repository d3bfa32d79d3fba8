/**
 * When credentials expire, and when to ask for new ones before they do
 * (README "Refreshing ahead of the expiry"). Pure functions: the clock
 * reading and the randomness come in as arguments.
 *
 * - The expiry is the endpoint's `expiresAt` when given; otherwise, for a
 *   password that is a JWT (RFC 7519: three base64url segments whose payload
 *   is a JSON object), its `exp` claim. The token is decoded, never verified:
 *   the broker verifies it.
 * - A client clock minutes off would put a JWT's `exp` minutes early or late.
 *   When the token also has `iat`, its lifetime (`exp − iat`) is counted from
 *   the moment the client received it instead, which needs no agreement
 *   between the clocks.
 * - The refresh point lies before the expiry by a lead drawn once per token:
 *   `min(margin, L/4) + u · min(jitter, L/4)` with `L` the lifetime as
 *   received and `u` uniform in [0, 1). Long tokens are refreshed
 *   `margin`…`margin + jitter` early; a short one still in its second half
 *   (a 10 s token between 5 and 7.5 s after receipt); a herd whose tokens
 *   were issued in the same second spreads over the jitter window.
 */

import { defaultOf } from "../defaults.js";
import type { Random } from "./backoff.js";

/** The claims read from a JWT password, in seconds since the epoch (RFC 7519 NumericDate). */
export interface JwtTimes {
  readonly exp?: number;
  readonly iat?: number;
}

/** How far ahead of the expiry a refresh is asked for. */
export interface RefreshAheadPolicy {
  /** Least lead for long-lived credentials, in seconds (capped at a quarter of the lifetime). */
  readonly marginSeconds: number;
  /** Width of the per-token random spread added to the lead, in seconds (capped likewise). */
  readonly jitterSeconds: number;
}

/** The defaults of the `refreshAhead` option (from the one table of option defaults). */
export const DEFAULT_REFRESH_AHEAD: RefreshAheadPolicy = {
  marginSeconds: /* @__PURE__ */ defaultOf("refreshAhead.marginSeconds"),
  jitterSeconds: /* @__PURE__ */ defaultOf("refreshAhead.jitterSeconds"),
};

/** A token issued at most this far from its receipt (by this clock) means both clocks agree. */
const CLOCKS_AGREE_MS = 2000;

/** A close this long before the known expiry, or later, counts as the expiry (clocks and timers are not exact). */
export const EXPIRY_TOLERANCE_MS = 1500;

function decodeSegment(segment: string): unknown {
  if (!/^[A-Za-z0-9_-]+$/.test(segment)) return undefined;
  const base64 = segment.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  try {
    const binary = atob(padded);
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

const isTime = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value) && value > 0;

/**
 * `exp` and `iat` of `token` when it is a JWT (JWS compact form, RFC 7515
 * §7.1) whose payload has them as numbers; undefined for anything else
 * (an opaque password, a malformed token).
 */
export function jwtTimes(token: string): JwtTimes | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] === "" || parts[1] === "") return undefined;
  const header = decodeSegment(parts[0] as string);
  const payload = decodeSegment(parts[1] as string);
  if (typeof header !== "object" || header === null) return undefined;
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return undefined;
  const { exp, iat } = payload as { exp?: unknown; iat?: unknown };
  if (!isTime(exp)) return undefined;
  return isTime(iat) ? { exp, iat } : { exp };
}

/**
 * When credentials received at `receivedAt` (ms, this client's clock)
 * expire, on this client's clock; undefined when unknown.
 *
 * - `expiresAt` (ms since the epoch, or a `Date`) wins when given.
 * - Else a JWT password's `exp`: with `iat`, `receivedAt + (exp − iat)`
 *   (a skewed clock does not matter), or `exp` itself when earlier and `iat`
 *   is within 2 s of `receivedAt` (the clocks agree); without `iat`, `exp`
 *   itself — unless that is
 *   already past on arrival, which says the clock is wrong rather than the
 *   token, so the expiry is left unknown.
 */
export function expiryOf(
  expiresAt: number | Date | undefined,
  password: string | undefined,
  receivedAt: number,
): number | undefined {
  if (expiresAt !== undefined) {
    return expiresAt instanceof Date ? expiresAt.getTime() : expiresAt;
  }
  const times = password === undefined ? undefined : jwtTimes(password);
  if (!times?.exp) return undefined;
  const absolute = times.exp * 1000;
  if (times.iat !== undefined && times.exp > times.iat) {
    const fromReceipt = receivedAt + (times.exp - times.iat) * 1000;
    // Clocks that agree (issued "just now" by this clock, up to a whole-second `iat`
    // and the trip here): `exp` itself is exact, the lifetime up to a second long.
    const agree = Math.abs(receivedAt - times.iat * 1000) <= CLOCKS_AGREE_MS;
    return agree ? Math.min(absolute, fromReceipt) : fromReceipt;
  }
  return absolute > receivedAt ? absolute : undefined;
}

/**
 * The moment to ask for fresh credentials that expire at `expiresAt` and
 * were received at `receivedAt` (both ms, this client's clock). The lead is
 * `min(margin, L/4) + random() · min(jitter, L/4)` with `L = expiresAt −
 * receivedAt`, so the result lies in `[expiresAt − margin − jitter,
 * expiresAt − min(margin, L/4)]` and never before `receivedAt + L/2`.
 * Undefined for credentials already expired on arrival.
 */
export function refreshPoint(
  expiresAt: number,
  receivedAt: number,
  policy: RefreshAheadPolicy,
  random: Random,
): number | undefined {
  const lifetime = expiresAt - receivedAt;
  if (!(lifetime > 0)) return undefined;
  const quarter = lifetime / 4;
  const lead =
    Math.min(policy.marginSeconds * 1000, quarter) +
    random() * Math.min(policy.jitterSeconds * 1000, quarter);
  return Math.round(expiresAt - lead);
}
