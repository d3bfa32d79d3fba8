/**
 * `@armaanjain/courier-web-sdk/react`: React bindings for `RealtimeClient`.
 *
 * ```tsx
 * <CourierProvider options={{ endpoint, onAuthFailure }}>
 *   <App />
 * </CourierProvider>
 *
 * const state = useConnectionState();
 * const { messages } = useMessages("rooms/42/#", { qos: 1, limit: 50 });
 * useSubscription("rooms/42/alerts", (message) => notify(message), { enabled: open });
 * const publish = usePublish();
 * ```
 *
 * A double mount (StrictMode, fast refresh) opens one connection and one
 * SUBSCRIBE per filter; rendering on a server connects nothing.
 */

export {
  type MessagesState,
  type Publish,
  type UseMessagesOptions,
  type UseSubscriptionOptions,
  useConnectionState,
  useMessages,
  usePublish,
  useSubscription,
} from "./hooks.js";
export { CourierProvider, type CourierProviderProps, useRealtimeClient } from "./provider.js";
export type { SubscriptionState, SubscriptionStatus } from "./store.js";
