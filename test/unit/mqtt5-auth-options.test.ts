/**
 * `mqtt5Auth` (MQTT 5 enhanced authentication and re-authentication in
 * place): validated at construction, and the Authentication Data it makes.
 */

import { describe, expect, it } from "vitest";
import { machineInput, resolveOptions } from "../../src/client/options.js";
import { InvalidOptionsError } from "../../src/errors.js";
import { authDataFor } from "../../src/services/enhanced-auth.js";

const endpoint = { host: "broker.example.com", port: 8883, username: "u", password: "tok-1" };
const v5 = { protocolVersion: 5 } as const;

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidOptionsError) return error.field;
    throw error;
  }
  return undefined;
}

describe("mqtt5Auth options", () => {
  it.each<[string, Record<string, unknown>, string]>([
    ["without MQTT 5", { mqtt5Auth: { method: "JWT" } }, "mqtt5Auth"],
    ["on MQTT 3.1.1", { mqtt5Auth: { method: "JWT" }, mqtt: { protocolVersion: 4 } }, "mqtt5Auth"],
    ["not an object", { mqtt5Auth: "JWT", mqtt: v5 }, "mqtt5Auth"],
    ["no method", { mqtt5Auth: {}, mqtt: v5 }, "mqtt5Auth.method"],
    ["an empty method", { mqtt5Auth: { method: "" }, mqtt: v5 }, "mqtt5Auth.method"],
    [
      "data not a function",
      { mqtt5Auth: { method: "JWT", data: "x" }, mqtt: v5 },
      "mqtt5Auth.data",
    ],
    [
      "onContinue not a function",
      { mqtt5Auth: { method: "JWT", onContinue: 1 }, mqtt: v5 },
      "mqtt5Auth.onContinue",
    ],
    [
      "a method also in mqtt.properties",
      { mqtt5Auth: { method: "JWT" }, mqtt: { ...v5, properties: { authenticationMethod: "X" } } },
      "mqtt.properties.authenticationMethod",
    ],
    ["reauthSeconds 0", { timeouts: { reauthSeconds: 0 } }, "timeouts.reauthSeconds"],
  ])("%s → InvalidOptionsError(%s)", (_, options, field) => {
    expect(fieldOf(() => resolveOptions({ endpoint, ...options } as never))).toBe(field);
  });

  it("accepted on MQTT 5; the machine is told it can re-authenticate, with the 10 s bound by default", () => {
    const resolved = resolveOptions({ endpoint, mqtt5Auth: { method: "JWT" }, mqtt: v5 });
    expect(resolved.mqtt5Auth?.method).toBe("JWT");
    expect(resolved.timing.reauthTimeoutMs).toBe(10_000);
    expect(machineInput(resolved, { random: () => 0 }).canReauthenticate).toBe(true);
    const plain = resolveOptions({ endpoint, mqtt: v5 });
    expect(plain.mqtt5Auth).toBeUndefined();
    expect(machineInput(plain, { random: () => 0 }).canReauthenticate).toBeUndefined();
  });

  it("Authentication Data: the password UTF-8 encoded by default, else what data() returns", () => {
    const resolved = resolveOptions({ endpoint, mqtt5Auth: { method: "JWT" }, mqtt: v5 });
    const e = resolved.endpoints[0];
    if (!e) throw new Error("no endpoint");
    expect(new TextDecoder().decode(authDataFor({ method: "JWT" }, e))).toBe("tok-1");
    const custom = authDataFor({ method: "JWT", data: (c) => `Bearer ${c.password}` }, e);
    expect(new TextDecoder().decode(custom)).toBe("Bearer tok-1");
    const bytes = Uint8Array.of(1, 2, 3);
    expect(authDataFor({ method: "X", data: () => bytes }, e)).toBe(bytes);
    expect(authDataFor({ method: "X" }, { ...e, password: undefined })).toBeUndefined();
  });
});
