/**
 * The production connection machine as a `Chart`, with each named delay
 * shown at its default value (what `new RealtimeClient({ endpoint })` uses).
 */

import { createActor } from "xstate";
import { machineInput, resolveOptions } from "../../src/client/options.js";
import { delayOptions } from "../../src/defaults.js";
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
    input: machineInput(options, { random: Math.random }),
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
  // Read from the credentials' refresh point and expiry, not a fixed value.
  const backoff = `backoff ${seconds(context.retry.baseSeconds * 1000)} … ${seconds(context.retry.ceilSeconds * 1000)}`;
  values.REFRESH_AHEAD = "the credentials' refresh point";
  values.RENEW_RETRY_DELAY = `${backoff}, until the expiry`;
  return values;
}

/**
 * The `RealtimeClient` option that sets each delay, in seconds, from the
 * table of option defaults (src/defaults.ts). Shown in
 * docs/statecharts/README.md; the model-based tests set delays through it.
 */
export const DELAY_OPTIONS: Readonly<Record<string, readonly string[]>> = delayOptions();

export function connectionChart(): Chart {
  return readChart(connectionMachine, connectionDelayValues());
}
