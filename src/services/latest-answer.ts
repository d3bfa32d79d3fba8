/**
 * A provider's latest answer, kept with its expiry: a client of the same
 * provider that asks later — its own refresh point reached, or refused a
 * moment after another client refreshed — and holds older credentials gets
 * that answer without a new request, as long as it still has enough life.
 * Pure: the answer is kept by the credentials layer, beside the call it
 * shares (`credentials.ts`); this module decides what "enough" means.
 *
 * - known expiry: still in the first half of its lifetime when the taker
 *   first uses it (after the page's 2 s wait, for a refusal), so the taker's
 *   own refresh point, never before half the lifetime, is still ahead; and
 *   expiring later than the credentials the taker holds;
 * - unknown expiry: received at most `REUSE_MS` ago.
 *
 * Never the taker's own password back (a refused or expiring token is never
 * handed out again), and never an answer received before the taker's own
 * credentials (it is not newer).
 */

import { expiryOf } from "./expiry.js";
import { Secret } from "./secret.js";

/** An answer of unknown expiry is handed to other clients for this long. */
export const REUSE_MS = 30_000;

/** What a provider answered, when, and (when known) until when it is good. */
export interface Answer<E> {
  readonly endpoint: E;
  /** When it was received (ms, this client's clock). */
  readonly receivedAt: number;
  /** When it expires (ms, this client's clock), when known. */
  readonly expiresAt: number | undefined;
}

/** The credentials a client holds when it asks. */
export interface Held {
  readonly password?: Secret | undefined;
  readonly expiresAt?: number | undefined;
  /** When the client received them: an answer received before is not newer. */
  readonly receivedAt?: number | undefined;
}

/** `endpoint` as an answer received at `receivedAt`, with its expiry when it says one. */
export function answerOf<E>(endpoint: E, receivedAt: number): Answer<E> {
  const { password, expiresAt } = (endpoint ?? {}) as { password?: unknown; expiresAt?: unknown };
  return {
    endpoint,
    receivedAt,
    expiresAt: expiryOf(
      typeof expiresAt === "number" || expiresAt instanceof Date ? expiresAt : undefined,
      typeof password === "string" ? password : undefined,
      receivedAt,
    ),
  };
}

/**
 * True when a client holding `held` may take `answer` at `now` instead of
 * asking. `needMs`: how long after `now` the taker first uses it (the page's
 * 2 s wait after a refusal); the answer must still be in the first half of
 * its life then.
 */
export function isReusable<E>(answer: Answer<E>, held: Held, now: number, needMs = 0): boolean {
  const password = (answer.endpoint as { password?: unknown } | null)?.password;
  if (typeof password === "string" && held.password?.equals(new Secret(password))) return false;
  if (held.receivedAt !== undefined && answer.receivedAt <= held.receivedAt) return false;
  if (answer.expiresAt === undefined) return now - answer.receivedAt <= REUSE_MS;
  const halfLife = answer.receivedAt + (answer.expiresAt - answer.receivedAt) / 2;
  if (now + needMs > halfLife) return false;
  return held.expiresAt === undefined || answer.expiresAt > held.expiresAt;
}
