/**
 * Topic names and filters (MQTT 3.1.1 §4.7, MQTT 5 §4.7–4.8): validation and
 * matching. Matching runs for every incoming message, so a filter is parsed
 * once into its levels.
 */

import { InvalidOptionsError } from "../errors.js";

const SHARE_PREFIX = "$share/";

/** Throws `InvalidOptionsError` unless `topic` is a valid topic name to publish to. */
export function assertTopicName(topic: unknown, field = "topic"): asserts topic is string {
  if (typeof topic !== "string" || topic.length === 0) {
    throw new InvalidOptionsError(field, "expected a non-empty topic name");
  }
  if (topic.includes("+") || topic.includes("#")) {
    throw new InvalidOptionsError(
      field,
      `wildcards (+, #) are not allowed in a topic name: "${topic}"`,
    );
  }
  if (topic.includes("\u0000")) {
    throw new InvalidOptionsError(field, "a topic name must not contain U+0000");
  }
}

/** Throws `InvalidOptionsError` unless `filter` is a valid topic filter to subscribe to. */
export function assertTopicFilter(filter: unknown, field = "filter"): asserts filter is string {
  if (typeof filter !== "string" || filter.length === 0) {
    throw new InvalidOptionsError(field, "expected a non-empty topic filter");
  }
  if (filter.includes("\u0000")) {
    throw new InvalidOptionsError(field, "a topic filter must not contain U+0000");
  }
  let levels = filter.split("/");
  if (filter.startsWith(SHARE_PREFIX)) {
    // $share/{group}/{filter}: the group is one level without wildcards (MQTT 5 §4.8.2).
    const group = levels[1] ?? "";
    const rest = levels.slice(2);
    const noFilter = rest.length === 0 || (rest.length === 1 && rest[0] === "");
    if (group === "" || group.includes("+") || group.includes("#") || noFilter) {
      throw new InvalidOptionsError(field, `invalid shared subscription "${filter}"`);
    }
    levels = levels.slice(2);
  }
  levels.forEach((level, index) => {
    if (level.includes("#") && (level !== "#" || index !== levels.length - 1)) {
      throw new InvalidOptionsError(field, `"#" must be a whole last level: "${filter}"`);
    }
    if (level.includes("+") && level !== "+") {
      throw new InvalidOptionsError(field, `"+" must be a whole level: "${filter}"`);
    }
  });
}

export function hasWildcard(filter: string): boolean {
  return filter.includes("+") || filter.includes("#");
}

/** The filter messages are matched against: `$share/group/a/b` delivers topics matching `a/b`. */
export function matchedFilter(filter: string): string {
  if (!filter.startsWith(SHARE_PREFIX)) return filter;
  const afterGroup = filter.indexOf("/", SHARE_PREFIX.length);
  return filter.slice(afterGroup + 1);
}

/** A compiled filter: `matches(topic)` in one pass over the topic's levels. */
export function compileFilter(filter: string): (topic: string) => boolean {
  const levels = matchedFilter(filter).split("/");
  const startsWithWildcard = levels[0] === "+" || levels[0] === "#";
  return (topic) => {
    // Topics starting with "$" do not match filters starting with a wildcard (§4.7.2).
    if (startsWithWildcard && topic.startsWith("$")) return false;
    const parts = topic.split("/");
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i];
      if (level === "#") return true;
      if (i >= parts.length) return false;
      if (level !== "+" && level !== parts[i]) return false;
    }
    return parts.length === levels.length;
  };
}
