/**
 * What the test page (app.ts) and the Node side of the E2E tests say to each
 * other: the page's configuration, and what the page observed. Assertions
 * are made on the latter — what the app in the browser saw.
 */

import type { ConnectionState, Endpoint } from "@armaanjain/courier-web-sdk";

export interface StartConfig {
  /** The token endpoint (`RemoteCredentials`), with `?user=…&transport=ws`. */
  readonly tokenUrl: string;
  readonly clientId: string;
  /** Subscribed with QoS 1. */
  readonly filter: string;
  /** Connect here instead of the port the token endpoint names (a proxy in front of the broker). */
  readonly port?: number;
  /**
   * Credentials to start with, as a server-rendered page embeds them. Without
   * them the page asks the token endpoint first (`getCredentials()`).
   */
  readonly initial?: Endpoint;
  /** `RemoteCredentials` option; `undefined` keeps the default (the URL). */
  readonly crossTabKey?: string | false;
  readonly keepaliveSeconds?: number;
  readonly probeSeconds?: number;
  readonly retryBackoff?: { readonly baseSeconds: number; readonly ceilSeconds: number };
  /** `RealtimeClient` option; the page's default is `false` (the page's flow at every expiry). */
  readonly refreshAhead?:
    | false
    | { readonly marginSeconds?: number; readonly jitterSeconds?: number };
}

export interface ObservedState {
  readonly state: ConnectionState;
  readonly previous: ConnectionState;
  readonly at: number;
  readonly durationMs: number;
}

export interface Observed {
  readonly states: ObservedState[];
  /** Sequence numbers of the messages received, in arrival order. */
  readonly messages: { readonly seq: number; readonly at: number }[];
  /** Requests this page's `RemoteCredentials` sent to the token endpoint. */
  tokenRequests: number;
  readonly errors: { readonly code: string; readonly message: string; readonly at: number }[];
  /** Refreshes ahead of the expiry, as `renewal` events told them. */
  readonly renewals: { readonly phase: string; readonly at: number }[];
  /** Platform signals the page got: online, offline, visibilitychange, freeze, resume, pageshow. */
  readonly lifecycle: { readonly type: string; readonly visibility: string; readonly at: number }[];
}

export interface E2EPage {
  /** Connects; resolves once connected with the subscription restored. */
  start(config: StartConfig): Promise<void>;
  disconnect(): Promise<void>;
  readonly observed: Observed;
  state(): ConnectionState | "none";
}

declare global {
  interface Window {
    e2e: E2EPage;
  }
}
