/**
 * MQTT 5 enhanced authentication (§4.12) as the client uses it: the
 * Authentication Method named by the `mqtt5Auth` option, the Authentication
 * Data made from the credentials (sent in CONNECT, §3.1.2.11.9–10, and in
 * the AUTH 0x19 of a re-authentication, §4.12.1), and the hook that answers
 * a broker's AUTH 0x18 Continue rounds. Pure: no socket, no timer. Loaded
 * only by a client given `mqtt5Auth`.
 */

import type { LinkAuth } from "./broker-link.js";
import type { ResolvedEndpoint } from "./endpoint.js";

/** What `mqtt5Auth.data` and `mqtt5Auth.onContinue` are told of the credentials. */
export interface Mqtt5AuthCredentials {
  readonly clientId: string;
  readonly username?: string;
  /** The endpoint's password (the token, usually). */
  readonly password?: string;
  /** When the credentials expire (ms since the epoch), when known. */
  readonly expiresAt?: number;
}

/** What `mqtt5Auth.onContinue` is told about the round it answers. */
export interface Mqtt5AuthRound {
  /** The Authentication Method of the exchange. */
  readonly method: string;
  /** The credentials being presented. */
  readonly credentials: Mqtt5AuthCredentials;
  /** True on a live connection (AUTH 0x19, §4.12.1); false during the CONNECT. */
  readonly reauthentication: boolean;
  /** 1 for the broker's first AUTH 0x18 of this exchange, then 2, 3, … */
  readonly round: number;
}

/** Authentication Data: bytes, or a string sent UTF-8 encoded. */
export type Mqtt5AuthData = Uint8Array | string;

/**
 * `mqtt5Auth`: MQTT 5 enhanced authentication, and with it re-authentication
 * in place. With it, the client sends `method` and `data(credentials)` in
 * CONNECT; when a refresh ahead of the expiry brings fresh credentials, it
 * presents them on the live connection (AUTH 0x19) instead of reconnecting.
 * If the broker refuses (DISCONNECT), closes, or does not answer within
 * `timeouts.reauthSeconds`, the client reconnects at once with the fresh
 * credentials and does not re-authenticate in place again until the next
 * `connect()`. Needs `mqtt.protocolVersion: 5` (README "Re-authentication in
 * place").
 */
export interface Mqtt5AuthOptions {
  /**
   * The Authentication Method the broker expects (MQTT 5 §3.1.2.11.9), e.g.
   * `"JWT"`, `"CUSTOM-JWT"`, `"OAUTH2-JWT"`, sent in CONNECT and in every AUTH.
   */
  method: string;
  /**
   * The Authentication Data for some credentials (§3.1.2.11.10), for the
   * CONNECT and for each re-authentication.
   * @default the endpoint's password, UTF-8 encoded (none without a password)
   */
  data?: (credentials: Mqtt5AuthCredentials) => Mqtt5AuthData | undefined;
  /**
   * Answers a broker's AUTH 0x18 Continue Authentication (a challenge, a
   * nonce, a SCRAM round): given its Authentication Data, returns the data
   * of the client's AUTH 0x18. Throwing (or rejecting) ends the exchange:
   * during CONNECT the connection fails like a network loss; on a live
   * connection the client falls back to reconnecting.
   * @default none: a broker's 0x18 ends the exchange
   */
  onContinue?: (
    challenge: Uint8Array | undefined,
    round: Mqtt5AuthRound,
  ) => Mqtt5AuthData | undefined | Promise<Mqtt5AuthData | undefined>;
}

/** The credentials of `endpoint`, as the hooks see them. */
export function authCredentialsOf(endpoint: ResolvedEndpoint): Mqtt5AuthCredentials {
  const password = endpoint.password?.reveal();
  return {
    clientId: endpoint.clientId,
    ...(endpoint.username !== undefined ? { username: endpoint.username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(endpoint.expiresAt !== undefined ? { expiresAt: endpoint.expiresAt } : {}),
  };
}

/** Bytes of Authentication Data (strings UTF-8 encoded, §1.5.6 Binary Data). */
export function authBytes(data: Mqtt5AuthData | undefined): Uint8Array | undefined {
  if (data === undefined) return undefined;
  return typeof data === "string" ? new TextEncoder().encode(data) : data;
}

/** The Authentication Data `options` makes from `endpoint`'s credentials. */
export function authDataFor(
  options: Mqtt5AuthOptions,
  endpoint: ResolvedEndpoint,
): Uint8Array | undefined {
  const credentials = authCredentialsOf(endpoint);
  return authBytes(options.data ? options.data(credentials) : credentials.password);
}

/**
 * `options` for a connection opened with `endpoint`'s credentials: the
 * method, the CONNECT's data, and the answer to each AUTH 0x18 round.
 * `presenting` gives the credentials of the re-authentication under way.
 */
export function linkAuthFor(
  options: Mqtt5AuthOptions,
  endpoint: ResolvedEndpoint,
  presenting: () => Mqtt5AuthCredentials | undefined,
): LinkAuth {
  const credentials = authCredentialsOf(endpoint);
  return {
    method: options.method,
    data: authDataFor(options, endpoint),
    continue: async (challenge, round) => {
      if (!options.onContinue) {
        throw new Error("the broker asked for another round (AUTH 0x18); set mqtt5Auth.onContinue");
      }
      // A re-authentication presents the fresh credentials, the CONNECT the link's own.
      const presented = (round.reauthentication && presenting()) || credentials;
      return authBytes(
        await options.onContinue(challenge, {
          method: options.method,
          credentials: presented,
          ...round,
        }),
      );
    },
  };
}
