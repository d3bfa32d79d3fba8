/**
 * `AbortSignal` for `connect()`, `subscribe()` and `publish()`, and
 * `once(event)`: each aborted call settles with an `AbortError` and takes
 * back what it started (a queued publish, a pending subscription, a
 * connection attempt), so nothing is left behind.
 */

import { AbortError } from "../errors.js";
import type { Qos } from "../services/broker-link.js";
import type { Outbox, Publication } from "../services/outbox.js";
import type {
  MessageHandler,
  Subscription,
  SubscriptionRegistry,
} from "../services/subscriptions.js";

/** Options of the calls that take an `AbortSignal`. */
export interface AbortOptions {
  /** Aborting it settles the call with an `AbortError` and takes back what the call started. */
  signal?: AbortSignal;
}

/** Options of `client.once()`. */
export interface OnceOptions<T> extends AbortOptions {
  /** Resolve on the first event this returns true for (default: the first event). */
  filter?: (value: T) => boolean;
}

/** Rejects at once, before anything started, when `signal` has already aborted. */
export function abortedAlready(
  what: string,
  signal: AbortSignal | undefined,
): Promise<never> | null {
  return signal?.aborted ? Promise.reject(new AbortError(what, signal.reason)) : null;
}

/**
 * `connect()` with a signal: aborting it before the client is connected
 * rejects with `AbortError` and stops connecting, as `disconnect()` does.
 */
export function abortableConnect(
  connected: Promise<void>,
  signal: AbortSignal,
  stop: () => Promise<void>,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      reject(new AbortError("connect()", signal.reason));
      // The attempt this call started ends; `connected` then rejects with ClientClosedError.
      stop().catch(ignore);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    connected.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * `subscribe()` with a signal. Aborting it while the broker has not granted
 * the filter yet rejects with `AbortError` and withdraws the subscription
 * (nothing tracked, nothing restored later); aborting it afterwards
 * unsubscribes, as `addEventListener`'s `signal` removes a listener.
 */
export function abortableSubscribe(
  registry: SubscriptionRegistry,
  filter: string,
  handler: MessageHandler,
  qos: Qos,
  signal: AbortSignal,
): Promise<Subscription> {
  // A handler of its own, so that withdrawing this call touches no other subscribe() of `handler`.
  let live = true;
  const own: MessageHandler = (message) => {
    if (live) handler(message);
  };
  return new Promise<Subscription>((resolve, reject) => {
    let granted: Subscription | null = null;
    const onAbort = () => {
      live = false;
      if (granted) {
        granted.unsubscribe().catch(ignore);
        return;
      }
      const error = new AbortError("subscribe()", signal.reason);
      registry.withdraw(own, error);
      reject(error);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    registry.add(filter, own, qos).then(
      (subscription) => {
        granted = subscription;
        resolve({
          filter: subscription.filter,
          qos: subscription.qos,
          unsubscribe: () => {
            live = false;
            signal.removeEventListener("abort", onAbort);
            return subscription.unsubscribe();
          },
        });
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * `publish()` with a signal: aborting it before the publish settled rejects
 * with `AbortError` and takes it out of the outbox. A publish still queued is
 * never sent; one already written cannot be recalled (the broker may deliver
 * it) but is no longer waited for nor sent again.
 */
export function abortablePublish(
  outbox: Outbox,
  request: Publication,
  signal: AbortSignal,
): Promise<void> {
  const settled = outbox.publish(request);
  const onAbort = () => outbox.withdraw(request, new AbortError("publish()", signal.reason));
  signal.addEventListener("abort", onAbort, { once: true });
  return settled.finally(() => signal.removeEventListener("abort", onAbort));
}

/** The subset of the client's emitter `once()` needs. */
export interface Listenable<Events> {
  on<K extends keyof Events>(event: K, listener: Events[K]): () => void;
}

/**
 * Resolves with the next `event`'s value (the first one `filter` accepts);
 * rejects with `AbortError` if `signal` aborts first. The listener is removed
 * either way.
 */
export function onceEvent<Events, K extends keyof Events>(
  source: Listenable<Events>,
  event: K,
  options: OnceOptions<EventValue<Events[K]>> = {},
): Promise<EventValue<Events[K]>> {
  const { signal, filter } = options;
  const aborted = abortedAlready(`once("${String(event)}")`, signal);
  if (aborted) return aborted;
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      off();
      reject(new AbortError(`once("${String(event)}")`, signal?.reason));
    };
    const listener = (value: EventValue<Events[K]>) => {
      if (filter && !filter(value)) return;
      off();
      signal?.removeEventListener("abort", onAbort);
      resolve(value);
    };
    const off = source.on(event, listener as Events[K]);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The value an event's listener receives (every client event has one). */
// biome-ignore lint/suspicious/noExplicitAny: any listener signature.
export type EventValue<L> = L extends (value: infer V, ...rest: any[]) => void ? V : never;

function ignore(): void {}
