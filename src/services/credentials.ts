/**
 * Credential providers and their deduplication (DESIGN.md behaviour 3): any
 * number of refreshes asked of one provider while a call is in flight share
 * that call — whether they come from one client or from several clients
 * given the same function or provider object. A second call starts only
 * after the first settled.
 */

import { AuthRefreshError, CourierError } from "../errors.js";
import type { Endpoint } from "./endpoint.js";
import type { Secret } from "./secret.js";

/** Anything that can produce fresh credentials. `RemoteCredentials` is one. */
export interface CredentialsProvider {
  /** Resolves with fresh credentials; gives up when `signal` aborts. */
  getCredentials(options?: { signal?: AbortSignal }): Promise<Endpoint>;
}

/** What `onAuthFailure` is called with (the page's samples ignore it; it is there when wanted). */
export interface AuthFailureContext {
  /** Aborted when the client no longer needs the answer (disconnect, timeout). */
  readonly signal: AbortSignal;
  /** 0 for the first refresh after a rejection, then 1, 2, … for retries. */
  readonly retry: number;
}

/**
 * The page's `onAuthFailure`: a function returning fresh credentials, or a
 * provider object. The endpoint it returns is merged over the current one.
 */
export type AuthFailureHandler =
  | ((context: AuthFailureContext) => Promise<Endpoint> | Endpoint)
  | CredentialsProvider;

interface Flight {
  readonly promise: Promise<unknown>;
  readonly controller: AbortController;
  waiters: number;
}

/**
 * How the client talks to a provider that coordinates refreshes beyond this
 * page (`RemoteCredentials`, across tabs): it says which password it uses and
 * which one the broker refused, so the provider can tell whether credentials
 * another tab fetched are newer.
 */
export interface CoordinatedProvider {
  /** Fresh credentials after the broker refused `refused`. */
  refresh(refused: Secret | undefined, signal: AbortSignal): Promise<Endpoint>;
  /** The client uses this password from now on (it started with it, or `updateEndpoint()` set it). */
  using(password: Secret | undefined): void;
}

/** Providers that coordinate, by provider object (`RemoteCredentials` registers itself). */
export const coordinatedProviders = new WeakMap<object, CoordinatedProvider>();

/** In-flight calls per key (a provider, a function), shared across clients. */
const flights = new WeakMap<object, Flight>();

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
  // A flight every caller walked away from is being cancelled: a newcomer must
  // not inherit its abort. It starts a new call once the cancelled one settled.
  if (!flight || flight.controller.signal.aborted) {
    const controller = new AbortController();
    const previous = flight ? flight.promise.catch(() => {}) : Promise.resolve();
    const started: Flight = {
      controller,
      waiters: 0,
      promise: previous
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
 * Asks `handler` for credentials, sharing one call among everyone asking at
 * the same time. `refused` is the password the broker refused, for
 * providers that coordinate across tabs (`coordinatedProviders`).
 */
export function requestCredentials(
  handler: AuthFailureHandler,
  context: AuthFailureContext,
  refused?: Secret,
): Promise<Endpoint> {
  const coordinated = coordinatedProviders.get(handler);
  return shareFlight(
    handler,
    async (signal) => {
      if (coordinated) return coordinated.refresh(refused, signal);
      return typeof handler === "function"
        ? handler({ signal, retry: context.retry })
        : handler.getCredentials({ signal });
    },
    context.signal,
    () => new AuthRefreshError("rejected", "the refresh was cancelled."),
  ).catch((error: unknown) => {
    throw asRefreshError(error);
  });
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
