/**
 * The logger the SDK gives every mqtt.js client (its `log` option): one
 * function shared by all clients, so no client makes its own `debug`
 * instance, and mqtt.js's own lines — which print the CONNECT packet,
 * password included — never reach `DEBUG=mqttjs*` output. A client created
 * with the `debug` option gets those lines, redacted: passwords, user names,
 * tokens, `authenticationData`, JWT-looking text and every secret the client
 * has held are `[redacted]`, payloads become their byte count.
 */

import { redact, redactText, SecretList } from "./redact.js";

/** Used before a client has handed over its list: the field-name and JWT rules still apply. */
const NO_SECRETS = /* @__PURE__ */ new SecretList();

/** Where a client's debug lines go (the `debug` option), keyed into its mqtt.js options. */
export const DEBUG_SINK = Symbol("courier-web-sdk debug sink");

/** A client's debug output: where lines go, and the secrets to blank in them. */
export interface DebugSink {
  write(line: string): void;
  secrets: SecretList | undefined;
}

/**
 * One value of a log line as text, redacted. `field` is the word the line
 * puts before it (`options.username` → `username`): a credential's name
 * blanks the value, as a field name does in an object.
 */
function textOf(value: unknown, field: string, secrets: SecretList | undefined): string {
  const copy = redact(value, secrets ?? NO_SECRETS, 0, field);
  if (typeof copy === "string") return copy;
  if (typeof copy !== "object" || copy === null) return String(copy);
  try {
    return JSON.stringify(copy);
  } catch {
    return "[unprintable]";
  }
}

/** The last word of `text` (`"MqttClient :: options.username "` → `username`). */
const lastWord = (text: string) => /([A-Za-z_]+)[^A-Za-z_]*$/.exec(text)?.[1] ?? "";

/** `format` with its `%s %d %i %f %o %O %j` filled from `args` (as the `debug` package does), redacted. */
export function formatLine(args: readonly unknown[], secrets: SecretList | undefined): string {
  const [format, ...rest] = args;
  let i = 0;
  let line =
    typeof format === "string"
      ? format.replace(/%([sdifoOjb%])/g, (token, kind: string, offset: number) => {
          if (kind === "%") return "%";
          if (i >= rest.length) return token;
          return textOf(rest[i++], lastWord(format.slice(0, offset)), secrets);
        })
      : textOf(format, "", secrets);
  for (; i < rest.length; i += 1) line += ` ${textOf(rest[i], lastWord(line), secrets)}`;
  return redactText(line);
}

/** mqtt.js calls it as `client.log(…)`: `this` is that client, whose options may hold a sink. */
export function mqttLog(this: unknown, ...args: unknown[]): void {
  const options = (this as { options?: Record<symbol, unknown> } | undefined)?.options;
  const sink = options?.[DEBUG_SINK] as DebugSink | undefined;
  if (!sink) return;
  try {
    sink.write(`mqtt.js ${formatLine(args, sink.secrets)}`);
  } catch {
    // A debug listener that throws must not break the connection it watches.
  }
}
