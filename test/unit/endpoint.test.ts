import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { InvalidOptionsError } from "../../src/errors.js";
import {
  brokerUrl,
  defaultScheme,
  mergeEndpoint,
  type ResolvedEndpoint,
  randomClientId,
  resolveEndpoint,
} from "../../src/services/endpoint.js";
import { Secret } from "../../src/services/secret.js";

const PASSWORD = "hunter2-s3cr3t-t0ken";
const FALLBACK_ID = "courier_fallback";

/** Runs `fn`, expects an `InvalidOptionsError`, returns it. */
function invalid(fn: () => unknown): InvalidOptionsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionsError);
    return error as InvalidOptionsError;
  }
  throw new Error("expected an InvalidOptionsError, nothing was thrown");
}

const resolve = (input: unknown) => resolveEndpoint(input, "endpoint", FALLBACK_ID);

describe("resolveEndpoint defaults", () => {
  it("applies scheme mqtt (Node.js), path /mqtt and the fallback client id", () => {
    expect(defaultScheme()).toBe("mqtt");
    expect(resolve({ host: "broker.example.com", port: 1883 })).toEqual({
      host: "broker.example.com",
      port: 1883,
      scheme: "mqtt",
      path: "/mqtt",
      clientId: FALLBACK_ID,
    });
  });

  it("leaves username and password out when not given", () => {
    const resolved = resolve({ host: "h", port: 1 });
    expect(resolved).not.toHaveProperty("username");
    expect(resolved).not.toHaveProperty("password");
  });

  it("keeps every field that is given", () => {
    const resolved = resolve({
      host: "10.0.0.1",
      port: 65_535,
      scheme: "wss",
      path: "/ws/mqtt",
      username: "alice",
      password: PASSWORD,
      clientId: "my-client",
    });
    expect(resolved).toMatchObject({
      host: "10.0.0.1",
      port: 65_535,
      scheme: "wss",
      path: "/ws/mqtt",
      username: "alice",
      clientId: "my-client",
    });
    expect(resolved.password).toBeInstanceOf(Secret);
    expect(resolved.password?.reveal()).toBe(PASSWORD);
  });

  it.each(["mqtt", "mqtts", "ws", "wss"])("accepts scheme %s", (scheme) => {
    expect(resolve({ host: "h", port: 1, scheme }).scheme).toBe(scheme);
  });

  it("accepts an empty password and an empty username", () => {
    const resolved = resolve({ host: "h", port: 1, username: "", password: "" });
    expect(resolved.username).toBe("");
    expect(resolved.password?.reveal()).toBe("");
  });

  it("accepts a password that is already a Secret, as is", () => {
    const secret = new Secret(PASSWORD);
    expect(resolve({ host: "h", port: 1, password: secret }).password).toBe(secret);
  });
});

describe("resolveEndpoint rejects malformed fields, naming each", () => {
  const ok = { host: "broker.example.com", port: 8883 };
  it.each<[string, unknown, string]>([
    ["not an object", "mqtt://broker:1883", "endpoint"],
    ["null", null, "endpoint"],
    ["an array", [ok], "endpoint"],
    ["empty host", { ...ok, host: "" }, "endpoint.host"],
    ["blank host", { ...ok, host: "   " }, "endpoint.host"],
    ["host with a scheme", { ...ok, host: "wss://x" }, "endpoint.host"],
    ["host with a path", { ...ok, host: "x/mqtt" }, "endpoint.host"],
    ["host with a space", { ...ok, host: "a b" }, "endpoint.host"],
    ["host not a string", { ...ok, host: 127 }, "endpoint.host"],
    ["missing host", { port: 1883 }, "endpoint.host"],
    ["port 0", { ...ok, port: 0 }, "endpoint.port"],
    ["port 70000", { ...ok, port: 70_000 }, "endpoint.port"],
    ["port 65536", { ...ok, port: 65_536 }, "endpoint.port"],
    ["port -1", { ...ok, port: -1 }, "endpoint.port"],
    ["port 1.5", { ...ok, port: 1.5 }, "endpoint.port"],
    ["port NaN", { ...ok, port: Number.NaN }, "endpoint.port"],
    ["port as a string", { ...ok, port: "443" }, "endpoint.port"],
    ["missing port", { host: "h" }, "endpoint.port"],
    ["scheme http", { ...ok, scheme: "http" }, "endpoint.scheme"],
    ["scheme upper case", { ...ok, scheme: "WSS" }, "endpoint.scheme"],
    ["scheme not a string", { ...ok, scheme: 1 }, "endpoint.scheme"],
    ["relative path", { ...ok, path: "mqtt" }, "endpoint.path"],
    ["path not a string", { ...ok, path: 5 }, "endpoint.path"],
    ["username not a string", { ...ok, username: 5 }, "endpoint.username"],
    ["password a number", { ...ok, password: 123 }, "endpoint.password"],
    ["password an object", { ...ok, password: { token: "x" } }, "endpoint.password"],
    ["empty clientId", { ...ok, clientId: "" }, "endpoint.clientId"],
    ["clientId not a string", { ...ok, clientId: 9 }, "endpoint.clientId"],
    ["clientId over 65535 bytes", { ...ok, clientId: "é".repeat(40_000) }, "endpoint.clientId"],
  ])("%s → %s", (_, input, field) => {
    const error = invalid(() => resolve(input));
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
  });

  it.each([
    ["host:port pasted into host", "broker.example.com:8883"],
    ["user info in host", "alice@broker.example.com"],
    ["query in host", "broker?x=1"],
    ["fragment in host", "broker#1"],
  ])("%s (%j) → endpoint.host, not a URL that points elsewhere", (_, host) => {
    // Accepted, these would give brokerUrl() an invalid URL or one whose host is
    // not `host` (DESIGN.md behaviour 6: a malformed endpoint is an error, not a retry loop).
    expect(invalid(() => resolve({ host, port: 1883 })).field).toBe("endpoint.host");
  });

  it("uses the field prefix it was given", () => {
    const error = invalid(() => resolveEndpoint({ host: "h", port: 0 }, "updateEndpoint", "id"));
    expect(error.field).toBe("updateEndpoint.port");
  });

  it("never echoes the password when another field is wrong", () => {
    for (const bad of [
      { host: "", port: 1 },
      { host: "h", port: 0 },
      { host: "h", port: 1, scheme: "http" },
      { host: "h", port: 1, path: "x" },
      { host: "h", port: 1, clientId: "" },
    ]) {
      const error = invalid(() => resolve({ ...bad, password: PASSWORD }));
      expect(error.message).not.toContain(PASSWORD);
      expect(String(error.stack)).not.toContain(PASSWORD);
    }
  });

  it("never echoes a password written into the host as a URL", () => {
    // A common mistake: the whole broker URL, credentials included, pasted into `host`.
    const error = invalid(() => resolve({ host: `wss://alice:${PASSWORD}@broker`, port: 443 }));
    expect(error.field).toBe("endpoint.host");
    expect(error.message).not.toContain(PASSWORD);
  });
});

describe("the password is sealed", () => {
  const resolved = resolve({ host: "h", port: 1, username: "alice", password: PASSWORD });

  it.each<[string, () => string]>([
    ["JSON.stringify", () => JSON.stringify(resolved)],
    ["String(password)", () => String(resolved.password)],
    ["template literal", () => `${resolved.password}`],
    ["util.inspect", () => inspect(resolved, { depth: 10 })],
    ["util.inspect(showHidden)", () => inspect(resolved, { depth: 10, showHidden: true })],
  ])("%s does not show it", (_, show) => {
    const text = show();
    expect(text).not.toContain(PASSWORD);
    expect(text).toContain("redacted");
  });

  it("reveal() returns it", () => {
    expect(resolved.password?.reveal()).toBe(PASSWORD);
  });

  it("JSON keeps the other fields", () => {
    expect(JSON.parse(JSON.stringify(resolved))).toEqual({
      receivedAt: expect.any(Number),
      host: "h",
      port: 1,
      scheme: "mqtt",
      path: "/mqtt",
      clientId: FALLBACK_ID,
      username: "alice",
      password: "[redacted]",
    });
  });

  it("equals() compares without revealing", () => {
    expect(resolved.password?.equals(new Secret(PASSWORD))).toBe(true);
    expect(resolved.password?.equals(new Secret("other"))).toBe(false);
    expect(resolved.password?.equals(undefined)).toBe(false);
  });
});

describe("mergeEndpoint", () => {
  const current: ResolvedEndpoint = resolve({
    host: "old.example.com",
    port: 8884,
    scheme: "wss",
    path: "/custom",
    username: "old-user",
    password: "old-pass",
    clientId: "kept-id",
  });

  it("replaces what the patch gives and keeps what it omits (clientId, scheme, path)", () => {
    const merged = mergeEndpoint(
      current,
      { host: "new.example.com", port: 443, username: "u2", password: "p2" },
      "onAuthFailure",
    );
    expect(merged).toMatchObject({
      host: "new.example.com",
      port: 443,
      username: "u2",
      scheme: "wss",
      path: "/custom",
      clientId: "kept-id",
    });
    expect(merged.password?.reveal()).toBe("p2");
  });

  it("keeps the current password when the patch omits it", () => {
    const merged = mergeEndpoint(current, { username: "u3" }, "updateEndpoint");
    expect(merged.username).toBe("u3");
    expect(merged.password?.reveal()).toBe("old-pass");
    expect(merged.host).toBe("old.example.com");
  });

  it.each<[string, Record<string, unknown>, Partial<Record<keyof ResolvedEndpoint, unknown>>]>([
    ["scheme", { scheme: "mqtts" }, { scheme: "mqtts" }],
    ["path", { path: "/other" }, { path: "/other" }],
    ["clientId", { clientId: "new-id" }, { clientId: "new-id" }],
    ["port", { port: 1 }, { port: 1 }],
  ])("replaces %s when given", (_, patch, expected) => {
    expect(mergeEndpoint(current, patch, "updateEndpoint")).toMatchObject(expected);
  });

  it("never drops the client id, even when the patch sets it to undefined", () => {
    expect(mergeEndpoint(current, { clientId: undefined }, "updateEndpoint").clientId).toBe(
      "kept-id",
    );
  });

  it("a field set to undefined is removed (password) or defaulted (path)", () => {
    const merged = mergeEndpoint(current, { password: undefined, path: undefined }, "x");
    expect(merged.password).toBeUndefined();
    expect(merged.path).toBe("/mqtt");
  });

  it("does not modify the current endpoint", () => {
    mergeEndpoint(current, { host: "elsewhere", port: 2 }, "x");
    expect(current.host).toBe("old.example.com");
    expect(current.port).toBe(8884);
  });

  it.each<[string, unknown, string]>([
    ["not an object", "x", "onAuthFailure"],
    ["null", null, "onAuthFailure"],
    ["an array", [], "onAuthFailure"],
    ["a bad port", { port: 0 }, "onAuthFailure.port"],
    ["a bad host", { host: "mqtt://x" }, "onAuthFailure.host"],
    ["a bad password", { password: 1 }, "onAuthFailure.password"],
  ])("rejects %s, naming %s", (_, patch, field) => {
    const error = invalid(() => mergeEndpoint(current, patch, "onAuthFailure"));
    expect(error.field).toBe(field);
    expect(error.message).not.toContain("old-pass");
  });
});

describe("brokerUrl", () => {
  const at = (input: Record<string, unknown>) =>
    brokerUrl(resolve({ host: "broker.example.com", port: 1234, ...input }));

  it.each([
    ["mqtt", "mqtt://broker.example.com:1234"],
    ["mqtts", "mqtts://broker.example.com:1234"],
    ["ws", "ws://broker.example.com:1234/mqtt"],
    ["wss", "wss://broker.example.com:1234/mqtt"],
  ])("scheme %s → %s", (scheme, url) => {
    expect(at({ scheme })).toBe(url);
  });

  it("puts the path only on WebSocket URLs", () => {
    expect(at({ scheme: "wss", path: "/ws" })).toBe("wss://broker.example.com:1234/ws");
    expect(at({ scheme: "mqtts", path: "/ws" })).toBe("mqtts://broker.example.com:1234");
  });

  it.each([
    ["::1", "mqtt", "mqtt://[::1]:1234"],
    ["2001:db8::42", "wss", "wss://[2001:db8::42]:1234/mqtt"],
    ["127.0.0.1", "ws", "ws://127.0.0.1:1234/mqtt"],
  ])("host %s (%s) → %s", (host, scheme, url) => {
    expect(at({ host, scheme })).toBe(url);
    expect(new URL(url).port).toBe("1234");
  });

  it("a bracketed IPv6 host is either rejected or connects to that address", () => {
    let resolved: ResolvedEndpoint | undefined;
    try {
      resolved = resolve({ host: "[::1]", port: 1234 });
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as InvalidOptionsError).field).toBe("endpoint.host");
      return;
    }
    expect(brokerUrl(resolved)).toBe("mqtt://[::1]:1234");
  });

  it("never carries credentials", () => {
    const url = at({ username: "alice", password: PASSWORD, scheme: "wss" });
    expect(url).not.toContain(PASSWORD);
    expect(url).not.toContain("alice");
  });
});

describe("randomClientId", () => {
  it("is 23 characters from [a-z0-9] after courier_ (MQTT 3.1.1 §3.1.3.1)", () => {
    for (let i = 0; i < 100; i++) expect(randomClientId()).toMatch(/^courier_[a-z0-9]{15}$/);
  });

  it.each([
    [0, "courier_aaaaaaaaaaaaaaa"],
    [1 - Number.EPSILON, "courier_999999999999999"],
  ])("uses the injected random source (%d → %s)", (r, id) => {
    expect(randomClientId(() => r)).toBe(id);
  });
});
