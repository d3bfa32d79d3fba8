import { describe, expect, it } from "vitest";
import { PublishRejectedError, QueueOverflowError } from "../../src/errors.js";
import type {
  LiveConnection,
  PublishDone,
  PublishRequest,
  Qos,
} from "../../src/services/live-connection.js";
import { Outbox, type OutboxLimits, Publication } from "../../src/services/outbox.js";

/** A session link that records publishes and lets the test acknowledge them. */
class FakeLink implements LiveConnection {
  readonly protocolVersion = 5;
  readonly maximumPacketSize = undefined;
  receiveMaximum: number | undefined = undefined;
  readonly sent: { request: PublishRequest; done: (error: Error | null) => void }[] = [];

  subscribe(): Promise<number[]> {
    throw new Error("the outbox never subscribes");
  }

  unsubscribe(): Promise<void> {
    throw new Error("the outbox never unsubscribes");
  }

  publish<R extends PublishRequest>(request: R, done: PublishDone<R>): void {
    this.sent.push({ request, done: (error) => done(request, error, this) });
  }

  /** Topics written on this link, in order. */
  topics(): string[] {
    return this.sent.map((s) => s.request.topic);
  }

  /** Acknowledges the publish written `index`-th on this link. */
  ack(index: number, error: Error | null = null): void {
    const sent = this.sent[index];
    if (!sent) throw new Error(`nothing was sent at index ${index}`);
    sent.done(error);
  }

  ackAll(): void {
    for (const s of this.sent) s.done(null);
  }
}

const LIMITS: OutboxLimits = {
  maxMessages: 1_000,
  maxBytes: 4 * 1024 * 1024,
  qos0: "queue",
  overflow: "rejectNew",
};

const req = (topic: string, payload: string | Uint8Array = "x", qos: Qos = 1): Publication =>
  new Publication(topic, payload, qos, false);

type Outcome =
  | { status: "pending" }
  | { status: "resolved" }
  | { status: "rejected"; error: Error };

/** Tracks how a publish promise settles, readable synchronously after `flush()`. */
function track(promise: Promise<void>): { readonly outcome: Outcome } {
  const box: { outcome: Outcome } = { outcome: { status: "pending" } };
  promise.then(
    () => {
      box.outcome = { status: "resolved" };
    },
    (error: Error) => {
      box.outcome = { status: "rejected", error };
    },
  );
  return box;
}

const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function rejection(tracked: { readonly outcome: Outcome }): Error {
  const { outcome } = tracked;
  if (outcome.status !== "rejected") throw new Error(`expected a rejection, got ${outcome.status}`);
  return outcome.error;
}

describe("Outbox while detached", () => {
  it("queues publishes without sending, and counts them", async () => {
    const outbox = new Outbox(LIMITS);
    const a = track(outbox.publish(req("a")));
    const b = track(outbox.publish(req("b", "yy", 0)));
    await flush();
    expect(outbox.size).toBe(2);
    expect(a.outcome.status).toBe("pending");
    expect(b.outcome.status).toBe("pending");
  });

  it("flushes in publish order on attach, and settles each on its ack", async () => {
    const outbox = new Outbox(LIMITS);
    const tracked = ["a", "b", "c", "d"].map((t) => track(outbox.publish(req(t))));
    const link = new FakeLink();
    outbox.attach(link);
    expect(link.topics()).toEqual(["a", "b", "c", "d"]);
    expect(outbox.size).toBe(4);

    link.ack(1);
    await flush();
    expect(tracked.map((t) => t.outcome.status)).toEqual([
      "pending",
      "resolved",
      "pending",
      "pending",
    ]);
    expect(outbox.size).toBe(3);

    link.ackAll();
    await flush();
    expect(tracked.every((t) => t.outcome.status === "resolved")).toBe(true);
    expect(outbox.size).toBe(0);
  });

  it("sends the request unchanged", () => {
    const outbox = new Outbox(LIMITS);
    const request = new Publication("t", new Uint8Array([1, 2, 3]), 2, true, {
      contentType: "application/octet-stream",
    });
    void outbox.publish(request);
    const link = new FakeLink();
    outbox.attach(link);
    expect(link.sent[0]?.request).toBe(request);
  });
});

describe("Outbox while attached", () => {
  it("sends new publishes at once, after what was queued", async () => {
    const outbox = new Outbox(LIMITS);
    void outbox.publish(req("queued"));
    const link = new FakeLink();
    outbox.attach(link);
    const live = track(outbox.publish(req("live")));
    expect(link.topics()).toEqual(["queued", "live"]);
    link.ack(1);
    await flush();
    expect(live.outcome.status).toBe("resolved");
  });

  it("a burst of unacknowledged publishes goes out at once, in order, each written once", () => {
    const outbox = new Outbox({ ...LIMITS, maxMessages: 100_000 });
    const link = new FakeLink();
    outbox.attach(link);
    for (let i = 0; i < 20_000; i++) void outbox.publish(req(`t/${i}`, "x", (i % 2) as Qos));
    expect(link.sent).toHaveLength(20_000);
    expect(link.sent.every((s, i) => s.request.topic === `t/${i}`)).toBe(true);
    expect(outbox.size).toBe(20_000);
  });

  it("does not send an entry twice on the same link", () => {
    const outbox = new Outbox(LIMITS);
    void outbox.publish(req("a"));
    const link = new FakeLink();
    outbox.attach(link);
    outbox.attach(link);
    expect(link.topics()).toEqual(["a"]);
  });

  it("QoS 0 with qos0 'reject' still goes out when attached", () => {
    const outbox = new Outbox({ ...LIMITS, qos0: "reject" });
    const link = new FakeLink();
    outbox.attach(link);
    void outbox.publish(req("zero", "x", 0));
    expect(link.topics()).toEqual(["zero"]);
  });

  it("ignores a second ack for a settled publish", async () => {
    const outbox = new Outbox(LIMITS);
    const link = new FakeLink();
    outbox.attach(link);
    const a = track(outbox.publish(req("a")));
    link.ack(0);
    link.ack(0, new Error("late"));
    link.ack(0, Object.assign(new Error("late"), { code: 0x87 }));
    await flush();
    expect(a.outcome.status).toBe("resolved");
    expect(outbox.size).toBe(0);
  });
});

describe("Outbox failures", () => {
  it("a plain Error (connection failed) keeps the publish; the next attach re-sends in original order", async () => {
    const outbox = new Outbox(LIMITS);
    const tracked = ["a", "b", "c"].map((t) => track(outbox.publish(req(t))));
    const first = new FakeLink();
    outbox.attach(first);
    first.ack(0, new Error("connection closed"));
    first.ack(1); // b was delivered before the drop
    first.ack(2, new Error("connection closed"));
    outbox.detach();
    const late = track(outbox.publish(req("d")));
    await flush();
    expect(tracked.map((t) => t.outcome.status)).toEqual(["pending", "resolved", "pending"]);
    expect(outbox.size).toBe(3);

    const second = new FakeLink();
    outbox.attach(second);
    expect(second.topics()).toEqual(["a", "c", "d"]);
    second.ackAll();
    await flush();
    expect([tracked[0], tracked[2], late].map((t) => t?.outcome.status)).toEqual([
      "resolved",
      "resolved",
      "resolved",
    ]);
    expect(outbox.size).toBe(0);
  });

  it("publishes unacknowledged at detach are re-sent on the next attach, queued ones after them", () => {
    const outbox = new Outbox(LIMITS);
    const first = new FakeLink();
    outbox.attach(first);
    void outbox.publish(req("in-flight-1"));
    void outbox.publish(req("in-flight-2"));
    outbox.detach();
    void outbox.publish(req("offline"));
    const second = new FakeLink();
    outbox.attach(second);
    expect(second.topics()).toEqual(["in-flight-1", "in-flight-2", "offline"]);
  });

  it("a late ack from the old link after re-send settles the publish once", async () => {
    const outbox = new Outbox(LIMITS);
    const first = new FakeLink();
    outbox.attach(first);
    const a = track(outbox.publish(req("a")));
    outbox.detach();
    const second = new FakeLink();
    outbox.attach(second);
    first.ack(0); // the PUBACK from the old session arrives late
    second.ack(0, new Error("closed"));
    await flush();
    expect(a.outcome.status).toBe("resolved");
    expect(outbox.size).toBe(0);
  });

  it("a failure from the old link does not disturb the re-sent copy", async () => {
    const outbox = new Outbox(LIMITS);
    const first = new FakeLink();
    outbox.attach(first);
    const a = track(outbox.publish(req("a")));
    outbox.detach();
    const second = new FakeLink();
    outbox.attach(second);
    first.ack(0, new Error("closed"));
    outbox.attach(second);
    expect(second.topics()).toEqual(["a"]);
    second.ack(0);
    await flush();
    expect(a.outcome.status).toBe("resolved");
  });

  it.each([
    [0x87, "not authorized"],
    [0x97, "quota exceeded"],
    [0x90, "topic name invalid"],
  ])(
    "an error with reason code %i rejects with PublishRejectedError (%s)",
    async (code, reason) => {
      const outbox = new Outbox(LIMITS);
      const link = new FakeLink();
      outbox.attach(link);
      const a = track(outbox.publish(req("secure/topic")));
      link.ack(0, Object.assign(new Error("rejected"), { code }));
      await flush();
      const error = rejection(a);
      expect(error).toBeInstanceOf(PublishRejectedError);
      expect((error as PublishRejectedError).reasonCode).toBe(code);
      expect((error as PublishRejectedError).topic).toBe("secure/topic");
      expect(error.message).toContain(reason);
      expect(outbox.size).toBe(0);

      const next = new FakeLink();
      outbox.detach();
      outbox.attach(next);
      expect(next.sent).toHaveLength(0);
    },
  );

  it("a plain error with a string code (ECONNRESET) is a connection failure, not a rejection", async () => {
    const outbox = new Outbox(LIMITS);
    const link = new FakeLink();
    outbox.attach(link);
    const a = track(outbox.publish(req("a")));
    link.ack(0, Object.assign(new Error("reset"), { code: "ECONNRESET" }));
    await flush();
    expect(a.outcome.status).toBe("pending");
    expect(outbox.size).toBe(1);
  });
});

describe("Outbox limits while detached", () => {
  it("maxMessages with rejectNew: the new publish is rejected, the queued ones stay", async () => {
    const outbox = new Outbox({ ...LIMITS, maxMessages: 2 });
    const a = track(outbox.publish(req("a")));
    const b = track(outbox.publish(req("b")));
    const c = track(outbox.publish(req("c")));
    await flush();
    const error = rejection(c);
    expect(error).toBeInstanceOf(QueueOverflowError);
    expect((error as QueueOverflowError).topic).toBe("c");
    expect(error.message).toContain("2 messages");
    expect([a, b].map((t) => t.outcome.status)).toEqual(["pending", "pending"]);
    expect(outbox.size).toBe(2);
    const link = new FakeLink();
    outbox.attach(link);
    expect(link.topics()).toEqual(["a", "b"]);
  });

  it("maxMessages with dropOldest: the oldest is rejected, the new one kept", async () => {
    const outbox = new Outbox({ ...LIMITS, maxMessages: 2, overflow: "dropOldest" });
    const a = track(outbox.publish(req("a")));
    const b = track(outbox.publish(req("b")));
    const c = track(outbox.publish(req("c")));
    await flush();
    const error = rejection(a);
    expect(error).toBeInstanceOf(QueueOverflowError);
    expect((error as QueueOverflowError).topic).toBe("a");
    expect(error.message).toContain("oldest");
    expect([b, c].map((t) => t.outcome.status)).toEqual(["pending", "pending"]);
    expect(outbox.size).toBe(2);
    const link = new FakeLink();
    outbox.attach(link);
    expect(link.topics()).toEqual(["b", "c"]);
  });

  it("maxBytes with rejectNew counts UTF-8 bytes of strings and byteLength of binary", async () => {
    const outbox = new Outbox({ ...LIMITS, maxBytes: 10 });
    const a = track(outbox.publish(req("a", "ééé"))); // 6 bytes
    const b = track(outbox.publish(req("b", new Uint8Array(4)))); // 10 bytes in all
    const c = track(outbox.publish(req("c", "z"))); // 11: over
    await flush();
    expect([a, b].map((t) => t.outcome.status)).toEqual(["pending", "pending"]);
    expect(rejection(c)).toBeInstanceOf(QueueOverflowError);
    expect(outbox.size).toBe(2);
  });

  it("maxBytes with dropOldest drops as many old ones as needed", async () => {
    const outbox = new Outbox({ ...LIMITS, maxBytes: 10, overflow: "dropOldest" });
    const a = track(outbox.publish(req("a", "1234")));
    const b = track(outbox.publish(req("b", "1234")));
    const c = track(outbox.publish(req("c", "12")));
    const d = track(outbox.publish(req("d", "123456789"))); // needs a, b and c gone
    await flush();
    expect(rejection(a)).toBeInstanceOf(QueueOverflowError);
    expect(rejection(b)).toBeInstanceOf(QueueOverflowError);
    expect(rejection(c)).toBeInstanceOf(QueueOverflowError);
    expect(d.outcome.status).toBe("pending");
    expect(outbox.size).toBe(1);
  });

  it("a payload larger than maxBytes is rejected even with dropOldest, and drops nothing", async () => {
    const outbox = new Outbox({ ...LIMITS, maxBytes: 5, overflow: "dropOldest" });
    const a = track(outbox.publish(req("a", "12")));
    const big = track(outbox.publish(req("big", "123456")));
    await flush();
    expect(rejection(big)).toBeInstanceOf(QueueOverflowError);
    expect(a.outcome.status).toBe("pending");
    expect(outbox.size).toBe(1);
  });

  it("bytes freed by delivery make room again", async () => {
    const outbox = new Outbox({ ...LIMITS, maxBytes: 4 });
    void outbox.publish(req("a", "1234"));
    const link = new FakeLink();
    outbox.attach(link);
    link.ack(0);
    outbox.detach();
    const b = track(outbox.publish(req("b", "1234")));
    await flush();
    expect(b.outcome.status).toBe("pending");
    expect(outbox.size).toBe(1);
  });

  it("publishes left unacknowledged at detach count toward maxBytes, as they do toward maxMessages", async () => {
    // Both limits bound what is held while not connected (OutboxLimits docs).
    const outbox = new Outbox({ ...LIMITS, maxMessages: 3, maxBytes: 10 });
    const link = new FakeLink();
    outbox.attach(link);
    void outbox.publish(req("a", "12345678")); // in flight: 8 bytes
    outbox.detach(); // a is held again, waiting for the next session
    expect(outbox.size).toBe(1);
    const b = track(outbox.publish(req("b", "12345"))); // 13 bytes held: over maxBytes
    await flush();
    expect(rejection(b)).toBeInstanceOf(QueueOverflowError);
    expect(outbox.size).toBe(1);
  });

  it.each<[string, OutboxLimits["qos0"], Qos, "pending" | "rejected"]>([
    ["qos0 reject, QoS 0", "reject", 0, "rejected"],
    ["qos0 reject, QoS 1", "reject", 1, "pending"],
    ["qos0 reject, QoS 2", "reject", 2, "pending"],
    ["qos0 queue, QoS 0", "queue", 0, "pending"],
  ])("%s → %s", async (_, qos0, qos, status) => {
    const outbox = new Outbox({ ...LIMITS, qos0 });
    const p = track(outbox.publish(req("t", "x", qos)));
    await flush();
    expect(p.outcome.status).toBe(status);
    if (status === "rejected") {
      expect(rejection(p)).toBeInstanceOf(QueueOverflowError);
      expect(rejection(p).message).toContain("offlineQueue.qos0");
    }
    expect(outbox.size).toBe(status === "pending" ? 1 : 0);
  });
});

describe("Outbox.rejectAll", () => {
  it("settles every publish, queued or in flight, with the given error", async () => {
    const outbox = new Outbox(LIMITS);
    const queued = track(outbox.publish(req("a")));
    const link = new FakeLink();
    outbox.attach(link);
    const inFlight = track(outbox.publish(req("b")));
    const closed = new Error("closed");
    outbox.rejectAll(closed);
    expect(outbox.size).toBe(0);
    await flush();
    expect(rejection(queued)).toBe(closed);
    expect(rejection(inFlight)).toBe(closed);
  });

  it("late acks after rejectAll change nothing", async () => {
    const outbox = new Outbox(LIMITS);
    const link = new FakeLink();
    outbox.attach(link);
    const a = track(outbox.publish(req("a")));
    const closed = new Error("closed");
    outbox.rejectAll(closed);
    link.ack(0);
    await flush();
    expect(rejection(a)).toBe(closed);
    expect(outbox.size).toBe(0);
  });

  it("resets the byte count so the queue accepts again", async () => {
    const outbox = new Outbox({ ...LIMITS, maxBytes: 4, maxMessages: 1 });
    void outbox.publish(req("a", "1234")).catch(() => {});
    outbox.rejectAll(new Error("closed"));
    const b = track(outbox.publish(req("b", "1234")));
    await flush();
    expect(b.outcome.status).toBe("pending");
    expect(outbox.size).toBe(1);
  });
});

describe("Outbox and the broker's Receive Maximum (MQTT 5 §3.3.4)", () => {
  it("keeps at most receiveMaximum QoS 1/2 publishes unacknowledged; the rest follow, in order, as acks come", async () => {
    const outbox = new Outbox(LIMITS);
    const tracked = ["a", "b", "c", "d", "e"].map((t, i) =>
      track(outbox.publish(req(t, "x", i % 2 === 0 ? 1 : 2))),
    );
    const link = new FakeLink();
    link.receiveMaximum = 2;
    outbox.attach(link);
    expect(link.topics()).toEqual(["a", "b"]);
    link.ack(1);
    expect(link.topics()).toEqual(["a", "b", "c"]);
    link.ack(0);
    link.ack(2);
    expect(link.topics()).toEqual(["a", "b", "c", "d", "e"]);
    link.ackAll();
    await flush();
    expect(tracked.every((t) => t.outcome.status === "resolved")).toBe(true);
  });

  it("a QoS 0 publish behind a full window waits its turn (it needs no room, but keeps its place)", () => {
    const outbox = new Outbox(LIMITS);
    const link = new FakeLink();
    link.receiveMaximum = 1;
    outbox.attach(link);
    void outbox.publish(req("one"));
    void outbox.publish(req("two"));
    void outbox.publish(req("zero", "x", 0));
    expect(link.topics()).toEqual(["one"]);
    link.ack(0);
    expect(link.topics()).toEqual(["one", "two", "zero"]);
  });

  it("a failure reported late by the previous link does not free room on the current one", () => {
    const outbox = new Outbox(LIMITS);
    const first = new FakeLink();
    outbox.attach(first);
    void outbox.publish(req("a"));
    outbox.detach();
    const second = new FakeLink();
    second.receiveMaximum = 1;
    outbox.attach(second);
    void outbox.publish(req("b"));
    expect(second.topics()).toEqual(["a"]);
    first.ack(0, new Error("connection closed")); // the old client flushes its callbacks
    expect(second.topics()).toEqual(["a"]);
    second.ack(0);
    expect(second.topics()).toEqual(["a", "b"]);
  });

  it("an acknowledgement from the previous link settles the publish and frees its room on the current one", async () => {
    const outbox = new Outbox(LIMITS);
    const first = new FakeLink();
    outbox.attach(first);
    const a = track(outbox.publish(req("a")));
    outbox.detach();
    const second = new FakeLink();
    second.receiveMaximum = 1;
    outbox.attach(second);
    void outbox.publish(req("b"));
    first.ack(0);
    expect(second.topics()).toEqual(["a", "b"]);
    await flush();
    expect(a.outcome.status).toBe("resolved");
    second.ack(0); // the copy sent again: ignored
    expect(outbox.size).toBe(1);
  });

  it("a publish the broker refuses frees its place; a connection failure does not resend on that link", async () => {
    const outbox = new Outbox(LIMITS);
    const link = new FakeLink();
    link.receiveMaximum = 1;
    outbox.attach(link);
    const refused = track(outbox.publish(req("refused")));
    void outbox.publish(req("next"));
    link.ack(0, Object.assign(new Error("quota exceeded"), { code: 0x97 }));
    expect(link.topics()).toEqual(["refused", "next"]);
    link.ack(1, new Error("connection closed"));
    void outbox.publish(req("after"));
    expect(link.topics()).toEqual(["refused", "next", "after"]);
    await flush();
    expect(rejection(refused)).toBeInstanceOf(PublishRejectedError);

    outbox.detach();
    const second = new FakeLink();
    second.receiveMaximum = 1;
    outbox.attach(second);
    expect(second.topics()).toEqual(["next"]);
    second.ack(0);
    expect(second.topics()).toEqual(["next", "after"]);
  });
});
