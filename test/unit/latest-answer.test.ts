import { describe, expect, it } from "vitest";
import { requestCredentials } from "../../src/services/credentials.js";
import { answerOf, isReusable, REUSE_MS } from "../../src/services/latest-answer.js";
import { Secret } from "../../src/services/secret.js";

const NOW = 1_750_000_000_000;
const endpoint = (password: string, expiresAt?: number) => ({
  host: "h",
  port: 1,
  password,
  ...(expiresAt === undefined ? {} : { expiresAt }),
});

describe("a provider's latest answer", () => {
  it("is handed to a client holding older credentials while in the first half of its life", () => {
    const answer = answerOf(endpoint("new", NOW + 60_000), NOW);
    const held = { password: new Secret("old"), expiresAt: NOW + 10_000, receivedAt: NOW - 50_000 };
    expect(isReusable(answer, held, NOW + 30_000)).toBe(true);
    expect(answer.endpoint).toMatchObject({ password: "new" });
    expect(isReusable(answer, held, NOW + 30_001)).toBe(false);
  });

  it("must still be in the first half of its life when first used (after the page's wait)", () => {
    const answer = answerOf(endpoint("new", NOW + 3000), NOW);
    const held = { password: new Secret("old"), expiresAt: NOW + 1000, receivedAt: NOW - 2000 };
    expect(isReusable(answer, held, NOW + 1000)).toBe(true);
    expect(isReusable(answer, held, NOW + 1000, 2000)).toBe(false);
  });

  it("never hands a client its own password back, nor an answer older than what it holds", () => {
    const answer = answerOf(endpoint("tok", NOW + 60_000), NOW);
    expect(isReusable(answer, { password: new Secret("tok") }, NOW + 1)).toBe(false);
    const newerHeld = { password: new Secret("other"), receivedAt: NOW + 5 };
    expect(isReusable(answer, newerHeld, NOW + 10)).toBe(false);
    const laterExpiry = { password: new Secret("other"), expiresAt: NOW + 90_000 };
    expect(isReusable(answer, laterExpiry, NOW + 10)).toBe(false);
  });

  it("of unknown expiry, is reused for REUSE_MS", () => {
    const answer = answerOf(endpoint("opaque"), NOW);
    const held = { password: new Secret("old"), receivedAt: NOW - 1 };
    expect(isReusable(answer, held, NOW + REUSE_MS)).toBe(true);
    expect(isReusable(answer, held, NOW + REUSE_MS + 1)).toBe(false);
  });

  it("is kept per provider, beside its shared call: a second client takes it without a call", async () => {
    let clock = NOW;
    const now = () => clock;
    const calls = { a: 0, b: 0 };
    const a = async () => {
      calls.a += 1;
      return endpoint(`a${calls.a}`, clock + 60_000);
    };
    const b = async () => {
      calls.b += 1;
      return endpoint(`b${calls.b}`, clock + 60_000);
    };
    const ask = (handler: typeof a, held: object) =>
      requestCredentials(handler, {
        signal: new AbortController().signal,
        retry: 0,
        reason: "expiring",
        held,
        now,
      });
    const first = await ask(a, { password: new Secret("old"), receivedAt: NOW - 10_000 });
    expect(first.endpoint).toMatchObject({ password: "a1" });
    clock += 1000;
    const second = await ask(a, { password: new Secret("old"), receivedAt: NOW - 10_000 });
    expect(second).toEqual({
      endpoint: expect.objectContaining({ password: "a1" }),
      receivedAt: NOW,
    });
    expect(calls.a).toBe(1);
    // Another provider has its own answer; the holder of a1 itself gets a new call.
    await ask(b, { password: new Secret("old") });
    expect(calls.b).toBe(1);
    const third = await ask(a, { password: new Secret("a1"), receivedAt: NOW });
    expect(third.endpoint).toMatchObject({ password: "a2" });
    expect(calls.a).toBe(2);
  });
});
