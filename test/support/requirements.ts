/**
 * Which external brokers this machine has (mosquitto, redis-server, ejabberd,
 * RabbitMQ). Suites that need one are skipped,
 * loudly, when it is missing — unless `COURIER_REQUIRE_BROKERS=1` (set by
 * `.ci/run`), which turns a missing binary into a failure so CI never skips
 * them. The skip list is also printed by `test/support/global-setup.ts`.
 *
 * A binary is looked for on PATH and in the sbin directories, or only at
 * `COURIER_MOSQUITTO_BINARY` / `COURIER_REDIS_SERVER_BINARY` when set
 * (`findBinary`): pointing one at a path with nothing there shows what a
 * machine without that broker does, without uninstalling it.
 *
 * Besides binaries, "mosquitto-jwt-plugin" is the JWT auth plugin the tests
 * compile (`test/support/mosquitto-jwt.ts`): it needs mosquitto, gcc and the
 * headers of `mosquitto-dev` and `libssl-dev`.
 */

import { existsSync } from "node:fs";
import { binaryVariable, findBinary } from "./processes.js";

export type ExternalBinary =
  | "mosquitto"
  | "redis-server"
  | "ejabberdctl"
  | "rabbitmq-server"
  | "mosquitto-jwt-plugin";

/** Headers the JWT plugin is compiled against, and the Debian package of each. */
const JWT_PLUGIN_HEADERS: Record<string, string> = {
  "/usr/include/mosquitto_plugin.h": "mosquitto-dev",
  "/usr/include/mosquitto_broker.h": "mosquitto-dev",
  "/usr/include/openssl/hmac.h": "libssl-dev",
};

/** The Debian packages missing to build and run the JWT plugin (none when it can be built). */
export function jwtPluginMissing(): string[] {
  const missing = new Set<string>();
  if (findBinary("mosquitto") === null) missing.add("mosquitto");
  if (findBinary("gcc") === null) missing.add("gcc");
  for (const [header, pkg] of Object.entries(JWT_PLUGIN_HEADERS)) {
    if (!existsSync(header)) missing.add(pkg);
  }
  return [...missing];
}

function present(binary: ExternalBinary): boolean {
  if (binary === "mosquitto-jwt-plugin") return jwtPluginMissing().length === 0;
  return findBinary(binary) !== null;
}

/** The suites that need each binary (printed when it is missing). */
export const SUITES_NEEDING: Record<ExternalBinary, readonly string[]> = {
  mosquitto: [
    "test/brokers/mosquitto-v311.test.ts (core behaviour suite on mosquitto, MQTT 3.1.1)",
    "test/brokers/mosquitto-v5.test.ts (core behaviour suite on mosquitto, MQTT 5)",
    "test/brokers/mqtt5-connack.test.ts (MQTT 5 CONNACK 0x86/0x87/0x8C take the auth path)",
    "test/brokers/mqtt5-disconnect.test.ts (MQTT 5 server DISCONNECT classified by reason code)",
    "test/brokers/mqtt5-session.test.ts (MQTT 5 session expiry and sessionPresent)",
    "test/brokers/mqtt5-receive-maximum.test.ts (MQTT 5 Receive Maximum on the offline queue flush)",
    "test/model/model.test.ts (generated MQTT 5 paths on a real client, and so the coverage table)",
    "test/brokers/mqtt5-packet-size.test.ts (MQTT 5 Maximum Packet Size: oversized publishes)",
  ],
  "redis-server": ["test/brokers/cluster.test.ts (aedes cluster on Redis, failover)"],
  "mosquitto-jwt-plugin": [
    "test/brokers/jwt-plugin.test.ts (the JWT auth plugin: expiry, re-authentication)",
    "test/brokers/mqtt-internals-auth.test.ts (AUTH packets through mqtt.js internals)",
    "test/brokers/mqtt5-reauth.test.ts (re-authentication in place: mqtt5Auth, AUTH 0x19, fallback)",
  ],
  ejabberdctl: [
    "test/brokers/ejabberd.test.ts (core behaviour suite on ejabberd, MQTT 3.1.1 and 5)",
  ],
  "rabbitmq-server": [
    "test/brokers/rabbitmq.test.ts (core behaviour suite on RabbitMQ, MQTT 3.1.1)",
  ],
};

export const APT_PACKAGE: Record<ExternalBinary, string> = {
  mosquitto: "mosquitto",
  "redis-server": "redis-server",
  "mosquitto-jwt-plugin": "mosquitto gcc mosquitto-dev libssl-dev",
  ejabberdctl: "ejabberd",
  "rabbitmq-server": "rabbitmq-server",
};

export function brokersRequired(): boolean {
  return process.env.COURIER_REQUIRE_BROKERS === "1";
}

export function missingBinaries(): ExternalBinary[] {
  return (Object.keys(SUITES_NEEDING) as ExternalBinary[]).filter((b) => !present(b));
}

/** Where `binary` was looked for and not found: its variable's path when set, else PATH. */
export function whereNot(binary: ExternalBinary): string {
  if (binary === "mosquitto-jwt-plugin") {
    return `cannot be built (missing: ${jwtPluginMissing().join(", ")})`;
  }
  const chosen = process.env[binaryVariable(binary)];
  return chosen ? `not executable at ${binaryVariable(binary)}=${chosen}` : "not found on PATH";
}

/** The banner listing what is skipped because `missing` binaries are not installed. */
export function skipBanner(missing: readonly ExternalBinary[]): string {
  const rule = "!".repeat(78);
  const lines = [rule, "!!! SKIPPED — these suites did NOT run (a skipped suite is not a pass):"];
  for (const binary of missing) {
    lines.push(`!!!   ${binary} ${whereNot(binary)} (apt-get install -y ${APT_PACKAGE[binary]}):`);
    for (const suite of SUITES_NEEDING[binary]) lines.push(`!!!     - ${suite}`);
  }
  lines.push("!!! Set COURIER_REQUIRE_BROKERS=1 to make a missing broker fail the run.", rule);
  return lines.join("\n");
}

/**
 * For a test file that needs `binary`: true when it is there. When it is
 * missing, throws if brokers are required, else warns and returns false (the
 * caller skips its suite).
 */
export function hasBinary(binary: ExternalBinary): boolean {
  if (present(binary)) return true;
  if (brokersRequired()) {
    throw new Error(
      `COURIER_REQUIRE_BROKERS=1 but ${binary} is ${whereNot(binary)}: apt-get install -y ${APT_PACKAGE[binary]}`,
    );
  }
  console.warn(skipBanner([binary]));
  return false;
}

/**
 * For a broker that is installed but cannot run here for `reason` (null when
 * it can): false, loudly — or a failure when brokers are required.
 */
export function canRun(binary: ExternalBinary, reason: string | null): boolean {
  if (reason === null) return true;
  const message = `${binary} is installed but cannot run here: ${reason}`;
  if (brokersRequired()) throw new Error(`COURIER_REQUIRE_BROKERS=1 but ${message}`);
  console.warn(
    `!!! SKIPPED: ${message}; these suites did NOT run:\n${SUITES_NEEDING[binary].map((s) => `!!!   - ${s}`).join("\n")}`,
  );
  return false;
}
