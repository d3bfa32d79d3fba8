/**
 * Endpoints: what the user passes (`Endpoint`), what the machine carries
 * (`ResolvedEndpoint`: defaults applied, password sealed in a `Secret`).
 */

// Longer than 300 lines on purpose: what an endpoint is, how it is resolved, merged and validated,
// and when its credentials expire are one shape read together.

import { InvalidOptionsError } from "../errors.js";
import type { Random } from "./backoff.js";
import { expiryOf, type RefreshAheadPolicy, refreshPoint } from "./expiry.js";
import { Secret } from "./secret.js";
import { shown } from "./values.js";

/** How to reach the broker: MQTT over TCP (`mqtt`), TLS (`mqtts`), WebSocket (`ws`) or secure WebSocket (`wss`). */
export type Scheme = "mqtt" | "mqtts" | "ws" | "wss";

const SCHEMES: readonly Scheme[] = ["mqtt", "mqtts", "ws", "wss"];

/** Where and how to connect. The page's `endpoint`, `updateEndpoint()` and `onAuthFailure()` all speak this shape. */
export interface Endpoint {
  /** Broker host name or IP address, without a scheme (`broker.example.com`). */
  host: string;
  /** Broker port, 1–65535. */
  port: number;
  username?: string;
  /** Password or token. Never logged, never part of an error message or a snapshot. */
  password?: string;
  /**
   * Transport. @default "wss" in a browser, "mqtt" in Node.js
   */
  scheme?: Scheme;
  /**
   * WebSocket path (ws/wss only). @default "/mqtt"
   */
  path?: string;
  /**
   * MQTT client identifier, kept across reconnections (persistent sessions need that).
   * @default a random `courier_…` identifier chosen once per client
   */
  clientId?: string;
  /**
   * When these credentials expire: milliseconds since the epoch, or a `Date`.
   * The client then asks for fresh ones shortly before (`refreshAhead`) and
   * treats a connection the broker ends at that moment as expired rather
   * than lost. Without it, a JWT password's `exp` claim is read (decoded,
   * never verified). Setting a new `password` without `expiresAt` forgets
   * the old expiry.
   * @default the JWT's `exp` (lifetime `exp − iat` counted from receipt when it has `iat`), else unknown
   */
  expiresAt?: number | Date;
}

/**
 * What `updateEndpoint()` and `onAuthFailure` take: any fields of an
 * `Endpoint`, merged over the current one (`{ password }` alone changes the
 * password and keeps the host, port, user name and the rest).
 */
export type EndpointUpdate = Partial<Endpoint>;

/** An endpoint with every default applied and the password sealed. */
export interface ResolvedEndpoint {
  readonly host: string;
  readonly port: number;
  readonly scheme: Scheme;
  /** Only meaningful for ws/wss. */
  readonly path: string;
  readonly username?: string;
  readonly password?: Secret;
  readonly clientId: string;
  /** When the credentials expire (ms since the epoch, this client's clock), when known. */
  readonly expiresAt?: number;
  /** When the client received these credentials (ms, this client's clock); set with a password or `expiresAt`. */
  readonly receivedAt?: number;
  /** When to ask for fresh ones ahead of `expiresAt`; absent when unknown or `refreshAhead` is off. */
  readonly refreshAt?: number;
}

const DEFAULT_WS_PATH = "/mqtt";
const MAX_CLIENT_ID_BYTES = 65_535;

/** True in a browser or a web worker (where `mqtt`/`mqtts` over TCP cannot exist). */
export function isBrowserLike(): boolean {
  const g = globalThis as { window?: unknown; document?: unknown; importScripts?: unknown };
  return (
    (typeof g.window === "object" && typeof g.document === "object") ||
    typeof g.importScripts === "function"
  );
}

export function defaultScheme(): Scheme {
  return isBrowserLike() ? "wss" : "mqtt";
}

/** A random client identifier, 23 characters at most so every 3.1.1 broker accepts it (§3.1.3.1). */
export function randomClientId(random: () => number = Math.random): string {
  let id = "courier_";
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  while (id.length < 23) id += alphabet[Math.floor(random() * alphabet.length)];
  return id;
}

/**
 * Validates `input` and applies defaults. Throws `InvalidOptionsError` naming
 * the first wrong field (`${field}.port`, say). Values are never echoed for
 * `password`.
 */
export function resolveEndpoint(
  input: unknown,
  field: string,
  fallbackClientId: string,
  receivedAt: number = Date.now(),
): ResolvedEndpoint {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidOptionsError(field, "expected an object like { host, port }");
  }
  const e = input as Record<string, unknown>;
  const host = e.host;
  if (typeof host !== "string" || host.trim() === "") {
    throw new InvalidOptionsError(`${field}.host`, "expected a non-empty host name");
  }
  // "[::1]" is accepted as the IPv6 literal it wraps; anything URL-shaped is not a host.
  const bareHost = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const ipv6 = /^[0-9a-f:.]+$/i.test(bareHost) && bareHost.split(":").length > 2;
  if (/[\s/?#@[\]]/.test(bareHost) || (bareHost.includes(":") && !ipv6)) {
    // The value is not echoed: a URL-shaped host may carry a password.
    throw new InvalidOptionsError(
      `${field}.host`,
      'expected a bare host like "broker.example.com" (scheme, port, credentials and path have their own fields)',
    );
  }
  const port = e.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new InvalidOptionsError(
      `${field}.port`,
      `expected an integer from 1 to 65535, got ${shown(port)}`,
    );
  }
  const scheme = e.scheme ?? defaultScheme();
  if (typeof scheme !== "string" || !SCHEMES.includes(scheme as Scheme)) {
    throw new InvalidOptionsError(
      `${field}.scheme`,
      `expected one of ${SCHEMES.join(", ")}, got ${shown(scheme)}`,
    );
  }
  const path = e.path ?? DEFAULT_WS_PATH;
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new InvalidOptionsError(
      `${field}.path`,
      `expected a path starting with "/", got ${shown(path)}`,
    );
  }
  if (e.username !== undefined && typeof e.username !== "string") {
    throw new InvalidOptionsError(`${field}.username`, "expected a string");
  }
  if (
    e.password !== undefined &&
    typeof e.password !== "string" &&
    !(e.password instanceof Secret)
  ) {
    throw new InvalidOptionsError(`${field}.password`, "expected a string");
  }
  const clientId = e.clientId ?? fallbackClientId;
  if (typeof clientId !== "string" || clientId === "") {
    throw new InvalidOptionsError(`${field}.clientId`, "expected a non-empty string");
  }
  if (new TextEncoder().encode(clientId).length > MAX_CLIENT_ID_BYTES) {
    throw new InvalidOptionsError(`${field}.clientId`, "longer than 65535 bytes");
  }
  const expiresAt = e.expiresAt;
  if (
    expiresAt !== undefined &&
    !(typeof expiresAt === "number" && Number.isFinite(expiresAt) && expiresAt > 0) &&
    !(expiresAt instanceof Date && Number.isFinite(expiresAt.getTime()))
  ) {
    throw new InvalidOptionsError(
      `${field}.expiresAt`,
      "expected milliseconds since the epoch or a valid Date",
    );
  }
  const resolved: {
    -readonly [K in keyof ResolvedEndpoint]: ResolvedEndpoint[K];
  } = { host: bareHost, port, scheme: scheme as Scheme, path, clientId };
  if (e.username !== undefined) resolved.username = e.username as string;
  if (e.password !== undefined) {
    resolved.password =
      e.password instanceof Secret ? e.password : new Secret(e.password as string);
  }
  const expiry = expiryOf(
    expiresAt as number | Date | undefined,
    typeof e.password === "string" ? e.password : undefined,
    receivedAt,
  );
  if (expiry !== undefined) resolved.expiresAt = expiry;
  if (expiry !== undefined || resolved.password !== undefined) resolved.receivedAt = receivedAt;
  return resolved;
}

const EXPIRY_FIELDS = ["expiresAt", "receivedAt", "refreshAt"] as const;

function withoutExpiry(endpoint: ResolvedEndpoint): ResolvedEndpoint {
  const { expiresAt: _e, receivedAt: _r, refreshAt: _f, ...rest } = endpoint;
  return rest;
}

/**
 * `endpoint` with its refresh point (`refreshAt`) drawn for `policy`, or
 * without one when its expiry is unknown or refreshing ahead is off. The
 * jitter is drawn once per credentials: call it when they arrive.
 */
export function scheduleRefresh(
  endpoint: ResolvedEndpoint,
  policy: RefreshAheadPolicy | false,
  random: Random,
): ResolvedEndpoint {
  const { expiresAt, receivedAt } = endpoint;
  const { refreshAt: _drop, ...rest } = endpoint;
  if (policy === false || expiresAt === undefined || receivedAt === undefined) return rest;
  const at = refreshPoint(expiresAt, receivedAt, policy, random);
  return at === undefined ? rest : { ...rest, refreshAt: at };
}

/**
 * An endpoint patch — from `updateEndpoint()` or from `onAuthFailure` —
 * merged over the current endpoint and checked against the protocol: the
 * one way a patch becomes the endpoint the client uses. Throws
 * `InvalidOptionsError` naming `field`.
 */
export function patchEndpoint(
  current: ResolvedEndpoint,
  patch: unknown,
  protocolVersion: number,
  field: string,
  receivedAt: number = Date.now(),
): ResolvedEndpoint {
  const next = mergeEndpoint(current, patch, field, receivedAt);
  assertCredentialsFit(next, protocolVersion, field);
  return next;
}

/**
 * Merges `patch` over `current` (README "Updating Credentials Manually":
 * fields the patch omits keep their values; a field it sets, even to
 * `undefined`, replaces).
 * The client identifier is never dropped: omitting it keeps the current one.
 * The expiry belongs to the password: new credentials bring their own (or
 * none, received at `receivedAt`); the same password kept keeps its expiry.
 */
export function mergeEndpoint(
  current: ResolvedEndpoint,
  patch: unknown,
  field: string,
  receivedAt: number = Date.now(),
): ResolvedEndpoint {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
    throw new InvalidOptionsError(field, "expected an object like { host, port }");
  }
  const p = patch as { password?: unknown; expiresAt?: unknown };
  const samePassword =
    !("password" in p) ||
    (typeof p.password === "string" && current.password?.equals(new Secret(p.password))) ||
    (p.password instanceof Secret && p.password.equals(current.password));
  const next = resolveEndpoint(
    { ...withoutExpiry(current), ...patch },
    field,
    current.clientId,
    receivedAt,
  );
  if (!samePassword || "expiresAt" in p) return next;
  const kept: { -readonly [K in keyof ResolvedEndpoint]: ResolvedEndpoint[K] } =
    withoutExpiry(next);
  for (const key of EXPIRY_FIELDS) if (current[key] !== undefined) kept[key] = current[key];
  return kept;
}

/**
 * MQTT 3.1/3.1.1 forbid a password without a user name (§3.1.2.9); brokers
 * drop such a CONNECT without a CONNACK. MQTT 5 allows it.
 */
export function assertCredentialsFit(
  endpoint: ResolvedEndpoint,
  protocolVersion: number,
  field: string,
): void {
  if (protocolVersion < 5 && endpoint.password !== undefined && endpoint.username === undefined) {
    throw new InvalidOptionsError(
      `${field}.username`,
      "MQTT 3.1.1 needs a user name with a password (or mqtt.protocolVersion 5)",
    );
  }
}

/**
 * The list with its current entry replaced by `next`. Credentials belong to
 * the client, not to one server: `username`, `password` and `clientId` of
 * `next` apply to every entry, so a refreshed token is used on failover too.
 */
export function withCurrentEndpoint(
  endpoints: readonly ResolvedEndpoint[],
  index: number,
  next: ResolvedEndpoint,
): ResolvedEndpoint[] {
  return endpoints.map((endpoint, i) => {
    if (i === index) return next;
    const { username: _u, password: _p, ...address } = withoutExpiry(endpoint);
    return {
      ...address,
      clientId: next.clientId,
      ...(next.username !== undefined ? { username: next.username } : {}),
      ...(next.password !== undefined ? { password: next.password } : {}),
      ...(next.expiresAt !== undefined ? { expiresAt: next.expiresAt } : {}),
      ...(next.receivedAt !== undefined ? { receivedAt: next.receivedAt } : {}),
      ...(next.refreshAt !== undefined ? { refreshAt: next.refreshAt } : {}),
    };
  });
}

/**
 * Where an MQTT 5 Server Reference (§4.11: "use another server", "server
 * moved") points: the first of its space-separated references, as
 * `host`, `host:port` or `[v6]:port`. Transport, path and credentials stay.
 * Undefined when the reference cannot be read as a host.
 */
export function followServerReference(
  endpoint: ResolvedEndpoint,
  reference: string,
): ResolvedEndpoint | undefined {
  const first = reference.trim().split(/\s+/)[0] ?? "";
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s/[\]]+))(?::(\d{1,5}))?$/.exec(first);
  if (!match) return undefined;
  const host = match[1] ?? match[2];
  const port = match[3] === undefined ? endpoint.port : Number(match[3]);
  if (!host || port < 1 || port > 65_535) return undefined;
  return { ...endpoint, host, port };
}

/** The URL mqtt.js connects to. No credentials in it. */
export function brokerUrl(endpoint: ResolvedEndpoint): string {
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  const isWebSocket = endpoint.scheme === "ws" || endpoint.scheme === "wss";
  return `${endpoint.scheme}://${host}:${endpoint.port}${isWebSocket ? endpoint.path : ""}`;
}
