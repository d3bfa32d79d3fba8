/** Topic grants as the broker checks them (MQTT 3.1.1 §4.7). */

import { describe, expect, test } from "vitest";
import { parseGrants } from "../../demo/stack/grants.js";
import { canPublish, canSubscribe, filterCovers } from "../../demo/stack/index.js";

describe("filterCovers(grant, filter)", () => {
  test.each<[string, string, boolean]>([
    ["demo/#", "demo/rooms/+/chat", true],
    ["demo/#", "demo", true],
    ["demo/#", "demo/#", true],
    ["demo/#", "#", false],
    ["demo/#", "other/x", false],
    ["demo/+/chat", "demo/42/chat", true],
    ["demo/+/chat", "demo/+/chat", true],
    ["demo/+/chat", "demo/#", false],
    ["demo/+/chat", "demo/42/chat/x", false],
    ["demo/rooms", "demo/+", false],
    ["demo/rooms", "demo/rooms", true],
    ["#", "anything/at/all", true],
    ["#", "$SYS/broker", false],
    ["+/x", "$SYS/x", false],
    ["$SYS/#", "$SYS/broker", true],
  ])("%s covers %s: %s", (grant, filter, covered) => {
    expect(filterCovers(grant, filter)).toBe(covered);
  });
});

test("canSubscribe / canPublish check every grant", () => {
  const grants = { subscribe: ["demo/ticks/#", "demo/alerts"], publish: ["demo/+/chat"] };
  expect(canSubscribe(grants, "demo/ticks/eu")).toBe(true);
  expect(canSubscribe(grants, "demo/alerts")).toBe(true);
  expect(canSubscribe(grants, "demo/#")).toBe(false);
  expect(canPublish(grants, "demo/42/chat")).toBe(true);
  expect(canPublish(grants, "demo/alerts")).toBe(false);
});

test("parseGrants accepts only lists of strings", () => {
  expect(parseGrants({ subscribe: ["a"], publish: [] })).toEqual({ subscribe: ["a"], publish: [] });
  expect(parseGrants({ subscribe: "a", publish: [] })).toBeUndefined();
  expect(parseGrants({ subscribe: [1], publish: [] })).toBeUndefined();
  expect(parseGrants(null)).toBeUndefined();
});
