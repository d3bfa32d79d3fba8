/**
 * One token request per origin (issue 5, "several tabs refreshing at once").
 * Tabs of one origin that refresh the same provider at the same time make
 * one HTTP request between them: the tab holding the Web Lock named after
 * the provider's key asks the token endpoint and shares the answer over a
 * BroadcastChannel; a tab waiting for that lock takes the shared answer
 * instead of asking again, and a tab refused with credentials older than the
 * newest shared ones (another tab refreshed a moment ago) reuses those.
 *
 * Where the platform has no Web Locks or no BroadcastChannel (Node.js 20,
 * older browsers), `crossTabCredentials()` is undefined and each
 * `RemoteCredentials` shares its requests among its own callers only
 * (credentials.ts). Only same-origin pages can join the channel or see the
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

interface Answer {
  readonly endpoint: Endpoint;
  readonly password: Secret | undefined;
  /** When this tab learnt it (`now()`). */
  readonly at: number;
  /** Order in which this tab learnt its answers. */
  readonly seq: number;
}

export const CHANNEL_NAME = "courier-web-sdk:credentials";
const LOCK_PREFIX = `${CHANNEL_NAME}:`;
/**
 * After waiting for the lock, how long the previous holder's answer may
 * still be on its way: the channel and the lock are separate, so the lock
 * can be granted a moment before the message arrives.
 */
export const SETTLE_MS = 300;
/** A tab refused with older credentials reuses another tab's answer for this long. */
export const REUSE_MS = 30_000;
/** Superseded passwords remembered per key (to tell "older than the shared ones"). */
const HISTORY = 8;

const sleep = (ms: number) => new Promise<undefined>((resolve) => setTimeout(resolve, ms));

export class CrossTabCredentials {
  readonly #locks: LockManagerLike;
  readonly #channel: ChannelLike;
  readonly #now: () => number;
  readonly #latest = new Map<string, Answer>();
  readonly #older = new Map<string, Secret[]>();
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

  #reusable(key: string, refused: Secret | undefined): Endpoint | undefined {
    const latest = this.#latest.get(key);
    const older = this.#older.get(key) ?? [];
    const ok =
      latest !== undefined &&
      refused !== undefined &&
      !refused.equals(latest.password) &&
      older.some((password) => password.equals(refused)) &&
      this.#now() - latest.at <= REUSE_MS;
    return ok ? { ...latest.endpoint } : undefined;
  }

  #newer(key: string, since: number): Endpoint | undefined {
    const latest = this.#latest.get(key);
    return latest && latest.seq > since ? { ...latest.endpoint } : undefined;
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
    const previous = this.#latest.get(key);
    if (previous?.password) {
      const older = [...(this.#older.get(key) ?? []), previous.password].slice(-HISTORY);
      this.#older.set(key, older);
    }
    const password =
      typeof endpoint.password === "string" ? new Secret(endpoint.password) : undefined;
    this.#seq += 1;
    this.#latest.set(key, { endpoint, password, at: this.#now(), seq: this.#seq });
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

let shared: CrossTabCredentials | null | undefined;

/** This page's coordinator; undefined where the platform has no Web Locks or no BroadcastChannel. */
export function crossTabCredentials(): CrossTabCredentials | undefined {
  if (shared === undefined) {
    const g = globalThis as {
      navigator?: { locks?: LockManagerLike };
      BroadcastChannel?: new (name: string) => ChannelLike & { unref?(): void };
    };
    const locks = g.navigator?.locks;
    const channel = locks && g.BroadcastChannel ? new g.BroadcastChannel(CHANNEL_NAME) : undefined;
    // Node.js: the channel must not keep the process alive.
    channel?.unref?.();
    shared = locks && channel ? new CrossTabCredentials(locks, channel) : null;
  }
  return shared ?? undefined;
}
