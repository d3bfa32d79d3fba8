import { describe, expect, it } from "vitest";
import { HandlerError, SubscriptionRejectedError } from "../../src/errors.js";
import type {
  LiveConnection,
  PublishDone,
  PublishRequest,
  Qos,
} from "../../src/services/live-connection.js";
import {
  MAX_LONE_DEATHS,
  type Message,
  type RegistryOptions,
  type Subscription,
  SubscriptionRegistry,
} from "../../src/services/subscriptions.js";

type Requested = readonly { filter: string; qos: Qos; rh?: 0 | 1 | 2 }[];

/**
 * A session link that records SUBSCRIBE / UNSUBSCRIBE packets. Each SUBSCRIBE is
 * answered by `grant` (one code per filter; the requested QoS by default), at
 * once, or only when the test calls `release()` if `manual` is set.
 */
class FakeLink implements LiveConnection {
  readonly subscribes: Requested[] = [];
  readonly unsubscribes: string[][] = [];
  readonly #held: (() => void)[] = [];

  constructor(
    readonly protocolVersion = 4,
    readonly maximumPacketSize: number | undefined = undefined,
    readonly grant: (filters: Requested) => number[] = (filters) => filters.map((f) => f.qos),
    readonly manual = false,
  ) {}

  subscribe(filters: Requested): Promise<number[]> {
    this.subscribes.push([...filters]);
    const codes = this.grant(filters);
    if (!this.manual) return Promise.resolve(codes);
    return new Promise((resolve) => this.#held.push(() => resolve(codes)));
  }

  unsubscribe(filters: readonly string[]): Promise<void> {
    this.unsubscribes.push([...filters]);
    return Promise.resolve();
  }

  publish<R extends PublishRequest>(_request: R, _done: PublishDone<R>): void {
    throw new Error("the registry never publishes");
  }

  /** Answers every held SUBSCRIBE. */
  release(): void {
    for (const answer of this.#held.splice(0)) answer();
  }

  /** Filters in each SUBSCRIBE packet. */
  packets(): string[][] {
    return this.subscribes.map((p) => p.map((f) => f.filter));
  }
}

function registry(overrides: Partial<RegistryOptions> = {}) {
  const handlerErrors: HandlerError[] = [];
  const rejections: SubscriptionRejectedError[] = [];
  const reg = new SubscriptionRegistry({
    batchSize: 100,
    onHandlerError: (e) => handlerErrors.push(e),
    onRejected: (e) => rejections.push(e),
    ...overrides,
  });
  return { reg, handlerErrors, rejections };
}

type Outcome =
  | { status: "pending" }
  | { status: "resolved"; value: Subscription }
  | { status: "rejected"; error: Error };

function track(promise: Promise<Subscription>): { readonly outcome: Outcome } {
  const box: { outcome: Outcome } = { outcome: { status: "pending" } };
  promise.then(
    (value) => {
      box.outcome = { status: "resolved", value };
    },
    (error: Error) => {
      box.outcome = { status: "rejected", error };
    },
  );
  return box;
}

function subscription(tracked: { readonly outcome: Outcome }): Subscription {
  const { outcome } = tracked;
  if (outcome.status !== "resolved") throw new Error(`expected resolved, got ${outcome.status}`);
  return outcome.value;
}

function rejection(tracked: { readonly outcome: Outcome }): Error {
  const { outcome } = tracked;
  if (outcome.status !== "rejected") throw new Error(`expected rejected, got ${outcome.status}`);
  return outcome.error;
}

/** Lets queued microtasks and promise callbacks run. */
const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

const message = (topic: string, text = "m"): Message => ({
  topic,
  payload: new TextEncoder().encode(text),
  qos: 0,
  retain: false,
  dup: false,
});

const noop = () => {};

describe("SubscriptionRegistry while detached", () => {
  it("add stays pending and sends nothing until restore", async () => {
    const { reg } = registry();
    const a = track(reg.add("a/b", noop, 1));
    await flush();
    expect(a.outcome.status).toBe("pending");
    expect(reg.size).toBe(1);
    expect(reg.filters()).toEqual(["a/b"]);

    const link = new FakeLink();
    const outcome = await reg.restore(link, false);
    await flush();
    expect(outcome).toEqual({ filters: 1, packets: 1, rejected: [] });
    expect(link.subscribes).toEqual([[{ filter: "a/b", qos: 1 }]]);
    expect(subscription(a)).toMatchObject({ filter: "a/b", qos: 1 });
  });

  it("one filter with several handlers is requested once, at the highest QoS", async () => {
    const { reg } = registry();
    const low = track(reg.add("t", noop, 0));
    const high = track(reg.add("t", noop, 2));
    const link = new FakeLink();
    await reg.restore(link, false);
    await flush();
    expect(link.subscribes).toEqual([[{ filter: "t", qos: 2 }]]);
    expect(low.outcome.status).toBe("resolved");
    expect(high.outcome.status).toBe("resolved");
  });
});

describe("SubscriptionRegistry.restore batching", () => {
  it.each<[number, number, number[]]>([
    [250, 100, [100, 100, 50]],
    [100, 100, [100]],
    [101, 100, [100, 1]],
    [5, 1, [1, 1, 1, 1, 1]],
    [0, 100, []],
  ])("%i filters, batch size %i → packets of %j", async (filters, batchSize, sizes) => {
    const { reg } = registry({ batchSize });
    const names = Array.from({ length: filters }, (_, i) => `f/${String(i).padStart(3, "0")}`);
    for (const name of names) void reg.add(name, noop, 1);
    const link = new FakeLink();
    const outcome = await reg.restore(link, false);
    expect(outcome).toEqual({ filters, packets: sizes.length, rejected: [] });
    expect(link.subscribes.map((p) => p.length)).toEqual(sizes);
    // Every filter exactly once, in subscription order.
    expect(link.packets().flat()).toEqual(names);
  });

  it("splits by the broker's maximumPacketSize", async () => {
    // Each "f/000" costs 3 + 5 = 8 bytes; 8 bytes of overhead leave room for 3 per packet.
    const { reg } = registry({ batchSize: 100 });
    for (let i = 0; i < 10; i++) void reg.add(`f/${String(i).padStart(3, "0")}`, noop, 0);
    const link = new FakeLink(5, 8 + 3 * 8);
    const outcome = await reg.restore(link, false);
    expect(link.subscribes.map((p) => p.length)).toEqual([3, 3, 3, 1]);
    expect(outcome.packets).toBe(4);
  });

  it("uses the smaller of the batch size and the packet size", async () => {
    const { reg } = registry({ batchSize: 2 });
    for (let i = 0; i < 5; i++) void reg.add(`f/${String(i).padStart(3, "0")}`, noop, 0);
    const link = new FakeLink(5, 1_000);
    await reg.restore(link, false);
    expect(link.subscribes.map((p) => p.length)).toEqual([2, 2, 1]);
  });

  it("counts UTF-8 bytes against maximumPacketSize", async () => {
    // "éé" is 4 bytes → 7 per filter; room for 14 bytes → 2 per packet.
    const { reg } = registry();
    for (const f of ["éé", "öö", "üü"]) void reg.add(f, noop, 0);
    const link = new FakeLink(5, 8 + 14);
    await reg.restore(link, false);
    expect(link.packets()).toEqual([["éé", "öö"], ["üü"]]);
  });

  it("a filter larger than maximumPacketSize still goes out, alone", async () => {
    const { reg } = registry();
    void reg.add("a", noop, 0);
    void reg.add("x".repeat(50), noop, 0);
    void reg.add("b", noop, 0);
    const link = new FakeLink(5, 8 + 10);
    await reg.restore(link, false);
    expect(link.subscribes.map((p) => p.length)).toEqual([1, 1, 1]);
  });
});

describe("SubscriptionRegistry.restore with a kept session (sessionPresent)", () => {
  /** A registry whose "a" and "b" were granted on a first session, then detached. */
  async function afterFirstSession() {
    const r = registry();
    const first = new FakeLink();
    const a = track(r.reg.add("a", noop, 1));
    const b = track(r.reg.add("b", noop, 1));
    await r.reg.restore(first, false);
    r.reg.attach(first);
    await flush();
    r.reg.detach();
    return { ...r, a: subscription(a), b: subscription(b) };
  }

  it("sends only the filters the broker lacks", async () => {
    const { reg } = await afterFirstSession();
    const c = track(reg.add("c", noop, 0));
    const second = new FakeLink();
    const outcome = await reg.restore(second, true);
    await flush();
    expect(second.packets()).toEqual([["c"]]);
    expect(second.unsubscribes).toEqual([]);
    expect(outcome).toEqual({ filters: 1, packets: 1, rejected: [] });
    expect(c.outcome.status).toBe("resolved");
  });

  it("not trusting sessionPresent: every filter again, with Retain Handling 1 on MQTT 5", async () => {
    const { reg } = await afterFirstSession();
    const v5 = new FakeLink(5);
    const outcome = await reg.restore(v5, true, false);
    expect(outcome).toEqual({ filters: 2, packets: 1, rejected: [] });
    expect(v5.subscribes).toEqual([
      [
        { filter: "a", qos: 1, rh: 1 },
        { filter: "b", qos: 1, rh: 1 },
      ],
    ]);
    // MQTT 3.1.1 has no Retain Handling: the same filters, without it.
    const v4 = new FakeLink(4);
    await reg.restore(v4, true, false);
    expect(v4.subscribes).toEqual([
      [
        { filter: "a", qos: 1 },
        { filter: "b", qos: 1 },
      ],
    ]);
  });

  it("sends nothing when nothing changed", async () => {
    const { reg } = await afterFirstSession();
    const second = new FakeLink();
    const outcome = await reg.restore(second, true);
    expect(outcome).toEqual({ filters: 0, packets: 0, rejected: [] });
    expect(second.subscribes).toEqual([]);
    expect(second.unsubscribes).toEqual([]);
  });

  it("UNSUBSCRIBEs the filters dropped while offline", async () => {
    const { reg, a } = await afterFirstSession();
    await a.unsubscribe();
    expect(reg.filters()).toEqual(["b"]);
    const second = new FakeLink();
    await reg.restore(second, true);
    expect(second.unsubscribes).toEqual([["a"]]);
    expect(second.subscribes).toEqual([]);
    // Done once: a later restore does not repeat it.
    const third = new FakeLink();
    await reg.restore(third, true);
    expect(third.unsubscribes).toEqual([]);
  });

  it("a filter dropped then added again while offline is not unsubscribed", async () => {
    const { reg, a } = await afterFirstSession();
    await a.unsubscribe();
    const again = track(reg.add("a", noop, 1));
    const second = new FakeLink();
    await reg.restore(second, true);
    await flush();
    expect(second.unsubscribes).toEqual([]);
    expect(second.packets()).toEqual([["a"]]);
    expect(again.outcome.status).toBe("resolved");
  });

  it("without a kept session, every filter is sent and nothing unsubscribed", async () => {
    const { reg, a } = await afterFirstSession();
    await a.unsubscribe();
    void reg.add("c", noop, 0);
    const second = new FakeLink();
    const outcome = await reg.restore(second, false);
    expect(second.unsubscribes).toEqual([]);
    expect(second.packets()).toEqual([["b", "c"]]);
    expect(outcome.filters).toBe(2);
  });
});

describe("SubscriptionRegistry refusals", () => {
  it("refused filters (0x80) reject their subscribe() with SubscriptionRejectedError and are reported", async () => {
    const { reg, rejections } = registry();
    const ok = track(reg.add("ok", noop, 1));
    const bad = track(reg.add("forbidden/#", noop, 1));
    const link = new FakeLink(4, undefined, (fs) => fs.map((f) => (f.filter === "ok" ? 1 : 0x80)));
    const outcome = await reg.restore(link, false);
    await flush();
    expect(outcome.rejected).toEqual([{ filter: "forbidden/#", reasonCode: 0x80 }]);
    expect(ok.outcome.status).toBe("resolved");
    const error = rejection(bad);
    expect(error).toBeInstanceOf(SubscriptionRejectedError);
    expect((error as SubscriptionRejectedError).filter).toBe("forbidden/#");
    expect((error as SubscriptionRejectedError).reasonCode).toBe(0x80);
    // Its handler is forgotten; a new subscribe() only, not a live one, was refused.
    expect(reg.filters()).toEqual(["ok"]);
    expect(rejections).toEqual([]);
  });

  it.each([
    [0x87, "not authorized"],
    [0x8f, "topic filter invalid"],
    [0xa2, "wildcard subscriptions not supported"],
  ])("MQTT 5 code %i is a refusal named %s", async (code, reason) => {
    const { reg } = registry();
    const bad = track(reg.add("x/+", noop, 0));
    const link = new FakeLink(5, undefined, (fs) => fs.map(() => code));
    const outcome = await reg.restore(link, false);
    await flush();
    expect(outcome.rejected).toEqual([{ filter: "x/+", reasonCode: code }]);
    expect(rejection(bad).message).toContain(reason);
  });

  it("a missing code in the SUBACK counts as a refusal", async () => {
    const { reg } = registry();
    const a = track(reg.add("a", noop, 0));
    const b = track(reg.add("b", noop, 0));
    const link = new FakeLink(4, undefined, () => [0]);
    const outcome = await reg.restore(link, false);
    await flush();
    expect(a.outcome.status).toBe("resolved");
    expect(rejection(b)).toBeInstanceOf(SubscriptionRejectedError);
    expect(outcome.rejected).toEqual([{ filter: "b", reasonCode: 0x80 }]);
  });

  it("a live filter refused on restore stays tracked and is reported through onRejected", async () => {
    const { reg, rejections } = registry();
    const a = track(reg.add("a", noop, 1));
    await reg.restore(new FakeLink(), false);
    await flush();
    expect(a.outcome.status).toBe("resolved");
    const refusing = new FakeLink(4, undefined, (fs) => fs.map(() => 0x80));
    const outcome = await reg.restore(refusing, false);
    expect(outcome.rejected).toEqual([{ filter: "a", reasonCode: 0x80 }]);
    expect(rejections).toHaveLength(1);
    expect(rejections[0]?.filter).toBe("a");
    expect(reg.filters()).toEqual(["a"]);
    // The next session asks again.
    const next = new FakeLink();
    await reg.restore(next, true);
    expect(next.packets()).toEqual([["a"]]);
  });

  it("a granted QoS below the requested one does not cause a resubscribe loop", async () => {
    const { reg } = registry();
    const link = new FakeLink(4, undefined, (fs) => fs.map(() => 0));
    reg.attach(link);
    const a = track(reg.add("a", noop, 2));
    await flush();
    await flush();
    expect(a.outcome.status).toBe("resolved");
    expect(link.subscribes).toHaveLength(1);
  });
});

describe("SubscriptionRegistry while attached", () => {
  it("several subscribe() calls in one tick produce ONE SUBSCRIBE", async () => {
    const { reg } = registry();
    const link = new FakeLink();
    reg.attach(link);
    const tracked = ["a", "b/+", "c/#"].map((f) => track(reg.add(f, noop, 1)));
    expect(link.subscribes).toHaveLength(0);
    await flush();
    expect(link.packets()).toEqual([["a", "b/+", "c/#"]]);
    expect(tracked.every((t) => t.outcome.status === "resolved")).toBe(true);
  });

  it("one tick still respects the batch size", async () => {
    const { reg } = registry({ batchSize: 2 });
    const link = new FakeLink();
    reg.attach(link);
    for (const f of ["a", "b", "c"]) void reg.add(f, noop, 0);
    await flush();
    expect(link.packets()).toEqual([["a", "b"], ["c"]]);
  });

  it("a second handler at the same or lower QoS resolves without a new SUBSCRIBE", async () => {
    const { reg } = registry();
    const link = new FakeLink();
    reg.attach(link);
    void reg.add("a", noop, 1);
    await flush();
    const second = track(reg.add("a", noop, 0));
    await flush();
    expect(second.outcome.status).toBe("resolved");
    expect(link.subscribes).toHaveLength(1);
  });

  it("a handler wanting a higher QoS re-subscribes the filter at that QoS", async () => {
    const { reg } = registry();
    const link = new FakeLink();
    reg.attach(link);
    void reg.add("a", noop, 0);
    await flush();
    const higher = track(reg.add("a", noop, 2));
    await flush();
    expect(link.subscribes).toEqual([[{ filter: "a", qos: 0 }], [{ filter: "a", qos: 2 }]]);
    expect(higher.outcome.status).toBe("resolved");
  });

  it("a filter in flight is not sent twice", async () => {
    const { reg } = registry();
    const link = new FakeLink(4, undefined, undefined, true);
    reg.attach(link);
    const first = track(reg.add("a", noop, 1));
    await flush();
    const second = track(reg.add("a", noop, 1));
    await flush();
    expect(link.subscribes).toHaveLength(1);
    link.release();
    await flush();
    expect(first.outcome.status).toBe("resolved");
    expect(second.outcome.status).toBe("resolved");
  });

  it("detach stops sending; the next restore sends what was added", async () => {
    const { reg } = registry();
    const link = new FakeLink();
    reg.attach(link);
    reg.detach();
    const a = track(reg.add("a", noop, 0));
    await flush();
    expect(link.subscribes).toEqual([]);
    expect(a.outcome.status).toBe("pending");
    const next = new FakeLink();
    await reg.restore(next, true);
    await flush();
    expect(next.packets()).toEqual([["a"]]);
    expect(a.outcome.status).toBe("resolved");
  });

  it("attach sends what was added while detached", async () => {
    const { reg } = registry();
    const a = track(reg.add("a", noop, 0));
    const link = new FakeLink();
    reg.attach(link);
    await flush();
    expect(link.packets()).toEqual([["a"]]);
    expect(a.outcome.status).toBe("resolved");
  });
});

describe("SubscriptionRegistry.dispatch", () => {
  async function attachedWith(filters: string[]) {
    const r = registry();
    const link = new FakeLink();
    r.reg.attach(link);
    const got = new Map<string, string[]>();
    for (const f of filters) {
      got.set(f, []);
      void r.reg.add(f, (m) => got.get(f)?.push(m.topic), 0);
    }
    await flush();
    return { ...r, got, link };
  }

  it.each<[string, string[]]>([
    ["sport/tennis", ["sport/tennis", "sport/+", "sport/#", "#"]],
    ["sport", ["sport/#", "#"]],
    ["sport/tennis/player1", ["sport/#", "#"]],
    ["a/b", ["a/b", "+/b", "#", "$share/g/a/+"]],
    ["$SYS/load", ["$SYS/#"]],
    ["nobody", ["#"]],
  ])("%s reaches %j", async (topic, expected) => {
    const filters = [
      "sport/tennis",
      "sport/+",
      "sport/#",
      "#",
      "a/b",
      "+/b",
      "$SYS/#",
      "$share/g/a/+",
    ];
    const { reg, got } = await attachedWith(filters);
    reg.dispatch(message(topic));
    const reached = filters.filter((f) => (got.get(f) ?? []).length > 0);
    expect(reached.sort()).toEqual([...expected].sort());
    for (const f of reached) expect(got.get(f)).toEqual([topic]);
  });

  it("an exact filter does not match another topic with the same prefix", async () => {
    const { reg, got } = await attachedWith(["a/b"]);
    reg.dispatch(message("a/bc"));
    reg.dispatch(message("a/b/c"));
    expect(got.get("a/b")).toEqual([]);
  });

  it("delivers the message object itself to every handler of a filter, in subscription order", async () => {
    const { reg } = registry();
    const seen: [string, Message][] = [];
    void reg.add("t", (m) => seen.push(["first", m]), 0);
    void reg.add("t", (m) => seen.push(["second", m]), 0);
    const m = message("t", "payload");
    reg.dispatch(m);
    expect(seen).toEqual([
      ["first", m],
      ["second", m],
    ]);
  });

  it("a throwing handler does not stop the others and is reported through onHandlerError", async () => {
    const { reg, handlerErrors } = registry();
    const calls: string[] = [];
    const boom = new Error("boom");
    void reg.add("t", () => calls.push("before"), 0);
    void reg.add(
      "t",
      () => {
        throw boom;
      },
      0,
    );
    void reg.add("t", () => calls.push("after"), 0);
    void reg.add("+", () => calls.push("wildcard"), 0);
    expect(() => reg.dispatch(message("t"))).not.toThrow();
    expect(calls).toEqual(["before", "after", "wildcard"]);
    expect(handlerErrors).toHaveLength(1);
    expect(handlerErrors[0]).toBeInstanceOf(HandlerError);
    expect(handlerErrors[0]?.filter).toBe("t");
    expect(handlerErrors[0]?.cause).toBe(boom);
  });
  it("a handler removed by another handler during dispatch is not called", async () => {
    const { reg } = registry();
    const calls: string[] = [];
    let second: Subscription | undefined;
    void reg.add(
      "t",
      () => {
        calls.push("first");
        void second?.unsubscribe();
      },
      0,
    );
    const tracked = track(reg.add("t", () => calls.push("second"), 0));
    await reg.restore(new FakeLink(), false);
    await flush();
    second = subscription(tracked);
    reg.dispatch(message("t"));
    expect(calls).toEqual(["first"]);
  });

  it("a handler added during dispatch does not receive the message being dispatched", () => {
    // Like EventTarget and EventEmitter: listeners added while an event is being
    // dispatched only see later events. Otherwise a handler that subscribes to
    // the same filter in reaction to a message gets that message again (and one
    // that does so on every message never returns from dispatch()).
    const { reg } = registry();
    const calls: string[] = [];
    let added = false;
    void reg.add(
      "rooms/1",
      () => {
        calls.push("exact");
        if (added) return;
        added = true;
        void reg.add("rooms/1", () => calls.push("late exact"), 0);
        void reg.add("rooms/+", () => calls.push("late wildcard"), 0);
      },
      0,
    );
    reg.dispatch(message("rooms/1"));
    expect(calls).toEqual(["exact"]);
    reg.dispatch(message("rooms/1"));
    expect(calls).toEqual(["exact", "exact", "late exact", "late wildcard"]);
  });
});

describe("SubscriptionRegistry unsubscribe", () => {
  it("removing the last handler sends one UNSUBSCRIBE; earlier ones send none", async () => {
    const { reg } = registry();
    const link = new FakeLink();
    reg.attach(link);
    const h1: string[] = [];
    const h2: string[] = [];
    const s1 = track(reg.add("t/+", (m) => h1.push(m.topic), 1));
    const s2 = track(reg.add("t/+", (m) => h2.push(m.topic), 1));
    await flush();

    await subscription(s1).unsubscribe();
    expect(link.unsubscribes).toEqual([]);
    reg.dispatch(message("t/1"));
    expect(h1).toEqual([]);
    expect(h2).toEqual(["t/1"]);

    await subscription(s2).unsubscribe();
    expect(link.unsubscribes).toEqual([["t/+"]]);
    expect(reg.size).toBe(0);
    reg.dispatch(message("t/2"));
    expect(h2).toEqual(["t/1"]);

    // A second call is a no-op.
    await subscription(s2).unsubscribe();
    expect(link.unsubscribes).toEqual([["t/+"]]);
  });

  it("unsubscribing a filter whose SUBSCRIBE is still in flight takes it back once granted", async () => {
    const { reg } = registry();
    const link = new FakeLink(4, undefined, undefined, true);
    reg.attach(link);
    const a = track(reg.add("a", noop, 1));
    await flush();
    reg.rejectPending(new Error("closing"));
    await flush();
    expect(rejection(a).message).toBe("closing");
    expect(reg.size).toBe(0);
    link.release();
    await flush();
    expect(link.unsubscribes).toEqual([["a"]]);
  });
});

describe("SubscriptionRegistry unsubscribe when the connection fails", () => {
  it("an UNSUBSCRIBE lost with the connection is sent again on a kept session", async () => {
    const { reg } = registry();
    const first = new FakeLink();
    first.unsubscribe = (filters) => {
      first.unsubscribes.push([...filters]);
      return Promise.reject(new Error("connection closed"));
    };
    reg.attach(first);
    const a = track(reg.add("a", noop, 1));
    await flush();
    await subscription(a).unsubscribe();
    expect(first.unsubscribes).toEqual([["a"]]);
    reg.detach();
    const second = new FakeLink();
    await reg.restore(second, true);
    expect(second.unsubscribes).toEqual([["a"]]);
    expect(second.subscribes).toEqual([]);
  });
});

describe("SubscriptionRegistry.rejectPending", () => {
  it("rejects pending subscribe() calls and forgets their handlers, keeping granted ones", async () => {
    const { reg } = registry();
    const calls: string[] = [];
    const granted = track(reg.add("live", () => calls.push("live"), 0));
    await reg.restore(new FakeLink(), false);
    await flush();
    const pending = track(reg.add("waiting", () => calls.push("waiting"), 0));
    const sameFilter = track(reg.add("live", () => calls.push("live-2"), 1));
    const error = new Error("disconnect() was called");
    reg.rejectPending(error);
    await flush();
    expect(granted.outcome.status).toBe("resolved");
    expect(rejection(pending)).toBe(error);
    expect(rejection(sameFilter)).toBe(error);
    expect(reg.filters()).toEqual(["live"]);
    reg.dispatch(message("live"));
    reg.dispatch(message("waiting"));
    expect(calls).toEqual(["live"]);
  });
});

describe("a filter whose SUBSCRIBE makes the broker close the connection", () => {
  /** A link that dies (every unanswered SUBSCRIBE rejected) when a SUBSCRIBE carries "bad". */
  class ClosingLink extends FakeLink {
    override subscribe(filters: Requested): Promise<number[]> {
      this.subscribes.push([...filters]);
      if (filters.some((f) => f.filter === "bad")) return Promise.reject(new Error("closed"));
      return Promise.resolve(filters.map((f) => f.qos));
    }
  }

  it("is retried alone, after the others, and rejected after MAX_LONE_DEATHS lone deaths; the others are granted", async () => {
    const { reg } = registry();
    const good = track(reg.add("good", noop, 1));
    const bad = track(reg.add("bad", noop, 1));
    const first = new ClosingLink();
    await expect(reg.restore(first, false)).rejects.toThrow("closed");
    expect(first.packets()).toEqual([["good", "bad"]]);
    // Both never granted, both suspect: each alone, one at a time.
    const second = new ClosingLink();
    await expect(reg.restore(second, false)).rejects.toThrow("closed");
    expect(second.packets()).toEqual([["good"], ["bad"]]);
    await flush();
    expect(good.outcome.status).toBe("resolved");
    expect(bad.outcome.status).toBe("pending");
    const third = new ClosingLink();
    await expect(reg.restore(third, false)).rejects.toThrow("closed");
    expect(third.packets()).toEqual([["good"], ["bad"]]);
    await flush();
    expect(MAX_LONE_DEATHS).toBe(2);
    const error = rejection(bad);
    expect(error).toBeInstanceOf(SubscriptionRejectedError);
    expect((error as SubscriptionRejectedError).filter).toBe("bad");
    // No longer restored.
    const fourth = new ClosingLink();
    expect(await reg.restore(fourth, false)).toEqual({ filters: 1, packets: 1, rejected: [] });
    expect(fourth.packets()).toEqual([["good"]]);
    expect(reg.filters()).toEqual(["good"]);
  });

  it("a filter the broker granted once is never taken as refused for a connection dying under it", async () => {
    const { reg } = registry();
    const sub = track(reg.add("bad", noop, 1));
    await reg.restore(new FakeLink(), false);
    await flush();
    expect(sub.outcome.status).toBe("resolved");
    for (let i = 0; i < 4; i++) {
      await expect(reg.restore(new ClosingLink(), false)).rejects.toThrow("closed");
    }
    expect(reg.filters()).toEqual(["bad"]);
  });
});
