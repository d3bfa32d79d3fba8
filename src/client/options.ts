/**
 * `RealtimeClient` options: their types, defaults and validation. A wrong
 * option throws `InvalidOptionsError` naming the field, at construction.
 */

import type { InspectionEvent, Observer } from "xstate";
import { defaultOf } from "../defaults.js";
import { InvalidOptionsError } from "../errors.js";
import type {
  ConnectionInput,
  ConnectionTiming,
  RetryPolicy,
} from "../machines/connection.types.js";
import { JITTERS, type Jitter, type Random } from "../services/backoff.js";
import type { MqttOptions } from "../services/broker-link.js";
import { type AuthFailureHandler, isCredentialsProvider } from "../services/credentials.js";
import {
  assertCredentialsFit,
  type Endpoint,
  isBrowserLike,
  type ResolvedEndpoint,
  randomClientId,
  resolveEndpoint,
  scheduleRefresh,
} from "../services/endpoint.js";
import type { Mqtt5AuthOptions } from "../services/enhanced-auth.js";
import { browserEnvironment, type EnvironmentWatcher } from "../services/environment.js";
import type { RefreshAheadPolicy } from "../services/expiry.js";
import type { OutboxLimits } from "../services/outbox.js";
import { count, objectOrEmpty, oneOf, seconds } from "./validate.js";

/** `retryBackoff`: how network and auth retries back off, and when to give up. */
export interface RetryBackoffOptions {
  /** Delay before the first retry, in seconds. @default 1 */
  baseSeconds?: number;
  /** Longest delay between retries, in seconds. @default 60 */
  ceilSeconds?: number;
  /**
   * Spreads the retries of many clients: `none` gives the page's exact
   * 1 → 2 → 4 → … sequence; `full`, `equal` and `decorrelated` randomize it.
   * @default "none"
   */
  jitter?: Jitter;
  /** A connection that stays up this long resets the retry counters, in seconds. @default 10 */
  resetAfterSeconds?: number;
  /** Consecutive failed retries before the client gives up (`failed`). @default Infinity */
  maxRetries?: number;
}

/** `timeouts`: how long each step may take before it counts as failed. */
export interface TimeoutOptions {
  /** CONNACK must arrive within this many seconds. @default 30 */
  connectSeconds?: number;
  /** Restoring subscriptions must finish within this many seconds. @default 30 */
  restoreSeconds?: number;
  /** `onAuthFailure` must settle within this many seconds. @default 30 */
  refreshSeconds?: number;
  /** `disconnect()` waits this long for in-flight publishes before dropping the socket. @default 5 */
  closeSeconds?: number;
  /** When a hidden page becomes visible again, the broker must answer a ping within this many seconds. @default 5 */
  probeSeconds?: number;
  /** The broker must answer a re-authentication (`mqtt5Auth`, MQTT 5 AUTH 0x19) within this many seconds, else the client reconnects. @default 10 */
  reauthSeconds?: number;
}

/**
 * `refreshAhead`: how far ahead of the credentials' expiry to ask for fresh
 * ones. The lead is drawn once per token: `min(marginSeconds, L/4) + u ·
 * min(jitterSeconds, L/4)` before the expiry, with `L` the token's lifetime
 * and `u` uniform in [0, 1). A one-hour token is refreshed 30–60 s early; a
 * 10 s token 2.5–5 s early; clients whose tokens were issued in the same
 * second spread over the jitter window.
 */
export interface RefreshAheadOptions {
  /** Least lead before the expiry, in seconds (at most a quarter of the lifetime). @default 30 */
  marginSeconds?: number;
  /** Width of the per-token random spread added to the lead, in seconds (at most a quarter of the lifetime). @default 30 */
  jitterSeconds?: number;
}

/** `offlineQueue`: how publishes made while not connected are held. */
export interface OfflineQueueOptions {
  /** Most publishes held while not connected. @default 1000 */
  maxMessages?: number;
  /** Most payload bytes held while not connected. @default 4194304 (4 MiB) */
  maxBytes?: number;
  /** A QoS 0 publish while not connected: `queue` it, or `reject` it at once. @default "queue" */
  qos0?: "queue" | "reject";
  /** When full: reject the new publish, or reject the oldest queued one. @default "rejectNew" */
  overflow?: "rejectNew" | "dropOldest";
}

/** Options of `new RealtimeClient(options)`; only `endpoint` is required. */
export interface RealtimeClientOptions {
  /**
   * Where and as whom to connect (the page's "Static Credentials"). A list
   * is tried in order: on network loss the next reconnection goes to the
   * next entry (failover, like mqtt.js `servers`). Entries without
   * username/password use the first entry's; all share one client identifier.
   */
  endpoint: Endpoint | readonly Endpoint[];
  /**
   * Called when the broker rejects the credentials (CONNACK 4/5, MQTT 5 0x86/0x87/0x8C):
   * returns fresh ones. A function, or a provider such as `RemoteCredentials`.
   * Concurrent refreshes share one call. Without it, a rejection stops the client (`failed`).
   */
  onAuthFailure?: AuthFailureHandler;
  /**
   * Refresh ahead of the credentials' expiry (`endpoint.expiresAt`, or a JWT
   * password's `exp`): the same `onAuthFailure` is asked shortly before it
   * (told `reason: "expiring"`) while the connection stays up, and the next
   * connection uses the answer. When the broker then closes the connection
   * at the old expiry, the client reconnects at once with the fresh
   * credentials. Does nothing while the expiry is unknown. `false` turns it
   * off (the page's flow alone: refresh after the broker refuses).
   * @default { marginSeconds: 30, jitterSeconds: 30 }
   */
  refreshAhead?: RefreshAheadOptions | false;
  /**
   * MQTT 5 enhanced authentication: the Authentication Method (and Data)
   * sent in CONNECT, and re-authentication in place (AUTH 0x19, §4.12.1)
   * when a refresh ahead brings fresh credentials — no reconnect, nothing
   * offline. A broker that refuses, closes or does not answer gets the
   * reconnect instead (once; not tried again until the next `connect()`).
   * Needs `mqtt.protocolVersion: 5` and a broker with enhanced
   * authentication (README "Re-authentication in place").
   * @default undefined (fresh credentials rotate by reconnecting)
   */
  mqtt5Auth?: Mqtt5AuthOptions;
  /** Backoff for every retry, auth and network alike. */
  retryBackoff?: RetryBackoffOptions;
  /** Wait between a successful refresh and the reconnection, in seconds (the page's step 4). @default 2 */
  refreshWaitSeconds?: number;
  timeouts?: TimeoutOptions;
  /** Limits of the queue that holds publishes while not connected. */
  offlineQueue?: OfflineQueueOptions;
  /** Most topic filters in one SUBSCRIBE packet when restoring. @default 100 */
  subscribeBatchSize?: number;
  /**
   * An XState inspection observer (e.g. `createBrowserInspector().inspect` from
   * `@statelyai/inspect`); passed to `createActor({ inspect })`.
   */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Extra mqtt.js options: keepalive, clean, protocolVersion, will, properties, TLS, wsOptions… */
  mqtt?: MqttOptions;
  /**
   * Platform signals the client follows: `offline` drops to the reconnect
   * path at once, `online` and the app becoming visible again skip the rest
   * of the backoff, and a connection that may have died while the app was
   * hidden is checked with a ping. The default watches the browser (window
   * online/offline, page visibility); pass your own watcher for React
   * Native, Electron or tests, or `false` to ignore the platform.
   * @default browserEnvironment (does nothing outside browsers)
   */
  environment?: EnvironmentWatcher | false;
}

export interface ResolvedOptions {
  readonly endpoints: readonly ResolvedEndpoint[];
  readonly onAuthFailure: AuthFailureHandler | undefined;
  readonly refreshAhead: RefreshAheadPolicy | false;
  readonly retry: RetryPolicy;
  readonly timing: ConnectionTiming;
  readonly outbox: OutboxLimits;
  readonly subscribeBatchSize: number;
  readonly inspect: RealtimeClientOptions["inspect"];
  readonly mqtt: MqttOptions;
  readonly protocolVersion: number;
  readonly environment: EnvironmentWatcher | false;
  readonly mqtt5Auth: Mqtt5AuthOptions | undefined;
}

export function resolveOptions(options: RealtimeClientOptions): ResolvedOptions {
  const o = objectOrEmpty(options, "options");
  const clientId = randomClientId();
  const list = Array.isArray(o.endpoint) ? (o.endpoint as unknown[]) : [o.endpoint];
  if (list.length === 0)
    throw new InvalidOptionsError("endpoint", "expected at least one endpoint");
  const many = Array.isArray(o.endpoint);
  // One client identifier for every entry: a persistent session follows the client across servers.
  const first = resolveEndpoint(list[0], many ? "endpoint[0]" : "endpoint", clientId);
  const endpoints = list.map((e, i) => {
    if (i === 0) return first;
    const entry = resolveEndpoint(e, `endpoint[${i}]`, first.clientId);
    // An entry without credentials uses the first entry's: credentials belong to the client.
    const bare = entry.username === undefined && entry.password === undefined;
    return bare ? { ...entry, username: first.username, password: first.password } : entry;
  });
  endpoints.forEach((endpoint, i) => {
    if (isBrowserLike() && (endpoint.scheme === "mqtt" || endpoint.scheme === "mqtts")) {
      throw new InvalidOptionsError(
        many ? `endpoint[${i}].scheme` : "endpoint.scheme",
        "browsers can only use ws or wss",
      );
    }
  });
  const onAuthFailure = o.onAuthFailure;
  if (
    onAuthFailure !== undefined &&
    typeof onAuthFailure !== "function" &&
    !isCredentialsProvider(onAuthFailure)
  ) {
    throw new InvalidOptionsError(
      "onAuthFailure",
      "expected a function or an object with getCredentials()",
    );
  }

  const rb = objectOrEmpty(o.retryBackoff, "retryBackoff");
  const baseSeconds = seconds(rb.baseSeconds, "retryBackoff.baseSeconds");
  const ceilSeconds = seconds(
    rb.ceilSeconds,
    "retryBackoff.ceilSeconds",
    false,
    Math.max(defaultOf("retryBackoff.ceilSeconds"), baseSeconds),
  );
  if (ceilSeconds < baseSeconds) {
    throw new InvalidOptionsError(
      "retryBackoff.ceilSeconds",
      `must be at least baseSeconds (${baseSeconds})`,
    );
  }
  const retry: RetryPolicy = {
    baseSeconds,
    ceilSeconds,
    jitter: oneOf<Jitter>(rb.jitter, JITTERS, "retryBackoff.jitter"),
    maxRetries: count(rb.maxRetries, "retryBackoff.maxRetries", true),
  };

  const t = objectOrEmpty(o.timeouts, "timeouts");
  const timing: ConnectionTiming = {
    refreshWaitMs: seconds(o.refreshWaitSeconds, "refreshWaitSeconds", true) * 1000,
    connectTimeoutMs: seconds(t.connectSeconds, "timeouts.connectSeconds") * 1000,
    restoreTimeoutMs: seconds(t.restoreSeconds, "timeouts.restoreSeconds") * 1000,
    refreshTimeoutMs: seconds(t.refreshSeconds, "timeouts.refreshSeconds") * 1000,
    closeTimeoutMs: seconds(t.closeSeconds, "timeouts.closeSeconds") * 1000,
    stableAfterMs: seconds(rb.resetAfterSeconds, "retryBackoff.resetAfterSeconds", true) * 1000,
    probeTimeoutMs: seconds(t.probeSeconds, "timeouts.probeSeconds") * 1000,
    reauthTimeoutMs: seconds(t.reauthSeconds, "timeouts.reauthSeconds") * 1000,
  };

  const q = objectOrEmpty(o.offlineQueue, "offlineQueue");
  const outbox: OutboxLimits = {
    maxMessages: count(q.maxMessages, "offlineQueue.maxMessages", true),
    maxBytes: count(q.maxBytes, "offlineQueue.maxBytes", true),
    qos0: oneOf(q.qos0, ["queue", "reject"] as const, "offlineQueue.qos0"),
    overflow: oneOf(q.overflow, ["rejectNew", "dropOldest"] as const, "offlineQueue.overflow"),
  };

  const inspect = o.inspect as RealtimeClientOptions["inspect"];
  if (
    inspect !== undefined &&
    typeof inspect !== "function" &&
    (typeof inspect !== "object" || inspect === null)
  ) {
    throw new InvalidOptionsError("inspect", "expected an inspection observer or function");
  }

  const mqtt = objectOrEmpty(o.mqtt, "mqtt") as MqttOptions;
  const protocolVersion = mqtt.protocolVersion ?? 4;
  if (![3, 4, 5].includes(protocolVersion)) {
    throw new InvalidOptionsError(
      "mqtt.protocolVersion",
      `expected 3, 4 or 5, got ${String(protocolVersion)}`,
    );
  }
  endpoints.forEach((endpoint, i) => {
    assertCredentialsFit(endpoint, protocolVersion, many ? `endpoint[${i}]` : "endpoint");
  });
  const environment = o.environment ?? browserEnvironment;
  if (environment !== false && typeof environment !== "function") {
    throw new InvalidOptionsError("environment", "expected a watcher function or false");
  }

  let refreshAhead: RefreshAheadPolicy | false = false;
  if (o.refreshAhead !== false) {
    const ra = objectOrEmpty(o.refreshAhead, "refreshAhead");
    refreshAhead = {
      marginSeconds: seconds(ra.marginSeconds, "refreshAhead.marginSeconds", true),
      jitterSeconds: seconds(ra.jitterSeconds, "refreshAhead.jitterSeconds", true),
    };
  }

  const mqtt5Auth = resolveMqtt5Auth(o.mqtt5Auth, mqtt, protocolVersion);

  return {
    endpoints,
    onAuthFailure: onAuthFailure as AuthFailureHandler | undefined,
    refreshAhead,
    retry,
    timing,
    outbox,
    subscribeBatchSize: count(o.subscribeBatchSize, "subscribeBatchSize"),
    inspect,
    mqtt,
    protocolVersion,
    environment: environment as EnvironmentWatcher | false,
    mqtt5Auth,
  };
}

/** `mqtt5Auth`, checked: a method, functions where given, and MQTT 5. */
function resolveMqtt5Auth(
  value: unknown,
  mqtt: MqttOptions,
  protocolVersion: number,
): Mqtt5AuthOptions | undefined {
  if (value === undefined) return undefined;
  const a = objectOrEmpty(value, "mqtt5Auth");
  if (typeof a.method !== "string" || a.method === "") {
    throw new InvalidOptionsError("mqtt5Auth.method", "expected a non-empty string");
  }
  for (const hook of ["data", "onContinue"] as const) {
    if (a[hook] !== undefined && typeof a[hook] !== "function") {
      throw new InvalidOptionsError(`mqtt5Auth.${hook}`, "expected a function");
    }
  }
  if (protocolVersion !== 5) {
    throw new InvalidOptionsError(
      "mqtt5Auth",
      "enhanced authentication exists only in MQTT 5: set mqtt.protocolVersion to 5",
    );
  }
  if (mqtt.properties?.authenticationMethod !== undefined) {
    throw new InvalidOptionsError(
      "mqtt.properties.authenticationMethod",
      "set by mqtt5Auth.method; give it there only",
    );
  }
  return a as unknown as Mqtt5AuthOptions;
}

/**
 * The connection machine's input for a client with these options: the one
 * place it is built (the client, the diagrams and the tests use it). The
 * starting credentials' refresh points are drawn here, from `run.random`;
 * `run.now` is the clock expiries are compared with.
 */
export function machineInput(
  options: ResolvedOptions,
  run: { random: Random; now?: () => number; services?: unknown },
): ConnectionInput {
  return {
    endpoints: options.endpoints.map((endpoint) =>
      scheduleRefresh(endpoint, options.refreshAhead, run.random),
    ),
    retry: options.retry,
    timing: options.timing,
    hasCredentialsProvider: options.onAuthFailure !== undefined,
    ...(options.mqtt5Auth ? { canReauthenticate: true } : {}),
    random: run.random,
    ...(run.now === undefined ? {} : { now: run.now }),
    ...(run.services === undefined ? {} : { services: run.services }),
  };
}
