/**
 * The `debug` option's formatter: mqtt.js's log lines as text, redacted
 * (see services/redact.ts for the rules). Loaded only by a client created
 * with `debug` (services/mqtt-log.ts).
 */

import { redact, redactText, SecretList } from "./redact.js";

/** Used before a client has handed over its list: the field-name and JWT rules still apply. */
const NO_SECRETS = /* @__PURE__ */ new SecretList();

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
