/**
 * The cross-tab coordinator (src/services/cross-tab.ts) with a Web Locks
 * manager and BroadcastChannels simulated in-process: each "tab" is its own
 * coordinator; the locks and the channel hub are shared, with delays that
 * can be set to reorder their messages. The real platform objects are
 * exercised in Chromium (test/e2e/tabs.test.ts).
 */

import { describe, expect, test } from "vitest";
import { type Endpoint, InvalidOptionsError } from "../../src/index.js";
import {
  type ChannelLike,
  CrossTabCredentials,
  crossTabCredentials,
  type LockManagerLike,
  REUSE_MS,
  SETTLE_MS,
} from "../../src/services/cross-tab.js";
import { RemoteCredentials } from "../../src/services/remote-credentials.js";
import { Secret } from "../../src/services/secret.js";
import { sleep } from "../support/wait.js";

/** Exclusive locks granted in request order, like `navigator.locks`, granting after `grantDelayMs`. */
class FakeLocks implements LockManagerLike {
  readonly #held = new Set<string>();
  readonly #queues = new Map<string, (() => void)[]>();
  constructor(readonly grantDelayMs = 0) {}

  waiting(name: string): number {
    return this.#queues.get(name)?.length ?? 0;
  }

  async request<T>(
    name: string,
    options: { ifAvailable?: boolean; signal?: AbortSignal },
    callback: (lock: unknown) => Promise<T>,
  ): Promise<T> {
    if (this.#held.has(name)) {
      if (options.ifAvailable) return callback(null);
      await new Promise<void>((resolve, reject) => {
        const queue = this.#queues.get(name) ?? [];
        this.#queues.set(name, queue);
        const signal = options.signal;
        const granted = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = () => {
          queue.splice(queue.indexOf(granted), 1);
          reject(signal?.reason);
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener("abort", onAbort, { once: true });
        queue.push(granted);
      });
    } else {
      this.#held.add(name);
    }
    try {
      return await callback({ name });
    } finally {
      const next = this.#queues.get(name)?.shift();
      // The lock passes to the next in line (still held), or is free.
      if (next) setTimeout(next, this.grantDelayMs);
      else this.#held.delete(name);
    }
  }
}

/** BroadcastChannels of one origin: a message reaches every other channel after `delayMs`, structured-cloned. */
class FakeHub {
  readonly #channels: ChannelLike[] = [];
  constructor(public delayMs = 0) {}

  channel(): ChannelLike {
    const channel: ChannelLike = {
      onmessage: null,
      postMessage: (message) => {
        const data = structuredClone(message);
        for (const other of this.#channels) {
          if (other !== channel) setTimeout(() => other.onmessage?.({ data }), this.delayMs);
        }
      },
    };
    this.#channels.push(channel);
    return channel;
  }
}

const KEY = "http://127.0.0.1:8080/api/mqtt/token";

/** A token endpoint: answers token-1, token-2, … after `latencyMs`; counts requests. */
function tokenEndpoint(latencyMs = 50) {
  let requests = 0;
  return {
    get requests() {
      return requests;
    },
    fetch: async (signal: AbortSignal): Promise<Endpoint> => {
      requests += 1;
      const n = requests;
      await sleep(latencyMs);
      signal.throwIfAborted();
      return { host: "127.0.0.1", port: 1883, username: "viewer", password: `token-${n}` };
    },
  };
}

function tabs(count: number, options: { hubDelayMs?: number; grantDelayMs?: number } = {}) {
  const locks = new FakeLocks(options.grantDelayMs);
  const hub = new FakeHub(options.hubDelayMs);
  let now = 1_000_000;
  const clock = {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
  const list = Array.from(
    { length: count },
    () => new CrossTabCredentials(locks, hub.channel(), clock.now),
  );
  return { list, locks, hub, clock };
}

const secret = (value: string) => new Secret(value);

describe("tabs refreshing at once", () => {
  test("two tabs refused at once: one request, both get its answer", async () => {
    const { list } = tabs(2);
    const endpoint = tokenEndpoint();
    const refused = secret("token-0");
    const answers = await Promise.all(list.map((tab) => tab.request(KEY, refused, endpoint.fetch)));
    expect(endpoint.requests).toBe(1);
    expect(answers.map((a) => a.password)).toEqual(["token-1", "token-1"]);
  });

  test("five tabs: still one request", async () => {
    const { list } = tabs(5);
    const endpoint = tokenEndpoint();
    const answers = await Promise.all(
      list.map((tab) => tab.request(KEY, secret("token-0"), endpoint.fetch)),
    );
    expect(endpoint.requests).toBe(1);
    expect(new Set(answers.map((a) => a.password))).toEqual(new Set(["token-1"]));
  });

  test("the lock is granted before the answer arrives (channel slower than the lock): the waiter still takes it", async () => {
    const { list } = tabs(2, { hubDelayMs: SETTLE_MS / 2 });
    const endpoint = tokenEndpoint();
    const answers = await Promise.all(
      list.map((tab) => tab.request(KEY, secret("token-0"), endpoint.fetch)),
    );
    expect(endpoint.requests).toBe(1);
    expect(answers.map((a) => a.password)).toEqual(["token-1", "token-1"]);
  });

  test("the tab asking fails: the waiting tab asks for itself once the lock is free", async () => {
    const { list } = tabs(2);
    let requests = 0;
    const fetch = async (): Promise<Endpoint> => {
      requests += 1;
      await sleep(30);
      if (requests === 1) throw new Error("HTTP 503");
      return { host: "h", port: 1, password: "token-2" };
    };
    const [a, b] = list as [CrossTabCredentials, CrossTabCredentials];
    const results = await Promise.allSettled([
      a.request(KEY, secret("token-0"), fetch),
      b.request(KEY, secret("token-0"), fetch),
    ]);
    expect(results[0].status).toBe("rejected");
    expect(results[1]).toMatchObject({ status: "fulfilled", value: { password: "token-2" } });
    expect(requests).toBe(2);
  });

  test("an answer that cannot be cloned is not shared: the other tab asks for itself", async () => {
    const { list } = tabs(2);
    let requests = 0;
    const fetch = async (): Promise<Endpoint> => {
      requests += 1;
      await sleep(20);
      return { host: "h", port: 1, password: `token-${requests}`, extra: () => 1 } as Endpoint;
    };
    const answers = await Promise.all(list.map((tab) => tab.request(KEY, undefined, fetch)));
    expect(requests).toBe(2);
    expect(answers.map((a) => a.password).sort()).toEqual(["token-1", "token-2"]);
  });

  test("two callers in one tab share one request", async () => {
    const { list } = tabs(1);
    const endpoint = tokenEndpoint();
    const [tab] = list as [CrossTabCredentials];
    const answers = await Promise.all([
      tab.request(KEY, secret("token-0"), endpoint.fetch),
      tab.request(KEY, secret("token-0"), endpoint.fetch),
    ]);
    expect(endpoint.requests).toBe(1);
    expect(answers[1]?.password).toBe("token-1");
  });

  test("other keys do not wait for each other", async () => {
    const { list } = tabs(2);
    const endpoint = tokenEndpoint();
    const [a, b] = list as [CrossTabCredentials, CrossTabCredentials];
    await Promise.all([
      a.request(KEY, undefined, endpoint.fetch),
      b.request(`${KEY}?user=other`, undefined, endpoint.fetch),
    ]);
    expect(endpoint.requests).toBe(2);
  });
});

describe("a tab refused after another tab refreshed", () => {
  /** Tab A fetched token-1 (B learnt it), then refreshed to token-2 (B learnt it too). */
  async function afterTwoRefreshes() {
    const setup = tabs(2);
    const endpoint = tokenEndpoint(10);
    const [a, b] = setup.list as [CrossTabCredentials, CrossTabCredentials];
    await a.request(KEY, undefined, endpoint.fetch);
    await a.request(KEY, secret("token-1"), endpoint.fetch);
    await sleep(10);
    expect(endpoint.requests).toBe(2);
    return { ...setup, a, b, endpoint };
  }

  test("refused with older credentials than the newest shared: reuses them, no request", async () => {
    const { b, endpoint } = await afterTwoRefreshes();
    const answer = await b.request(KEY, secret("token-1"), endpoint.fetch);
    expect(answer.password).toBe("token-2");
    expect(endpoint.requests).toBe(2);
  });

  test("refused with the newest: asks", async () => {
    const { b, endpoint } = await afterTwoRefreshes();
    const answer = await b.request(KEY, secret("token-2"), endpoint.fetch);
    expect(answer.password).toBe("token-3");
  });

  test("refused with credentials this tab was never told of: asks", async () => {
    const { b, endpoint } = await afterTwoRefreshes();
    const answer = await b.request(KEY, secret("from-the-page"), endpoint.fetch);
    expect(answer.password).toBe("token-3");
  });

  test("refused with credentials its client started with (given by the page), learnt before the shared ones: reuses them", async () => {
    const { list } = tabs(2);
    const endpoint = tokenEndpoint(10);
    const [a, b] = list as [CrossTabCredentials, CrossTabCredentials];
    // Both pages embed the session's token; tab A is refused first and refreshes.
    a.using(KEY, secret("embedded"));
    b.using(KEY, secret("embedded"));
    await a.request(KEY, secret("embedded"), endpoint.fetch);
    await sleep(10);
    // Tab B, throttled in the background, is refused a second later with the same token.
    const answer = await b.request(KEY, secret("embedded"), endpoint.fetch);
    expect(answer.password).toBe("token-1");
    expect(endpoint.requests).toBe(1);
  });

  test("refused with credentials it started using after the newest shared answer: asks", async () => {
    const { b, endpoint } = await afterTwoRefreshes();
    b.using(KEY, secret("set-later-by-updateEndpoint"));
    const answer = await b.request(KEY, secret("set-later-by-updateEndpoint"), endpoint.fetch);
    expect(answer.password).toBe("token-3");
  });

  test("no refusal (the app calls getCredentials()): asks", async () => {
    const { b, endpoint } = await afterTwoRefreshes();
    expect((await b.request(KEY, undefined, endpoint.fetch)).password).toBe("token-3");
  });

  test(`the shared answer is older than ${REUSE_MS / 1000} s: asks`, async () => {
    const { b, endpoint, clock } = await afterTwoRefreshes();
    clock.advance(REUSE_MS + 1);
    const answer = await b.request(KEY, secret("token-1"), endpoint.fetch);
    expect(answer.password).toBe("token-3");
  });
});

describe("cancellation", () => {
  test("a caller that gives up while waiting for the lock is rejected and leaves the queue", async () => {
    const { list, locks } = tabs(2);
    const endpoint = tokenEndpoint(200);
    const [a, b] = list as [CrossTabCredentials, CrossTabCredentials];
    const first = a.request(KEY, undefined, endpoint.fetch);
    await sleep(10);
    const controller = new AbortController();
    const second = b.request(KEY, undefined, endpoint.fetch, controller.signal);
    await sleep(10);
    expect(locks.waiting(`courier-web-sdk:credentials:${KEY}`)).toBe(1);
    controller.abort(new Error("the client stopped waiting"));
    await expect(second).rejects.toThrow("the client stopped waiting");
    expect(locks.waiting(`courier-web-sdk:credentials:${KEY}`)).toBe(0);
    await first;
    expect(endpoint.requests).toBe(1);
  });

  test("a caller already aborted asks nobody", async () => {
    const { list } = tabs(1);
    const endpoint = tokenEndpoint();
    const controller = new AbortController();
    controller.abort(new Error("gone"));
    await expect(
      (list[0] as CrossTabCredentials).request(KEY, undefined, endpoint.fetch, controller.signal),
    ).rejects.toThrow("gone");
    expect(endpoint.requests).toBe(0);
  });
});

describe("where the platform lacks Web Locks or BroadcastChannel", () => {
  test("Node.js 20 has no navigator.locks: no coordinator, RemoteCredentials shares per instance", () => {
    const g = globalThis as { navigator?: { locks?: unknown } };
    if (g.navigator?.locks) return;
    expect(crossTabCredentials()).toBeUndefined();
  });

  test("crossTabKey must be a string or false", () => {
    const map = () => ({ host: "h", port: 1 });
    expect(
      () => new RemoteCredentials("http://127.0.0.1/t", map, { crossTabKey: false }),
    ).not.toThrow();
    expect(
      () => new RemoteCredentials("http://127.0.0.1/t", map, { crossTabKey: "alice" }),
    ).not.toThrow();
    expect(
      () =>
        new RemoteCredentials("http://127.0.0.1/t", map, { crossTabKey: 7 as unknown as string }),
    ).toThrow(InvalidOptionsError);
  });
});
