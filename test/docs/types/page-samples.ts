/**
 * Every code sample of the published Authentication page
 * (`shared/spec/authentication.txt`), exactly as printed, against the
 * package name. Only the page's `endpoint: { ... }` placeholders are filled
 * in with a concrete endpoint. Each sample is wrapped in an exported function
 * so that nothing runs at import time; `test/docs/page-samples.test.ts`
 * type-checks this file with `test/docs/types/tsconfig.json` (which maps the
 * package name to `src/`) and runs the samples.
 */

// Sample 3 ("Remote Credentials Provider") starts with this import; the
// other samples use `RealtimeClient` from the same package.
import { RealtimeClient, RemoteCredentials } from "@armaanjain/courier-web-sdk";

/** "Static Credentials". */
export function staticCredentials() {
  const client = new RealtimeClient({
    endpoint: {
      host: "broker.example.com",
      port: 443,
      username: "user",
      password: "my-token",
      // ...
    },
  });
  return client;
}

/** "Token Refresh on Auth Error". */
export function tokenRefreshOnAuthError() {
  const client = new RealtimeClient({
    endpoint: {
      host: "broker.example.com",
      port: 443,
      username: "user",
      password: "my-token",
      scheme: "wss",
      path: "/mqtt",
    },
    onAuthFailure: async () => {
      const response = await fetch("/api/mqtt/token");
      const data = await response.json();
      return {
        host: data.host,
        port: data.port,
        username: data.username,
        password: data.token,
        scheme: "wss",
        path: "/mqtt",
      };
    },
  });
  return client;
}

/** "Remote Credentials Provider". */
export function remoteCredentialsProvider() {
  // biome-ignore format: laid out as printed on the page (no trailing comma after the mapper).
  const creds = new RemoteCredentials(
    "https://api.example.com/mqtt/token",
    (response) => ({
      host: response.broker.host,
      port: response.broker.port,
      username: response.userId,
      password: response.jwt,
      scheme: "wss",
      path: "/mqtt",
    })
  );
  return creds;
}

/** "Updating Credentials Manually": `client` is any client built from the samples above. */
export function updatingCredentialsManually(client: RealtimeClient) {
  client.updateEndpoint({
    host: "broker.example.com",
    port: 443,
    username: "user",
    password: "new-token",
    scheme: "wss",
    path: "/mqtt",
  });
}

/** "Retry Backoff". */
export function retryBackoff() {
  const client = new RealtimeClient({
    endpoint: {
      host: "broker.example.com",
      port: 443,
      username: "user",
      password: "my-token",
      scheme: "wss",
      path: "/mqtt",
    },
    retryBackoff: {
      baseSeconds: 1, // First retry after 1s
      ceilSeconds: 60, // Max delay 60s
    },
  });
  // Retries: 1s → 2s → 4s → 8s → 16s → 32s → 60s → 60s → ...
  return client;
}
