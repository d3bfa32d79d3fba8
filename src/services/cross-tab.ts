/**
 * One token request per origin (docs/browser.md "Several tabs, one token request").
 * Tabs of one origin that refresh the same provider at the same time make
 * one HTTP request between them: the tab holding the Web Lock named after
 * the provider's key asks the token endpoint and shares the answer over a
 * BroadcastChannel; a tab waiting for that lock takes the shared answer
 * instead of asking again, and a tab refused with credentials older than the
 * newest shared ones (another tab refreshed a moment ago) reuses those.
 *
 * Where the platform has no Web Locks or no BroadcastChannel (Node.js 20,
 * older browsers), `crossTabCredentials()` is undefined and each
 * `RemoteCredentials` shares its requests among its own callers only. Only same-origin pages can join the channel or see the
 * lock's name; the answer never leaves the browser.
 */

import type { Endpoint } from "./endpoint.js";
import { Secret } from "./secret.js";

/** The part of `navigator.locks` used here. */
export interface LockManagerLike {
  request<T>(
    name: string,
    options: { ifAvailable?: boolean; signal?: AbortSignal },
    callback: (lock: unknown) => Promise<T>,
  ): Promise<T>;
}

/** The part of `BroadcastChannel` used here. */
export interface ChannelLike {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

/** Credentials this tab learnt of: an answer (with its endpoint), or a password a client uses. */
interface Known {
  readonly endpoint?: Endpoint;
  readonly password: Secret | undefined;
  /** When this tab learnt it (`now()`). */
  readonly at: number;
  /** The order in which this tab learnt them. */
  readonly seq: number;
}

const CHANNEL_NAME = "courier-web-sdk:credentials";
const LOCK_PREFIX = `${CHANNEL_NAME}:`;
/**
 * After waiting for the lock, how long the previous holder's answer may
 * still be on its way: the channel and the lock are separate, so the lock
 * can be granted a moment before the message arrives.
 */
export const SETTLE_MS = 300;
/** A tab refused with older credentials reuses another tab's answer for this long. */
export const REUSE_MS = 30_000;
/** Credentials remembered per key, newest last (to tell "older than the shared ones"). */
const HISTORY = 8;

const sleep = (ms: number) => new Promise<undefined>((resolve) => setTimeout(resolve, ms));

export class CrossTabCredentials {
  readonly #locks: LockManagerLike;
  readonly #channel: ChannelLike;
  readonly #now: () => number;
  readonly #known = new Map<string, Known[]>();
  readonly #listeners = new Set<(key: string) => void>();
  #seq = 0;

  constructor(locks: LockManagerLike, channel: ChannelLike, now: () => number = Date.now) {
    this.#locks = locks;
    this.#channel = channel;
    this.#now = now;
    channel.onmessage = ({ data }) => {
      const { key, endpoint } = (data ?? {}) as { key?: unknown; endpoint?: unknown };
      if (typeof key === "string" && typeof endpoint === "object" && endpoint !== null) {
        this.#learn(key, endpoint as Endpoint);
      }
    };
  }

  /**
   * Credentials for `key`: reused when this tab was `refused` with older ones
   * than the newest shared answer; taken from the tab that holds the lock
   * when it answers first; otherwise fetched with `fetch` under the lock and
   * shared. `refused` is the password the broker just refused (undefined
   * when no refusal prompted the call: then only a request in flight in
   * another tab is shared).
   */
  async request(
    key: string,
    refused: Secret | undefined,
    fetch: (signal: AbortSignal) => Promise<Endpoint>,
    signal?: AbortSignal,
  ): Promise<Endpoint> {
    const reusable = this.#reusable(key, refused);
    if (reusable) return reusable;
    const since = this.#seq;
    const name = LOCK_PREFIX + key;
    const done = new AbortController();
    const stop = () => done.abort(signal?.reason);
    if (signal?.aborted) stop();
    signal?.addEventListener("abort", stop, { once: true });
    const underLock = async (answered?: Promise<Endpoint>) => {
      const known = this.#newer(key, since) ?? this.#reusable(key, refused);
      if (known) return known;
      const late = answered && (await Promise.race([answered, sleep(SETTLE_MS)]));
      if (late) return late;
      if (done.signal.aborted) throw done.signal.reason;
      const endpoint = await fetch(done.signal);
      this.#share(key, endpoint);
      return endpoint;
    };
    try {
      const busy = Symbol();
      const first = await this.#locks.request<Endpoint | typeof busy>(
        name,
        { ifAvailable: true },
        (lock) => (lock ? underLock() : Promise.resolve(busy)),
      );
      if (first !== busy) return first as Endpoint;
      // Another tab holds the lock: it is asking now. Its answer, or the lock, whichever comes first.
      const answered = this.#answer(key, since, done.signal);
      return await Promise.race([
        answered,
        this.#locks.request(name, { signal: done.signal }, () => underLock(answered)),
      ]);
    } finally {
      done.abort();
      signal?.removeEventListener("abort", stop);
    }
  }

  /**
   * A client of this tab uses `password` (it started with it, or the app set
   * it): if the broker refuses it after another tab shared newer credentials,
   * those are known to be newer.
   */
  using(key: string, password: Secret | undefined): void {
    const known = this.#known.get(key) ?? [];
    if (!password || known.some((k) => password.equals(k.password))) return;
    this.#remember(key, { password, at: this.#now(), seq: ++this.#seq });
  }

  /** The newest answer learnt after `refused` was, if recent: credentials newer than the refused ones. */
  #reusable(key: string, refused: Secret | undefined): Endpoint | undefined {
    const known = this.#known.get(key) ?? [];
    const since = known.findIndex((k) => refused?.equals(k.password));
    if (since < 0) return undefined;
    const newer = known
      .slice(since + 1)
      .filter((k) => k.endpoint && !refused?.equals(k.password))
      .at(-1);
    return newer?.endpoint && this.#now() - newer.at <= REUSE_MS
      ? { ...newer.endpoint }
      : undefined;
  }

  /** The newest answer learnt after `since` (a sequence number). */
  #newer(key: string, since: number): Endpoint | undefined {
    const answer = (this.#known.get(key) ?? []).filter((k) => k.endpoint && k.seq > since).at(-1);
    return answer?.endpoint ? { ...answer.endpoint } : undefined;
  }

  #remember(key: string, known: Known): void {
    this.#known.set(key, [...(this.#known.get(key) ?? []), known].slice(-HISTORY));
  }

  /** Resolves with the first answer for `key` newer than `since`; rejects once `signal` aborts. */
  #answer(key: string, since: number, signal: AbortSignal): Promise<Endpoint> {
    return new Promise((resolve, reject) => {
      const listener = (answered: string) => {
        const endpoint = answered === key ? this.#newer(key, since) : undefined;
        if (endpoint) finish(() => resolve(endpoint));
      };
      const finish = (settle: () => void) => {
        this.#listeners.delete(listener);
        signal.removeEventListener("abort", onAbort);
        settle();
      };
      const onAbort = () => finish(() => reject(signal.reason));
      this.#listeners.add(listener);
      signal.addEventListener("abort", onAbort, { once: true });
      listener(key);
    });
  }

  #learn(key: string, endpoint: Endpoint): void {
    const password =
      typeof endpoint.password === "string" ? new Secret(endpoint.password) : undefined;
    this.#remember(key, { endpoint, password, at: this.#now(), seq: ++this.#seq });
    for (const listener of [...this.#listeners]) listener(key);
  }

  #share(key: string, endpoint: Endpoint): void {
    this.#learn(key, endpoint);
    try {
      this.#channel.postMessage({ key, endpoint: { ...endpoint } });
    } catch {
      // Not cloneable (a mapper returned functions): other tabs ask for themselves.
    }
  }
}

/**
 * A coordinator on this page's Web Locks and a channel of its own (each
 * `RemoteCredentials` makes one when it is first used); undefined where the
 * platform has no Web Locks or no BroadcastChannel. Coordinators of one
 * page hear each other as other tabs' do: a BroadcastChannel delivers to
 * every other channel of that name, in this page too.
 */
export function crossTabCredentials(): CrossTabCredentials | undefined {
  const g = globalThis as {
    navigator?: { locks?: LockManagerLike };
    BroadcastChannel?: new (name: string) => ChannelLike & { unref?(): void };
  };
  const locks = g.navigator?.locks;
  const channel = locks && g.BroadcastChannel ? new g.BroadcastChannel(CHANNEL_NAME) : undefined;
  // Node.js: the channel must not keep the process alive.
  channel?.unref?.();
  return locks && channel ? new CrossTabCredentials(locks, channel) : undefined;
}
