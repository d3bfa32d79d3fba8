/**
 * The logger the SDK gives every mqtt.js client (its `log` option): one
 * function shared by all clients, so no client makes its own `debug`
 * instance, and mqtt.js's own lines — which print the CONNECT packet,
 * password included — never reach `DEBUG=mqttjs*` output. A client created
 * with the `debug` option gets those lines, redacted: passwords, user names,
 * tokens, `authenticationData`, JWT-looking text and every secret the client
 * has held are `[redacted]`, payloads become their byte count.
 *
 * The redacting formatter is loaded only once a client asks for `debug`
 * (`loadDebugFormat`): lines logged before it arrives wait, in order, and
 * nothing unredacted is ever written (if it cannot be loaded, mqtt.js's lines are dropped).
 */

import type { formatLine } from "./debug-format.js";
import type { SecretList } from "./secret-list.js";

/** Where a client's debug lines go (the `debug` option), keyed into its mqtt.js options. */
export const DEBUG_SINK = Symbol("courier-web-sdk debug sink");

/** A client's debug output: where lines go, and the secrets to blank in them. */
export interface DebugSink {
  write(line: string): void;
  secrets: SecretList | undefined;
}

let format: typeof formatLine | undefined;
let loading: Promise<void> | undefined;
/** While the formatter loads: lines logged so far (mqtt.js's arguments, or a line of the SDK's own). */
let waiting: [DebugSink, readonly unknown[] | string][] | undefined;

function write(sink: DebugSink, line: readonly unknown[] | string): void {
  if (!loading && typeof line !== "string") loadDebugFormat();
  if (waiting) {
    waiting.push([sink, line]);
    return;
  }
  try {
    if (typeof line === "string") sink.write(line);
    else if (format) sink.write(`mqtt.js ${format(line, sink.secrets)}`);
  } catch {
    // A debug listener that throws must not break the connection it watches.
  }
}

/** Starts loading the formatter (a client with `debug` does, when it is made); resolves once it is in. */
export function loadDebugFormat(): Promise<void> {
  if (!loading) {
    waiting = [];
    const flush = () => {
      const lines = waiting ?? [];
      waiting = undefined;
      for (const [sink, line] of lines) write(sink, line);
    };
    loading = import("./debug-format.js").then((module) => {
      format = module.formatLine;
      flush();
    }, flush);
  }
  return loading;
}

/** One of the SDK's own lines (a state change), kept in order with mqtt.js's. */
export function debugLine(sink: DebugSink, line: string): void {
  write(sink, line);
}

/** mqtt.js calls it as `client.log(…)`: `this` is that client, whose options may hold a sink. */
export function mqttLog(this: unknown, ...args: unknown[]): void {
  const options = (this as { options?: Record<symbol, unknown> } | undefined)?.options;
  const sink = options?.[DEBUG_SINK] as DebugSink | undefined;
  if (sink) write(sink, args);
}
