/**
 * The connection machine's `setup()`: its types and every action, guard,
 * delay and actor placeholder, by name (the chart, `connection.machine.ts`,
 * refers to nothing else). The actors are placeholders: `RealtimeClient`
 * provides the ones that touch the socket, a test provides its own.
 */

// Longer than 300 lines on purpose: every named action, guard, delay and actor of the chart is in
// one setup() call, so that XState checks them against the chart and the name tables together.

import {
  assign,
  emit,
  enqueueActions,
  fromCallback,
  fromPromise,
  raise,
  type SetupReturn,
  setup,
  stopChild,
} from "xstate";
import { ClientFailedError, CredentialsExpiredError, ReauthenticationError } from "../errors.js";
import {
  followServerReference,
  type ResolvedEndpoint,
  withCurrentEndpoint,
} from "../services/endpoint.js";
import { EXPIRY_TOLERANCE_MS } from "../services/expiry.js";
import { isExpiryDisconnect } from "../services/reason-codes.js";
import {
  type FailureEvent,
  fatalRefusalError,
  refusalOf,
  retriesExhaustedError,
} from "./connection.errors.js";
import {
  countAuthFailure,
  countEarlyCloseAsAuthFailure,
  countNetworkFailure,
  countRefreshFailure,
  countRenewFailure,
  EARLY_CLOSES_BEFORE_REFRESH,
  isEarlyClose,
  RESET_RENEWALS,
  RESET_RETRIES,
  type RenewFailureParams,
} from "./connection.retry.js";
import { currentEndpoint } from "./connection.selectors.js";
import type {
  ActorInput,
  ConnectionActionName,
  ConnectionActorName,
  ConnectionContext,
  ConnectionDelayName,
  ConnectionEmitted,
  ConnectionEvent,
  ConnectionGuardName,
  ConnectionInput,
  OpenLinkParams,
  ReauthenticateInput,
  RefreshCredentialsInput,
  RestoreResult,
  RestoreSubscriptionsInput,
  TimeoutParams,
} from "./connection.types.js";

/** The longest delay a timer can hold (setTimeout's 2^31 − 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/** The current time, or null when the machine was given no clock (expiry is then never acted on). */
function nowOf(context: Pick<ConnectionContext, "now">): number | null {
  return context.now ? context.now() : null;
}

/** Placeholder for an actor or action the facade (or a test) must provide. */
function required(name: string): never {
  throw new Error(`connectionMachine: provide "${name}" (machine.provide).`);
}

export const connectionSetup = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
    emitted: {} as ConnectionEmitted,
  },
  actors: {
    /** Reports the platform's network and page-visibility changes (a no-op outside browsers). */
    watchEnvironment: fromCallback<ConnectionEvent, ActorInput>(() => {}),
    /** Re-subscribes every tracked filter in as few SUBSCRIBE packets as the broker allows. */
    restoreSubscriptions: fromPromise<RestoreResult, RestoreSubscriptionsInput>(async () =>
      required("restoreSubscriptions"),
    ),
    /** Calls onAuthFailure (deduplicated) and merges its endpoint over the current one. */
    refreshCredentials: fromPromise<ResolvedEndpoint, RefreshCredentialsInput>(async () =>
      required("refreshCredentials"),
    ),
    /**
     * MQTT 5 re-authentication on the live connection (§4.12.1): AUTH 0x19
     * with the fresh credentials, the broker's 0x18 rounds answered through
     * `mqtt5Auth.onContinue`; resolves on AUTH 0x00 Success.
     */
    reauthenticate: fromPromise<void, ReauthenticateInput>(async () => required("reauthenticate")),
  },
  actions: {
    setEndpoint: assign({
      endpoints: ({ context, event }) =>
        event.type === "USER.UPDATE_ENDPOINT"
          ? withCurrentEndpoint(context.endpoints, context.endpointIndex, event.endpoint)
          : context.endpoints,
    }),
    setRefreshedEndpoint: assign({
      endpoints: ({ context }, params: { endpoint: ResolvedEndpoint }) =>
        withCurrentEndpoint(context.endpoints, context.endpointIndex, params.endpoint),
    }),
    /** Remembers the credentials this connection attempt opens with. */
    setLinkCredentials: assign({
      linkCredentials: ({ context }) => {
        const { password, expiresAt } = currentEndpoint(context);
        return { password, expiresAt };
      },
    }),
    /** Fresh credentials from a refresh ahead: the next connection's; the live one is left alone. */
    setRenewedEndpoint: assign(({ context }, params: { endpoint: ResolvedEndpoint }) => ({
      endpoints: withCurrentEndpoint(context.endpoints, context.endpointIndex, params.endpoint),
      ...RESET_RENEWALS,
    })),
    countRenewFailure: assign(({ context, event }, params: RenewFailureParams | undefined) =>
      countRenewFailure(context, event as FailureEvent, params),
    ),
    resetRenewals: assign(RESET_RENEWALS),
    setExpiredError: assign({ error: () => new CredentialsExpiredError() }),
    /** A re-authentication failed: say how, and rotate by reconnecting for the rest of the session. */
    setReauthFailed: assign({
      reauthRefused: true,
      error: ({ event }) => {
        if (event.type === "MQTT.DISCONNECT") {
          return new ReauthenticationError("disconnect", event.refusal.reasonCode);
        }
        if (event.type === "MQTT.CLOSED") {
          return new ReauthenticationError("closed", undefined, { cause: event.error });
        }
        const failure = (event as { error?: unknown }).error;
        if (failure instanceof ReauthenticationError) return failure;
        if (event.type.startsWith("xstate.error.")) {
          return new ReauthenticationError("hook", undefined, { cause: failure });
        }
        return new ReauthenticationError("timeout");
      },
    }),
    /** A new session may re-authenticate in place again. */
    clearReauthRefusal: assign({ reauthRefused: false }),
    /** Hands the failed re-authentication to the link, which reconnects with the fresh credentials. */
    fallBackToRotation: raise({ type: "AUTH.REAUTH_FAILED" } as const),
    /** Failover: the next connection tries the next endpoint of the list (README "Failover"). */
    rotateEndpoint: assign({
      endpointIndex: ({ context }) => (context.endpointIndex + 1) % context.endpoints.length,
    }),
    /** MQTT 5 "use another server" / "server moved": the next connection goes where the broker said. */
    followServerReference: assign({
      endpoints: ({ context, event }) => {
        const reference = refusalOf(event)?.serverReference;
        const next = reference && followServerReference(currentEndpoint(context), reference);
        return next
          ? withCurrentEndpoint(context.endpoints, context.endpointIndex, next)
          : context.endpoints;
      },
    }),
    countNetworkFailure: assign(({ context, event }, params: TimeoutParams | undefined) =>
      countNetworkFailure(context, event as FailureEvent, params),
    ),
    countAuthFailure: assign(({ context, event }) => countAuthFailure(context, event)),
    countRefreshFailure: assign(({ context, event }, params: TimeoutParams | undefined) =>
      countRefreshFailure(context, event as FailureEvent, params),
    ),
    countEarlyCloseAsAuthFailure: assign(({ context }) => countEarlyCloseAsAuthFailure(context)),
    resetRetries: assign(RESET_RETRIES),
    setRefusalError: assign({ error: ({ event }) => fatalRefusalError(event) }),
    setRetriesExhausted: assign({
      error: ({ context, event }, params: TimeoutParams | undefined) =>
        retriesExhaustedError(context, event as FailureEvent, params),
    }),
    clearError: assign({ error: null }),
    /*
     * The connection of the `link` state. No child actor holds it (one would
     * cost memory for as long as a client stays connected): the facade (or a
     * test) provides these actions, and reports what the connection does as
     * `MQTT.*` events sent to this machine's actor, from `openLink` until
     * `closeLink`.
     */
    /** Provided: opens one connection (the `link` state's entry). */
    openLink: (_, _params: OpenLinkParams) => required("openLink"),
    /** Provided: disposes of the connection and stops its reports (the `link` state's exit). */
    closeLink: () => {},
    /** Provided. The page's step 2: no half-open socket, no reconnect with the stale password. */
    forceDisconnect: () => {},
    /** Provided. `disconnect()`: DISCONNECT packet, in-flight QoS 1/2 given `CLOSE_TIMEOUT` to settle. */
    closeConnection: () => {},
    /** Provided. The page is visible again: is the connection still alive? (MQTT PINGREQ, then `MQTT.PONG`.) */
    pingBroker: () => {},
    /** Provided by the facade: route publishes and subscribes to the live connection. */
    attachConnection: () => {},
    /** Provided by the facade: queue publishes again until the next `connected`. */
    detachConnection: () => {},
    /** Provided by the facade: settle every pending promise (connect, publish, subscribe). */
    rejectPending: (_, _params: { reason: "closed" | "failed" }) => {},
    notifyRestored: emit((_, params: { result: RestoreResult }) => ({
      type: "notify.restored" as const,
      result: params.result,
    })),
    notifyRenewal: emit(
      (
        { context },
        params:
          | { phase: "started" | "failed" | "lapsed" }
          | { phase: "succeeded" | "reauthenticated"; endpoint: ResolvedEndpoint },
      ) => {
        const type = "notify.renewal" as const;
        switch (params.phase) {
          case "started":
            return { type, renewal: { phase: "started", attempt: context.renewFailures + 1 } };
          case "succeeded": {
            const { expiresAt } = params.endpoint;
            const attempt = context.renewFailures + 1;
            return {
              type,
              renewal: {
                phase: "succeeded",
                attempt,
                ...(expiresAt !== undefined ? { expiresAt } : {}),
              },
            };
          }
          case "reauthenticated": {
            const { expiresAt } = params.endpoint;
            return {
              type,
              renewal: {
                phase: "reauthenticated",
                attempt: context.renewFailures + 1,
                ...(expiresAt !== undefined ? { expiresAt } : {}),
              },
            };
          }
          case "failed": {
            const error = context.error ?? new ClientFailedError("The refresh ahead", null);
            return { type, renewal: { phase: "failed", attempt: context.renewFailures, error } };
          }
          default:
            return { type, renewal: { phase: "lapsed", attempt: context.renewFailures } };
        }
      },
    ),
    notifyError: emit(({ context }) => ({
      type: "notify.error" as const,
      error: context.error ?? new ClientFailedError("The connection", null),
    })),
  },
  guards: {
    isAuthRefusal: ({ event }) => refusalOf(event)?.category === "auth",
    isFatalRefusal: ({ event }) => refusalOf(event)?.category === "fatal",
    isFirstAuthFailure: ({ context }) => context.authFailures <= 1,
    hasCredentialsProvider: ({ context }) => context.hasCredentialsProvider,
    hasServerReference: ({ context, event }) => {
      const reference = refusalOf(event)?.serverReference;
      return (
        reference !== undefined &&
        followServerReference(currentEndpoint(context), reference) !== undefined
      );
    },
    /** The next network retry would be number `networkFailures + 1`. */
    isOutOfNetworkRetries: ({ context }) => context.networkFailures >= context.retry.maxRetries,
    /** The next auth retry would be number `authFailures` (the first refresh is not a retry). */
    isOutOfAuthRetries: ({ context }) => context.authFailures > context.retry.maxRetries,
    /** This close before CONNACK is the `EARLY_CLOSES_BEFORE_REFRESH`th in a row. */
    isRepeatedEarlyClose: ({ context, event }) =>
      isEarlyClose(event as FailureEvent) && context.earlyCloses + 1 >= EARLY_CLOSES_BEFORE_REFRESH,
    /** The connection ended at (or just before) the known expiry of the credentials it was opened with. */
    isAtLinkExpiry: ({ context }) => {
      const now = nowOf(context);
      const expiresAt = context.linkCredentials?.expiresAt;
      return now !== null && expiresAt !== undefined && now >= expiresAt - EXPIRY_TOLERANCE_MS;
    },
    /** The next connection's credentials are not the ones that just expired, and have life left. */
    hasFreshCredentials: ({ context }) => {
      const now = nowOf(context);
      const next = currentEndpoint(context);
      if (now === null || next.password === undefined) return false;
      if (next.password.equals(context.linkCredentials?.password)) return false;
      return next.expiresAt === undefined || next.expiresAt > now + EXPIRY_TOLERANCE_MS;
    },
    /** A server DISCONNECT that can mean "your credentials expired" (0x87, 0x98, 0xA0). */
    isExpiryDisconnect: ({ event }) => {
      const refusal = refusalOf(event);
      return refusal !== undefined && isExpiryDisconnect(refusal);
    },
    /** A provider exists and the credentials' refresh point has passed. */
    isRefreshPointReached: ({ context }) => {
      const now = nowOf(context);
      const { refreshAt } = currentEndpoint(context);
      return (
        context.hasCredentialsProvider &&
        now !== null &&
        refreshAt !== undefined &&
        now >= refreshAt
      );
    },
    /** A provider exists and the credentials held have a refresh point (`refreshAhead`). */
    hasRefreshPoint: ({ context }) =>
      context.hasCredentialsProvider &&
      context.now !== null &&
      currentEndpoint(context).refreshAt !== undefined,
    /** A refresh ahead brought credentials other than the ones held, expiring no earlier. */
    isNewerCredentials: ({ context, event }) => {
      const output = (event as { output?: ResolvedEndpoint }).output;
      const held = currentEndpoint(context);
      if (!output || output.password?.equals(held.password)) return false;
      return (
        output.expiresAt === undefined ||
        held.expiresAt === undefined ||
        output.expiresAt > held.expiresAt
      );
    },
    /** The client re-authenticates in place (`mqtt5Auth`) and no re-authentication failed this session. */
    canReauthenticate: ({ context }) => context.canReauthenticate && !context.reauthRefused,
    /** The credentials held have not expired yet (or their expiry is unknown). */
    isBeforeExpiry: ({ context }) => {
      const now = nowOf(context);
      const { expiresAt } = currentEndpoint(context);
      return now !== null && (expiresAt === undefined || now < expiresAt - EXPIRY_TOLERANCE_MS);
    },
  },
  delays: {
    CONNECT_TIMEOUT: ({ context }) => context.timing.connectTimeoutMs,
    RESTORE_TIMEOUT: ({ context }) => context.timing.restoreTimeoutMs,
    REFRESH_TIMEOUT: ({ context }) => context.timing.refreshTimeoutMs,
    REFRESH_WAIT: ({ context }) => context.timing.refreshWaitMs,
    CLOSE_TIMEOUT: ({ context }) => context.timing.closeTimeoutMs,
    RETRY_DELAY: ({ context }) => context.retryDelayMs,
    AUTH_RETRY_DELAY: ({ context }) => context.retryDelayMs,
    STABLE_CONNECTION: ({ context }) => context.timing.stableAfterMs,
    PROBE_TIMEOUT: ({ context }) => context.timing.probeTimeoutMs,
    REAUTH_TIMEOUT: ({ context }) => context.timing.reauthTimeoutMs,
    /** Until the credentials' refresh point; the longest timer when there is none (re-checked then). */
    REFRESH_AHEAD: ({ context }) => {
      const now = nowOf(context);
      const { refreshAt } = currentEndpoint(context);
      if (now === null || refreshAt === undefined || !context.hasCredentialsProvider) {
        return MAX_TIMER_MS;
      }
      return Math.min(MAX_TIMER_MS, Math.max(0, refreshAt - now));
    },
    /** The auth backoff, but never past the expiry: then the refresh ahead gives up. */
    RENEW_RETRY_DELAY: ({ context }) => {
      const now = nowOf(context);
      const { expiresAt } = currentEndpoint(context);
      if (now === null || expiresAt === undefined) return context.renewDelayMs;
      return Math.max(0, Math.min(context.renewDelayMs, expiresAt - EXPIRY_TOLERANCE_MS - now));
    },
  },
}).extend({
  actions: {
    /** Only where there is a platform to watch: a child actor costs memory per client. */
    startWatchingEnvironment: enqueueActions(({ context, enqueue }) => {
      if (!context.watchesEnvironment) return;
      enqueue.spawnChild("watchEnvironment", {
        id: "environment",
        input: { services: context.services },
      });
    }),
    stopWatchingEnvironment: stopChild("environment"),
  },
});

/** The names `setup()` declares, by kind. */
type Declared<S> =
  S extends SetupReturn<
    // biome-ignore lint/suspicious/noExplicitAny: only the name maps are read.
    any,
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    any,
    infer Actors,
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    any,
    infer Actions,
    infer Guards,
    infer Delays,
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    any,
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    any,
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    any,
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    any,
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    any,
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    any
  >
    ? { actors: keyof Actors; actions: keyof Actions; guards: keyof Guards; delays: Delays }
    : never;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** Fails to compile when `setup()` and the name tables of `connection.types.ts` disagree. */
({
  actors: true,
  actions: true,
  guards: true,
  delays: true,
}) satisfies {
  actors: Same<Declared<typeof connectionSetup>["actors"], ConnectionActorName>;
  actions: Same<Declared<typeof connectionSetup>["actions"], ConnectionActionName>;
  guards: Same<Declared<typeof connectionSetup>["guards"], ConnectionGuardName>;
  delays: Same<Declared<typeof connectionSetup>["delays"], ConnectionDelayName>;
};
