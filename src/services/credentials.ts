/**
 * Credential providers, and the one layer that shares their calls: any
 * number of refreshes asked of one provider while a call is in flight share
 * that call — whether they come from one client or from several clients
 * given the same function or provider object. A call every caller stopped
 * waiting for (a timeout, a disconnect) is abandoned: the next refresh calls
 * the provider again at once, and the abandoned call's late answer is
 * dropped. A provider that shares its calls itself
 * (`sharesCalls`, as `RemoteCredentials` does) is called directly, so no
 * call is shared twice. Beside each provider's call, the same layer keeps
 * its latest answer with its expiry: a client holding older credentials
 * takes it, while it has enough life, without a new request (README,
 * "Refreshing ahead of the expiry", says how much is enough).
 */

import { AuthRefreshError, CourierError } from "../errors.js";
import type { RefreshReason } from "../machines/connection.types.js";
import type { Endpoint } from "./endpoint.js";
import { type Answer, answerOf, type Held, isReusable } from "./latest-answer.js";
import type { Secret } from "./secret.js";

export type { RefreshReason };

/**
 * What the client says when it asks a provider for credentials. More fields
 * may be added; a provider reads the ones it cares about.
 */
export interface CredentialsRequest {
  /** Aborted when the client no longer needs the answer (disconnect, timeout). */
  readonly signal?: AbortSignal;
  /**
   * The password the client wants replaced: the one the broker refused, or
   * (`reason: "expiring"`) the one about to expire. A provider shared
   * between tabs uses it to tell whether credentials another tab fetched
   * since are newer.
   */
  readonly refused?: Secret;
  /**
   * Why the client asks: `"refused"` after the broker refused the
   * credentials (or closed the connection at their expiry), `"expiring"`
   * ahead of their expiry while the connection stays up (`refreshAhead`).
   */
  readonly reason?: RefreshReason;
}

/**
 * Anything that can produce fresh credentials. `RemoteCredentials` is one.
 * Only `getCredentials` is required; the other members are what a provider
 * may implement to hear more from the clients that use it.
 */
export interface CredentialsProvider {
  /** Resolves with fresh credentials; gives up when `request.signal` aborts. */
  getCredentials(request?: CredentialsRequest): Promise<Endpoint>;
  /**
   * Told the password a client uses from now on: the one it started with,
   * or one `updateEndpoint()` set.
   */
  usingCredentials?(password: Secret | undefined): void;
  /**
   * True when concurrent `getCredentials` calls already share one request
   * (as `RemoteCredentials`' do): clients then call it directly instead of
   * sharing their calls among themselves first.
   */
  readonly sharesCalls?: boolean;
}

/** What `onAuthFailure` is called with (the page's samples ignore it; it is there when wanted). */
export interface AuthFailureContext {
  /** Aborted when the client no longer needs the answer (disconnect, timeout). */
  readonly signal: AbortSignal;
  /** 0 for the first refresh after a rejection, then 1, 2, … for retries. */
  readonly retry: number;
  /**
   * Why the call is made: `"refused"` (the page's flow: the broker refused
   * the credentials, or closed the connection at their expiry) or
   * `"expiring"` (ahead of their expiry, the connection still up).
   */
  readonly reason: RefreshReason;
}

/**
 * The page's `onAuthFailure`: a function returning fresh credentials, or a
 * provider object. The endpoint it returns is merged over the current one.
 */
export type AuthFailureHandler =
  | ((context: AuthFailureContext) => Promise<Endpoint> | Endpoint)
  | CredentialsProvider;

/** What the client knows when it asks `onAuthFailure` (a superset of both call forms' arguments). */
export interface RefreshRequest extends AuthFailureContext {
  /** The credentials the client holds (the refused or expiring ones). */
  readonly held?: Held;
  /** The client's clock, for the answer's receipt and expiry. @default Date.now */
  readonly now?: () => number;
  /** How long after the answer arrives it is first used (the page's wait after a refusal). */
  readonly needMs?: number;
}

/** An answer and when this client received it. */
export interface ReceivedCredentials {
  readonly endpoint: Endpoint;
  readonly receivedAt: number;
}

interface Flight {
  readonly promise: Promise<unknown>;
  readonly controller: AbortController;
  waiters: number;
}

/** In-flight calls per key (a provider, a function), shared across clients. */
const flights = new WeakMap<object, Flight>();

/** Each provider's latest answer, keyed like its calls, shared by every client of it. */
const latest = new WeakMap<object, Answer<Endpoint>>();

/**
 * Runs `start` once for every caller that arrives with the same `key` while a
 * call is in flight; all of them get its result. A caller whose `signal`
 * aborts stops waiting (rejected with `cancelled()`); the shared call is
 * aborted only when every caller has stopped waiting.
 */
export function shareFlight<T>(
  key: object,
  start: (signal: AbortSignal) => Promise<T>,
  signal: AbortSignal | undefined,
  cancelled: () => Error,
): Promise<T> {
  let flight = flights.get(key);
  // A flight every caller walked away from is cancelled: a newcomer neither
  // inherits its abort nor waits for it (a handler that ignores its signal may
  // never settle). It starts a new call at once; the abandoned call's answer,
  // whenever it comes, reaches no one.
  if (!flight || flight.controller.signal.aborted) {
    const controller = new AbortController();
    const started: Flight = {
      controller,
      waiters: 0,
      promise: Promise.resolve()
        .then(() => start(controller.signal))
        .finally(() => {
          if (flights.get(key) === started) flights.delete(key);
        }),
    };
    flights.set(key, started);
    flight = started;
  }
  return join(flight as Flight & { promise: Promise<T> }, signal, cancelled);
}

function join<T>(
  flight: Flight & { promise: Promise<T> },
  signal: AbortSignal | undefined,
  cancelled: () => Error,
): Promise<T> {
  flight.waiters += 1;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (settle: () => void) => {
      if (done) return;
      done = true;
      flight.waiters -= 1;
      signal?.removeEventListener("abort", onAbort);
      settle();
    };
    const onAbort = () =>
      finish(() => {
        if (flight.waiters === 0) flight.controller.abort(signal?.reason);
        reject(cancelled());
      });
    flight.promise.then(
      (value) => finish(() => resolve(value as T)),
      (error: unknown) => finish(() => reject(error)),
    );
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Asks `handler` for credentials: a function with `{ signal, retry, reason }`,
 * a provider with `{ signal, refused, reason }`. The provider's latest answer
 * is taken instead when it is newer than what the client holds and has life
 * enough; otherwise calls are shared among everyone asking at the same time,
 * unless the provider shares them itself.
 */
export async function requestCredentials(
  handler: AuthFailureHandler,
  request: RefreshRequest,
): Promise<ReceivedCredentials> {
  const now = request.now ?? Date.now;
  const held = request.held ?? {};
  const known = latest.get(handler);
  if (known && isReusable(known, held, now(), request.needMs)) {
    return { endpoint: { ...known.endpoint }, receivedAt: known.receivedAt };
  }
  const { retry, reason } = request;
  const refused = held.password;
  // Async: a handler that throws synchronously rejects instead.
  const call = async (signal: AbortSignal): Promise<Endpoint> =>
    typeof handler === "function"
      ? handler({ signal, retry, reason })
      : handler.getCredentials(refused ? { signal, refused, reason } : { signal, reason });
  const answer =
    typeof handler !== "function" && handler.sharesCalls === true
      ? call(request.signal)
      : shareFlight(
          handler,
          call,
          request.signal,
          () => new AuthRefreshError("rejected", "the refresh was cancelled."),
        );
  let endpoint: Endpoint;
  try {
    endpoint = await answer;
  } catch (error) {
    throw asRefreshError(error);
  }
  const receivedAt = now();
  // A malformed answer is refused by the caller and never handed to another client.
  if (typeof endpoint === "object" && endpoint !== null && !Array.isArray(endpoint)) {
    const current = latest.get(handler);
    if (!current || current.receivedAt <= receivedAt) {
      latest.set(handler, answerOf({ ...endpoint }, receivedAt));
    }
  }
  return { endpoint, receivedAt };
}

/** Tells a provider that implements `usingCredentials` which password a client uses. */
export function tellProvider(handler: AuthFailureHandler, password: Secret | undefined): void {
  if (typeof handler !== "function") handler.usingCredentials?.(password);
}

/**
 * Wraps what a provider threw. Our own errors are safe to quote; an app's
 * error is kept as `cause` but its message is not copied, since it may carry
 * a token.
 */
function asRefreshError(error: unknown): CourierError {
  if (error instanceof AuthRefreshError) return error;
  if (error instanceof CourierError) {
    return new AuthRefreshError("rejected", error.message, { cause: error });
  }
  const name = error instanceof Error ? error.name : typeof error;
  return new AuthRefreshError("rejected", `onAuthFailure threw or rejected (${name}).`, {
    cause: error,
  });
}

export function isCredentialsProvider(value: unknown): value is CredentialsProvider {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as CredentialsProvider).getCredentials === "function"
  );
}
