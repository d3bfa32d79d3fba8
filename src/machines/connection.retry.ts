/**
 * Retry accounting: the two failure counters and the backoff drawn when a
 * failure is counted. Pure reducers (context and event in, the context
 * fields to change out); the randomness is the context's `random`, from the
 * machine's input. The chart's `count*` actions are these.
 */

import { ConnectionLostError } from "../errors.js";
import { backoffDelay } from "../services/backoff.js";
import {
  authFailureError,
  type FailureEvent,
  failureError,
  refreshError,
  refusalOf,
  staleAnswerError,
} from "./connection.errors.js";
import type { ConnectionContext, TimeoutParams } from "./connection.types.js";

type Counted = Pick<ConnectionContext, "retryDelayMs" | "error"> &
  Partial<Pick<ConnectionContext, "networkFailures" | "authFailures" | "earlyCloses">>;

/**
 * Consecutive attempts the broker closes before any CONNACK, with a provider
 * configured, before the client takes it as a refusal of the credentials and
 * refreshes them (RabbitMQ's Web MQTT refuses credentials that way).
 */
export const EARLY_CLOSES_BEFORE_REFRESH = 3;

/** The broker closed this attempt before any CONNACK (not a socket error, not a timeout). */
export function isEarlyClose(event: FailureEvent): boolean {
  return (
    event.type === "MQTT.CLOSED" && (event as { beforeConnack?: boolean }).beforeConnack === true
  );
}

/** A retry of a busy broker waits as if it were two attempts later (4× longer, capped). */
const BUSY_PENALTY = 2;

/** The backoff before retry `attempt`, drawn now (`decorrelated` reads the previous one). */
function drawDelay(context: ConnectionContext, attempt: number): number {
  return backoffDelay(attempt, context.retry, context.random, context.retryDelayMs);
}

/** A network/broker failure: backoff n for failure n, longer for a busy broker. */
export function countNetworkFailure(
  context: ConnectionContext,
  event: FailureEvent,
  params?: TimeoutParams,
): Counted {
  const networkFailures = context.networkFailures + 1;
  const penalty = refusalOf(event)?.category === "busy" ? BUSY_PENALTY : 0;
  return {
    networkFailures,
    earlyCloses: isEarlyClose(event) ? context.earlyCloses + 1 : 0,
    retryDelayMs: drawDelay(context, networkFailures + penalty),
    error: failureError(event, params),
  };
}

/** The broker refused the credentials: the first refusal refreshes at once, later ones back off. */
export function countAuthFailure(context: ConnectionContext, event: FailureEvent): Counted {
  const authFailures = context.authFailures + 1;
  const retryDelayMs = authFailures > 1 ? drawDelay(context, authFailures - 1) : 0;
  return {
    authFailures,
    retryDelayMs,
    error: authFailureError(context, event, { attempt: authFailures, retryInMs: retryDelayMs }),
  };
}

/** onAuthFailure rejected or timed out: auth retry n waits backoff n. */
export function countRefreshFailure(
  context: ConnectionContext,
  event: FailureEvent,
  params?: TimeoutParams,
): Counted {
  const authFailures = context.authFailures + 1;
  return {
    authFailures,
    retryDelayMs: drawDelay(context, authFailures - 1),
    error: refreshError(context, event, params),
  };
}

/**
 * The broker closed `EARLY_CLOSES_BEFORE_REFRESH` attempts in a row before
 * any CONNACK: refreshed like a refusal of the credentials (an auth failure
 * and a network failure, so the backoff after it keeps growing).
 */
export function countEarlyCloseAsAuthFailure(context: ConnectionContext): Counted {
  const closes = context.earlyCloses + 1;
  return {
    networkFailures: context.networkFailures + 1,
    authFailures: context.authFailures + 1,
    earlyCloses: 0,
    retryDelayMs: 0,
    error: new ConnectionLostError(
      `the broker closed ${closes} connections in a row before any CONNACK; taken as a refusal of the credentials, asking onAuthFailure for new ones`,
    ),
  };
}

/** A stable connection (or a new `connect()`) starts the counters again. */
export const RESET_RETRIES = {
  networkFailures: 0,
  authFailures: 0,
  earlyCloses: 0,
  retryDelayMs: 0,
} as const;

/**
 * A refresh ahead failed (rejected, timed out, or answered with the
 * credentials already held): attempt n waits the auth backoff n.
 */
export function countRenewFailure(
  context: ConnectionContext,
  event: FailureEvent,
  params?: RenewFailureParams,
): Pick<ConnectionContext, "renewFailures" | "renewDelayMs" | "error"> {
  const renewFailures = context.renewFailures + 1;
  return {
    renewFailures,
    renewDelayMs: backoffDelay(renewFailures, context.retry, context.random, context.renewDelayMs),
    error: params?.stale
      ? staleAnswerError()
      : refreshError(context, event, params?.timedOut ? { timedOut: "REFRESH_TIMEOUT" } : {}),
  };
}

/** Action params of a failed refresh ahead: why it counts as failed. */
export interface RenewFailureParams {
  readonly timedOut?: boolean;
  readonly stale?: boolean;
}

/** A refresh ahead succeeded, or new credentials were set: the renewal counters start again. */
export const RESET_RENEWALS = { renewFailures: 0, renewDelayMs: 0 } as const;
