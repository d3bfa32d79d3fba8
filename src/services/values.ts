/** How option values are checked and shown in error messages, wherever they are read. */

/**
 * The longest delay a timer can hold: 2,147,483,647 ms (about 24.8 days). Node.js
 * and browsers fire a longer timer after 1 ms, so a longer duration is refused.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** A value as an error message shows it: a string is quoted and called a string. */
export function shown(value: unknown): string {
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "bigint") return `the bigint ${String(value)}n`;
  if (Array.isArray(value)) return "an array";
  if (typeof value === "function") return "a function";
  if (typeof value === "object" && value !== null) return "an object";
  return String(value);
}
