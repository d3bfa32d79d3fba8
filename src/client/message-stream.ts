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

import {
  AbortError,
  InvalidOptionsError,
  MessageOverflowError,
  type OverflowPolicy,
} from "../errors.js";
import type { Qos } from "../services/broker-link.js";
import type { Message, MessageHandler, Subscription } from "../services/subscriptions.js";
import { assertTopicFilter } from "../services/topics.js";
import { shown } from "../services/values.js";
import type { AbortOptions } from "./abort.js";

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

interface Reader {
  resolve(result: IteratorResult<Message, undefined>): void;
  reject(error: unknown): void;
}

const DONE: IteratorResult<Message, undefined> = { done: true, value: undefined };

/** The async iterator `client.messages()` returns. */
export class MessageStream implements AsyncIterableIterator<Message, undefined> {
  /** The topic filter this iterator is subscribed to. */
  readonly filter: string;
  readonly #qos: Qos;
  readonly #bufferSize: number;
  readonly #overflow: OverflowPolicy;
  readonly #signal: AbortSignal | undefined;
  readonly #host: StreamHost;
  /** Aborted when the stream ends: withdraws a subscription not granted yet. */
  readonly #stop = new AbortController();
  #buffer: Message[] = [];
  #readers: Reader[] = [];
  #phase: "idle" | "open" | "ended" = "idle";
  #subscription: Subscription | null = null;
  /** Thrown by the next read once the buffer is drained, then the stream is done. */
  #failure: unknown = null;
  #dropped = 0;
  #overflowing = false;

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
    this.#qos = qos;
    this.#bufferSize = bufferSize;
    this.#overflow = overflow;
    this.#signal = signal;
    this.#host = host;
  }

  /** Messages dropped because the buffer was full (see `MessagesOptions.overflow`). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Messages received and not read yet. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /** The iterator itself: `for await (const message of stream)`. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next message; subscribes on the first call. */
  next(): Promise<IteratorResult<Message, undefined>> {
    if (this.#phase === "idle") this.#start();
    const message = this.#buffer.shift();
    if (message !== undefined) {
      if (this.#buffer.length < this.#bufferSize) this.#overflowing = false;
      return Promise.resolve({ done: false, value: message });
    }
    if (this.#phase === "ended") {
      const failure = this.#failure;
      if (failure === null) return Promise.resolve(DONE);
      this.#failure = null;
      return Promise.reject(failure);
    }
    return new Promise((resolve, reject) => this.#readers.push({ resolve, reject }));
  }

  /** Ends the iteration (what `break` calls): unsubscribes; resolves once the broker was told. */
  async return(): Promise<IteratorResult<Message, undefined>> {
    this.#buffer = [];
    this.#failure = null;
    await this.#end(null);
    return DONE;
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

  #start(): void {
    this.#phase = "open";
    const signal = this.#signal;
    if (signal?.aborted) {
      this.#fail(new AbortError("messages()", signal.reason));
      return;
    }
    signal?.addEventListener("abort", this.#onAbort, { once: true });
    this.#host.streams.add(this);
    this.#host
      .subscribe(this.#onMessage, { qos: this.#qos, signal: this.#stop.signal })
      .then((subscription) => {
        if (this.#phase === "ended") subscription.unsubscribe().catch(ignore);
        else this.#subscription = subscription;
      })
      .catch((error: unknown) => {
        if (this.#phase !== "ended") this.#fail(error);
      });
  }

  readonly #onAbort = () => {
    this.#buffer = [];
    this.#fail(new AbortError("messages()", this.#signal?.reason));
  };

  readonly #onMessage = (message: Message) => {
    if (this.#phase !== "open" || this.#failure !== null) return;
    const reader = this.#readers.shift();
    if (reader) {
      reader.resolve({ done: false, value: message });
      return;
    }
    if (this.#buffer.length < this.#bufferSize) {
      this.#buffer.push(message);
      return;
    }
    if (this.#overflow === "error") {
      this.#fail(new MessageOverflowError(this.filter, this.#bufferSize, "error", 0));
      return;
    }
    if (this.#overflow === "dropOldest") {
      this.#buffer.shift();
      this.#buffer.push(message);
    }
    this.#dropped += 1;
    if (!this.#overflowing) {
      this.#overflowing = true;
      this.#host.report(
        new MessageOverflowError(this.filter, this.#bufferSize, this.#overflow, this.#dropped),
      );
    }
  };

  /** Ends the stream with `error`: waiting reads reject now, later reads after the buffer drains. */
  #fail(error: unknown): void {
    const readers = this.#readers.splice(0);
    if (readers.length > 0) for (const reader of readers) reader.reject(error);
    else this.#failure = error;
    this.#end(error).catch(ignore);
  }

  async #end(_reason: unknown): Promise<void> {
    if (this.#phase === "ended") return;
    const started = this.#phase === "open";
    this.#phase = "ended";
    for (const reader of this.#readers.splice(0)) reader.resolve(DONE);
    if (!started) return;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#host.streams.delete(this);
    const subscription = this.#subscription;
    this.#subscription = null;
    if (subscription) await subscription.unsubscribe().catch(ignore);
    else this.#stop.abort();
  }
}

function ignore(): void {}
