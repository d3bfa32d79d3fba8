/**
 * mosquitto with the project's JWT auth plugin (`mosquitto-jwt/jwt_auth.c`,
 * whose header says exactly what it does): tokens are HS256 JWTs, accepted
 * as the CONNECT password or as MQTT 5 Authentication Data; a connection
 * ends at its token's `exp` with DISCONNECT 0x87, and an AUTH 0x19 with a
 * fresh token moves that expiry.
 *
 * The plugin is compiled here with the C compiler against the
 * `mosquitto-dev` headers and OpenSSL's libcrypto (`libssl-dev`), once per
 * source version (`hasBinary("mosquitto-jwt-plugin")` in `requirements.ts`
 * says whether it can be): the shared object is cached under
 * `node_modules/.cache/courier-mosquitto-jwt/<hash of the source>.so`.
 */

import { execFile } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Mosquitto } from "./mosquitto.js";
import { findBinary } from "./processes.js";

const SOURCE = fileURLToPath(new URL("./mosquitto-jwt/jwt_auth.c", import.meta.url));
const CACHE = fileURLToPath(
  new URL("../../node_modules/.cache/courier-mosquitto-jwt/", import.meta.url),
);
let building: Promise<string> | null = null;

/** Compiles the plugin (or finds it in the cache); resolves with the shared object's path. */
export function buildJwtPlugin(): Promise<string> {
  building ??= (async () => {
    const source = await readFile(SOURCE);
    const hash = createHash("sha256").update(source).digest("hex").slice(0, 16);
    const target = join(CACHE, `jwt_auth-${hash}.so`);
    if (existsSync(target)) return target;
    await mkdir(dirname(target), { recursive: true });
    // Build beside the target, then rename: parallel test files never load a half-written file.
    const partial = `${target}.${process.pid}.tmp`;
    const gcc = findBinary("gcc") ?? "gcc";
    await promisify(execFile)(gcc, [
      "-shared",
      "-fPIC",
      "-O2",
      "-Wall",
      "-Wextra",
      "-o",
      partial,
      SOURCE,
      "-lcrypto",
    ]);
    await rename(partial, target);
    return target;
  })();
  building.catch(() => {
    building = null;
  });
  return building;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

/** An HS256 JWT of `claims` (RFC 7519), signed with `secret`. */
export function signJwt(secret: string, claims: Record<string, unknown>): string {
  const body = `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

export interface JwtBrokerOptions {
  /** The Authentication Method the plugin answers to (default "JWT"). */
  readonly method?: string;
  /** "refuse": every re-authentication is refused (DISCONNECT 0x87) whatever its token. */
  readonly reauth?: "allow" | "refuse";
  /** One more round after a valid token: the broker's AUTH 0x18 nonce must be sent back in an AUTH 0x18. */
  readonly challenge?: boolean;
  /**
   * How a refused re-authentication is answered: "disconnect" (default,
   * DISCONNECT 0x87) or "broker" (mosquitto 2.0.11's own answer: a CONNACK
   * 0x87 on the live connection).
   */
  readonly refusal?: "disconnect" | "broker";
}

export interface JwtMosquitto {
  readonly broker: Mosquitto;
  readonly secret: string;
  readonly method: string;
  /** A token valid for `seconds` from now (may be fractional or negative), with `claims` added. */
  token(seconds: number, claims?: Record<string, unknown>): string;
  close(): Promise<void>;
}

/**
 * Starts mosquitto on random 127.0.0.1 ports (TCP `broker.tcpPort`, WebSocket
 * `broker.wsPort`) with the JWT plugin. Tokens are signed with a random
 * secret; the admin connection of {@link Mosquitto} holds a token valid for a day.
 */
export async function startJwtMosquitto(options: JwtBrokerOptions = {}): Promise<JwtMosquitto> {
  const plugin = await buildJwtPlugin();
  const secret = createHash("sha256").update(`${process.pid}:${Math.random()}`).digest("hex");
  const method = options.method ?? "JWT";
  const token = (seconds: number, claims: Record<string, unknown> = {}) =>
    signJwt(secret, {
      iat: Math.floor(Date.now() / 1000),
      exp: Date.now() / 1000 + seconds,
      ...claims,
    });
  const broker = await Mosquitto.startWithPlugin({
    plugin,
    options: {
      secret,
      method,
      reauth: options.reauth ?? "allow",
      challenge: options.challenge ? "true" : "false",
      refusal: options.refusal ?? "disconnect",
    },
    adminPassword: token(86_400),
  });
  return { broker, secret, method, token, close: () => broker.close() };
}
