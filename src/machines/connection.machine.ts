/**
 * The connection lifecycle: the single source of truth for what the client
 * does. It declares; `src/services` does. Every actor, action, guard and
 * delay is referred to by name, and `RealtimeClient` provides the
 * implementations that touch the socket. Beside it: the vocabulary
 * (`connection.types.ts`), the named implementations (`connection.setup.ts`),
 * reading a snapshot (`connection.selectors.ts`),
 * the retry accounting (`connection.retry.ts`) and the errors failures stand
 * for (`connection.errors.ts`).
 *
 * The published page's flow ("Token Refresh on Auth Error"): detect the auth
 * error → force-disconnect (`authFailed`) → call onAuthFailure
 * (`refreshing`) → wait 2 s (`waiting`) → reconnect (`reconnecting`) →
 * restore subscriptions (`restoring`) → `connected`.
 *
 * `meta.overview` marks what the overview diagram (README, "What happens when
 * the token expires") shows: on a state, `true`; on a transition, its label
 * (`true`: the delay), and `from`, the state it is drawn from when it belongs
 * to a group of states or is shared by several (drawn once). Everything else
 * is folded away.
 */

// Longer than 300 lines on purpose: the chart is one statechart; transitions cross its states, and
// splitting it across files would hide them.

import { and, not } from "xstate";
import type { RenewFailureParams } from "./connection.retry.js";
import { currentEndpoint } from "./connection.selectors.js";
import { connectionSetup } from "./connection.setup.js";
import type { ConnectionTimeout, TimeoutParams } from "./connection.types.js";

/** Re-exported for the tests and scripts that read the machine and its snapshots together. */
export { connectionStateOf } from "./connection.selectors.js";

/**
 * A network/broker failure: back off and reconnect, unless `maxRetries` is
 * spent. A timeout says which timer fired (`timedOut`), for the error.
 */
function retryOrFail(timedOut?: ConnectionTimeout) {
  const params: TimeoutParams = timedOut ? { timedOut } : {};
  return [
    {
      guard: "isOutOfNetworkRetries",
      target: "#connection.failed",
      actions: { type: "setRetriesExhausted", params },
    },
    {
      target: "#connection.session.backoff",
      actions: [{ type: "countNetworkFailure", params }, "rotateEndpoint", "notifyError"],
      meta: { overview: "connection lost", from: "connected" },
    },
  ] as const;
}

/** A refused CONNACK or a server DISCONNECT, by category (`reason-codes.ts`). */
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
  ...retryOrFail(),
] as const;

/**
 * The broker ended the connection at the credentials' known expiry (README
 * "Refreshing ahead of the expiry"). Fresh credentials in hand: reconnect
 * at once with them (no network backoff, no 2 s wait: nothing was refused).
 * None: the page's flow at once (refresh → 2 s → reconnect), never a
 * CONNECT certain to be refused.
 */
const onExpiredClose = [
  {
    guard: and(["isAtLinkExpiry", "hasFreshCredentials"]),
    target: ".reconnecting",
    reenter: true,
  },
  {
    guard: and(["isAtLinkExpiry", "hasCredentialsProvider"]),
    target: "#connection.session.refreshing",
    actions: ["countAuthFailure", "setExpiredError", "notifyError"],
  },
] as const;

/** The same for a server DISCONNECT (MQTT 5: 0x87 Not authorized, 0x98, 0xA0 Maximum connect time). */
const onExpiredDisconnect = [
  {
    guard: and(["isExpiryDisconnect", "isAtLinkExpiry", "hasFreshCredentials"]),
    target: ".reconnecting",
    reenter: true,
  },
  {
    guard: and(["isAtLinkExpiry", "hasCredentialsProvider", not("isFatalRefusal")]),
    target: ".authFailed",
    actions: ["countAuthFailure", "setExpiredError", "notifyError"],
  },
] as const;

/** New credentials while connected bring a new refresh point (or one where there was none). */
const onUpdateWhileLive = {
  target: "scheduled",
  actions: ["setEndpoint", "resetRenewals"],
} as const;

/** A refresh ahead failed: retry after the auth backoff while the credentials last. */
function renewFailed(params: RenewFailureParams = {}) {
  return {
    target: "renewBackoff",
    actions: [
      { type: "countRenewFailure" as const, params },
      { type: "notifyRenewal", params: { phase: "failed" } },
      "notifyError",
    ],
  } as const;
}

/**
 * A re-authentication in place failed (DISCONNECT, close, timeout, hook):
 * told as an error, never tried again this session, and the link
 * reconnects at once with the fresh credentials (the rotation).
 */
const reauthFailed = ["setReauthFailed", "notifyError", "fallBackToRotation"] as const;

/**
 * Once the rejected session is closed: refresh now, refresh after a backoff,
 * or stop without a provider. Each refusal is reported (`failed` reports its
 * own).
 */
const afterAuthFailure = [
  { guard: not("hasCredentialsProvider"), target: "#connection.failed" },
  {
    guard: "isFirstAuthFailure",
    target: "#connection.session.refreshing",
    actions: "notifyError",
    meta: { overview: "session closed" },
  },
  { target: "#connection.session.authBackoff", actions: "notifyError" },
] as const;

/** onAuthFailure rejected or timed out: auth retry n, after backoff n. */
function refreshFailed(timedOut?: "REFRESH_TIMEOUT") {
  const params: TimeoutParams = timedOut ? { timedOut } : {};
  return [
    {
      guard: "isOutOfAuthRetries",
      target: "#connection.failed",
      actions: { type: "setRetriesExhausted", params },
    },
    {
      target: "#connection.session.authBackoff",
      actions: [{ type: "countRefreshFailure", params }, "notifyError"],
    },
  ] as const;
}

/**
 * The connection statechart (see the README's state table and docs/statecharts):
 * provide its connection actions and actors with `connectionMachine.provide({ actions, actors })`
 * to run it.
 */
export const connectionMachine = connectionSetup.createMachine({
  id: "connection",
  context: ({ input }) => ({
    random: input.random,
    services: input.services,
    endpoints: input.endpoints,
    endpointIndex: 0,
    retry: input.retry,
    timing: input.timing,
    hasCredentialsProvider: input.hasCredentialsProvider,
    watchesEnvironment: input.watchesEnvironment ?? true,
    networkFailures: 0,
    authFailures: 0,
    earlyCloses: 0,
    retryDelayMs: 0,
    error: null,
    /** The clock expiries are compared with; null: expiry is never acted on. */
    now: input.now ?? null,
    linkCredentials: null,
    renewFailures: 0,
    renewDelayMs: 0,
    canReauthenticate: input.canReauthenticate ?? false,
    reauthRefused: false,
  }),
  initial: "idle",
  on: {
    "USER.UPDATE_ENDPOINT": { actions: "setEndpoint" },
  },
  states: {
    idle: {
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
      initial: "link",
      // The platform's signals while a session runs (`watchEnvironment`), where there is a platform.
      entry: ["clearReauthRefusal", "startWatchingEnvironment"],
      exit: "stopWatchingEnvironment",
      on: {
        "USER.DISCONNECT": "#connection.idle",
      },
      states: {
        link: {
          // One connection per entry of this state, disposed of when it is left.
          initial: "connecting",
          entry: [
            "setLinkCredentials",
            {
              type: "openLink",
              params: ({ context }) => ({
                endpoint: currentEndpoint(context),
                connectTimeoutMs: context.timing.connectTimeoutMs,
              }),
            },
          ],
          exit: "closeLink",
          on: {
            "MQTT.REFUSED": onRefusal,
            "MQTT.DISCONNECT": [...onExpiredDisconnect, ...onRefusal],
            "MQTT.CLOSED": [
              ...onExpiredClose,
              {
                // A broker that refuses credentials by closing before CONNACK (RabbitMQ Web MQTT).
                guard: and([
                  "hasCredentialsProvider",
                  "isRepeatedEarlyClose",
                  not("isOutOfNetworkRetries"),
                  not("isOutOfAuthRetries"),
                ]),
                target: "#connection.session.refreshing",
                actions: ["countEarlyCloseAsAuthFailure", "notifyError"],
              },
              ...retryOrFail(),
            ],
            // The platform says the network is gone: no need to wait for a keepalive timeout.
            "NET.OFFLINE": retryOrFail(),
            "USER.DISCONNECT": ".closing",
            // A re-authentication in place failed: rotate now, with the fresh credentials.
            "AUTH.REAUTH_FAILED": { target: ".reconnecting", reenter: true },
          },
          states: {
            connecting: {
              meta: { overview: true },
              on: { "MQTT.CONNACK": { target: "restoring", meta: { overview: "CONNACK" } } },
              after: {
                CONNECT_TIMEOUT: retryOrFail("CONNECT_TIMEOUT"),
              },
            },
            reconnecting: {
              meta: { overview: true },
              on: { "MQTT.CONNACK": { target: "restoring", meta: { overview: "CONNACK" } } },
              after: {
                CONNECT_TIMEOUT: retryOrFail("CONNECT_TIMEOUT"),
              },
            },
            restoring: {
              meta: { overview: true },
              invoke: {
                src: "restoreSubscriptions",
                input: ({ context, event }) => ({
                  services: context.services,
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
                onError: retryOrFail(),
              },
              after: {
                RESTORE_TIMEOUT: retryOrFail("RESTORE_TIMEOUT"),
              },
            },
            connected: {
              meta: { overview: true },
              entry: "attachConnection",
              exit: "detachConnection",
              after: {
                STABLE_CONNECTION: { actions: "resetRetries" },
              },
              initial: "live",
              states: {
                live: {
                  on: { "PAGE.VISIBLE": "probing" },
                  initial: "scheduled",
                  states: {
                    scheduled: {
                      // Nothing to refresh ahead of: wait without a timer.
                      always: { guard: not("hasRefreshPoint"), target: "unscheduled" },
                      after: {
                        REFRESH_AHEAD: [
                          {
                            guard: "isRefreshPointReached",
                            target: "renewing",
                          },
                          // A timer cut short by its 24.8-day limit: arm it again.
                          { target: "scheduled", reenter: true },
                        ],
                      },
                      on: {
                        "USER.UPDATE_ENDPOINT": { ...onUpdateWhileLive, reenter: true },
                        // Back online: a throttled timer may have missed the refresh point.
                        "NET.ONLINE": { target: "scheduled", reenter: true },
                      },
                    },
                    unscheduled: {
                      on: { "USER.UPDATE_ENDPOINT": onUpdateWhileLive },
                    },
                    renewing: {
                      entry: { type: "notifyRenewal", params: { phase: "started" } },
                      invoke: {
                        src: "refreshCredentials",
                        input: ({ context }) => ({
                          services: context.services,
                          endpoint: currentEndpoint(context),
                          retry: context.renewFailures,
                          reason: "expiring" as const,
                        }),
                        onDone: [
                          {
                            guard: and(["isNewerCredentials", "canReauthenticate"]),
                            target: "reauthenticating",
                            actions: [
                              {
                                type: "notifyRenewal",
                                params: ({ event }) => ({
                                  phase: "succeeded" as const,
                                  endpoint: event.output,
                                }),
                              },
                              {
                                type: "setRenewedEndpoint",
                                params: ({ event }) => ({ endpoint: event.output }),
                              },
                            ],
                          },
                          {
                            guard: "isNewerCredentials",
                            target: "scheduled",
                            actions: [
                              {
                                type: "notifyRenewal",
                                params: ({ event }) => ({
                                  phase: "succeeded" as const,
                                  endpoint: event.output,
                                }),
                              },
                              {
                                type: "setRenewedEndpoint",
                                params: ({ event }) => ({ endpoint: event.output }),
                              },
                            ],
                          },
                          renewFailed({ stale: true }),
                        ],
                        onError: renewFailed(),
                      },
                      after: { REFRESH_TIMEOUT: renewFailed({ timedOut: true }) },
                    },
                    reauthenticating: {
                      invoke: {
                        src: "reauthenticate",
                        input: ({ context }) => ({
                          services: context.services,
                          endpoint: currentEndpoint(context),
                        }),
                        onDone: {
                          target: "scheduled",
                          actions: [
                            "setLinkCredentials",
                            {
                              type: "notifyRenewal",
                              params: ({ context }) => ({
                                phase: "reauthenticated" as const,
                                endpoint: currentEndpoint(context),
                              }),
                            },
                          ],
                        },
                        onError: { actions: reauthFailed },
                      },
                      after: { REAUTH_TIMEOUT: { actions: reauthFailed } },
                      on: {
                        // The broker refused the fresh credentials; a fatal code is left to the link.
                        "MQTT.DISCONNECT": { guard: not("isFatalRefusal"), actions: reauthFailed },
                        "MQTT.CLOSED": { actions: reauthFailed },
                      },
                    },
                    renewBackoff: {
                      after: {
                        RENEW_RETRY_DELAY: [
                          { guard: "isBeforeExpiry", target: "renewing" },
                          {
                            target: "lapsed",
                            actions: { type: "notifyRenewal", params: { phase: "lapsed" } },
                          },
                        ],
                      },
                    },
                    lapsed: {
                      on: {
                        "USER.UPDATE_ENDPOINT": {
                          target: "scheduled",
                          actions: ["setEndpoint", "resetRenewals"],
                        },
                      },
                    },
                  },
                },
                probing: {
                  entry: "pingBroker",
                  on: { "MQTT.PONG": "live" },
                  after: { PROBE_TIMEOUT: retryOrFail("PROBE_TIMEOUT") },
                },
              },
            },
            authFailed: {
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
              entry: "closeConnection",
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
          meta: { overview: true },
          invoke: {
            src: "refreshCredentials",
            input: ({ context }) => ({
              services: context.services,
              endpoint: currentEndpoint(context),
              retry: Math.max(0, context.authFailures - 1),
              reason: "refused" as const,
            }),
            onDone: {
              target: "waiting",
              meta: { overview: "new credentials" },
              actions: {
                type: "setRefreshedEndpoint",
                params: ({ event }) => ({ endpoint: event.output }),
              },
            },
            onError: refreshFailed(),
          },
          after: {
            REFRESH_TIMEOUT: refreshFailed("REFRESH_TIMEOUT"),
          },
        },
        waiting: {
          meta: { overview: true },
          after: { REFRESH_WAIT: { target: "link.reconnecting", meta: { overview: true } } },
        },
        authBackoff: {
          after: { AUTH_RETRY_DELAY: "refreshing" },
          // The refresh may have failed only because the network was gone.
          on: { "NET.ONLINE": "refreshing" },
        },
        backoff: {
          meta: { overview: true },
          after: { RETRY_DELAY: { target: "link.reconnecting", meta: { overview: true } } },
          // Back online, or back from a hidden tab whose timers were throttled: reconnect now.
          on: { "NET.ONLINE": "link.reconnecting", "PAGE.VISIBLE": "link.reconnecting" },
        },
      },
    },
    failed: {
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

/** The type of `connectionMachine`. */
export type ConnectionMachine = typeof connectionMachine;
