/**
 * The acknowledgement watchdog: a request unacknowledged for `timeoutMs`
 * (and at most 1.25 times that) is reported once; requests acknowledged in
 * time never are, and no timer is left once nothing is outstanding.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AckWatch } from "../../src/services/ack-watch.js";

const T = 1000;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function watch(): { acks: AckWatch; overdue: () => number } {
  let count = 0;
  const acks = new AckWatch(T, () => {
    count += 1;
  });
  return { acks, overdue: () => count };
}

describe("AckWatch", () => {
  it("reports a request left unacknowledged no earlier than timeoutMs, no later than 1.125 × it", () => {
    const { acks, overdue } = watch();
    acks.sent();
    vi.advanceTimersByTime(T - 1);
    expect(overdue()).toBe(0);
    vi.advanceTimersByTime(T / 8 + 1);
    expect(overdue()).toBe(1);
    vi.advanceTimersByTime(10 * T);
    expect(overdue()).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a request sent just before a eighth closes still gets its full timeoutMs", () => {
    const { acks, overdue } = watch();
    acks.sent();
    vi.advanceTimersByTime(T / 8 - 1);
    const late = acks.sent();
    acks.acked(0);
    vi.advanceTimersByTime(T - 1);
    expect(overdue()).toBe(0);
    vi.advanceTimersByTime(T / 8 + 1);
    expect(overdue()).toBe(1);
    expect(late).toBe(0);
  });

  it("never reports a steady flow acknowledged within 0.9 × timeoutMs, and stops when idle", () => {
    const { acks, overdue } = watch();
    const outstanding: [ticket: number, due: number][] = [];
    for (let now = 0; now < 20 * T; now += 50) {
      outstanding.push([acks.sent(), now + 0.9 * T]);
      while (outstanding.length > 0 && (outstanding[0]?.[1] ?? 0) <= now) {
        acks.acked(outstanding.shift()?.[0] ?? -1);
      }
      vi.advanceTimersByTime(50);
    }
    for (const [ticket] of outstanding.splice(0)) acks.acked(ticket);
    expect(overdue()).toBe(0);
    vi.advanceTimersByTime(T / 8);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("reports one request stuck while later ones are acknowledged", () => {
    const { acks, overdue } = watch();
    acks.sent(); // never acknowledged
    for (let i = 0; i < 19; i++) {
      const ticket = acks.sent();
      vi.advanceTimersByTime(T / 20);
      acks.acked(ticket);
    }
    expect(overdue()).toBe(0);
    for (let i = 0; i < 6; i++) acks.acked(acks.sent());
    vi.advanceTimersByTime(T / 8 + T / 20);
    expect(overdue()).toBe(1);
  });

  it("counts from the first request after an idle spell, not from the last tick", () => {
    const { acks, overdue } = watch();
    acks.acked(acks.sent());
    vi.advanceTimersByTime(5 * T);
    expect(vi.getTimerCount()).toBe(0);
    acks.sent();
    vi.advanceTimersByTime(T - 1);
    expect(overdue()).toBe(0);
    vi.advanceTimersByTime(T / 8 + 1);
    expect(overdue()).toBe(1);
  });

  it("after stop() reports nothing and holds no timer", () => {
    const { acks, overdue } = watch();
    acks.sent();
    acks.stop();
    acks.sent();
    vi.advanceTimersByTime(10 * T);
    expect(overdue()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
