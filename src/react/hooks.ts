/**
 * The hooks: the connection state (through `useSyncExternalStore`, so every
 * component of one render sees the same state), a subscription with a
 * handler, the latest messages of a filter, and publishing. Subscriptions
 * are shared: hooks on the same filter and QoS hold one subscription at the
 * broker, which ends when the last of them unmounts or is disabled.
 */

import type { ConnectionState, Message, PublishOptions, Qos } from "@armaanjain/courier-web-sdk";
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { useClientStore } from "./provider.js";
import { INACTIVE, type SubscriptionState, topicKey } from "./store.js";

/**
 * What the client is doing now (`client.state`), re-rendering on every
 * change. On a server, and while hydrating, it is `"idle"`.
 */
export function useConnectionState(): ConnectionState {
  const { client } = useClientStore();
  const subscribe = useCallback(
    (onChange: () => void) => client.on("stateChange", onChange),
    [client],
  );
  return useSyncExternalStore(
    subscribe,
    () => client.state,
    () => "idle",
  );
}

/** Options of `useSubscription` and `useMessages`. */
export interface UseSubscriptionOptions {
  /** @default 0 */
  qos?: Qos;
  /** `false` holds no subscription (a conditional subscription). @default true */
  enabled?: boolean;
}

const noWatch = () => () => {};
const inactive = () => INACTIVE;

/**
 * Subscribes `handler` to `filter` while the component is mounted and
 * `enabled`. The latest `handler` is called (no resubscription when it
 * changes); changing `filter` or `qos` moves to the new subscription.
 * Returns where the subscription stands; a refused filter is `failed`, never
 * thrown.
 */
export function useSubscription(
  filter: string,
  handler: (message: Message) => void,
  options: UseSubscriptionOptions = {},
): SubscriptionState {
  const store = useClientStore();
  const { qos = 0, enabled = true } = options;
  const latest = useRef(handler);
  useEffect(() => {
    latest.current = handler;
  });
  useEffect(() => {
    if (!enabled) return;
    return store.retain(filter, qos, (message) => latest.current(message));
  }, [store, filter, qos, enabled]);
  const key = enabled ? topicKey(filter, qos) : null;
  const watch = useCallback(
    (onChange: () => void) => (key === null ? () => {} : store.watch(key, onChange)),
    [store, key],
  );
  const state = useCallback(() => (key === null ? INACTIVE : store.state(key)), [store, key]);
  return useSyncExternalStore(key === null ? noWatch : watch, state, inactive);
}

/** Options of `useMessages`. */
export interface UseMessagesOptions extends UseSubscriptionOptions {
  /** How many of the latest messages to keep. @default 100 */
  limit?: number;
}

/** What `useMessages` returns. */
export interface MessagesState extends SubscriptionState {
  /** The latest messages of the filter, oldest first, at most `limit`. */
  readonly messages: readonly Message[];
}

/**
 * The latest messages of `filter` (at most `limit`, oldest first), with the
 * subscription's status. Starts empty, and again when `filter` changes.
 */
export function useMessages(filter: string, options: UseMessagesOptions = {}): MessagesState {
  const { limit: wanted = 100, ...subscription } = options;
  const limit = Math.max(1, Math.floor(wanted));
  const [received, setReceived] = useState<{ filter: string; list: readonly Message[] }>(() => ({
    filter,
    list: [],
  }));
  const state = useSubscription(
    filter,
    (message) =>
      setReceived((previous) => {
        const list = previous.filter === filter ? previous.list : [];
        const next = list.length >= limit ? list.slice(list.length - limit + 1) : list.slice();
        next.push(message);
        return { filter, list: next };
      }),
    subscription,
  );
  const messages = received.filter === filter ? received.list : EMPTY;
  return { ...state, messages };
}

const EMPTY: readonly Message[] = Object.freeze([]);

/** `client.publish`, bound to the provider's client (a stable function). */
export type Publish = (
  topic: string,
  payload: string | Uint8Array,
  options?: PublishOptions,
) => Promise<void>;

/**
 * A stable function that publishes with the provider's client. While the
 * client is not connected, publishes queue (see the `offlineQueue` option).
 */
export function usePublish(): Publish {
  const { client } = useClientStore();
  return useCallback<Publish>(
    (topic, payload, options) => client.publish(topic, payload, options),
    [client],
  );
}
