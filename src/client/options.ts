/**
 * `RealtimeClient` options: their types, defaults and validation. A wrong
 * option throws `InvalidOptionsError` naming the field, at construction.
 */

// Longer than 300 lines for now: every public option with its documentation, defaults and checks.
// Splitting the checks by option group is the next step.

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
import {
  type AuthFailureContext,
  type AuthFailureHandler as CoreAuthFailureHandler,
  type CredentialsProvider as CoreCredentialsProvider,
  type CredentialsRequest,
  isCredentialsProvider,
} from "../services/credentials.js";
import {
  assertCredentialsFit,
  type Endpoint,
  type EndpointUpdate,
  isBrowserLike,
  type ResolvedEndpoint,
  randomClientId,
  resolveEndpoint,
  scheduleRefresh,
} from "../services/endpoint.js";
import type { Mqtt5AuthOptions } from "../services/enhanced-auth.js";
import { browserEnvironment, type EnvironmentWatcher } from "../services/environment.js";
import type { RefreshAheadPolicy } from "../services/expiry.js";
import { DEBUG_SINK, type DebugSink, mqttLog } from "../services/mqtt-log.js";
import type { OutboxLimits } from "../services/outbox.js";
import type { Secret } from "../services/secret.js";
import { count, objectOrEmpty, oneOf, onlyKnownKeys, seconds, shown } from "./validate.js";

/** mqtt.js's `log` for a client without `debug`: one function shared by every client. */
function ignoreMqttLog(): void {}

/**
 * Anything that can produce fresh credentials. `RemoteCredentials` is one.
 * Only `getCredentials` is required; the other members are what a provider
 * may implement to hear more from the clients that use it.
 */
export interface CredentialsProvider extends Omit<CoreCredentialsProvider, "getCredentials"> {
  /**
   * Resolves with fresh credentials — any fields of an `Endpoint`, merged
   * over the current one — and gives up when `request.signal` aborts.
   */
  getCredentials(request?: CredentialsRequest): Promise<EndpointUpdate>;
  /**
   * Told the password a client uses from now on: the one it started with,
   * or one `updateEndpoint()` set.
   */
  usingCredentials?(password: Secret | undefined): void;
}

/**
 * The page's `onAuthFailure`: a function returning fresh credentials, or a
 * provider object. What it returns is merged over the current endpoint, so
 * `{ password }` alone is enough.
 */
export type AuthFailureHandler =
  | ((context: AuthFailureContext) => Promise<EndpointUpdate> | EndpointUpdate)
  | CredentialsProvider;

/**
 * `retryBackoff`: how network and auth retries back off, and when to give up.
 * Every duration here is at most 2147483.647 seconds (about 24.8 days, the
 * longest delay a JavaScript timer holds); a longer one throws
 * `InvalidOptionsError` at construction rather than firing after 1 ms.
 */
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

/**
 * `timeouts`: how long each step may take before it counts as failed. Each
 * is a positive number of seconds, at most 2147483.647 (about 24.8 days, the
 * longest delay a JavaScript timer holds); a longer one throws
 * `InvalidOptionsError` at construction.
 */
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
  /**
   * The broker must acknowledge a QoS 1/2 publish, a subscribe or an
   * unsubscribe within this many seconds; a later acknowledgement means a
   * connection that is open but no longer served (RabbitMQ's Web MQTT after a
   * token expires still answers pings but acknowledges nothing): it is closed
   * and the client reconnects, sending the unacknowledged publishes again.
   * Checked every eighth of it: the close comes 1 to 1.125 times this after the send.
   * @default 20
   */
  ackSeconds?: number;
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
  /**
   * A publish made after `disconnect()` (and before the next `connect()`):
   * `reject` settles it at once with `ClientClosedError`, as `disconnect()`
   * does with what was queued; `queue` holds it for the next `connect()`. A
   * publish made before the first `connect()` is always queued.
   * @default "reject"
   */
  afterDisconnect?: "reject" | "queue";
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
  /**
   * Wait between a successful refresh and the reconnection, in seconds (the page's step 4);
   * 0 to 2147483.647. @default 2
   */
  refreshWaitSeconds?: number;
  timeouts?: TimeoutOptions;
  /** Limits of the queue that holds publishes while not connected. */
  offlineQueue?: OfflineQueueOptions;
  /** Most topic filters in one SUBSCRIBE packet when restoring. @default 100 */
  subscribeBatchSize?: number;
  /**
   * With `mqtt.clean: false`, whether a CONNACK's Session Present flag is
   * taken at its word: the broker kept the session, so only the filters it
   * lacks are subscribed again. `false` re-subscribes every filter on every
   * connection whatever the flag says, for brokers that keep a session only
   * partly (RabbitMQ 3.10 keeps QoS 1 subscriptions and drops QoS 0 ones while
   * answering Session Present; README "Brokers"); on MQTT 5 with Retain
   * Handling 1, so the broker does not send retained messages again for the
   * subscriptions it did keep (MQTT 5 §3.8.3.1).
   * @default true
   */
  trustSessionPresent?: boolean;
  /**
   * An XState inspection observer (e.g. `createBrowserInspector().inspect` from
   * `@statelyai/inspect`). Given one, the client runs its statechart in an
   * XState actor of its own (`createActor({ inspect })`), the actor devtools
   * show; without it, in a lighter runtime of the same machine that keeps no
   * actor per client (README "In the browser").
   */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /**
   * Extra mqtt.js options: keepalive, clean, protocolVersion, will, properties, TLS, wsOptions…
   * Those MQTT bounds are checked at construction (`InvalidOptionsError`):
   * `keepalive` an integer 0–65535 seconds (MQTT 3.1.2.10), `protocolVersion`
   * 3, 4 or 5, `clean` a boolean, and in `properties` (MQTT 5 3.1.2.11)
   * `sessionExpiryInterval` 0–4294967295, `receiveMaximum` 1–65535,
   * `maximumPacketSize` 1–4294967295, `topicAliasMaximum` 0–65535.
   */
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
  /**
   * Shows what the client does, without devtools: one line per state change
   * and per mqtt.js step (packets written and read, timers), with passwords,
   * user names, tokens, `authenticationData`, JWT-looking text and payloads
   * redacted. `true` writes them with `console.debug`; a function receives
   * each line. mqtt.js's own logger is replaced by the SDK's in every case,
   * so `DEBUG=mqttjs*` no longer prints the CONNECT packet (and its password);
   * use this option instead. @default off
   */
  debug?: boolean | ((line: string) => void);
}

/**
 * The top-level options `resolveOptions` reads; any other key throws
 * `InvalidOptionsError` naming it (a new option must be listed here). The
 * keys of the option groups are those of their tables below.
 */
const KNOWN_OPTIONS = [
  "endpoint",
  "onAuthFailure",
  "retryBackoff",
  "refreshWaitSeconds",
  "timeouts",
  "offlineQueue",
  "subscribeBatchSize",
  "inspect",
  "mqtt",
  "environment",
  "debug",
  "trustSessionPresent",
  "refreshAhead",
  "mqtt5Auth",
] as const satisfies readonly (keyof RealtimeClientOptions)[];

// Every option of the type is listed above (a new option left out would be refused as unknown).
const everyOptionListed: Exclude<
  keyof RealtimeClientOptions,
  (typeof KNOWN_OPTIONS)[number]
> extends never
  ? true
  : false = true;
void everyOptionListed;

/** Checks one option's value (its default when left out); `path` names it in the error. */
type Check<T> = (value: unknown, path: string) => T;
type Table<T> = { readonly [K in keyof T]-?: Check<Exclude<T[K], undefined>> };
type Path = Parameters<typeof seconds>[1];

// The tables below are built at the top level: their calls are marked pure, so an app that
// imports only other parts of the package drops them.
/** A positive duration (in seconds; `ms`: read in milliseconds), or `zero` allowed. */
const duration =
  (zero = false, ms = false): Check<number> =>
  (value, path) =>
    seconds(value, path as Path, zero) * (ms ? 1000 : 1);
const atLeastOne: Check<number> = (value, path) => count(value, path as Path, true);
const choice =
  <T extends string>(...allowed: T[]): Check<T> =>
  (value, path) =>
    oneOf(value, allowed, path as never);

const RETRY_BACKOFF: Table<RetryBackoffOptions> = {
  baseSeconds: /* @__PURE__ */ duration(),
  ceilSeconds: /* @__PURE__ */ duration(),
  jitter: (value, path) => oneOf(value, JITTERS, path as never),
  resetAfterSeconds: /* @__PURE__ */ duration(true, true),
  maxRetries: atLeastOne,
};
const TIMEOUTS: Table<TimeoutOptions> = {
  connectSeconds: /* @__PURE__ */ duration(false, true),
  restoreSeconds: /* @__PURE__ */ duration(false, true),
  refreshSeconds: /* @__PURE__ */ duration(false, true),
  closeSeconds: /* @__PURE__ */ duration(false, true),
  probeSeconds: /* @__PURE__ */ duration(false, true),
  ackSeconds: /* @__PURE__ */ duration(false, true),
  reauthSeconds: /* @__PURE__ */ duration(false, true),
};
const OFFLINE_QUEUE: Table<OfflineQueueOptions> = {
  maxMessages: atLeastOne,
  maxBytes: atLeastOne,
  qos0: /* @__PURE__ */ choice("queue", "reject"),
  overflow: /* @__PURE__ */ choice("rejectNew", "dropOldest"),
  afterDisconnect: /* @__PURE__ */ choice("reject", "queue"),
};
const REFRESH_AHEAD: Table<RefreshAheadOptions> = {
  marginSeconds: /* @__PURE__ */ duration(true),
  jitterSeconds: /* @__PURE__ */ duration(true),
};

/**
 * The option group `name` of `o` checked by its table: an object with only
 * the table's keys (an unknown one throws, naming the nearest known one),
 * each value checked, a default for each left out.
 */
function group<T>(
  o: Record<string, unknown>,
  name: string,
  table: Table<T>,
): { -readonly [K in keyof T]-?: Exclude<T[K], undefined> } {
  const given = objectOrEmpty(o[name], name);
  const keys = Object.keys(table);
  onlyKnownKeys(given, keys, name);
  const checked: Record<string, unknown> = {};
  for (const key of keys) {
    checked[key] = (table as Record<string, Check<unknown>>)[key]?.(given[key], `${name}.${key}`);
  }
  return checked as { -readonly [K in keyof T]-?: Exclude<T[K], undefined> };
}

export interface ResolvedOptions {
  readonly endpoints: readonly ResolvedEndpoint[];
  readonly onAuthFailure: CoreAuthFailureHandler | undefined;
  readonly refreshAhead: RefreshAheadPolicy | false;
  readonly retry: RetryPolicy;
  readonly timing: ConnectionTiming;
  readonly outbox: OutboxLimits;
  readonly subscribeBatchSize: number;
  /** `offlineQueue.afterDisconnect`. */
  readonly afterDisconnect: "reject" | "queue";
  readonly trustSessionPresent: boolean;
  /** `timeouts.ackSeconds`, in milliseconds. */
  readonly ackTimeoutMs: number;
  readonly inspect: RealtimeClientOptions["inspect"];
  readonly mqtt: MqttOptions;
  readonly protocolVersion: number;
  readonly environment: EnvironmentWatcher | false;
  /** Where the `debug` option's lines go; none without it. */
  readonly debug: DebugSink | undefined;
  readonly mqtt5Auth: Mqtt5AuthOptions | undefined;
}

export function resolveOptions(options: RealtimeClientOptions): ResolvedOptions {
  const o = objectOrEmpty(options, "options");
  onlyKnownKeys(o, KNOWN_OPTIONS, "");
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

  const { resetAfterSeconds: stableAfterMs, ...retry } = group(o, "retryBackoff", RETRY_BACKOFF);
  // Left out, the ceiling is at least the base: `baseSeconds: 90` alone is a valid backoff.
  if ((o.retryBackoff as RetryBackoffOptions | undefined)?.ceilSeconds === undefined)
    retry.ceilSeconds = Math.max(retry.ceilSeconds, retry.baseSeconds);
  if (retry.ceilSeconds < retry.baseSeconds) {
    throw new InvalidOptionsError(
      "retryBackoff.ceilSeconds",
      `must be at least baseSeconds (${retry.baseSeconds})`,
    );
  }

  const t = group(o, "timeouts", TIMEOUTS);
  const timing: ConnectionTiming = {
    refreshWaitMs: duration(true, true)(o.refreshWaitSeconds, "refreshWaitSeconds"),
    connectTimeoutMs: t.connectSeconds,
    restoreTimeoutMs: t.restoreSeconds,
    refreshTimeoutMs: t.refreshSeconds,
    closeTimeoutMs: t.closeSeconds,
    stableAfterMs,
    probeTimeoutMs: t.probeSeconds,
    reauthTimeoutMs: t.reauthSeconds,
  };

  const { afterDisconnect, ...outbox } = group(o, "offlineQueue", OFFLINE_QUEUE);

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
      `expected 3, 4 or 5, got ${shown(protocolVersion)}`,
    );
  }
  checkMqttOptions(mqtt as Record<string, unknown>);
  endpoints.forEach((endpoint, i) => {
    assertCredentialsFit(endpoint, protocolVersion, many ? `endpoint[${i}]` : "endpoint");
  });
  if ((o.mqtt as { log?: unknown } | undefined)?.log !== undefined) {
    throw new InvalidOptionsError(
      "mqtt.log",
      "the SDK gives mqtt.js its own logger, which redacts credentials: use the debug option",
    );
  }
  const debug = debugSink(o.debug);
  const trustSessionPresent = o.trustSessionPresent ?? defaultOf("trustSessionPresent");
  if (typeof trustSessionPresent !== "boolean") {
    throw new InvalidOptionsError(
      "trustSessionPresent",
      `expected true or false, got ${String(trustSessionPresent)}`,
    );
  }
  const environment = o.environment ?? browserEnvironment;
  if (environment !== false && typeof environment !== "function") {
    throw new InvalidOptionsError("environment", "expected a watcher function or false");
  }

  const refreshAhead: RefreshAheadPolicy | false =
    o.refreshAhead !== false && group(o, "refreshAhead", REFRESH_AHEAD);

  const mqtt5Auth = resolveMqtt5Auth(o.mqtt5Auth, mqtt, protocolVersion);

  return {
    endpoints,
    // What it returns is merged over the current endpoint, whichever fields it has.
    onAuthFailure: onAuthFailure as CoreAuthFailureHandler | undefined,
    refreshAhead,
    retry,
    timing,
    outbox,
    subscribeBatchSize: count(o.subscribeBatchSize, "subscribeBatchSize"),
    afterDisconnect,
    trustSessionPresent,
    ackTimeoutMs: t.ackSeconds,
    inspect,
    // mqtt.js logs through the SDK's one shared, redacting function; this client's sink rides along.
    // Without `debug`, a no-op: mqtt.js logs some twenty lines per QoS 1 publish (~0.45 µs of CPU).
    mqtt: (debug
      ? { ...mqtt, log: mqttLog, [DEBUG_SINK]: debug }
      : { ...mqtt, log: ignoreMqttLog }) as MqttOptions,
    protocolVersion,
    environment: environment as EnvironmentWatcher | false,
    debug,
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

/** The `debug` option as a sink (its secrets are the client's, set when the client is made). */
function debugSink(value: unknown): DebugSink | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) {
    return { write: (line) => console.debug(`[courier-web-sdk] ${line}`), secrets: undefined };
  }
  if (typeof value === "function") {
    return { write: value as (line: string) => void, secrets: undefined };
  }
  throw new InvalidOptionsError("debug", `expected true, false or a function, got ${shown(value)}`);
}

/** An integer option in `[min, max]`, or left out. */
function integerIn(value: unknown, field: string, min: number, max: number, why: string): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionsError(
      field,
      `expected an integer from ${min} to ${max} (${why}), got ${shown(value)}`,
    );
  }
}

function booleanOrAbsent(value: unknown, field: string): void {
  if (value !== undefined && typeof value !== "boolean") {
    throw new InvalidOptionsError(field, `expected true or false, got ${shown(value)}`);
  }
}

/**
 * The mqtt.js options whose range MQTT fixes: a value outside it would be
 * sent in every CONNECT and refused (or misread) by the broker every time.
 */
function checkMqttOptions(mqtt: Record<string, unknown>): void {
  integerIn(mqtt.keepalive, "mqtt.keepalive", 0, 65_535, "seconds, MQTT 3.1.2.10");
  booleanOrAbsent(mqtt.clean, "mqtt.clean");
  if (mqtt.properties === undefined) return;
  const p = objectOrEmpty(mqtt.properties, "mqtt.properties");
  const four = 4_294_967_295;
  for (const [key, min, max, why] of [
    ["sessionExpiryInterval", 0, four, "seconds, MQTT 5 3.1.2.11.2"],
    ["receiveMaximum", 1, 65_535, "MQTT 5 3.1.2.11.3"],
    ["maximumPacketSize", 1, four, "bytes, MQTT 5 3.1.2.11.4"],
    ["topicAliasMaximum", 0, 65_535, "MQTT 5 3.1.2.11.5"],
  ] as const) {
    integerIn(p[key], `mqtt.properties.${key}`, min, max, why);
  }
  for (const key of ["requestResponseInformation", "requestProblemInformation"]) {
    booleanOrAbsent(p[key], `mqtt.properties.${key}`);
  }
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
