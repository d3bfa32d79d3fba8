/**
 * The fault map: for each machine event, the real cause the harness uses to
 * make a real `RealtimeClient` receive it (see docs/testing.md), and the
 * few transitions no real cause can trigger, each with the reason.
 *
 * | event | real cause |
 * | --- | --- |
 * | `USER.*` | the API call: `connect()`, `disconnect()`, `updateEndpoint()` |
 * | `NET.OFFLINE` / `NET.ONLINE` / `PAGE.VISIBLE` | the `environment` watcher option reports `offline` / `online` / `visible` |
 * | `MQTT.CONNACK` | the proxy lets the held CONNECT through; the broker accepts it |
 * | `MQTT.REFUSED` (3.1.1) | aedes' `authenticate` hook refuses that CONNECT: 5 (its token revoked for that attempt), 2 (identifier rejected), 3 (server unavailable) |
 * | `MQTT.REFUSED` (5) | the proxy answers the CONNECT with a real MQTT 5 CONNACK: 0x87, 0x85, 0x88, or 0x9C with a Server Reference |
 * | `MQTT.DISCONNECT` (5) | the proxy writes a real MQTT 5 DISCONNECT: 0x87, 0x8E, 0x8B, or 0x9C with a Server Reference |
 * | `MQTT.CLOSED` | before CONNACK: the connection drops (reported with `beforeConnack`: `MQTT.CLOSED(before CONNACK)`); after: aedes kicks the client (mosquitto: the connection drops); in `authFailed` / `closing`: the client's own close completing |
 * | `MQTT.PONG` | the broker's PINGRESP is let through |
 * | `restoreSubscriptions done` | the broker's SUBACK is let through |
 * | `refreshCredentials done` / `error` | the `onAuthFailure` provider resolves with a new token / rejects |
 * | `xstate.after.*` | time passes: that delay is configured short (0.5 s) for the path, every other long (60 s) |
 */

import { chart, type ModelPath } from "./model-graph.js";

/** The transitions no real cause can trigger on a real client, by transition key pattern. */
const NO_REAL_CAUSE: readonly { readonly match: RegExp; readonly reason: string }[] = [
  {
    match: /\.restoring\|xstate\.error\.actor\./,
    reason:
      "restoreSubscriptions never rejects on a real client: refused filters are data in its result, and a lost connection reaches the machine as MQTT.CLOSED first (mqtt.js emits close before the SUBACK callbacks settle)",
  },
  {
    match: /\.authFailed\|xstate\.after\.CLOSE_TIMEOUT\./,
    reason:
      "the force-close destroys the socket locally (TCP or WebSocket); its close event always arrives long before CLOSE_TIMEOUT",
  },
  {
    match: /\.authFailed\|MQTT\.REFUSED\|/,
    reason:
      "mqtt.js discards every packet after a refused CONNACK, so a second refusal on one connection is never reported",
  },
  {
    match: /\.closing\|MQTT\.(CONNACK|REFUSED)\|/,
    reason:
      "disconnect() before CONNACK force-closes the socket at once, and after CONNACK mqtt.js treats another CONNACK as a protocol error",
  },
  {
    match: /\.connecting\|xstate\.after\.CONNECT_TIMEOUT\.[^|]+\|0$/,
    reason:
      "connect() resets the retry counters, so on the first connection isOutOfNetworkRetries holds only with maxRetries 0, which RealtimeClient rejects (retryBackoff.maxRetries ≥ 1)",
  },
];

/**
 * Transitions driven by the credentials' expiry (refresh ahead, rotation, a
 * known-expired close). Their guards read the wall clock against the
 * credentials' `expiresAt` / `refreshAt`, which the generated paths do not
 * model (the traversal has no clock, so the guards are false there). Each is
 * taken instead by the suite named, which asserts the transition by key:
 * on a real client against aedes (the demo stack) or mosquitto where `real`,
 * else on the machine with a SimulatedClock.
 */
const EXPIRY_SUITES: readonly {
  readonly match: RegExp;
  readonly by: string;
  readonly real: boolean;
}[] = [
  {
    match: /^connection\.session\.link\|MQTT\.CLOSED\|[01]$/,
    by: "test/client/expiry-rotation.test.ts",
    real: true,
  },
  {
    match: /^connection\.session\.link\|MQTT\.DISCONNECT\|[01]$/,
    by: "test/brokers/mqtt5-expiry.test.ts",
    real: true,
  },
  {
    match:
      /\.live\.(scheduled\|xstate\.after\.REFRESH_AHEAD\.[^|]+\|0|renewing\|xstate\.done\.actor\.[^|]+\|1|renewing\|xstate\.error\.actor\.[^|]+\|0|renewBackoff\|xstate\.after\.[^|]+\|1)$/,
    by: "test/client/expiry-rotation.test.ts",
    real: true,
  },
  {
    match:
      /\.live\.(renewing\|xstate\.done\.actor\.[^|]+\|2|renewing\|xstate\.after\.REFRESH_TIMEOUT\.[^|]+\|0|renewBackoff\|xstate\.after\.[^|]+\|0|lapsed\|USER\.UPDATE_ENDPOINT\|0)$/,
    by: "test/machine/refresh-ahead.test.ts",
    real: false,
  },
  {
    // A client's `live` state is `scheduled` only with a refresh point, which needs the clock.
    match:
      /\.live\.scheduled\|(NET\.ONLINE\|0|USER\.UPDATE_ENDPOINT\|0|xstate\.after\.REFRESH_AHEAD\.[^|]+\|1)$/,
    by: "test/machine/refresh-ahead.test.ts",
    real: false,
  },
  // Re-authentication in place (mqtt5Auth): entered from a refresh ahead, so clock-driven too.
  // The success path is also taken on mosquitto with the JWT plugin (test/brokers/mqtt5-reauth.test.ts).
  {
    match:
      /(\.live\.renewing\|xstate\.done\.actor\.[^|]+\|0|\.live\.reauthenticating\|.+|^connection\.session\.link\|AUTH\.REAUTH_FAILED\|0)$/,
    by: "test/machine/reauthentication.test.ts",
    real: false,
  },
];

/** The suite that takes an expiry-driven transition instead of the generated paths, if any. */
export function expirySuite(transitionKey: string): { by: string; real: boolean } | undefined {
  const entry = EXPIRY_SUITES.find((e) => e.match.test(transitionKey));
  return entry && { by: entry.by, real: entry.real };
}

/** Every transition key `expirySuite` names, for the suites to assert they take them. */
export function expirySuiteKeys(by: string): string[] {
  return chart.transitions.map((t) => t.key).filter((key) => expirySuite(key)?.by === by);
}

export function noRealCause(transitionKey: string): string | undefined {
  return NO_REAL_CAUSE.find((entry) => entry.match.test(transitionKey))?.reason;
}

/** Transition keys of `chart` that have no real cause, with why. */
export function machineOnlyTransitions(): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of chart.transitions) {
    const reason = noRealCause(t.key);
    if (reason) out.set(t.key, reason);
  }
  return out;
}

const leaf = (value: unknown): string => {
  let v = value;
  while (typeof v === "object" && v !== null) v = Object.values(v)[0];
  return String(v);
};

/** What the real world remembers that the machine's state value does not. */
export interface Realism {
  /** The current connection attempt got its CONNACK. */
  readonly accepted: boolean;
  /** The `closing` under way started after CONNACK, so it waits for held acknowledgements. */
  readonly persistentClose: boolean;
  /** The event before: two server DISCONNECTs can arrive in one TCP segment. */
  readonly previous: string;
}

export const START: Realism = { accepted: false, persistentClose: false, previous: "" };

/**
 * Why a real client cannot take `event` from `from` now, or undefined if it
 * can. Besides transitions with no real cause, real events come in an order:
 * - MQTT.REFUSED and MQTT.CONNACK answer a CONNECT: only before the broker accepted;
 * - a server DISCONNECT comes only after CONNACK (MQTT 5 §3.14);
 * - `authFailed`, and a `closing` begun before CONNACK, close the socket at
 *   once: only what the test does synchronously (an API call, a platform
 *   signal) happens there before MQTT.CLOSED — or, in `authFailed`, a second
 *   DISCONNECT that came in the same TCP segment as the first.
 */
export function whyNot(
  realism: Realism,
  from: unknown,
  eventType: string,
  transitions: readonly string[],
): string | undefined {
  for (const key of transitions) {
    const reason = noRealCause(key);
    if (reason) return reason;
  }
  const state = leaf(from);
  const sync = /^(USER|NET|PAGE)\./.test(eventType);
  if ((eventType === "MQTT.REFUSED" || eventType === "MQTT.CONNACK") && realism.accepted) {
    return `${eventType} after CONNACK`;
  }
  if (eventType === "MQTT.DISCONNECT" && !realism.accepted) return "DISCONNECT before CONNACK";
  if (state === "authFailed" && !sync && eventType !== "MQTT.CLOSED") {
    const secondDisconnect =
      eventType === "MQTT.DISCONNECT" && realism.previous === "MQTT.DISCONNECT";
    if (!secondDisconnect) return `${eventType} while authFailed closes the socket`;
  }
  if (state === "closing" && !realism.persistentClose && !sync && eventType !== "MQTT.CLOSED") {
    return `${eventType} while a close begun before CONNACK completes at once`;
  }
  return undefined;
}

export function nextRealism(
  realism: Realism,
  from: unknown,
  eventType: string,
  to: unknown,
): Realism {
  const state = leaf(to);
  // A new connection attempt, or none at all: nothing accepted yet.
  const inLink = JSON.stringify(to).includes('"link"');
  let accepted = realism.accepted;
  if (!inLink || state === "connecting" || state === "reconnecting") accepted = false;
  if (eventType === "MQTT.CONNACK") accepted = true;
  const entersClosing = state === "closing" && leaf(from) !== "closing";
  return {
    accepted,
    persistentClose: entersClosing ? accepted : state === "closing" && realism.persistentClose,
    previous: eventType,
  };
}

/**
 * A real client reports a connection that closes while it waits for CONNACK
 * (the proxy drops it) as a close before CONNACK (`beforeConnack`), and
 * every other close (after CONNACK, or its own in `authFailed` / `closing`)
 * without it.
 */
function closeBeforeConnack(
  realism: Realism,
  from: unknown,
  event: { type: string; beforeConnack?: unknown },
): string | undefined {
  if (event.type !== "MQTT.CLOSED") return undefined;
  const state = leaf(from);
  const waiting = !realism.accepted && (state === "connecting" || state === "reconnecting");
  if (waiting && event.beforeConnack !== true) {
    return "a drop while waiting for CONNACK reaches the client as a close before CONNACK";
  }
  if (!waiting && event.beforeConnack === true) {
    return "only a drop while waiting for CONNACK is a close before CONNACK";
  }
  return undefined;
}

/** Why a real client cannot follow `path` (scenario or step), or undefined if it can. */
export function infeasible(path: ModelPath): string | undefined {
  if (path.scenario.maxRetries < 1) return "RealtimeClient rejects retryBackoff.maxRetries below 1";
  let realism = START;
  for (const [i, step] of path.steps.entries()) {
    const reason =
      closeBeforeConnack(realism, step.from.value, step.event) ??
      whyNot(realism, step.from.value, step.event.type, step.transitions);
    if (reason) return `step ${i + 1}: ${reason}`;
    realism = nextRealism(realism, step.from.value, step.event.type, step.to.value);
  }
  return undefined;
}
