/**
 * Every error the SDK produces is a `CourierError` with a stable `code`.
 * Messages say what happened and what to do; they never contain a password,
 * a token or a response body (README "Errors").
 */

// Longer than 300 lines on purpose: every error class the SDK throws, each with its documentation,
// in one place users look them up.

export type CourierErrorCode =
  | "INVALID_OPTIONS"
  | "CONNECTION_REFUSED"
  | "NOT_AUTHORIZED"
  | "CONNECTION_LOST"
  | "AUTH_REFRESH_FAILED"
  | "CREDENTIALS_FETCH_FAILED"
  | "RETRIES_EXHAUSTED"
  | "QUEUE_OVERFLOW"
  | "CLIENT_CLOSED"
  | "CLIENT_FAILED"
  | "SUBSCRIPTION_REJECTED"
  | "PUBLISH_REJECTED"
  | "HANDLER_FAILED"
  | "ABORTED"
  | "MESSAGE_OVERFLOW"
  | "CREDENTIALS_EXPIRED"
  | "REAUTHENTICATION_FAILED";

/**
 * The base class of every error the SDK produces; `code` is stable, for
 * `switch`es. Every class's `name` is its own name, written out, so it
 * survives an app's minifier (`error.name === "AuthRefreshError"`).
 */
export class CourierError extends Error {
  override name = "CourierError";

  readonly code: CourierErrorCode;

  constructor(code: CourierErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** An option passed to the SDK is malformed. `field` names it, e.g. `endpoint.port`. */
export class InvalidOptionsError extends CourierError {
  override name = "InvalidOptionsError";

  readonly field: string;

  constructor(field: string, problem: string) {
    super("INVALID_OPTIONS", `Invalid option ${field}: ${problem}`);
    this.field = field;
  }
}

/** Where a refusal came from: a CONNACK, or a DISCONNECT the broker sent (MQTT 5). */
export type RefusalSource = "connack" | "disconnect";

/** What a `ConnectionRefusedError` tells the user to do, by situation. */
export const REFUSAL_ADVICE = {
  /** A refusal the client retries (seen in `error` events, not in `failed`). */
  retrying: "Reconnecting with backoff.",
  /** A refusal that stops the client. */
  fatal: "Retrying cannot fix this; fix the options, then connect().",
  /** MQTT 5 DISCONNECT 0x8E, session taken over. */
  takenOver: "Another connection took over this clientId; give each connection a unique clientId.",
  /** Credentials rejected and no `onAuthFailure` to ask for new ones. */
  notAuthorized:
    "Set onAuthFailure, or call updateEndpoint() with new credentials, then connect().",
} as const;

/** The broker refused the connection (or ended it) with a reason code that retrying cannot fix. */
export class ConnectionRefusedError extends CourierError {
  override name = "ConnectionRefusedError";

  readonly reasonCode: number;
  readonly reason: string;
  readonly source: RefusalSource;

  constructor(
    reasonCode: number,
    reason: string,
    source: RefusalSource,
    advice: string,
    code: CourierErrorCode = "CONNECTION_REFUSED",
  ) {
    const what = source === "connack" ? "refused the connection" : "ended the connection";
    super(code, `The broker ${what}: ${reason} (reason code ${reasonCode}). ${advice}`);
    this.reasonCode = reasonCode;
    this.reason = reason;
    this.source = source;
  }
}

/** With `onAuthFailure` set: which refusal this is, and when the client asks for new credentials. */
export interface AuthRetry {
  /** 1 for the first refusal since the last stable connection, then 2, 3, … */
  readonly attempt: number;
  /** Milliseconds until `onAuthFailure` is called (0: at once); the reconnection follows it. */
  readonly retryInMs: number;
}

/**
 * The broker rejected the credentials. Without `onAuthFailure` the client
 * stops (`failed`: the page's "Token Refresh on Auth Error" flow needs one).
 * With it, every refusal is reported in an `error` event (and
 * `client.error`) with `retry`, while the client refreshes and reconnects.
 */
export class NotAuthorizedError extends ConnectionRefusedError {
  override name = "NotAuthorizedError";

  /** Set when `onAuthFailure` is asked for new credentials; undefined when the client stops. */
  readonly retry: AuthRetry | undefined;

  constructor(reasonCode: number, reason: string, source: RefusalSource, retry?: AuthRetry) {
    const advice = retry
      ? `Refusal ${retry.attempt}: asking onAuthFailure for new credentials ${
          retry.retryInMs > 0 ? `in ${(retry.retryInMs / 1000).toFixed(1)} s` : "now"
        }, then reconnecting.`
      : REFUSAL_ADVICE.notAuthorized;
    super(reasonCode, reason, source, advice, "NOT_AUTHORIZED");
    this.retry = retry;
  }
}

/** The connection dropped or could not be opened; the client retries with backoff. */
export class ConnectionLostError extends CourierError {
  override name = "ConnectionLostError";

  constructor(detail: string, options?: { cause?: unknown }) {
    super("CONNECTION_LOST", `Connection lost: ${detail}. Reconnecting with backoff.`, options);
  }
}

/**
 * The broker ended the connection at the credentials' known expiry
 * (`Endpoint.expiresAt` or the JWT's `exp`) and no fresh ones were in hand:
 * the client refreshes them (the page's flow) instead of reconnecting with
 * credentials certain to be refused. Raise the `refreshAhead` margin, or
 * check the provider, if this repeats.
 */
export class CredentialsExpiredError extends CourierError {
  override name = "CredentialsExpiredError";

  constructor() {
    super(
      "CREDENTIALS_EXPIRED",
      "The credentials expired and the broker closed the connection; refreshing them before reconnecting.",
    );
  }
}

/**
 * Why a credential refresh failed:
 * - `rejected`: the handler threw or rejected;
 * - `timeout`: it did not settle in time;
 * - `invalid`: its answer is not a usable endpoint;
 * - `unchanged`: it answered the very credentials the broker had just refused
 *   (reported; the client still reconnects with them after the backoff, in
 *   case the refusal was transient);
 * - `stale`: asked ahead of the expiry, it answered with the credentials the client already holds.
 */
export type AuthRefreshFailure = "rejected" | "timeout" | "invalid" | "unchanged" | "stale";

/** `onAuthFailure` (or the credentials provider) failed; the client retries with backoff. */
export class AuthRefreshError extends CourierError {
  override name = "AuthRefreshError";

  readonly reason: AuthRefreshFailure;

  constructor(reason: AuthRefreshFailure, detail: string, options?: { cause?: unknown }) {
    super("AUTH_REFRESH_FAILED", `Credential refresh failed (${reason}): ${detail}`, options);
    this.reason = reason;
  }
}

/** Why `RemoteCredentials` failed: network, HTTP status, JSON, timeout, the mapper, or aborted. */
export type CredentialsFetchFailure =
  | "network"
  | "http"
  | "json"
  | "timeout"
  | "mapper"
  | "aborted";

/**
 * `RemoteCredentials` could not turn the token endpoint's answer into an
 * endpoint. The response body and the token are never part of the message.
 */
export class CredentialsFetchError extends CourierError {
  override name = "CredentialsFetchError";

  readonly reason: CredentialsFetchFailure;
  readonly status: number | undefined;

  constructor(
    reason: CredentialsFetchFailure,
    detail: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super("CREDENTIALS_FETCH_FAILED", `Credentials request failed (${reason}): ${detail}`, options);
    this.reason = reason;
    this.status = options?.status;
  }
}

/** `retryBackoff.maxRetries` consecutive failures: the client stopped retrying. */
export class RetriesExhaustedError extends CourierError {
  override name = "RetriesExhaustedError";

  readonly attempts: number;

  constructor(attempts: number, options?: { cause?: unknown }) {
    super(
      "RETRIES_EXHAUSTED",
      `Gave up after ${attempts} failed attempts (retryBackoff.maxRetries); connect() starts again.`,
      options,
    );
    this.attempts = attempts;
  }
}

/** The offline publish queue is full; see the `offlineQueue` option. */
export class QueueOverflowError extends CourierError {
  override name = "QueueOverflowError";

  readonly topic: string;

  constructor(topic: string, limit: string) {
    super(
      "QUEUE_OVERFLOW",
      `Publish to "${topic}" not queued: offline queue full (${limit}); see offlineQueue.`,
    );
    this.topic = topic;
  }
}

/** The operation could not finish because `disconnect()` was called. */
export class ClientClosedError extends CourierError {
  override name = "ClientClosedError";

  constructor(what: string) {
    super("CLIENT_CLOSED", `${what} cancelled by disconnect().`);
  }
}

/** The client is in its terminal `failed` state; call `connect()` to start again. */
export class ClientFailedError extends CourierError {
  override name = "ClientFailedError";

  constructor(what: string, cause: unknown) {
    super(
      "CLIENT_FAILED",
      `${what} failed: the client stopped (see client.error); connect() starts again.`,
      { cause },
    );
  }
}

/** The broker refused one subscription filter (SUBACK 0x80 or any reason code ≥ 0x80). */
export class SubscriptionRejectedError extends CourierError {
  override name = "SubscriptionRejectedError";

  readonly filter: string;
  readonly reasonCode: number;

  constructor(filter: string, reasonCode: number, reason: string) {
    super(
      "SUBSCRIPTION_REJECTED",
      `The broker refused "${filter}": ${reason} (reason code ${reasonCode}).`,
    );
    this.filter = filter;
    this.reasonCode = reasonCode;
  }
}

/** The broker refused a QoS 1/2 publish (MQTT 5 PUBACK/PUBREC reason code ≥ 0x80). */
export class PublishRejectedError extends CourierError {
  override name = "PublishRejectedError";

  readonly topic: string;
  readonly reasonCode: number;

  constructor(topic: string, reasonCode: number, reason: string) {
    super(
      "PUBLISH_REJECTED",
      `The broker refused the publish to "${topic}": ${reason} (reason code ${reasonCode}).`,
    );
    this.topic = topic;
    this.reasonCode = reasonCode;
  }
}

/**
 * A publish larger than the broker's Maximum Packet Size (MQTT 5
 * §3.2.2.3.6): rejected before anything is sent, since the broker would
 * close the connection (DISCONNECT 0x95, packet too large) [MQTT-3.2.2-15];
 * or one the broker answered that way, which is not sent again. `limit` is
 * the size the broker announced, undefined when it announced none.
 */
export class PacketTooLargeError extends PublishRejectedError {
  override name = "PacketTooLargeError";

  /** The PUBLISH packet's size in bytes, headers and properties included. */
  readonly bytes: number;
  readonly limit: number | undefined;

  constructor(topic: string, bytes: number, limit: number | undefined) {
    super(
      topic,
      0x95,
      limit === undefined
        ? `Packet too large; the broker closed the connection on this ${bytes}-byte packet, which is not sent again`
        : `Packet too large; the ${bytes}-byte packet exceeds the broker's Maximum Packet Size of ${limit} bytes and was not sent`,
    );
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** A message handler threw; the other handlers still ran. */
export class HandlerError extends CourierError {
  override name = "HandlerError";

  readonly filter: string;

  constructor(filter: string, cause: unknown) {
    super("HANDLER_FAILED", `A handler for "${filter}" threw.`, { cause });
    this.filter = filter;
  }
}

/**
 * The `AbortSignal` passed to the call aborted before it settled. Its `name`
 * is `"AbortError"`, as the platform's own aborted calls (`fetch`) have;
 * `cause` is the signal's `reason`. The aborted call left nothing behind: no
 * queued publish, no pending subscription, no connection attempt.
 */
export class AbortError extends CourierError {
  override name = "AbortError";

  constructor(what: string, reason: unknown) {
    super("ABORTED", `${what} aborted by its AbortSignal.`, { cause: reason });
  }
}

/** What a `messages()` iteration does when its buffer is full: see `MessagesOptions.overflow`. */
export type OverflowPolicy = "dropOldest" | "dropNewest" | "error";

/**
 * Messages for a `messages()` iteration arrived faster than the loop read
 * them and its buffer was full. With `overflow: "error"` the iteration throws
 * it; with `"dropOldest"`/`"dropNewest"` it is reported as an `error` event,
 * once per run of drops, and the iterator's `dropped` counts every message lost.
 */
export class MessageOverflowError extends CourierError {
  override name = "MessageOverflowError";

  readonly filter: string;
  readonly bufferSize: number;
  readonly policy: OverflowPolicy;
  /** Messages dropped by this iteration so far (0 with `overflow: "error"`). */
  readonly dropped: number;

  constructor(filter: string, bufferSize: number, policy: OverflowPolicy, dropped: number) {
    const outcome =
      policy === "error"
        ? "the iteration ended"
        : `${policy === "dropOldest" ? "the oldest" : "the newest"} message was dropped (${dropped} so far)`;
    super(
      "MESSAGE_OVERFLOW",
      `Messages for "${filter}" arrived faster than they were read: ${bufferSize} were buffered and ${outcome}. Raise bufferSize or read faster.`,
    );
    this.filter = filter;
    this.bufferSize = bufferSize;
    this.policy = policy;
    this.dropped = dropped;
  }
}

/** How a re-authentication on the live connection (MQTT 5 §4.12.1) failed. */
export type ReauthenticationFailure = "disconnect" | "closed" | "timeout" | "hook";

/**
 * The broker did not accept a re-authentication on the live connection
 * (MQTT 5 AUTH 0x19, §4.12.1): it answered with a DISCONNECT (`disconnect`,
 * `reasonCode` set), the connection closed (`closed`), no answer came within
 * `timeouts.reauthSeconds` (`timeout`), or `mqtt5Auth.onContinue` threw
 * (`hook`). The client reconnects at once with the fresh credentials and
 * does not re-authenticate in place again until the next `connect()`. If
 * this repeats, the broker may not support re-authentication: leave
 * `mqtt5Auth` out (README "Re-authentication in place").
 */
export class ReauthenticationError extends CourierError {
  override name = "ReauthenticationError";

  readonly failure: ReauthenticationFailure;
  readonly reasonCode: number | undefined;

  constructor(
    failure: ReauthenticationFailure,
    reasonCode?: number,
    options?: { cause?: unknown },
  ) {
    const how = {
      disconnect: `the broker answered with DISCONNECT (reason code ${reasonCode ?? "none"})`,
      closed: "the connection closed",
      timeout: "the broker did not answer in time",
      hook: "mqtt5Auth.onContinue failed",
    }[failure];
    super(
      "REAUTHENTICATION_FAILED",
      `Re-authentication on the live connection failed: ${how}. Reconnecting at once with the fresh credentials.`,
      options,
    );
    this.failure = failure;
    this.reasonCode = reasonCode;
  }
}
