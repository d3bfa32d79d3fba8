/**
 * What the model-based tests feed the machine: the scenarios (configurations
 * that change what a guard answers), the concrete events with the payloads
 * the guards read, and the state key that keeps the state space finite.
 */

import type { AnyMachineSnapshot } from "xstate";
import { ConnectionLostError } from "../../src/errors.js";
import { EARLY_CLOSES_BEFORE_REFRESH } from "../../src/machines/connection.retry.js";
import {
  type ConnectionContext,
  type ConnectionEvent,
  type ConnectionInput,
  DEFAULT_TIMING,
} from "../../src/machines/connection.types.js";
import type { ResolvedEndpoint } from "../../src/services/endpoint.js";
import {
  classifyConnack,
  classifyDisconnect,
  type Refusal,
} from "../../src/services/reason-codes.js";
import { Secret } from "../../src/services/secret.js";

export interface Scenario {
  readonly name: string;
  /** 4: aedes speaks MQTT 3.1.1. 5: mosquitto, for the packets only MQTT 5 has. */
  readonly protocol: 4 | 5;
  readonly provider: boolean;
  readonly maxRetries: number;
  /** Cheaper scenarios are preferred when several paths cover the same transition. */
  readonly cost: number;
}

export const SCENARIOS: readonly Scenario[] = [4, 5].flatMap((protocol) =>
  [true, false].flatMap((provider) =>
    // maxRetries 0 exists only for the machine (RealtimeClient requires ≥ 1).
    [Number.POSITIVE_INFINITY, 1, 0].map((maxRetries) => ({
      name: `MQTT ${protocol === 4 ? "3.1.1" : "5"}${provider ? "" : ", no onAuthFailure"}${
        Number.isFinite(maxRetries) ? `, maxRetries ${maxRetries}` : ""
      }`,
      protocol: protocol as 4 | 5,
      provider,
      maxRetries,
      cost: (protocol === 5 ? 4 : 0) + (provider ? 0 : 1) + (Number.isFinite(maxRetries) ? 1 : 0),
    })),
  ),
);

/** A refusal the test can cause for real, by category (causes.ts says how). */
export type RefusalKind = "auth" | "fatal" | "retryable" | "redirect";

/** Where a redirect points: the same fault proxy, so the next connection is observed too. */
export const REFERENCE_PLACEHOLDER = "127.0.0.1";

function refusalOf(source: "connack" | "disconnect", kind: RefusalKind, protocol: 4 | 5): Refusal {
  if (source === "connack") {
    const code = { auth: [5, 0x87], fatal: [2, 0x85], retryable: [3, 0x88], redirect: [0, 0x9c] }[
      kind
    ][protocol === 4 ? 0 : 1] as number;
    const refusal = classifyConnack(code, protocol);
    return kind === "redirect" ? { ...refusal, serverReference: REFERENCE_PLACEHOLDER } : refusal;
  }
  const code = { auth: 0x87, fatal: 0x8e, retryable: 0x8b, redirect: 0x9c }[kind];
  return classifyDisconnect(code, kind === "redirect" ? REFERENCE_PLACEHOLDER : undefined);
}

/** The refusal kinds a protocol can carry: MQTT 3.1.1 has no reason codes beyond 1–5. */
export function refusalKinds(protocol: 4 | 5): RefusalKind[] {
  return protocol === 4
    ? ["auth", "fatal", "retryable"]
    : ["auth", "fatal", "retryable", "redirect"];
}

export const modelEndpoint: ResolvedEndpoint = {
  host: "127.0.0.1",
  port: 1883,
  scheme: "mqtt",
  path: "/mqtt",
  username: "model",
  password: new Secret("token-0"),
  clientId: "model",
};

export function modelInput(scenario: Scenario): ConnectionInput {
  return {
    endpoints: [modelEndpoint],
    retry: { baseSeconds: 1, ceilSeconds: 60, jitter: "none", maxRetries: scenario.maxRetries },
    timing: DEFAULT_TIMING,
    hasCredentialsProvider: scenario.provider,
    random: Math.random,
  };
}

export type ModelEvent = ConnectionEvent | { type: string; [key: string]: unknown };

/** Concrete events for one event type: one per payload a guard can tell apart. */
export function eventsFor(type: string, scenario: Scenario): ModelEvent[] {
  switch (type) {
    case "MQTT.REFUSED":
      return refusalKinds(scenario.protocol).map((kind) => ({
        type,
        refusal: refusalOf("connack", kind, scenario.protocol),
      }));
    case "MQTT.DISCONNECT":
      // A server DISCONNECT exists only in MQTT 5.
      return scenario.protocol === 5
        ? refusalKinds(5).map((kind) => ({ type, refusal: refusalOf("disconnect", kind, 5) }))
        : [];
    case "MQTT.CONNACK":
      return [{ type, sessionPresent: false }];
    case "MQTT.CLOSED":
      // Before CONNACK a drop is a close before CONNACK (which, with a provider, counts towards a refresh).
      return [
        { type, error: new ConnectionLostError("the socket closed") },
        { type, error: new ConnectionLostError("closed before CONNACK"), beforeConnack: true },
      ];
    case "USER.UPDATE_ENDPOINT":
      return [{ type, endpoint: modelEndpoint }];
    // Raised by the machine itself (a failed re-authentication); nothing outside sends it.
    case "AUTH.REAUTH_FAILED":
      return [];
  }
  if (type.startsWith("xstate.done.actor.")) {
    const output = type.endsWith("refreshing")
      ? { ...modelEndpoint, password: new Secret("token-refreshed") }
      : { filters: 1, packets: 1, rejected: [], sessionPresent: false };
    return [{ type, output }];
  }
  if (type.startsWith("xstate.error.actor.")) return [{ type, error: new Error("rejected") }];
  return [{ type }];
}

/** `MQTT.REFUSED(auth)`: the event type plus the refusal kind, if any. */
export function eventName(event: ModelEvent): string {
  const refusal = (event as { refusal?: Refusal }).refusal;
  if ((event as { beforeConnack?: boolean }).beforeConnack) return `${event.type}(before CONNACK)`;
  if (!refusal) return event.type;
  const kind =
    refusal.serverReference !== undefined
      ? "redirect"
      : refusal.category === "busy"
        ? "retryable"
        : refusal.category;
  return `${event.type}(${kind})`;
}

/** The state value plus what the guards can see of the counters, clipped. */
export function serializeFor(scenario: Scenario) {
  const finite = Number.isFinite(scenario.maxRetries);
  const network = finite ? scenario.maxRetries : 0;
  const auth = finite ? Math.max(2, scenario.maxRetries + 1) : 2;
  return (snapshot: AnyMachineSnapshot): string => {
    const c = snapshot.context as ConnectionContext;
    return JSON.stringify([
      snapshot.value,
      Math.min(c.networkFailures, network),
      Math.min(c.authFailures, auth),
      scenario.provider ? Math.min(c.earlyCloses, EARLY_CLOSES_BEFORE_REFRESH - 1) : 0,
    ]);
  };
}
