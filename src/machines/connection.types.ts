/**
 * The connection statechart's vocabulary: every state, event, action, guard,
 * delay and actor by name. No `string` loopholes: each union is derived
 * from a table the machine is checked against.
 */

// Longer than 300 lines on purpose: the vocabulary of the chart (every name table, event, context
// field and actor input) is read as one.

import type { CourierError } from "../errors.js";
import type { BackoffPolicy, Random } from "../services/backoff.js";
import type { ResolvedEndpoint } from "../services/endpoint.js";
import type { Refusal } from "../services/reason-codes.js";
import type { Secret } from "../services/secret.js";

/**
 * What the client is doing. `client.state` is always one of these.
 *
 * - `idle`: not connected and not trying; `connect()` starts.
 * - `connecting`: opening the first connection, waiting for CONNACK.
 * - `restoring`: connected at the MQTT level, re-subscribing tracked filters.
 * - `connected`: live; publishes go out, messages come in.
 * - `authFailed`: the broker rejected the credentials; force-closing the session.
 * - `refreshing`: asking `onAuthFailure` for fresh credentials.
 * - `waiting`: the 2 s pause between a refresh and the reconnection (the page's step 4).
 * - `reconnecting`: opening a new connection after a refresh or a backoff.
 * - `authBackoff`: a refresh failed or its credentials were refused again; waiting to refresh again.
 * - `backoff`: the connection was lost or refused for a network/broker reason; waiting to reconnect.
 * - `closing`: `disconnect()` was called; sending DISCONNECT and closing the socket.
 * - `failed`: stopped after an error that retrying cannot fix (`client.error` says which).
 */
export type ConnectionState = (typeof CONNECTION_STATES)[number];

/** Every `ConnectionState`, in the order the list above describes them: the source of the union. */
export const CONNECTION_STATES = [
  "idle",
  "connecting",
  "restoring",
  "connected",
  "authFailed",
  "refreshing",
  "waiting",
  "reconnecting",
  "authBackoff",
  "backoff",
  "closing",
  "failed",
] as const;

/** Timing the machine's delays read from context, all in milliseconds. */
export interface ConnectionTiming {
  /** The page's "Wait 2 seconds" between a refresh and the reconnection. */
  readonly refreshWaitMs: number;
  /** CONNACK must arrive within this. */
  readonly connectTimeoutMs: number;
  /** Re-subscribing must finish within this. */
  readonly restoreTimeoutMs: number;
  /** `onAuthFailure` must settle within this. */
  readonly refreshTimeoutMs: number;
  /** A graceful or forced close must finish within this before the socket is dropped. */
  readonly closeTimeoutMs: number;
  /** A connection that stays up this long resets both retry counters. */
  readonly stableAfterMs: number;
  /** After the page becomes visible again, the broker must answer a ping within this. */
  readonly probeTimeoutMs: number;
  /** The broker must answer a re-authentication (MQTT 5 AUTH 0x19) within this. */
  readonly reauthTimeoutMs: number;
}

/** The backoff policy plus the retry limits the machine applies (`retryBackoff`, resolved). */
export interface RetryPolicy extends BackoffPolicy {
  /** Consecutive failed attempts (per counter) before giving up; `Infinity` never gives up. */
  readonly maxRetries: number;
}

/** The defaults, from the one table of option defaults. */
export { DEFAULT_RETRY, DEFAULT_TIMING } from "../defaults.js";

/** What the machine remembers: endpoints, retry counters, timings, the latest error. */
export interface ConnectionContext {
  /** Where to connect, in failover order (one entry unless `endpoint` was given as a list). */
  readonly endpoints: readonly ResolvedEndpoint[];
  /** The entry of `endpoints` the next (or current) connection uses. */
  readonly endpointIndex: number;
  readonly retry: RetryPolicy;
  readonly timing: ConnectionTiming;
  readonly hasCredentialsProvider: boolean;
  /** There is a platform to watch (network, page visibility): `session` runs `watchEnvironment`. */
  readonly watchesEnvironment: boolean;
  /** Network/broker failures since the last stable connection. */
  readonly networkFailures: number;
  /** Auth failures (rejections and failed refreshes) since the last stable connection. */
  readonly authFailures: number;
  /** Consecutive attempts the broker closed before any CONNACK (`MQTT.CLOSED` `beforeConnack`). */
  readonly earlyCloses: number;
  /** The delay of the backoff state being entered, drawn when the failure is counted. */
  readonly retryDelayMs: number;
  /** The error that put the client in `failed`, or the latest one reported. */
  readonly error: CourierError | null;
  /** Draws the backoff jitter (from the input: a seeded one replays a run exactly). */
  readonly random: Random;
  /** From the input, handed on to the provided implementations; the machine never reads it. */
  readonly services: unknown;
  /** The clock expiry decisions read (`ConnectionInput.now`); null: expiry is never acted on. */
  readonly now: (() => number) | null;
  /** The credentials the current connection attempt was opened with (their password and expiry). */
  readonly linkCredentials: LinkCredentials | null;
  /** Failed refreshes ahead of the current credentials' expiry. */
  readonly renewFailures: number;
  /** The delay before the next refresh ahead, drawn when its failure is counted. */
  readonly renewDelayMs: number;
  /** The client names an MQTT 5 Authentication Method (`mqtt5Auth`): it can re-authenticate in place. */
  readonly canReauthenticate: boolean;
  /** A re-authentication failed in this session: fresh credentials rotate by reconnecting until the next connect(). */
  readonly reauthRefused: boolean;
}

/** What the machine remembers of the credentials a connection was opened with. */
export interface LinkCredentials {
  readonly password: Secret | undefined;
  readonly expiresAt: number | undefined;
}

/** What the machine starts from (`createActor(connectionMachine, { input })`). */
export interface ConnectionInput {
  readonly endpoints: readonly ResolvedEndpoint[];
  readonly retry: RetryPolicy;
  readonly timing: ConnectionTiming;
  readonly hasCredentialsProvider: boolean;
  /**
   * Whether there is a platform to watch (a browser's network and page
   * visibility; a watcher of your own): when false, `session` starts no
   * `watchEnvironment` actor. Default: true.
   */
  readonly watchesEnvironment?: boolean;
  /**
   * The source of the backoff jitter, uniform in [0, 1) (the platform generator in
   * `RealtimeClient`; a seeded generator in a property test makes a failing
   * run replayable). Only read when `retry.jitter` is not `"none"`.
   */
  readonly random: Random;
  /**
   * The wall clock (ms since the epoch) the credentials' `expiresAt` and
   * `refreshAt` are compared with, read like `random`: only through the
   * input. Without it the machine never refreshes ahead and treats every
   * close as a network loss. `RealtimeClient` passes `Date.now`.
   */
  readonly now?: () => number;
  /**
   * The client sends an MQTT 5 Authentication Method in CONNECT and can
   * re-authenticate on the live connection (§4.12.1) when fresh credentials
   * arrive ahead of the expiry. Default false: fresh credentials rotate by
   * reconnecting.
   */
  readonly canReauthenticate?: boolean;
  /**
   * Whatever the implementations given to `provide()` need to reach their
   * client's services: every actor receives it in its input (`services`) and
   * every action can read it from the context. `RealtimeClient` passes its
   * own; tests may leave it out.
   */
  readonly services?: unknown;
}

/** Events, namespaced by who speaks: the user, the broker, the platform. */
export type ConnectionEvent =
  /** `client.connect()`. */
  | { type: "USER.CONNECT" }
  /** `client.disconnect()`. */
  | { type: "USER.DISCONNECT" }
  /** `client.updateEndpoint(e)`: used by the next (re-)connection. */
  | { type: "USER.UPDATE_ENDPOINT"; endpoint: ResolvedEndpoint }
  /** The broker accepted the connection. */
  | { type: "MQTT.CONNACK"; sessionPresent: boolean }
  /** The broker refused the connection (CONNACK with a failure code). */
  | { type: "MQTT.REFUSED"; refusal: Refusal }
  /** The broker sent DISCONNECT with a reason code (MQTT 5). */
  | { type: "MQTT.DISCONNECT"; refusal: Refusal }
  /**
   * The socket closed (network loss, keepalive timeout, broker gone, or our
   * own close). `beforeConnack`: the broker closed it before any CONNACK,
   * without a socket error (a broker that refuses credentials by closing).
   */
  | { type: "MQTT.CLOSED"; error: CourierError; beforeConnack?: boolean }
  /** The broker answered a liveness ping (PINGRESP). */
  | { type: "MQTT.PONG" }
  /** The platform lost its network (browser `offline`). */
  | { type: "NET.OFFLINE" }
  /** The platform has a network again (browser `online`). */
  | { type: "NET.ONLINE" }
  /** The page became visible again (its timers may have been throttled while hidden). */
  | { type: "PAGE.VISIBLE" }
  /** Raised by the machine when a re-authentication in place failed: reconnect with the fresh credentials. */
  | { type: "AUTH.REAUTH_FAILED" };

/** The `type` of every `ConnectionEvent`. */
export type ConnectionEventType = ConnectionEvent["type"];

/** What the machine tells the outside world through `emit` (the facade forwards these). */
export type ConnectionEmitted =
  | { type: "notify.error"; error: CourierError }
  | { type: "notify.restored"; result: RestoreResult }
  | { type: "notify.renewal"; renewal: Renewal };

/** A refresh ahead of the credentials' expiry, told as it happens (`client.on("renewal")`). */
export type Renewal =
  /** The refresh point passed: the provider is being asked (`attempt` 1, 2, …). */
  | { readonly phase: "started"; readonly attempt: number }
  /** Fresh credentials are in hand: the next connection uses them; `expiresAt` when known. */
  | { readonly phase: "succeeded"; readonly attempt: number; readonly expiresAt?: number }
  /** The attempt failed; it is retried with the auth backoff until the expiry. */
  | { readonly phase: "failed"; readonly attempt: number; readonly error: CourierError }
  /** No fresh credentials came before the expiry: the page's flow takes over when the broker closes. */
  | { readonly phase: "lapsed"; readonly attempt: number }
  /**
   * The broker accepted the fresh credentials on the live connection (MQTT 5
   * re-authentication, `mqtt5Auth`): no reconnect; the connection now lasts
   * until `expiresAt` when known.
   */
  | { readonly phase: "reauthenticated"; readonly attempt: number; readonly expiresAt?: number };

/** Outcome of `restoreSubscriptions`. */
export interface RestoreResult {
  /** Filters sent in SUBSCRIBE packets. */
  readonly filters: number;
  /** SUBSCRIBE packets sent. */
  readonly packets: number;
  /** Filters the broker refused, with its reason code. */
  readonly rejected: readonly { readonly filter: string; readonly reasonCode: number }[];
  /**
   * True when the broker said it kept the session (`sessionPresent`): only new
   * filters were sent, unless `trustSessionPresent` is false.
   */
  readonly sessionPresent: boolean;
}

/** The machine's `services` input, passed on to every actor it invokes. */
export interface ActorInput {
  readonly services: unknown;
}

/**
 * Params of the `openLink` action: the endpoint to open and its CONNACK
 * timeout. Whoever provides the action reports what the connection does as
 * `MQTT.*` events sent to the machine's actor, until `closeLink` runs.
 */
export interface OpenLinkParams {
  readonly endpoint: ResolvedEndpoint;
  readonly connectTimeoutMs: number;
}

/** Input of the `restoreSubscriptions` actor. */
export interface RestoreSubscriptionsInput extends ActorInput {
  readonly sessionPresent: boolean;
}

/** Input of the `refreshCredentials` actor: the refused endpoint and the retry count. */
export interface RefreshCredentialsInput extends ActorInput {
  readonly endpoint: ResolvedEndpoint;
  /** 0 for the first refresh after a rejection, then 1, 2, … */
  readonly retry: number;
  /**
   * Why: `refused` for the page's flow (the broker refused the credentials
   * or closed at their expiry), `expiring` for a refresh ahead of the
   * expiry while the connection stays up.
   */
  readonly reason: RefreshReason;
}

/**
 * Why credentials are asked for: `refused` when the broker refused them (or
 * closed the connection at their known expiry), `expiring` ahead of their
 * expiry while the connection stays up (`refreshAhead`).
 */
export type RefreshReason = "refused" | "expiring";

/** Input of the `reauthenticate` actor: the fresh credentials to present on the live connection. */
export interface ReauthenticateInput extends ActorInput {
  readonly endpoint: ResolvedEndpoint;
}

/**
 * The names the chart refers to, by kind. The machine's `setup()` is checked
 * against these tables at compile time, so a name here is one the machine
 * implements and `provide()` accepts.
 */
export const CONNECTION_ACTIONS = [
  "setEndpoint",
  "setRefreshedEndpoint",
  "countNetworkFailure",
  "countAuthFailure",
  "countRefreshFailure",
  "resetRetries",
  "rotateEndpoint",
  "followServerReference",
  "pingBroker",
  "setRefusalError",
  "setRetriesExhausted",
  "countEarlyCloseAsAuthFailure",
  "clearError",
  "forceDisconnect",
  "closeConnection",
  "attachConnection",
  "detachConnection",
  "rejectPending",
  "notifyRestored",
  "notifyError",
  "startWatchingEnvironment",
  "stopWatchingEnvironment",
  "setLinkCredentials",
  "setRenewedEndpoint",
  "countRenewFailure",
  "resetRenewals",
  "setExpiredError",
  "notifyRenewal",
  "setReauthFailed",
  "clearReauthRefusal",
  "fallBackToRotation",
  "openLink",
  "closeLink",
] as const;

/** The names of the machine's actions (`connectionMachine.provide({ actions })`). */
export type ConnectionActionName = (typeof CONNECTION_ACTIONS)[number];

/** Every guard of the machine, by name. */
export const CONNECTION_GUARDS = [
  "isAuthRefusal",
  "isFatalRefusal",
  "isFirstAuthFailure",
  "hasCredentialsProvider",
  "hasServerReference",
  "isOutOfNetworkRetries",
  "isOutOfAuthRetries",
  "isRepeatedEarlyClose",
  "isAtLinkExpiry",
  "hasFreshCredentials",
  "isExpiryDisconnect",
  "isRefreshPointReached",
  "isNewerCredentials",
  "isBeforeExpiry",
  "canReauthenticate",
  "hasRefreshPoint",
] as const;

/** The names of the machine's guards. */
export type ConnectionGuardName = (typeof CONNECTION_GUARDS)[number];

/** Every delay of the machine, by name. */
export const CONNECTION_DELAYS = [
  "CONNECT_TIMEOUT",
  "RESTORE_TIMEOUT",
  "REFRESH_TIMEOUT",
  "REFRESH_WAIT",
  "CLOSE_TIMEOUT",
  "RETRY_DELAY",
  "AUTH_RETRY_DELAY",
  "STABLE_CONNECTION",
  "PROBE_TIMEOUT",
  "REFRESH_AHEAD",
  "RENEW_RETRY_DELAY",
  "REAUTH_TIMEOUT",
] as const;

/** The names of the machine's delays (`setup({ delays })`). */
export type ConnectionDelayName = (typeof CONNECTION_DELAYS)[number];

/** The delays after which a state gives up on what it waits for. */
export type ConnectionTimeout = Extract<ConnectionDelayName, `${string}_TIMEOUT`>;

/** Action params of a transition: set when it is taken because a timeout fired. */
export interface TimeoutParams {
  readonly timedOut?: ConnectionTimeout;
}

/** Every actor of the machine, by name. */
export const CONNECTION_ACTORS = [
  "restoreSubscriptions",
  "refreshCredentials",
  "watchEnvironment",
  "reauthenticate",
] as const;

/** The names of the machine's actors (`connectionMachine.provide({ actors })`). */
export type ConnectionActorName = (typeof CONNECTION_ACTORS)[number];
