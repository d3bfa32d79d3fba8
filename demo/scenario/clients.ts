/**
 * How the demo's clients are built: a `RemoteCredentials` per user, mapped
 * exactly as the page's sample maps the token endpoint's answer, and the
 * `RealtimeClient` options that make expiry lossless — a persistent session
 * (`clean: false`) under a stable client id, so the broker queues QoS 1
 * messages while the client refreshes.
 */

import {
  type Endpoint,
  RealtimeClient,
  type RealtimeClientOptions,
  RemoteCredentials,
} from "@armaanjain/courier-web-sdk";
import type { Stack, TokenResponse, Transport } from "../stack/index.js";
import type { DemoConfig } from "./config.js";
import type { DemoSink } from "./events.js";
import type { RecoveryTracker } from "./recovery.js";

/** The shared provider of one user's tokens. */
export function credentialsFor(
  stack: Stack,
  user: string,
  transport: Transport,
): RemoteCredentials<TokenResponse> {
  const url = new URL(stack.tokenUrl);
  url.searchParams.set("user", user);
  url.searchParams.set("transport", transport);
  // The page's mapper; only the scheme differs, as this broker has no TLS.
  return new RemoteCredentials(url, (response: TokenResponse) => ({
    host: response.broker.host,
    port: response.broker.port,
    username: response.userId,
    password: response.jwt,
    scheme: transport === "ws" ? "ws" : "mqtt",
    path: "/mqtt",
  }));
}

export function clientFor(
  clientId: string,
  initial: Endpoint,
  credentials: RemoteCredentials<TokenResponse>,
  config: DemoConfig,
  inspect?: RealtimeClientOptions["inspect"],
  refreshAhead = true,
): RealtimeClient {
  const options: RealtimeClientOptions = {
    endpoint: { ...initial, clientId },
    onAuthFailure: credentials,
    // Renew ahead of the token's expiry (the default), or the page's flow at every expiry.
    ...(refreshAhead ? {} : { refreshAhead: false as const }),
    retryBackoff: {
      jitter: config.jitter,
      // Tokens here live seconds, not hours: a connection that stayed up half
      // a second proved its token, so the next expiry starts the backoff afresh
      // (with the default 10 s, short-lived tokens would climb it every cycle).
      resetAfterSeconds: 0.5,
    },
    // A persistent session: the broker queues QoS 1 messages while the client is away.
    mqtt: { clean: config.cleanSession },
    // The web viewer follows each client through its (redacted) inspection events.
    ...(inspect ? { inspect } : {}),
  };
  return new RealtimeClient(options);
}

/** Reports a client's transitions, restores and errors, and feeds its recovery tracker. */
export function watchClient(
  name: string,
  client: RealtimeClient,
  tracker: RecoveryTracker,
  sink: DemoSink,
): void {
  client.on("stateChange", (change) => {
    tracker.state(change.state, change.previous, change.at);
    sink({
      type: "client.state",
      at: change.at,
      client: name,
      state: change.state,
      previous: change.previous,
      durationMs: change.durationMs,
    });
  });
  client.on("renewal", (renewal) => {
    if (renewal.phase === "started") tracker.renewal();
  });
  client.on("restored", (result) => {
    const at = Date.now();
    sink({
      type: "client.restored",
      at,
      client: name,
      filters: result.filters,
      packets: result.packets,
      rejected: result.rejected.length,
      sessionPresent: result.sessionPresent,
      ...tracker.restored(at),
    });
  });
  client.on("error", (error) => {
    sink({
      type: "client.error",
      at: Date.now(),
      client: name,
      code: error.code,
      message: error.message,
    });
  });
}
