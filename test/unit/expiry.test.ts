import { describe, expect, it } from "vitest";
import { InvalidOptionsError } from "../../src/errors.js";
import { mergeEndpoint, resolveEndpoint, scheduleRefresh } from "../../src/services/endpoint.js";
import {
  DEFAULT_REFRESH_AHEAD,
  expiryOf,
  jwtTimes,
  refreshPoint,
} from "../../src/services/expiry.js";
import { Secret } from "../../src/services/secret.js";

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
/** An unsigned-looking JWT: the client never verifies, so any signature segment will do. */
const jwt = (payload: Record<string, unknown>) =>
  `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url(payload)}.c2lnbmF0dXJl`;

const NOW = 1_750_000_000_000;

describe("jwtTimes", () => {
  it.each([
    ["exp and iat", jwt({ exp: 100, iat: 40 }), { exp: 100, iat: 40 }],
    ["exp only", jwt({ sub: "u", exp: 100 }), { exp: 100 }],
    ["iat not a number", jwt({ exp: 100, iat: "40" }), { exp: 100 }],
    ["no exp", jwt({ iat: 40 }), undefined],
    ["exp a string", jwt({ exp: "100" }), undefined],
    ["opaque password", "my-token", undefined],
    ["two segments", `${b64url({ alg: "x" })}.${b64url({ exp: 1 })}`, undefined],
    ["payload not JSON", `${b64url({ alg: "x" })}.bm90IGpzb24.sig`, undefined],
    ["header not JSON", `bm90IGpzb24.${b64url({ exp: 1 })}.sig`, undefined],
    ["not base64url", `${b64url({ alg: "x" })}.a+b/c.sig`, undefined],
    ["payload an array", `${b64url({ alg: "x" })}.${b64url([1])}.sig`, undefined],
  ])("%s", (_name, token, expected) => {
    expect(jwtTimes(token)).toEqual(expected);
  });

  it("reads UTF-8 payloads", () => {
    expect(jwtTimes(jwt({ name: "Zoë ☃", exp: 5 }))).toEqual({ exp: 5 });
  });
});

describe("expiryOf", () => {
  it("takes expiresAt (number or Date) over anything in the token", () => {
    const token = jwt({ exp: NOW / 1000 + 600 });
    expect(expiryOf(NOW + 5000, token, NOW)).toBe(NOW + 5000);
    expect(expiryOf(new Date(NOW + 7000), token, NOW)).toBe(NOW + 7000);
  });

  it("counts exp − iat from receipt, so a clock minutes off does not matter", () => {
    // Issued by a server whose clock is 5 minutes ahead of this client's.
    const serverNow = NOW / 1000 + 300;
    const token = jwt({ iat: serverNow, exp: serverNow + 60 });
    expect(expiryOf(undefined, token, NOW)).toBe(NOW + 60_000);
    // And 5 minutes behind.
    const behind = NOW / 1000 - 300;
    expect(expiryOf(undefined, jwt({ iat: behind, exp: behind + 60 }), NOW)).toBe(NOW + 60_000);
  });

  it("clocks that agree: exp itself, since a whole-second iat makes the lifetime up to 1 s long", () => {
    const iat = Math.floor(NOW / 1000) - 1; // issued 0–1 s before receipt
    const token = jwt({ iat, exp: iat + 61 });
    expect(expiryOf(undefined, token, NOW)).toBe((iat + 61) * 1000);
    expect((iat + 61) * 1000).toBeLessThan(NOW + 61_000);
  });

  it("uses exp as is without iat, unless already past on arrival", () => {
    expect(expiryOf(undefined, jwt({ exp: NOW / 1000 + 60 }), NOW)).toBe(NOW + 60_000);
    expect(expiryOf(undefined, jwt({ exp: NOW / 1000 - 60 }), NOW)).toBeUndefined();
  });

  it("knows nothing of an opaque password without expiresAt", () => {
    expect(expiryOf(undefined, "my-token", NOW)).toBeUndefined();
    expect(expiryOf(undefined, undefined, NOW)).toBeUndefined();
  });
});

describe("refreshPoint", () => {
  const policy = DEFAULT_REFRESH_AHEAD;
  const lead = (lifetimeMs: number, u: number) =>
    NOW + lifetimeMs - (refreshPoint(NOW + lifetimeMs, NOW, policy, () => u) as number);

  it("refreshes long-lived tokens margin … margin + jitter early", () => {
    expect(lead(3_600_000, 0)).toBe(30_000);
    expect(lead(3_600_000, 0.999)).toBeCloseTo(59_970, -1);
  });

  it("refreshes a 10 s token in its second half, before it expires", () => {
    expect(lead(10_000, 0)).toBe(2500);
    expect(lead(10_000, 0.999)).toBeCloseTo(4998, -1);
  });

  it("never before half the lifetime, whatever the options", () => {
    const wide = { marginSeconds: 1000, jitterSeconds: 1000 };
    for (const u of [0, 0.5, 0.999]) {
      const at = refreshPoint(NOW + 60_000, NOW, wide, () => u) as number;
      expect(at).toBeGreaterThanOrEqual(NOW + 30_000);
      expect(at).toBeLessThan(NOW + 60_000);
    }
  });

  it("spreads a herd whose tokens were issued in the same second over the jitter window", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 16_807) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    const perSecond = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      const at = refreshPoint(NOW + 3_600_000, NOW, policy, random) as number;
      const second = Math.floor(at / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    expect(perSecond.size).toBeGreaterThanOrEqual(29);
    expect(Math.max(...perSecond.values())).toBeLessThan(80);
  });

  it("has none for credentials already expired on arrival", () => {
    expect(refreshPoint(NOW, NOW, policy, () => 0)).toBeUndefined();
    expect(refreshPoint(NOW - 1, NOW, policy, () => 0)).toBeUndefined();
  });
});

describe("endpoints carry their expiry", () => {
  const base = { host: "h", port: 1883, username: "u" };
  const resolve = (input: object) => resolveEndpoint(input, "endpoint", "id", NOW);

  it("from expiresAt or a JWT's exp, with the receipt time", () => {
    expect(resolve({ ...base, password: "p", expiresAt: NOW + 1000 })).toMatchObject({
      expiresAt: NOW + 1000,
      receivedAt: NOW,
    });
    const token = jwt({ iat: 1, exp: 61 });
    expect(resolve({ ...base, password: token })).toMatchObject({ expiresAt: NOW + 60_000 });
  });

  it("an opaque password without expiresAt has none (today's behaviour)", () => {
    const e = resolve({ ...base, password: "opaque" });
    expect(e.expiresAt).toBeUndefined();
    expect(e.receivedAt).toBe(NOW);
    expect(scheduleRefresh(e, DEFAULT_REFRESH_AHEAD, () => 0).refreshAt).toBeUndefined();
  });

  it.each([[-1], [Number.NaN], ["soon"], [new Date("nope")]])(
    "refuses expiresAt %s",
    (expiresAt) => {
      expect(() => resolve({ ...base, expiresAt })).toThrow(InvalidOptionsError);
      try {
        resolve({ ...base, expiresAt });
      } catch (error) {
        expect((error as Error).message).toContain("endpoint.expiresAt");
      }
    },
  );

  it("a new password brings its own expiry; omitting it forgets the old one", () => {
    const current = resolve({ ...base, password: "a", expiresAt: NOW + 1000 });
    const fresh = mergeEndpoint(current, { password: jwt({ iat: 1, exp: 11 }) }, "x", NOW + 5);
    expect(fresh.expiresAt).toBe(NOW + 5 + 10_000);
    expect(mergeEndpoint(current, { password: "b" }, "x", NOW + 5).expiresAt).toBeUndefined();
  });

  it("keeps the expiry when the patch leaves the password alone or repeats it", () => {
    const current = scheduleRefresh(
      resolve({ ...base, password: "a", expiresAt: NOW + 100_000 }),
      DEFAULT_REFRESH_AHEAD,
      () => 0,
    );
    for (const patch of [{ host: "other" }, { password: "a" }, { password: new Secret("a") }]) {
      const next = mergeEndpoint(current, patch, "x", NOW + 50_000);
      expect(next.expiresAt).toBe(NOW + 100_000);
      expect(next.receivedAt).toBe(NOW);
      expect(next.refreshAt).toBe(current.refreshAt);
    }
    expect(mergeEndpoint(current, { expiresAt: NOW + 1 }, "x").expiresAt).toBe(NOW + 1);
  });

  it("scheduleRefresh draws the point, or none when refreshAhead is off", () => {
    const e = resolve({ ...base, password: "a", expiresAt: NOW + 3_600_000 });
    expect(scheduleRefresh(e, DEFAULT_REFRESH_AHEAD, () => 0).refreshAt).toBe(
      NOW + 3_600_000 - 30_000,
    );
    expect(scheduleRefresh(e, false, () => 0).refreshAt).toBeUndefined();
  });
});
