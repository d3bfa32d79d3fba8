/**
 * What the React bindings share per `RealtimeClient`, outside React: a
 * reference-counted hold on the connection and reference-counted
 * subscriptions. Releases are deferred by one task, so a component that
 * unmounts and mounts again at once (StrictMode's double mount, fast
 * refresh, a list re-keyed) keeps the same connection and the same
 * SUBSCRIBE: nothing is closed and reopened, and no effect ever throws,
 * whatever state the client is in.
 */

import type { CourierError, Message, Qos, RealtimeClient } from "@armaanjain/courier-web-sdk";

/** Where a hook's subscription stands. */
export type SubscriptionStatus = "inactive" | "pending" | "active" | "failed";

/** A hook's subscription: its status and, when `failed`, why. */
export interface SubscriptionState {
  /**
   * `inactive`: disabled, or rendering on a server; `pending`: waiting for the broker's grant
   * (or for a connection); `active`: granted; `failed`: refused, see `error`.
   */
  readonly status: SubscriptionStatus;
  /** Why the subscription failed (a `SubscriptionRejectedError`, say); null otherwise. */
  readonly error: CourierError | null;
}

export const INACTIVE: SubscriptionState = Object.freeze({ status: "inactive", error: null });
const PENDING: SubscriptionState = Object.freeze({ status: "pending", error: null });
const ACTIVE: SubscriptionState = Object.freeze({ status: "active", error: null });

type Listener = (message: Message) => void;

interface Topic {
  readonly filter: string;
  readonly qos: Qos;
  readonly listeners: Set<Listener>;
  /** Aborting it withdraws or unsubscribes the one `subscribe()` this topic holds. */
  controller: AbortController | null;
  release: ReturnType<typeof setTimeout> | null;
}

/** The key of one shared subscription: two hooks with the same filter and QoS share it. */
export const topicKey = (filter: string, qos: Qos): string => `${qos}:${filter}`;

const stores = new WeakMap<RealtimeClient, ClientStore>();

/** The one store of `client` (every provider given the same client shares it). */
export function storeOf(client: RealtimeClient): ClientStore {
  let store = stores.get(client);
  if (!store) {
    store = new ClientStore(client);
    stores.set(client, store);
  }
  return store;
}

export class ClientStore {
  readonly client: RealtimeClient;
  readonly #topics = new Map<string, Topic>();
  readonly #states = new Map<string, SubscriptionState>();
  readonly #watchers = new Map<string, Set<() => void>>();
  #holds = 0;
  #releaseConnection: ReturnType<typeof setTimeout> | null = null;

  constructor(client: RealtimeClient) {
    this.client = client;
    // A subscription that a disconnect() or a terminal failure cancelled while hooks still hold
    // it is asked again when the client starts over.
    client.on("stateChange", ({ previous }) => {
      if (previous !== "idle" && previous !== "failed") return;
      for (const [key, topic] of this.#topics) {
        const state = this.#states.get(key);
        const code = state?.error?.code;
        if (topic.listeners.size > 0 && (code === "CLIENT_CLOSED" || code === "CLIENT_FAILED"))
          this.#subscribe(key, topic);
      }
    });
  }

  /**
   * Holds the connection open: the first hold connects, the release of the
   * last one disconnects one task later unless a new hold came meanwhile.
   * Returns the release.
   */
  holdConnection(): () => void {
    this.#holds += 1;
    if (this.#releaseConnection !== null) {
      clearTimeout(this.#releaseConnection);
      this.#releaseConnection = null;
    } else if (this.#holds === 1) {
      this.client.connect().catch(ignore);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds -= 1;
      if (this.#holds > 0) return;
      this.#releaseConnection = setTimeout(() => {
        this.#releaseConnection = null;
        if (this.#holds === 0) this.client.disconnect().catch(ignore);
      }, 0);
    };
  }

  /**
   * Adds `listener` to the shared subscription of `filter` at `qos`: the
   * first listener subscribes, the release of the last one unsubscribes one
   * task later unless a new listener came meanwhile. Returns the release.
   */
  retain(filter: string, qos: Qos, listener: Listener): () => void {
    const key = topicKey(filter, qos);
    let topic = this.#topics.get(key);
    if (!topic) {
      topic = { filter, qos, listeners: new Set(), controller: null, release: null };
      this.#topics.set(key, topic);
    }
    if (topic.release !== null) {
      clearTimeout(topic.release);
      topic.release = null;
    }
    // Each retain gets its own entry, even when the same function is passed twice.
    const own: Listener = (message) => listener(message);
    topic.listeners.add(own);
    if (topic.controller === null) this.#subscribe(key, topic);
    const held = topic;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      held.listeners.delete(own);
      if (held.listeners.size > 0) return;
      held.release = setTimeout(() => {
        held.release = null;
        if (held.listeners.size > 0 || this.#topics.get(key) !== held) return;
        this.#topics.delete(key);
        held.controller?.abort();
        held.controller = null;
        this.#set(key, INACTIVE);
      }, 0);
    };
  }

  /** The state of the shared subscription `key` (see `topicKey`). */
  state(key: string): SubscriptionState {
    return this.#states.get(key) ?? INACTIVE;
  }

  /** Calls `onChange` when the state of `key` changes; returns the function that stops it. */
  watch(key: string, onChange: () => void): () => void {
    let set = this.#watchers.get(key);
    if (!set) {
      set = new Set();
      this.#watchers.set(key, set);
    }
    set.add(onChange);
    return () => {
      set.delete(onChange);
      if (set.size === 0 && this.#watchers.get(key) === set) this.#watchers.delete(key);
    };
  }

  #subscribe(key: string, topic: Topic): void {
    const controller = new AbortController();
    topic.controller = controller;
    this.#set(key, PENDING);
    const dispatch = (message: Message) => {
      let failure: { error: unknown } | null = null;
      for (const listener of [...topic.listeners]) {
        try {
          listener(message);
        } catch (error) {
          failure ??= { error };
        }
      }
      // The client reports it (a HandlerError on its `error` event); the other listeners ran.
      if (failure) throw failure.error;
    };
    this.client
      .subscribe(topic.filter, dispatch, { qos: topic.qos, signal: controller.signal })
      .then(
        () => {
          if (topic.controller === controller) this.#set(key, ACTIVE);
        },
        (error: CourierError) => {
          if (topic.controller !== controller || controller.signal.aborted) return;
          topic.controller = null;
          this.#set(key, Object.freeze({ status: "failed", error }));
        },
      );
  }

  #set(key: string, state: SubscriptionState): void {
    if (this.#states.get(key) === state) return;
    if (state === INACTIVE) this.#states.delete(key);
    else this.#states.set(key, state);
    for (const onChange of [...(this.#watchers.get(key) ?? [])]) onChange();
  }
}

function ignore(): void {}
