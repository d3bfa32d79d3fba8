/**
 * `updateEndpoint()` and `onAuthFailure` take a partial endpoint (what they
 * return or are given is merged over the current one), while the
 * constructor's `endpoint` still needs a host and a port. Checked by `tsc`
 * (the root project and `test/docs/types/tsconfig.json`): if the types narrow
 * again, the assignments below stop compiling; every `@ts-expect-error` must
 * be an error, or tsc fails on the unused directive.
 */

import {
  type AuthFailureHandler,
  type CredentialsProvider,
  type EndpointUpdate,
  RealtimeClient,
  RemoteCredentials,
} from "@armaanjain/courier-web-sdk";

export function endpointUpdateTypes(client: RealtimeClient) {
  client.updateEndpoint({ password: "fresh-token" });
  client.updateEndpoint({ username: "alice" });
  client.updateEndpoint({ host: "other.example.com", port: 8883 });

  const byFunction: AuthFailureHandler = async () => ({ password: "fresh-token" });
  const bySyncFunction: AuthFailureHandler = () => ({ password: "fresh-token" });
  const byProvider: CredentialsProvider = {
    getCredentials: async () => ({ password: "fresh-token" }),
  };
  const byRemote: AuthFailureHandler = new RemoteCredentials(
    "https://example.com/token",
    (json: { token: string }) => ({ host: "broker.example.com", port: 8883, password: json.token }),
  );
  const update: EndpointUpdate = {};

  new RealtimeClient({
    endpoint: { host: "broker.example.com", port: 8883, username: "u", password: "p" },
    onAuthFailure: async () => ({ password: "fresh-token" }),
  });
  new RealtimeClient({
    endpoint: { host: "broker.example.com", port: 8883 },
    onAuthFailure: { getCredentials: async () => ({ password: "fresh-token" }) },
  });

  // @ts-expect-error: the first endpoint needs a host and a port
  new RealtimeClient({ endpoint: { password: "p" } });
  // @ts-expect-error: a password is text
  client.updateEndpoint({ password: 42 });
  // @ts-expect-error: onAuthFailure returns endpoint fields, not a bare token
  const wrong: AuthFailureHandler = async () => "fresh-token";

  return [byFunction, bySyncFunction, byProvider, byRemote, update, wrong];
}
