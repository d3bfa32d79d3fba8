/**
 * What a token lets its holder do, and the broker's checks of it: which topic
 * filters it may subscribe to and which topics it may publish on. A grant is
 * itself a topic filter, so `demo/#` grants `demo/rooms/+/chat` but not `#`.
 * Matching follows MQTT 3.1.1 §4.7.
 */

export interface Grants {
  /** Filters the holder may subscribe to, or to any narrower filter. */
  readonly subscribe: readonly string[];
  /** Filters the topics the holder publishes on must match. */
  readonly publish: readonly string[];
}

/**
 * True when every topic `filter` can match is also matched by `grant`.
 * With a topic name (no wildcards) as `filter`, this is plain matching.
 */
export function filterCovers(grant: string, filter: string): boolean {
  const g = grant.split("/");
  const f = filter.split("/");
  // Topics starting with "$" are not matched by a filter starting with a wildcard (§4.7.2).
  if ((g[0] === "#" || g[0] === "+") && f[0]?.startsWith("$")) return false;
  for (let i = 0; i < g.length; i++) {
    const level = g[i];
    // "a/#" also matches "a" itself (§4.7.1.2).
    if (level === "#") return true;
    const asked = f[i];
    if (asked === undefined || asked === "#") return false;
    if (level === "+") continue;
    if (asked === "+" || asked !== level) return false;
  }
  return f.length === g.length;
}

export function canSubscribe(grants: Grants, filter: string): boolean {
  return grants.subscribe.some((grant) => filterCovers(grant, filter));
}

export function canPublish(grants: Grants, topic: string): boolean {
  return grants.publish.some((grant) => filterCovers(grant, topic));
}

/** Narrows an untrusted value (a token's claim) to `Grants`, or undefined. */
export function parseGrants(value: unknown): Grants | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { subscribe, publish } = value as Record<string, unknown>;
  const strings = (list: unknown): list is string[] =>
    Array.isArray(list) && list.every((item) => typeof item === "string");
  return strings(subscribe) && strings(publish) ? { subscribe, publish } : undefined;
}
