import { describe, expect, it } from "vitest";
import {
  classifyConnack,
  classifyDisconnect,
  isFailureCode,
  type RefusalCategory,
  reasonName,
} from "../../src/services/reason-codes.js";

/** Prefixes each table row with its code in hex, for the test name. */
function hex<T extends [number, ...unknown[]]>(rows: T[]): [string, ...T][] {
  return rows.map((row) => [`0x${row[0].toString(16).padStart(2, "0")}`, ...row]);
}

describe("classifyConnack, MQTT 3.1.1 return codes (§3.2.2.3)", () => {
  it.each<[number, RefusalCategory, string]>([
    [1, "fatal", "unacceptable protocol version"],
    [2, "fatal", "identifier rejected"],
    [3, "retryable", "server unavailable"],
    [4, "auth", "bad user name or password"],
    [5, "auth", "not authorized"],
  ])("return code %i → %s (%s)", (code, category, reason) => {
    expect(classifyConnack(code, 4)).toEqual({
      source: "connack",
      reasonCode: code,
      reason,
      category,
    });
  });

  it("MQTT 3.1 (protocol level 3) reads codes the 3.1.1 way", () => {
    expect(classifyConnack(5, 3).category).toBe("auth");
    expect(classifyConnack(2, 3).category).toBe("fatal");
  });

  it.each([6, 42, 255])("unknown return code %i is retryable, never auth", (code) => {
    const refusal = classifyConnack(code, 4);
    expect(refusal.category).toBe("retryable");
    expect(refusal.reason).toBe(`return code ${code}`);
  });

  it("a 3.1.1 code is not read as an MQTT 5 reason code", () => {
    // 0x86 would be auth in MQTT 5; as a 3.1.1 return code it means nothing known.
    expect(classifyConnack(0x86, 4).category).toBe("retryable");
  });
});

describe("classifyConnack, MQTT 5 reason codes (§3.2.2.2)", () => {
  it.each(
    hex<[number, RefusalCategory, string]>([
      [0x86, "auth", "bad user name or password"],
      [0x87, "auth", "not authorized"],
      [0x8c, "auth", "bad authentication method"],
      [0x84, "fatal", "unsupported protocol version"],
      [0x85, "fatal", "client identifier not valid"],
      [0x8a, "fatal", "banned"],
      [0x81, "fatal", "malformed packet"],
      [0x82, "fatal", "protocol error"],
      [0x95, "fatal", "packet too large"],
      [0x88, "retryable", "server unavailable"],
      [0x80, "retryable", "unspecified error"],
      [0x83, "retryable", "implementation specific error"],
      [0x89, "busy", "server busy"],
      [0x97, "busy", "quota exceeded"],
      [0x9f, "busy", "connection rate exceeded"],
      [0x9c, "redirect", "use another server"],
      [0x9d, "redirect", "server moved"],
    ]),
  )("reason code %s (%i) → %s (%s)", (_, code, category, reason) => {
    expect(classifyConnack(code, 5)).toEqual({
      source: "connack",
      reasonCode: code,
      reason,
      category,
    });
  });

  it("an unknown MQTT 5 code is retryable and named by its hex value", () => {
    const refusal = classifyConnack(0xfe, 5);
    expect(refusal.category).toBe("retryable");
    expect(refusal.reason).toBe("reason code 0xfe");
  });
});

describe("classifyDisconnect, server DISCONNECT (MQTT 5 §3.14.2.1)", () => {
  it.each(
    hex<[number, RefusalCategory]>([
      [0x86, "auth"],
      [0x87, "auth"],
      [0x8c, "auth"],
      [0x8e, "fatal"],
      [0x8a, "fatal"],
      [0x8b, "retryable"],
      [0x00, "retryable"],
      [0x80, "retryable"],
      [0x8d, "retryable"],
      [0x89, "busy"],
      [0x96, "busy"],
      [0x97, "busy"],
      [0x9c, "redirect"],
      [0x9d, "redirect"],
    ]),
  )("reason code %s (%i) → %s", (_, code, category) => {
    const refusal = classifyDisconnect(code);
    expect(refusal.source).toBe("disconnect");
    expect(refusal.reasonCode).toBe(code);
    expect(refusal.category).toBe(category);
    expect(refusal).not.toHaveProperty("serverReference");
  });

  it.each(
    hex<[number, string]>([
      [0x8e, "session taken over"],
      [0x8b, "server shutting down"],
      [0x00, "normal disconnection"],
    ]),
  )("names %s (%i) %s", (_, code, reason) => {
    expect(classifyDisconnect(code).reason).toBe(reason);
  });

  it("keeps the server reference", () => {
    expect(classifyDisconnect(0x9d, "other.example.com:8883")).toEqual({
      source: "disconnect",
      reasonCode: 0x9d,
      reason: "server moved",
      category: "redirect",
      serverReference: "other.example.com:8883",
    });
    expect(classifyDisconnect(0x9c, "b.example.com").serverReference).toBe("b.example.com");
  });

  it("CONNACK-only fatal codes are not fatal on DISCONNECT", () => {
    // 0x85 on a CONNACK is about this CONNECT; a DISCONNECT cannot carry it meaningfully.
    expect(classifyConnack(0x85, 5).category).toBe("fatal");
    expect(classifyDisconnect(0x85).category).toBe("retryable");
  });
});

describe("reasonName", () => {
  it.each([
    [5, 4, "not authorized"],
    [3, 3, "server unavailable"],
    [9, 4, "return code 9"],
    [0x87, 5, "not authorized"],
    [0x9b, 5, "QoS not supported"],
    [0xa2, 5, "wildcard subscriptions not supported"],
    [0xa3, 5, "reason code 0xa3"],
  ])("code %i, protocol %i → %s", (code, version, name) => {
    expect(reasonName(code, version)).toBe(name);
  });
});

describe("isFailureCode (SUBACK / PUBACK / PUBREC)", () => {
  it.each(
    hex<[number, boolean]>([
      [0x00, false],
      [0x01, false],
      [0x02, false],
      [0x10, false],
      [0x7f, false],
      [0x80, true],
      [0x87, true],
      [0x97, true],
      [0xa2, true],
      [0xff, true],
    ]),
  )("%s (%i) failure: %s", (_, code, failure) => {
    expect(isFailureCode(code)).toBe(failure);
  });
});
