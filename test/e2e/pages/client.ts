/**
 * The E2E test page's app: it uses the SDK the way the published page
 * shows — `RemoteCredentials` mapping the token endpoint's answer, a
 * `RealtimeClient` subscribed with QoS 1 — and records what it sees. Bundled
 * by Vite from the package's `dist/` (test/e2e/support/bundle.ts) into
 * index.html (app.ts) and devtools.html (devtools.ts).
 */

import {
  type Endpoint,
  RealtimeClient,
  type RealtimeClientOptions,
  RemoteCredentials,
} from "@armaanjain/courier-web-sdk";
import type { E2EPage, Observed, StartConfig } from "./protocol.js";

/** The page's API for the test; `inspect` is passed to the client as is. */
export function createE2EPage(inspect?: RealtimeClientOptions["inspect"]): E2EPage {
  const observed: Observed = {
    states: [],
    messages: [],
    tokenRequests: 0,
    errors: [],
    lifecycle: [],
    renewals: [],
  };
  let client: RealtimeClient | undefined;

  for (const type of ["online", "offline", "pageshow"]) {
    window.addEventListener(type, () =>
      observed.lifecycle.push({ type, visibility: document.visibilityState, at: Date.now() }),
    );
  }
  for (const type of ["visibilitychange", "freeze", "resume"]) {
    document.addEventListener(type, () =>
      observed.lifecycle.push({ type, visibility: document.visibilityState, at: Date.now() }),
    );
  }

  interface TokenResponse {
    broker: { host: string; port: number };
    userId: string;
    jwt: string;
  }

  async function start(config: StartConfig): Promise<void> {
    const credentials = new RemoteCredentials(
      config.tokenUrl,
      (response: TokenResponse): Endpoint => ({
        host: response.broker.host,
        port: config.port ?? response.broker.port,
        username: response.userId,
        password: response.jwt,
        scheme: "ws",
        path: "/mqtt",
      }),
      {
        fetch: (input, init) => {
          observed.tokenRequests += 1;
          return fetch(input, init);
        },
        ...(config.crossTabKey === undefined ? {} : { crossTabKey: config.crossTabKey }),
      },
    );
    const initial = config.initial ?? (await credentials.getCredentials());
    const options: RealtimeClientOptions = {
      endpoint: { ...initial, clientId: config.clientId },
      onAuthFailure: credentials,
      // The page's flow unless the test asks for renewing ahead of the expiry.
      refreshAhead: config.refreshAhead ?? false,
      // A persistent session: the broker keeps QoS 1 messages while the page is away.
      mqtt: { clean: false, keepalive: config.keepaliveSeconds ?? 60 },
      // A token that lived seconds proved itself: do not climb the backoff across expiries.
      retryBackoff: { resetAfterSeconds: 0.5, ...config.retryBackoff },
      ...(config.probeSeconds ? { timeouts: { probeSeconds: config.probeSeconds } } : {}),
      ...(inspect ? { inspect } : {}),
    };
    client = new RealtimeClient(options);
    client.on("stateChange", ({ state, previous, at, durationMs }) =>
      observed.states.push({ state, previous, at, durationMs }),
    );
    client.on("renewal", (renewal) =>
      observed.renewals.push({ phase: renewal.phase, at: Date.now() }),
    );
    client.on("error", (error) =>
      observed.errors.push({ code: error.code, message: error.message, at: Date.now() }),
    );
    const subscribed = client.subscribe(
      config.filter,
      (message) => {
        const { seq } = JSON.parse(new TextDecoder().decode(message.payload)) as { seq: number };
        observed.messages.push({ seq, at: Date.now() });
      },
      { qos: 1 },
    );
    await client.connect();
    await subscribed;
  }

  return {
    start,
    disconnect: async () => client?.disconnect(),
    observed,
    state: () => client?.state ?? "none",
  };
}
