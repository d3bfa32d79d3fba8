/**
 * `client.messages(filter)`: the messages of one topic filter as an async
 * iterator, for `for await (const message of client.messages("rooms/#"))`.
 *
 * The filter is subscribed when iteration starts (the first `next()`), with
 * the same tracking as `subscribe()`: it survives reconnections and token
 * refreshes. Messages that arrive faster than the loop reads them wait in a
 * bounded buffer (`bufferSize`); when it is full, `overflow` decides. Leaving
 * the loop (`break`, `return`, a throw), aborting `signal`, or disposing of
 * the iterator or of its client unsubscribes.
 */

import { InvalidOptionsError, type MessageOverflowError, type OverflowPolicy } from "../errors.js";
import type { Qos } from "../services/broker-link.js";
import type { Message, MessageHandler, Subscription } from "../services/subscriptions.js";
import { assertTopicFilter } from "../services/topics.js";
import { shown } from "../services/values.js";
import type { AbortOptions } from "./abort.js";
import type { StreamCore } from "./stream-core.js";

/** Options of `client.messages()`. */
export interface MessagesOptions extends AbortOptions {
  /** @default 0 */
  qos?: Qos;
  /**
   * Most messages held for a loop that has not read them yet.
   * @default 1000
   */
  bufferSize?: number;
  /**
   * When a message arrives and the buffer is full:
   * - `"dropOldest"` (default): the oldest buffered message is dropped (a live view: the loop
   *   catches up on what is recent);
   * - `"dropNewest"`: the arriving message is dropped (the loop sees an unbroken prefix);
   * - `"error"`: the loop reads what was buffered, then the iteration throws a
   *   `MessageOverflowError` and unsubscribes.
   *
   * No drop is silent: each run of drops is reported once as a `MessageOverflowError` on the
   * client's `error` event, and `dropped` counts every message lost.
   * @default "dropOldest"
   */
  overflow?: OverflowPolicy;
}

/** What a stream needs from its client. */
export interface StreamHost {
  subscribe(
    handler: MessageHandler,
    options: { qos: Qos; signal: AbortSignal },
  ): Promise<Subscription>;
  /** Reports a run of dropped messages (the client's `error` event). */
  report(error: MessageOverflowError): void;
  /** The client's open streams, ended when the client is disposed of. */
  readonly streams: Set<MessageStream>;
}

/** A stream's options, checked. */
export interface StreamSettings {
  readonly qos: Qos;
  readonly bufferSize: number;
  readonly overflow: OverflowPolicy;
  readonly signal: AbortSignal | undefined;
}

/**
 * The async iterator `client.messages()` returns. Its buffer and reads
 * (client/stream-core.ts) are loaded when the app first calls
 * `messages()`; until they are in, the subscription it starts holds every
 * message that arrives, in order.
 */
export class MessageStream implements AsyncIterableIterator<Message, undefined> {
  /** The topic filter this iterator is subscribed to. */
  readonly filter: string;
  readonly #settings: StreamSettings;
  readonly #host: StreamHost;
  /** Aborted when the stream ends: withdraws a subscription not granted yet. */
  readonly #stop = new AbortController();
  #core: StreamCore | undefined;
  /** Calls made before the core was loaded, in order. */
  #queued: ((core: StreamCore | undefined) => void)[] = [];
  #failed: { error: unknown } | undefined;
  /** Messages that arrived before the core was loaded. */
  #early: Message[] = [];
  #started = false;
  #returned = false;
  #subscribed: Promise<Subscription> | undefined;

  constructor(filter: string, options: MessagesOptions, host: StreamHost) {
    assertTopicFilter(filter);
    const { qos = 0, bufferSize = 1000, overflow = "dropOldest", signal } = options;
    if (qos !== 0 && qos !== 1 && qos !== 2) {
      throw new InvalidOptionsError("options.qos", `expected 0, 1 or 2, got ${shown(qos)}`);
    }
    if (!Number.isInteger(bufferSize) || bufferSize < 1) {
      throw new InvalidOptionsError("options.bufferSize", "expected an integer ≥ 1");
    }
    if (overflow !== "dropOldest" && overflow !== "dropNewest" && overflow !== "error") {
      throw new InvalidOptionsError(
        "options.overflow",
        'expected "dropOldest", "dropNewest" or "error"',
      );
    }
    this.filter = filter;
    this.#settings = { qos, bufferSize, overflow, signal };
    this.#host = host;
    import("./stream-core.js").then(
      (module) => {
        const core = new module.StreamCore(this, this.#settings, host, this.#stop);
        this.#core = core;
        if (this.#started) core.start(this.#subscribed);
        // Reads made meanwhile wait first, then what arrived is delivered: nothing is missed.
        this.#flush(core);
        for (const message of this.#early) core.receive(message);
        this.#early = [];
      },
      (error: unknown) => {
        // Could not be loaded: nothing is left subscribed, and every read rejects with the error.
        this.#subscribed?.then((s) => s.unsubscribe()).catch(ignore);
        this.#stop.abort();
        host.streams.delete(this);
        this.#failed = { error };
        this.#flush(undefined);
      },
    );
  }

  /** `op` on the core now, or once it is in. */
  #later<T>(op: (core: StreamCore) => Promise<T>): Promise<T> {
    const core = this.#core;
    if (core) return op(core);
    if (this.#failed) return Promise.reject(this.#failed.error);
    return new Promise<T>((resolve, reject) =>
      this.#queued.push((c) => (c ? op(c).then(resolve, reject) : reject(this.#failed?.error))),
    );
  }

  #flush(core: StreamCore | undefined): void {
    for (const run of this.#queued.splice(0)) run(core);
  }

  /** Messages dropped because the buffer was full (see `MessagesOptions.overflow`). */
  get dropped(): number {
    return this.#core?.dropped ?? 0;
  }

  /** Messages received and not read yet. */
  get buffered(): number {
    return this.#core?.buffered ?? this.#early.length;
  }

  /** The iterator itself: `for await (const message of stream)`. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next message; subscribes on the first call. */
  next(): Promise<IteratorResult<Message, undefined>> {
    if (!this.#started && !this.#returned) this.#start();
    return this.#later((core) => core.next());
  }

  /** Ends the iteration (what `break` calls): unsubscribes; resolves once the broker was told. */
  return(): Promise<IteratorResult<Message, undefined>> {
    this.#returned = true;
    return this.#later((core) => core.return());
  }

  /** Ends the iteration like `return()`, then rethrows `error` (the async iterator protocol's `throw`). */
  async throw(error?: unknown): Promise<IteratorResult<Message, undefined>> {
    await this.return();
    throw error;
  }

  /** `await using stream = client.messages(…)`: ends the iteration as `return()` does. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  /** Subscribes now, whether or not the core is in yet: no message is missed while it loads. */
  #start(): void {
    this.#started = true;
    const { qos, signal } = this.#settings;
    if (!signal?.aborted) {
      this.#host.streams.add(this);
      const subscribed = this.#host.subscribe(
        (message) => (this.#core ? this.#core.receive(message) : this.#early.push(message)),
        { qos, signal: this.#stop.signal },
      );
      subscribed.catch(ignore);
      this.#subscribed = subscribed;
    }
    this.#core?.start(this.#subscribed);
  }
}

function ignore(): void {}
