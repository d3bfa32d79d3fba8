/**
 * MQTT return codes and reason codes as named data: the one
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

/** A CONNACK or DISCONNECT reason code, classified: what the machine's guards read. */
export interface Refusal {
  readonly source: RefusalSource;
  readonly reasonCode: number;
  readonly reason: string;
  readonly category: RefusalCategory;
  /** MQTT 5 Server Reference property (use another server / server moved). */
  readonly serverReference?: string;
}

/** MQTT 3.1.1 CONNACK return codes 1–5: name and category. */
const CONNACK_V3: Record<number, readonly [string, RefusalCategory]> = {
  1: ["unacceptable protocol version", "fatal"],
  2: ["identifier rejected", "fatal"],
  3: ["server unavailable", "retryable"],
  4: ["bad user name or password", "auth"],
  5: ["not authorized", "auth"],
};

/**
 * MQTT 5 reason codes 0x80–0xA2 (§2.4), in order: one list rather than a
 * table of numbers keeps the browser bundle small.
 */
const REASONS_V5 =
  "unspecified error,malformed packet,protocol error,implementation specific error,unsupported protocol version,client identifier not valid,bad user name or password,not authorized,server unavailable,server busy,banned,server shutting down,bad authentication method,keep alive timeout,session taken over,topic filter invalid,topic name invalid,packet identifier in use,packet identifier not found,receive maximum exceeded,topic alias invalid,packet too large,message rate too high,quota exceeded,administrative action,payload format invalid,retain not supported,QoS not supported,use another server,server moved,shared subscriptions not supported,connection rate exceeded,maximum connect time,subscription identifiers not supported,wildcard subscriptions not supported".split(
    ",",
  );

/** The two codes below 0x80 a DISCONNECT may carry. */
const SUCCESS_V5: Record<number, string> = {
  0: "normal disconnection",
  4: "disconnect with will message",
};

/** MQTT 5 DISCONNECT 0x8E (§3.14.2.1): another connection with the same client identifier took over. */
export const SESSION_TAKEN_OVER = 0x8e;

/** 0x86, 0x87, 0x8C take the auth path (the published page's "Token Refresh on Auth Error"). */
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
const FATAL_DISCONNECT_V5 = new Set([0x8a, SESSION_TAKEN_OVER]);

/** Human name of an MQTT 5 reason code, or of a 3.1.1 return code when `protocolVersion` < 5. */
export function reasonName(reasonCode: number, protocolVersion: number): string {
  if (protocolVersion < 5) {
    // 0x80 is 3.1.1's only SUBACK failure code (§3.9.3).
    if (reasonCode === 0x80) return "failure";
    return CONNACK_V3[reasonCode]?.[0] ?? `return code ${reasonCode}`;
  }
  return (
    (reasonCode < 0x80 ? SUCCESS_V5[reasonCode] : REASONS_V5[reasonCode - 0x80]) ??
    `reason code 0x${reasonCode.toString(16)}`
  );
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

/**
 * DISCONNECT codes a broker ends a connection with when its credentials run
 * out (MQTT 5 §3.14.2.1): 0x87 Not authorized, 0x98 Administrative action
 * (mosquitto's dynamic-security plugin dropping a user), 0xA0 Maximum
 * connect time. Around the credentials' known expiry, the client reconnects
 * at once with fresh ones instead of backing off or refreshing.
 */
const EXPIRY_DISCONNECT_V5 = new Set([0x87, 0x98, 0xa0]);

/** True for a server DISCONNECT that can mean "your credentials expired". */
export function isExpiryDisconnect(refusal: Refusal): boolean {
  return refusal.source === "disconnect" && EXPIRY_DISCONNECT_V5.has(refusal.reasonCode);
}
