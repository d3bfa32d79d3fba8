/**
 * `client.messages()` loads its buffer and reads on first use: the stream
 * subscribes at the first `next()` whether or not they are in yet, and a
 * message that arrives before they are is held, in order, not lost.
 */

import { describe, expect, it } from "vitest";
import { MessageStream, type StreamHost } from "../../src/client/message-stream.js";
import type { MessageOverflowError } from "../../src/errors.js";
import type { Message, MessageHandler, Subscription } from "../../src/services/subscriptions.js";

const message = (n: number): Message => ({
  topic: "t/x",
  payload: new TextEncoder().encode(String(n)),
  qos: 0,
  retain: false,
  dup: false,
});
const text = (m: Message) => new TextDecoder().decode(m.payload);

function host() {
  const calls: { handler: MessageHandler; signal: AbortSignal }[] = [];
  const reports: MessageOverflowError[] = [];
  let unsubscribed = 0;
  const h: StreamHost = {
    subscribe(handler, options) {
      calls.push({ handler, signal: options.signal });
      const subscription: Subscription = {
        filter: "t/#",
        qos: options.qos,
        unsubscribe: async () => {
          unsubscribed += 1;
        },
      };
      return Promise.resolve(subscription);
    },
    report: (error) => reports.push(error),
    streams: new Set(),
  };
  return { h, calls, reports, unsubscribed: () => unsubscribed };
}

describe("messages() before its code is loaded", () => {
  it("subscribes at the first next() and holds what arrives before the code is in, in order", async () => {
    const { h, calls, unsubscribed } = host();
    const stream = new MessageStream("t/#", {}, h);
    const first = stream.next();
    // Synchronously: the subscription was asked for, the stream is open.
    expect(calls).toHaveLength(1);
    expect(h.streams.has(stream)).toBe(true);
    for (let n = 1; n <= 3; n++) calls[0]?.handler(message(n));
    expect(stream.buffered).toBe(3);
    expect(text((await first).value as Message)).toBe("1");
    expect(text((await stream.next()).value as Message)).toBe("2");
    calls[0]?.handler(message(4));
    expect(text((await stream.next()).value as Message)).toBe("3");
    expect(text((await stream.next()).value as Message)).toBe("4");
    await stream.return();
    expect(unsubscribed()).toBe(1);
    expect(h.streams.has(stream)).toBe(false);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it("applies the overflow policy to what arrived early", async () => {
    const { h, calls, reports } = host();
    const stream = new MessageStream("t/#", { bufferSize: 2, overflow: "dropOldest" }, h);
    const first = stream.next();
    for (let n = 1; n <= 4; n++) calls[0]?.handler(message(n));
    // The first message went to the waiting read; 2 is dropped for 4.
    expect(text((await first).value as Message)).toBe("1");
    expect(stream.dropped).toBe(1);
    expect(reports).toHaveLength(1);
    expect(text((await stream.next()).value as Message)).toBe("3");
    expect(text((await stream.next()).value as Message)).toBe("4");
  });

  it("return() before the first next(): never subscribes", async () => {
    const { h, calls } = host();
    const stream = new MessageStream("t/#", {}, h);
    await stream.return();
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(calls).toHaveLength(0);
  });

  it("an already aborted signal: no subscription, the read rejects with AbortError", async () => {
    const { h, calls } = host();
    const stream = new MessageStream("t/#", { signal: AbortSignal.abort("gone") }, h);
    await expect(stream.next()).rejects.toMatchObject({ name: "AbortError", cause: "gone" });
    expect(calls).toHaveLength(0);
  });

  it("an abort while the code loads withdraws the subscription it started", async () => {
    const { h, calls } = host();
    const controller = new AbortController();
    const stream = new MessageStream("t/#", { signal: controller.signal }, h);
    const first = stream.next();
    controller.abort("stop");
    await expect(first).rejects.toMatchObject({ name: "AbortError" });
    expect(calls[0]?.signal.aborted).toBe(true);
    expect(h.streams.has(stream)).toBe(false);
  });
});
