/**
 * Blanking tokens out of text: JWT-looking strings, and every string of a
 * token endpoint's JSON answer. Small on purpose: `RemoteCredentials` uses it
 * to keep an error it wraps free of the token, without the inspection
 * redaction around it.
 */

/** Shortest secret searched for inside other text. */
export const MIN_SEARCHED = 8;

/** What a redacted value reads as. */
export const REDACTED = "[redacted]";

/** A JWT (three base64url parts, the first a JSON header). */
const JWT = /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g;

/** Every string inside a parsed JSON value, 8 characters or more (what may be a token). */
function stringsWithin(value: unknown, found: string[] = [], depth = 0): string[] {
  if (typeof value === "string") {
    if (value.length >= MIN_SEARCHED) found.push(value);
  } else if (typeof value === "object" && value !== null && depth < 12) {
    for (const item of Object.values(value)) stringsWithin(item, found, depth + 1);
  }
  return found;
}

/** `text` with JWT-looking strings and every string held in `values` (a JSON answer) blanked. */
export function redactText(text: string, values?: unknown): string {
  let out = text.replace(JWT, REDACTED);
  for (const secret of stringsWithin(values)) out = out.split(secret).join(REDACTED);
  return out;
}

/**
 * A copy of `error` (same prototype, name, message and stack) with JWTs and
 * the strings of `values` blanked: an error the user's code threw while
 * reading a token endpoint's answer, kept as a cause without the token.
 */
export function scrubbedError(error: unknown, values: unknown): unknown {
  if (!(error instanceof Error)) {
    return typeof error === "string" ? redactText(error, values) : error;
  }
  const copy = Object.create(Object.getPrototypeOf(error)) as Error;
  copy.name = error.name;
  copy.message = redactText(error.message, values);
  copy.stack = redactText(String(error.stack), values);
  return copy;
}
