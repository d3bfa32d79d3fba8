/**
 * The connection lifecycle: the single source of truth for what the client
 * does (DESIGN.md "The statechart"). It declares; `src/services` does. Every
 * actor, action, guard and delay is referred to by name, and the facade
 * (`RealtimeClient`) provides the implementations that touch the socket.
 *
 * The page's flow (shared/spec/authentication.txt, "Token Refresh on Auth
 * Error"): detect the auth error → force-disconnect (`authFailed`) → call
 * onAuthFailure (`refreshing`) → wait 2 s (`waiting`) → reconnect
 * (`reconnecting`) → restore subscriptions (`restoring`) → `connected`.
 *
 * `meta.overview` marks what the overview diagram (README, "What happens when
 * the token expires") shows: on a state, `true`; on a transition, its label
 * (`true`: the delay), and `from`, the state it is drawn from when it belongs
 * to a group of states or is shared by several (drawn once). Everything else
 * is folded away.
 */

import {
  and,
  assign,
  emit,
  fromCallback,
  fromPromise,
  not,
  type StateValue,
  sendTo,
  setup,
} from "xstate";
import {
  AuthRefreshError,
  ClientFailedError,
  ConnectionLostError,
  ConnectionRefusedError,
  CourierError,
  NotAuthorizedError,
  RetriesExhaustedError,
} from "../errors.js";
import { backoffDelay } from "../services/backoff.js";
import {
  followServerReference,
  type ResolvedEndpoint,
  withCurrentEndpoint,
} from "../services/endpoint.js";
import type { Refusal } from "../services/reason-codes.js";
import {
  CONNECTION_STATES,
  type ConnectBrokerInput,
  type ConnectionContext,
  type ConnectionEmitted,
  type ConnectionEvent,
  type ConnectionInput,
  type ConnectionState,
  type LinkCommand,
  type RefreshCredentialsInput,
  type RestoreResult,
  type RestoreSubscriptionsInput,
} from "./connection.types.js";

/**
 * The public state of a snapshot value: the deepest active state that is a
 * `ConnectionState` (`{ session: { link: { connected: "probing" } } }` is
 * `connected`; inner detail stays inside).
 */
export function connectionStateOf(value: StateValue): ConnectionState {
  let found: ConnectionState = "idle";
  let current: StateValue | undefined = value;
  while (current !== undefined) {
    const [name, child]: [string, StateValue | undefined] =
      typeof current === "string"
        ? [current, undefined]
        : (Object.entries(current)[0] ?? ["", undefined]);
    if ((CONNECTION_STATES as readonly string[]).includes(name)) found = name as ConnectionState;
    current = child;
  }
  return found;
}

/** The endpoint the next (or current) connection uses. */
export function currentEndpoint(
  context: Pick<ConnectionContext, "endpoints" | "endpointIndex">,
): ResolvedEndpoint {
  const endpoint = context.endpoints[context.endpointIndex] ?? context.endpoints[0];
  if (!endpoint) throw new Error("connection context has no endpoint");
  return endpoint;
}

/** Placeholder for an actor the facade (or a test) must provide. */
function required(name: string): never {
  throw new Error(`connectionMachine: provide the "${name}" actor (machine.provide).`);
}

/** The error a failure event stands for, for the `error` the user sees. */
function errorOf(event: { type: string; error?: unknown; refusal?: Refusal }): CourierError {
  if (event.refusal) {
    const { reasonCode, reason, source } = event.refusal;
    return new ConnectionRefusedError(reasonCode, reason, source, "Reconnecting with backoff.");
  }
  if (event.error instanceof CourierError) return event.error;
  if (event.type.startsWith("xstate.after.")) {
    return new ConnectionLostError(`timed out (${event.type.split(".")[2] ?? "timer"})`);
  }
  return new ConnectionLostError("the session failed", { cause: event.error });
}

function refusalOf(event: ConnectionEvent): Refusal | undefined {
  return event.type === "MQTT.REFUSED" || event.type === "MQTT.DISCONNECT"
    ? event.refusal
    : undefined;
}

/** A retry of a busy broker waits as if it were two attempts later (4× longer, capped). */
const BUSY_PENALTY = 2;

/**
 * A network/broker failure: back off and reconnect, unless `maxRetries` is spent.
 * (DESIGN.md behaviour 5.)
 */
const retryOrFail = [
  { guard: "isOutOfNetworkRetries", target: "#connection.failed", actions: "setRetriesExhausted" },
  {
    target: "#connection.session.backoff",
    actions: ["countNetworkFailure", "rotateEndpoint", "notifyError"],
    meta: { overview: "connection lost", from: "connected" },
  },
] as const;

/** A refused CONNACK or a server DISCONNECT, by category (DESIGN.md behaviours 1, 4, 6). */
const onRefusal = [
  {
    guard: and(["isAuthRefusal", "isOutOfAuthRetries"]),
    target: "#connection.failed",
    actions: "setRetriesExhausted",
  },
  {
    guard: "isAuthRefusal",
    target: "#connection.session.link.authFailed",
    actions: "countAuthFailure",
    meta: { overview: "token refused", from: "connected" },
  },
  {
    guard: "isFatalRefusal",
    target: "#connection.failed",
    actions: "setRefusalError",
    meta: { overview: "refused for good", from: "connecting" },
  },
  {
    guard: and(["hasServerReference", not("isOutOfNetworkRetries")]),
    target: "#connection.session.backoff",
    actions: ["countNetworkFailure", "followServerReference", "notifyError"],
  },
  ...retryOrFail,
] as const;

/** Once the rejected session is closed: refresh now, refresh after a backoff, or stop without a provider. */
const afterAuthFailure = [
  { guard: not("hasCredentialsProvider"), target: "#connection.failed" },
  {
    guard: "isFirstAuthFailure",
    target: "#connection.session.refreshing",
    meta: { overview: "session closed" },
  },
  { target: "#connection.session.authBackoff" },
] as const;

/** onAuthFailure rejected or timed out: auth retry n, after backoff n (DESIGN.md behaviour 4). */
const refreshFailed = [
  { guard: "isOutOfAuthRetries", target: "#connection.failed", actions: "setRetriesExhausted" },
  { target: "#connection.session.authBackoff", actions: ["countRefreshFailure", "notifyError"] },
] as const;

export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
    emitted: {} as ConnectionEmitted,
  },
  actors: {
    /** Reports the platform's network and page-visibility changes (a no-op outside browsers). */
    watchEnvironment: fromCallback(() => {}),
    /** Opens one connection and owns its socket until the `link` state is left. */
    connectBroker: fromCallback<LinkCommand, ConnectBrokerInput>(() => required("connectBroker")),
    /** Re-subscribes every tracked filter in as few SUBSCRIBE packets as the broker allows. */
    restoreSubscriptions: fromPromise<RestoreResult, RestoreSubscriptionsInput>(async () =>
      required("restoreSubscriptions"),
    ),
    /** Calls onAuthFailure (deduplicated) and merges its endpoint over the current one. */
    refreshCredentials: fromPromise<ResolvedEndpoint, RefreshCredentialsInput>(async () =>
      required("refreshCredentials"),
    ),
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
    /** Failover: the next connection tries the next endpoint of the list (DESIGN.md, issue 6). */
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
    countNetworkFailure: assign(({ context, event }) => {
      const networkFailures = context.networkFailures + 1;
      const penalty = refusalOf(event)?.category === "busy" ? BUSY_PENALTY : 0;
      return {
        networkFailures,
        retryDelayMs: backoffDelay(
          networkFailures + penalty,
          context.retry,
          Math.random,
          context.retryDelayMs,
        ),
        error: errorOf(event),
      };
    }),
    countAuthFailure: assign(({ context, event }) => {
      const authFailures = context.authFailures + 1;
      const refusal = refusalOf(event);
      return {
        authFailures,
        retryDelayMs:
          authFailures > 1
            ? backoffDelay(authFailures - 1, context.retry, Math.random, context.retryDelayMs)
            : 0,
        error:
          refusal && !context.hasCredentialsProvider
            ? new NotAuthorizedError(refusal.reasonCode, refusal.reason, refusal.source)
            : context.error,
      };
    }),
    countRefreshFailure: assign(({ context, event }) => {
      const authFailures = context.authFailures + 1;
      return {
        authFailures,
        retryDelayMs: backoffDelay(
          authFailures - 1,
          context.retry,
          Math.random,
          context.retryDelayMs,
        ),
        error: event.type.startsWith("xstate.after.")
          ? new AuthRefreshError(
              "timeout",
              `onAuthFailure did not settle within ${context.timing.refreshTimeoutMs} ms.`,
            )
          : errorOf(event as { type: string; error?: unknown }),
      };
    }),
    resetRetries: assign({ networkFailures: 0, authFailures: 0, retryDelayMs: 0 }),
    setRefusalError: assign({
      error: ({ event }) => {
        const refusal = refusalOf(event);
        if (!refusal) return errorOf(event as { type: string });
        return new ConnectionRefusedError(
          refusal.reasonCode,
          refusal.reason,
          refusal.source,
          refusal.reasonCode === 0x8e
            ? "Another connection took over this clientId; give each connection a unique clientId."
            : "Retrying cannot fix this; fix the options, then connect().",
        );
      },
    }),
    setRetriesExhausted: assign({
      error: ({ context, event }) =>
        new RetriesExhaustedError(Math.max(context.networkFailures, context.authFailures) + 1, {
          cause: errorOf(event as { type: string; error?: unknown; refusal?: Refusal }),
        }),
    }),
    clearError: assign({ error: null }),
    /** The page's step 2: no half-open socket, no reconnect with the stale password. */
    forceDisconnect: sendTo("link", { type: "LINK.END", force: true } satisfies LinkCommand),
    /** `disconnect()`: DISCONNECT packet, in-flight QoS 1/2 given `CLOSE_TIMEOUT` to settle. */
    endSession: sendTo("link", { type: "LINK.END", force: false } satisfies LinkCommand),
    /** The page is visible again: is the connection still alive? (MQTT PINGREQ.) */
    pingBroker: sendTo("link", { type: "LINK.PING" } satisfies LinkCommand),
    /** Provided by the facade: route publishes and subscribes to the live connection. */
    attachSession: () => {},
    /** Provided by the facade: queue publishes again until the next `connected`. */
    detachSession: () => {},
    /** Provided by the facade: settle every pending promise (connect, publish, subscribe). */
    rejectPending: (_, _params: { reason: "closed" | "failed" }) => {},
    notifyRestored: emit((_, params: { result: RestoreResult }) => ({
      type: "notify.restored" as const,
      result: params.result,
    })),
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
  },
}).createMachine({
  id: "connection",
  context: ({ input }) => ({
    endpoints: input.endpoints,
    endpointIndex: 0,
    retry: input.retry,
    timing: input.timing,
    hasCredentialsProvider: input.hasCredentialsProvider,
    networkFailures: 0,
    authFailures: 0,
    retryDelayMs: 0,
    error: null,
  }),
  initial: "idle",
  on: {
    "USER.UPDATE_ENDPOINT": { actions: "setEndpoint" },
  },
  states: {
    idle: {
      description: "Not connected and not trying; connect() starts.",
      meta: { overview: true },
      entry: { type: "rejectPending", params: { reason: "closed" } },
      on: {
        "USER.CONNECT": {
          target: "session",
          actions: "resetRetries",
          meta: { overview: "connect()" },
        },
        // Nothing to close, but what was queued before connect() is settled all the same.
        "USER.DISCONNECT": { actions: { type: "rejectPending", params: { reason: "closed" } } },
      },
    },
    session: {
      description: "Started by connect(); ends with disconnect() or an error retrying cannot fix.",
      initial: "link",
      invoke: { src: "watchEnvironment" },
      on: {
        "USER.DISCONNECT": "#connection.idle",
      },
      states: {
        link: {
          description:
            "One connection attempt is alive: it owns the socket until this state is left.",
          invoke: {
            id: "link",
            src: "connectBroker",
            input: ({ context }) => ({
              endpoint: currentEndpoint(context),
              connectTimeoutMs: context.timing.connectTimeoutMs,
            }),
          },
          initial: "connecting",
          on: {
            "MQTT.REFUSED": onRefusal,
            "MQTT.DISCONNECT": onRefusal,
            "MQTT.CLOSED": retryOrFail,
            // The platform says the network is gone: no need to wait for a keepalive timeout.
            "NET.OFFLINE": retryOrFail,
            "USER.DISCONNECT": ".closing",
          },
          states: {
            connecting: {
              description: "Opening the first connection; waiting for CONNACK.",
              meta: { overview: true },
              on: { "MQTT.CONNACK": { target: "restoring", meta: { overview: "CONNACK" } } },
              after: {
                CONNECT_TIMEOUT: retryOrFail,
              },
            },
            reconnecting: {
              description:
                "Opening a new connection after a refresh or a backoff; waiting for CONNACK.",
              meta: { overview: true },
              on: { "MQTT.CONNACK": { target: "restoring", meta: { overview: "CONNACK" } } },
              after: {
                CONNECT_TIMEOUT: retryOrFail,
              },
            },
            restoring: {
              description:
                "Accepted by the broker; re-subscribing every tracked filter before reporting connected.",
              meta: { overview: true },
              invoke: {
                src: "restoreSubscriptions",
                input: ({ event }) => ({
                  sessionPresent: event.type === "MQTT.CONNACK" && event.sessionPresent,
                }),
                onDone: {
                  target: "connected",
                  meta: { overview: "subscriptions restored" },
                  actions: {
                    type: "notifyRestored",
                    params: ({ event }) => ({ result: event.output }),
                  },
                },
                onError: retryOrFail,
              },
              after: {
                RESTORE_TIMEOUT: retryOrFail,
              },
            },
            connected: {
              description:
                "Live: publishes go out, queued ones flushed in order, messages come in.",
              meta: { overview: true },
              entry: "attachSession",
              exit: "detachSession",
              after: {
                STABLE_CONNECTION: { actions: "resetRetries" },
              },
              initial: "live",
              states: {
                live: {
                  description: "Nothing in doubt.",
                  on: { "PAGE.VISIBLE": "probing" },
                },
                probing: {
                  description:
                    "The page is visible again after its timers may have been throttled: the broker must answer a ping.",
                  entry: "pingBroker",
                  on: { "MQTT.PONG": "live" },
                  after: { PROBE_TIMEOUT: retryOrFail },
                },
              },
            },
            authFailed: {
              description:
                "The broker rejected the credentials; force-closing the session before refreshing.",
              meta: { overview: true },
              entry: "forceDisconnect",
              on: {
                "MQTT.CLOSED": afterAuthFailure,
                "MQTT.REFUSED": {},
                "MQTT.DISCONNECT": {},
                "NET.OFFLINE": {},
              },
              after: {
                CLOSE_TIMEOUT: afterAuthFailure,
              },
            },
            closing: {
              description: "disconnect() was called: sending DISCONNECT and closing the socket.",
              entry: "endSession",
              on: {
                "MQTT.CLOSED": "#connection.idle",
                "MQTT.CONNACK": {},
                "MQTT.REFUSED": {},
                "MQTT.DISCONNECT": {},
                "NET.OFFLINE": {},
                "USER.DISCONNECT": {},
                "USER.CONNECT": {
                  target: "#connection.session.link",
                  reenter: true,
                  actions: "resetRetries",
                },
              },
              after: {
                CLOSE_TIMEOUT: "#connection.idle",
              },
            },
          },
        },
        refreshing: {
          description:
            "Asking onAuthFailure for fresh credentials (one call, however many failures).",
          meta: { overview: true },
          invoke: {
            src: "refreshCredentials",
            input: ({ context }) => ({
              endpoint: currentEndpoint(context),
              retry: Math.max(0, context.authFailures - 1),
            }),
            onDone: {
              target: "waiting",
              meta: { overview: "new credentials" },
              actions: {
                type: "setRefreshedEndpoint",
                params: ({ event }) => ({ endpoint: event.output }),
              },
            },
            onError: refreshFailed,
          },
          after: {
            REFRESH_TIMEOUT: refreshFailed,
          },
        },
        waiting: {
          description: "The page's step 4: waiting 2 s after the refresh before reconnecting.",
          meta: { overview: true },
          after: { REFRESH_WAIT: { target: "link.reconnecting", meta: { overview: true } } },
        },
        authBackoff: {
          description:
            "A refresh failed or its credentials were refused again; waiting to refresh again.",
          after: { AUTH_RETRY_DELAY: "refreshing" },
          // The refresh may have failed only because the network was gone.
          on: { "NET.ONLINE": "refreshing" },
        },
        backoff: {
          description:
            "The connection was lost or refused for a network reason; waiting to reconnect.",
          meta: { overview: true },
          after: { RETRY_DELAY: { target: "link.reconnecting", meta: { overview: true } } },
          // Back online, or back from a hidden tab whose timers were throttled: reconnect now.
          on: { "NET.ONLINE": "link.reconnecting", "PAGE.VISIBLE": "link.reconnecting" },
        },
      },
    },
    failed: {
      description: "Stopped after an error that retrying cannot fix; connect() starts again.",
      meta: { overview: true },
      entry: ["notifyError", { type: "rejectPending", params: { reason: "failed" } }],
      on: {
        "USER.CONNECT": {
          target: "session",
          actions: ["clearError", "resetRetries"],
          meta: { overview: "connect()" },
        },
        "USER.DISCONNECT": "idle",
      },
    },
  },
});

export type ConnectionMachine = typeof connectionMachine;
