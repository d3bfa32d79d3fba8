/**
 * Finds secrets in whatever an observer could reach: every string inside a
 * value, through arrays, objects (own enumerable fields and getters), Map
 * and Set entries, and what `getSnapshot()` returns (inspectors call it).
 * Returns the paths where a needle was found; an empty list means none.
 */

export function findSecrets(
  value: unknown,
  needles: readonly string[],
  seen: WeakSet<object> = new WeakSet(),
  path = "$",
): string[] {
  if (typeof value === "string") {
    return needles.some((needle) => value.includes(needle)) ? [path] : [];
  }
  if (typeof value !== "object" || value === null || seen.has(value)) return [];
  seen.add(value);
  const hits: string[] = [];
  const walk = (inner: unknown, at: string) => hits.push(...findSecrets(inner, needles, seen, at));
  if (value instanceof Map || value instanceof Set) {
    let i = 0;
    for (const entry of value.entries()) walk(entry, `${path}[${i++}]`);
    return hits;
  }
  if (value instanceof Error) {
    walk(value.message, `${path}.message`);
    walk(value.stack, `${path}.stack`);
    walk(value.cause, `${path}.cause`);
  }
  for (const key of Object.keys(value)) {
    let inner: unknown;
    try {
      inner = (value as Record<string, unknown>)[key];
    } catch {
      continue;
    }
    walk(inner, `${path}.${key}`);
  }
  const getSnapshot = (value as { getSnapshot?: unknown }).getSnapshot;
  if (typeof getSnapshot === "function") walk(getSnapshot.call(value), `${path}.getSnapshot()`);
  return hits;
}
