import { describe, expect, it } from "vitest";
import { InvalidOptionsError } from "../../src/errors.js";
import {
  assertTopicFilter,
  assertTopicName,
  compileFilter,
  hasWildcard,
  matchedFilter,
} from "../../src/services/topics.js";

/** Runs `fn`, expects an `InvalidOptionsError`, returns it. */
function invalid(fn: () => void): InvalidOptionsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionsError);
    return error as InvalidOptionsError;
  }
  throw new Error("expected an InvalidOptionsError, nothing was thrown");
}

describe("assertTopicName", () => {
  it.each([
    "a",
    "a/b/c",
    "/",
    "/finance",
    "sport/tennis/",
    "$SYS/broker/load",
    " ",
    "rooms/42/chat",
    "ünïcödé/✓",
  ])("accepts %j", (topic) => {
    expect(() => assertTopicName(topic)).not.toThrow();
  });

  it.each<[string, unknown]>([
    ["empty", ""],
    ["single-level wildcard", "a/+/b"],
    ["single-level wildcard alone", "+"],
    ["multi-level wildcard", "a/#"],
    ["wildcard inside a level", "a+b"],
    ["hash inside a level", "room#1"],
    ["U+0000", "a\u0000b"],
    ["a number", 42],
    ["undefined", undefined],
    ["null", null],
  ])("rejects %s", (_, topic) => {
    const error = invalid(() => assertTopicName(topic));
    expect(error.field).toBe("topic");
    expect(error.code).toBe("INVALID_OPTIONS");
  });

  it("names the field it was given", () => {
    expect(invalid(() => assertTopicName("a/#", "publish.topic")).field).toBe("publish.topic");
  });
});

describe("assertTopicFilter", () => {
  it.each([
    "a",
    "a/b",
    "#",
    "+",
    "+/+",
    "/+",
    "sport/#",
    "sport/tennis/+",
    "+/tennis/#",
    "sport/+/player1",
    "$SYS/#",
    "$share/group/x",
    "$share/group/a/+",
    "$share/group/#",
    "/",
  ])("accepts %j", (filter) => {
    expect(() => assertTopicFilter(filter)).not.toThrow();
  });

  it.each<[string, unknown]>([
    ["empty", ""],
    ["# not last", "sport/#/ranking"],
    ["# twice", "#/#"],
    ["# inside a level", "sport/tennis#"],
    ["+ inside a level", "a+"],
    ["+ inside a level (middle)", "sport/a+b/x"],
    ["+ after text", "sport+"],
    ["U+0000", "a/\u0000"],
    ["shared, empty group", "$share//x"],
    ["shared, no filter", "$share/group"],
    ["shared, + in group", "$share/gr+/x"],
    ["shared, # in group", "$share/#/x"],
    ["shared, bad filter", "$share/group/a#"],
    ["shared, # not last", "$share/group/#/a"],
    ["not a string", 7],
    ["null", null],
  ])("rejects %s", (_, filter) => {
    const error = invalid(() => assertTopicFilter(filter));
    expect(error.field).toBe("filter");
  });

  it("rejects a shared subscription whose topic filter is empty (MQTT 5 §4.8.2, §4.7.3)", () => {
    // "$share/group/" has a ShareName followed by "/" but no Topic Filter;
    // every Topic Filter must be at least one character long.
    expect(invalid(() => assertTopicFilter("$share/group/")).field).toBe("filter");
  });

  it("names the field it was given", () => {
    expect(invalid(() => assertTopicFilter("a/#/b", "subscribe.filter")).field).toBe(
      "subscribe.filter",
    );
  });
});

describe("compileFilter (MQTT §4.7)", () => {
  it.each<[string, string, boolean]>([
    // §4.7.1.2 multi-level wildcard
    ["sport/tennis/player1/#", "sport/tennis/player1", true],
    ["sport/tennis/player1/#", "sport/tennis/player1/ranking", true],
    ["sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true],
    ["sport/#", "sport", true],
    ["sport/#", "sports", false],
    ["sport/#", "sport/", true],
    ["#", "sport/tennis", true],
    ["#", "/", true],
    // §4.7.1.3 single-level wildcard
    ["sport/tennis/+", "sport/tennis/player1", true],
    ["sport/tennis/+", "sport/tennis/player2", true],
    ["sport/tennis/+", "sport/tennis/player1/ranking", false],
    ["sport/+", "sport", false],
    ["sport/+", "sport/", true],
    ["+", "a", true],
    ["+", "a/b", false],
    ["+/+", "/finance", true],
    ["/+", "/finance", true],
    ["+", "/finance", false],
    ["+/tennis/#", "sport/tennis/player1", true],
    ["+/tennis/#", "sport/golf/player1", false],
    ["sport/+/player1", "sport/tennis/player1", true],
    ["sport/+/player1", "sport/tennis/player2", false],
    // §4.7.2 topics beginning with $
    ["#", "$SYS/x", false],
    ["+/monitor/Clients", "$SYS/monitor/Clients", false],
    ["$SYS/#", "$SYS/monitor/Clients", true],
    ["$SYS/monitor/+", "$SYS/monitor/Clients", true],
    // §4.7.3 case-sensitive, exact levels
    ["ACCOUNTS", "Accounts", false],
    ["a/b", "a/b", true],
    ["a/b", "a/b/c", false],
    ["a/b/c", "a/b", false],
    ["a//b", "a//b", true],
    // MQTT 5 §4.8.2 shared subscriptions match on the filter after the group
    ["$share/g/a/+", "a/b", true],
    ["$share/g/a/+", "a/b/c", false],
    ["$share/g/a/+", "$share/g/a/b", false],
    ["$share/g/#", "x/y", true],
    ["$share/g/#", "$SYS/x", false],
  ])("%j vs %j → %s", (filter, topic, expected) => {
    expect(compileFilter(filter)(topic)).toBe(expected);
  });

  it("a compiled filter can be reused for many topics", () => {
    const matches = compileFilter("rooms/+/chat");
    expect(["rooms/1/chat", "rooms/2/chat", "rooms/1/typing", "rooms/chat"].map(matches)).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
});

describe("matchedFilter / hasWildcard", () => {
  it.each([
    ["a/b", "a/b"],
    ["$share/group/a/b", "a/b"],
    ["$share/group/#", "#"],
    ["$SYS/x", "$SYS/x"],
  ])("matchedFilter(%j) → %j", (filter, expected) => {
    expect(matchedFilter(filter)).toBe(expected);
  });

  it.each([
    ["a/b", false],
    ["a/+", true],
    ["#", true],
    ["$share/g/a", false],
  ])("hasWildcard(%j) → %s", (filter, expected) => {
    expect(hasWildcard(filter)).toBe(expected);
  });
});
