/**
 * MQTT return codes and reason codes as named data (STYLE.md §7): the one
 * place that knows which number means "refresh the credentials", "retry
 * later" or "stop". Nothing else in the SDK compares reason codes.
 *
 * - MQTT 3.1.1 §3.2.2.3: CONNACK return codes 1–5.
 * - MQTT 5.0 §2.4 (reason codes), §3.2.2.2 (CONNACK), §3.14.2.1 (DISCONNECT).
 */

import type { RefusalSource } from "../errors.js";

/**
 * What the client does about a refusal:
 * - `auth`: the credentials were rejected, take the refresh path;
 * - `retryable`: a network/broker problem, reconnect with backoff;
 * - `busy`: the broker asks for less load, reconnect with a longer backoff;
 * - `redirect`: use another server (MQTT 5 Server Reference, when given);
 * - `fatal`: retrying with the same options cannot help, stop.
 */
export type RefusalCategory = "auth" | "retryable" | "busy" | "redirect" | "fatal";

export interface Refusal {
  readonly source: RefusalSource;
  readonly reasonCode: number;
  readonly reason: string;
  readonly category: RefusalCategory;
  /** MQTT 5 Server Reference property (use another server / server moved). */
  readonly serverReference?: string;
}

/** MQTT 3.1.1 CONNACK return codes. */
const CONNACK_V3: Record<number, readonly [string, RefusalCategory]> = {
  1: ["unacceptable protocol version", "fatal"],
  2: ["identifier rejected", "fatal"],
  3: ["server unavailable", "retryable"],
  4: ["bad user name or password", "auth"],
  5: ["not authorized", "auth"],
};

/** MQTT 5 reason codes ≥ 0x80 (and the two below it a DISCONNECT may carry). */
const REASONS_V5: Record<number, string> = {
  0: "normal disconnection",
  4: "disconnect with will message",
  128: "unspecified error",
  129: "malformed packet",
  130: "protocol error",
  131: "implementation specific error",
  132: "unsupported protocol version",
  133: "client identifier not valid",
  134: "bad user name or password",
  135: "not authorized",
  136: "server unavailable",
  137: "server busy",
  138: "banned",
  139: "server shutting down",
  140: "bad authentication method",
  141: "keep alive timeout",
  142: "session taken over",
  143: "topic filter invalid",
  144: "topic name invalid",
  145: "packet identifier in use",
  146: "packet identifier not found",
  147: "receive maximum exceeded",
  148: "topic alias invalid",
  149: "packet too large",
  150: "message rate too high",
  151: "quota exceeded",
  152: "administrative action",
  153: "payload format invalid",
  154: "retain not supported",
  155: "QoS not supported",
  156: "use another server",
  157: "server moved",
  158: "shared subscriptions not supported",
  159: "connection rate exceeded",
  160: "maximum connect time",
  161: "subscription identifiers not supported",
  162: "wildcard subscriptions not supported",
};

/** DESIGN.md behaviour 1: 0x86, 0x87, 0x8C take the auth path. */
const AUTH_V5 = new Set([0x86, 0x87, 0x8c]);
const BUSY_V5 = new Set([0x89, 0x96, 0x97, 0x9f]);
const REDIRECT_V5 = new Set([0x9c, 0x9d]);

/**
 * CONNACK codes that describe this client's own CONNECT (its protocol level,
 * identifier, will message): sending the same CONNECT again cannot succeed.
 */
const FATAL_CONNACK_V5 = new Set([0x81, 0x82, 0x84, 0x85, 0x8a, 0x90, 0x95, 0x99, 0x9a, 0x9b]);

/**
 * DISCONNECT codes after which reconnecting would make things worse: another
 * connection took the client identifier over (reconnecting would kick it in
 * turn, forever), or the client is banned.
 */
const FATAL_DISCONNECT_V5 = new Set([0x8a, 0x8e]);

/** Human name of an MQTT 5 reason code, or of a 3.1.1 return code when `protocolVersion` < 5. */
export function reasonName(reasonCode: number, protocolVersion: number): string {
  if (protocolVersion < 5) {
    // 0x80 is 3.1.1's only SUBACK failure code (§3.9.3).
    if (reasonCode === 0x80) return "failure";
    return CONNACK_V3[reasonCode]?.[0] ?? `return code ${reasonCode}`;
  }
  return REASONS_V5[reasonCode] ?? `reason code 0x${reasonCode.toString(16)}`;
}

/**
 * Classifies a refused CONNACK (return code ≠ 0). `serverReference` is the
 * MQTT 5 CONNACK property (§3.2.2.3.16) that comes with 0x9C / 0x9D.
 */
export function classifyConnack(
  reasonCode: number,
  protocolVersion: number,
  serverReference?: string,
): Refusal {
  // An MQTT 5 CONNACK never carries 1..0x7F: such a code means a 3.1.1 broker answered
  // a v5 CONNECT in its own format (e.g. 1, unacceptable protocol version).
  if (protocolVersion < 5 || reasonCode < 0x80) {
    const [reason, category] = CONNACK_V3[reasonCode] ?? [
      `return code ${reasonCode}`,
      "retryable" as const,
    ];
    return { source: "connack", reasonCode, reason, category };
  }
  const refusal: Refusal = {
    source: "connack",
    reasonCode,
    reason: reasonName(reasonCode, 5),
    category: v5(reasonCode, FATAL_CONNACK_V5),
  };
  return serverReference ? { ...refusal, serverReference } : refusal;
}

/** Classifies a DISCONNECT packet sent by the server (MQTT 5 only). */
export function classifyDisconnect(reasonCode: number, serverReference?: string): Refusal {
  const refusal: Refusal = {
    source: "disconnect",
    reasonCode,
    reason: reasonName(reasonCode, 5),
    category: v5(reasonCode, FATAL_DISCONNECT_V5),
  };
  return serverReference ? { ...refusal, serverReference } : refusal;
}

function v5(reasonCode: number, fatal: ReadonlySet<number>): RefusalCategory {
  if (AUTH_V5.has(reasonCode)) return "auth";
  if (fatal.has(reasonCode)) return "fatal";
  if (BUSY_V5.has(reasonCode)) return "busy";
  if (REDIRECT_V5.has(reasonCode)) return "redirect";
  return "retryable";
}

/** SUBACK / PUBACK / PUBREC: a code ≥ 0x80 is a failure (MQTT 5 §2.4; 0x80 in 3.1.1 §3.9.3). */
export function isFailureCode(reasonCode: number): boolean {
  return reasonCode >= 0x80;
}
