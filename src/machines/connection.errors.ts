/**
 * The error a failure stands for, as the user sees it in `client.error` and
 * in `error` events. Pure: events and context in, a `CourierError` out. The
 * words a user acts on are the errors' own (`REFUSAL_ADVICE`); which reason
 * code means what is `reason-codes.ts`'s.
 */

import {
  AuthRefreshError,
  type AuthRetry,
  ConnectionLostError,
  ConnectionRefusedError,
  CourierError,
  NotAuthorizedError,
  REFUSAL_ADVICE,
  RetriesExhaustedError,
} from "../errors.js";
import { type Refusal, SESSION_TAKEN_OVER } from "../services/reason-codes.js";
import type {
  ConnectionContext,
  ConnectionEvent,
  ConnectionTimeout,
  TimeoutParams,
} from "./connection.types.js";

/** Any event the failure transitions see: the machine's own, or an actor's error event. */
export interface FailureEvent {
  readonly type: string;
  readonly error?: unknown;
  readonly refusal?: Refusal;
}

/** The refusal a broker event carries, if it is one. */
export function refusalOf(event: ConnectionEvent | FailureEvent): Refusal | undefined {
  return event.type === "MQTT.REFUSED" || event.type === "MQTT.DISCONNECT"
    ? (event as { refusal?: Refusal }).refusal
    : undefined;
}

function timeoutError(timedOut: ConnectionTimeout): ConnectionLostError {
  return new ConnectionLostError(`timed out (${timedOut})`);
}

/** The error a network/broker failure stands for (one the client retries). */
export function failureError(event: FailureEvent, params?: TimeoutParams): CourierError {
  if (params?.timedOut) return timeoutError(params.timedOut);
  if (event.refusal) {
    const { reasonCode, reason, source } = event.refusal;
    return new ConnectionRefusedError(reasonCode, reason, source, REFUSAL_ADVICE.retrying);
  }
  if (event.error instanceof CourierError) return event.error;
  return new ConnectionLostError("the session failed", { cause: event.error });
}

/**
 * A refusal of the credentials: the error that stops a client without a
 * provider, or (with one) the report of refusal `attempt`, refreshed after
 * `retryInMs`.
 */
export function authFailureError(
  context: Pick<ConnectionContext, "hasCredentialsProvider" | "error">,
  event: FailureEvent,
  retry?: AuthRetry,
): CourierError | null {
  const refusal = refusalOf(event);
  if (!refusal) return context.error;
  return context.hasCredentialsProvider && retry
    ? new NotAuthorizedError(refusal.reasonCode, refusal.reason, refusal.source, retry)
    : new NotAuthorizedError(refusal.reasonCode, refusal.reason, refusal.source);
}

/** onAuthFailure rejected, or did not settle within REFRESH_TIMEOUT. */
export function refreshError(
  context: Pick<ConnectionContext, "timing">,
  event: FailureEvent,
  params?: TimeoutParams,
): CourierError {
  return params?.timedOut
    ? new AuthRefreshError(
        "timeout",
        `onAuthFailure did not settle within ${context.timing.refreshTimeoutMs} ms.`,
      )
    : failureError(event);
}

/** Asked ahead of the expiry, the provider answered with the credentials the client holds. */
export function staleAnswerError(): CourierError {
  return new AuthRefreshError(
    "stale",
    "asked ahead of the expiry, it answered with the credentials the client already holds.",
  );
}

/** A refusal retrying cannot fix. */
export function fatalRefusalError(event: FailureEvent): CourierError {
  const refusal = refusalOf(event);
  if (!refusal) return failureError(event);
  return new ConnectionRefusedError(
    refusal.reasonCode,
    refusal.reason,
    refusal.source,
    refusal.reasonCode === SESSION_TAKEN_OVER ? REFUSAL_ADVICE.takenOver : REFUSAL_ADVICE.fatal,
  );
}

/** `maxRetries` is spent: the attempt count, and the failure that spent it as the cause. */
export function retriesExhaustedError(
  context: Pick<ConnectionContext, "networkFailures" | "authFailures">,
  event: FailureEvent,
  params?: TimeoutParams,
): CourierError {
  return new RetriesExhaustedError(Math.max(context.networkFailures, context.authFailures) + 1, {
    cause: failureError(event, params),
  });
}
