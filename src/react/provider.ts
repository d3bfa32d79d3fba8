/**
 * `<CourierProvider>`: puts one `RealtimeClient` at the disposal of the
 * hooks below it. Given `options`, it creates the client (once, on first
 * render; creating one opens nothing), connects it when mounted and
 * disconnects it when unmounted. Given a `client`, it leaves its connection
 * to the app: mounting does not connect it and unmounting does not
 * disconnect it.
 */

import {
  InvalidOptionsError,
  RealtimeClient,
  type RealtimeClientOptions,
} from "@armaanjain/courier-web-sdk";
import {
  createContext,
  createElement,
  type ReactNode,
  useContext,
  useEffect,
  useState,
} from "react";
import { type ClientStore, storeOf } from "./store.js";

/** Props of `<CourierProvider>`: either `client` or `options`. */
export interface CourierProviderProps {
  /** A client the app made and manages: the provider never connects nor disconnects it. */
  client?: RealtimeClient;
  /**
   * Options of a client the provider makes and owns: connected while the provider is mounted,
   * disconnected when it unmounts. Read on the first render only.
   */
  options?: RealtimeClientOptions;
  children?: ReactNode;
}

const CourierContext = createContext<ClientStore | null>(null);
CourierContext.displayName = "CourierContext";

/**
 * Makes a `RealtimeClient` available to `useRealtimeClient`, `useConnectionState`,
 * `useSubscription`, `useMessages` and `usePublish`. Rendering on a server
 * creates at most an idle client and connects nothing.
 */
export function CourierProvider(props: CourierProviderProps): ReactNode {
  const { client: given, options, children } = props;
  const [owned] = useState<RealtimeClient | null>(() =>
    given ? null : options ? new RealtimeClient(options) : null,
  );
  const client = given ?? owned;
  if (!client) {
    throw new InvalidOptionsError("CourierProvider", "pass a client or the options to make one");
  }
  const store = storeOf(client);
  const owns = client === owned;
  // A double mount (StrictMode, fast refresh) keeps the one connection: the release is deferred.
  useEffect(() => (owns ? store.holdConnection() : undefined), [store, owns]);
  return createElement(CourierContext.Provider, { value: store }, children);
}

/** The store of the nearest `<CourierProvider>`; throws outside one. */
export function useClientStore(): ClientStore {
  const store = useContext(CourierContext);
  if (!store) {
    throw new Error(
      "@armaanjain/courier-web-sdk/react: this hook must be used inside a <CourierProvider>.",
    );
  }
  return store;
}

/** The `RealtimeClient` of the nearest `<CourierProvider>`. */
export function useRealtimeClient(): RealtimeClient {
  return useClientStore().client;
}
