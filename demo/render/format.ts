/** Small text helpers shared by the timeline and the summary. */

/** `1234` → `1.2 s`, `87` → `87 ms`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** Local wall-clock time with milliseconds: `21:40:06.006`. */
export function clock(at: number): string {
  const d = new Date(at);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escape sequences is the point.
const ANSI = /\u001b\[[0-9;]*m/g;

/** Pads to `width` visible characters (ANSI colour codes take no room on screen). */
export function pad(text: string, width: number): string {
  const visible = text.replace(ANSI, "").length;
  return visible >= width ? text : text + " ".repeat(width - visible);
}

/**
 * A line that must not wrap (it is rewritten in place): as it is when it
 * fits in `columns`, else cut, without its colours.
 */
export function fitWidth(text: string, columns: number): string {
  const plain = text.replace(ANSI, "");
  if (plain.length < columns) return text;
  return `${plain.slice(0, Math.max(0, columns - 2))}…`;
}
