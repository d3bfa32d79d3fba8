/**
 * The production connection machine as a `Chart`, with each named delay
 * shown at its default value (what `new RealtimeClient({ endpoint })` uses).
 */

import { createActor } from "xstate";
import { resolveOptions } from "../../src/client/options.js";
import { connectionMachine } from "../../src/machines/connection.machine.js";
import type { ConnectionContext } from "../../src/machines/connection.types.js";
import { type Chart, readChart, seconds } from "./chart.js";

type DelayFn = (args: { context: ConnectionContext; event: { type: string } }) => number;

/**
 * Each delay's default, evaluated by the machine's own delay functions on
 * the context a client with default options starts with. A delay that reads
 * the drawn backoff (`retryDelayMs`, which is 0 until a failure is counted)
 * is shown with the backoff's bounds instead of that 0.
 */
export function connectionDelayValues(): Record<string, string> {
  const options = resolveOptions({ endpoint: { host: "broker.example.com", port: 1883 } });
  const context = createActor(connectionMachine, {
    input: {
      endpoints: options.endpoints,
      retry: options.retry,
      timing: options.timing,
      hasCredentialsProvider: true,
    },
  }).getSnapshot().context;
  const delays = connectionMachine.implementations.delays as Record<string, DelayFn | number>;
  const values: Record<string, string> = {};
  for (const [name, delay] of Object.entries(delays)) {
    if (typeof delay === "number") {
      values[name] = seconds(delay);
      continue;
    }
    // NaN in, NaN out: this delay is the backoff drawn when the failure was counted.
    const probe = delay({ context: { ...context, retryDelayMs: Number.NaN }, event: { type: "" } });
    values[name] = Number.isNaN(probe)
      ? `backoff ${seconds(context.retry.baseSeconds * 1000)} … ${seconds(context.retry.ceilSeconds * 1000)}`
      : seconds(probe);
  }
  return values;
}

/**
 * The `RealtimeClient` option (src/client/options.ts) that sets each delay, in seconds.
 * Shown in docs/statecharts/README.md; the model-based tests set delays through it.
 */
export const DELAY_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  CONNECT_TIMEOUT: ["timeouts.connectSeconds"],
  RESTORE_TIMEOUT: ["timeouts.restoreSeconds"],
  REFRESH_TIMEOUT: ["timeouts.refreshSeconds"],
  CLOSE_TIMEOUT: ["timeouts.closeSeconds"],
  PROBE_TIMEOUT: ["timeouts.probeSeconds"],
  REFRESH_WAIT: ["refreshWaitSeconds"],
  STABLE_CONNECTION: ["retryBackoff.resetAfterSeconds"],
  RETRY_DELAY: ["retryBackoff.baseSeconds", "retryBackoff.ceilSeconds"],
  AUTH_RETRY_DELAY: ["retryBackoff.baseSeconds", "retryBackoff.ceilSeconds"],
};

export function connectionChart(): Chart {
  return readChart(connectionMachine, connectionDelayValues());
}
