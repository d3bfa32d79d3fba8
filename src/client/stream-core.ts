/**
 * The buffer and reads behind `client.messages()` (client/message-stream.ts),
 * loaded when an app first calls it: readers waiting for messages, the
 * bounded buffer and its `overflow` policy, and how the iteration ends.
 */

import { AbortError, MessageOverflowError } from "../errors.js";
import type { Message, Subscription } from "../services/subscriptions.js";
import type { MessageStream, StreamHost, StreamSettings } from "./message-stream.js";

interface Reader {
  resolve(result: IteratorResult<Message, undefined>): void;
  reject(error: unknown): void;
}

const DONE: IteratorResult<Message, undefined> = { done: true, value: undefined };

export class StreamCore {
  readonly #stream: MessageStream;
  readonly #settings: StreamSettings;
  readonly #host: StreamHost;
  /** Aborted when the stream ends: withdraws a subscription not granted yet. */
  readonly #stop: AbortController;
  #buffer: Message[] = [];
  #readers: Reader[] = [];
  #phase: "idle" | "open" | "ended" = "idle";
  #subscription: Subscription | null = null;
  /** Thrown by the next read once the buffer is drained, then the stream is done. */
  #failure: unknown = null;
  #dropped = 0;
  #overflowing = false;

  constructor(
    stream: MessageStream,
    settings: StreamSettings,
    host: StreamHost,
    stop: AbortController,
  ) {
    this.#stream = stream;
    this.#settings = settings;
    this.#host = host;
    this.#stop = stop;
  }

  get dropped(): number {
    return this.#dropped;
  }

  get buffered(): number {
    return this.#buffer.length;
  }

  next(): Promise<IteratorResult<Message, undefined>> {
    const message = this.#buffer.shift();
    if (message !== undefined) {
      if (this.#buffer.length < this.#settings.bufferSize) this.#overflowing = false;
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

  async return(): Promise<IteratorResult<Message, undefined>> {
    this.#buffer = [];
    this.#failure = null;
    await this.#end();
    return DONE;
  }

  /** Iteration started: `subscribed` is the subscription the stream asked for (none if aborted then). */
  start(subscribed: Promise<Subscription> | undefined): void {
    this.#phase = "open";
    subscribed?.then(
      (subscription) => {
        if (this.#phase === "ended") subscription.unsubscribe().catch(ignore);
        else this.#subscription = subscription;
      },
      (error: unknown) => {
        if (this.#phase !== "ended") this.#fail(error);
      },
    );
    const { signal } = this.#settings;
    if (signal?.aborted) {
      this.#fail(new AbortError("messages()", signal.reason));
      return;
    }
    signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  readonly #onAbort = () => {
    this.#buffer = [];
    this.#fail(new AbortError("messages()", this.#settings.signal?.reason));
  };

  readonly receive = (message: Message) => {
    if (this.#phase !== "open" || this.#failure !== null) return;
    const reader = this.#readers.shift();
    if (reader) {
      reader.resolve({ done: false, value: message });
      return;
    }
    const { bufferSize, overflow } = this.#settings;
    const { filter } = this.#stream;
    if (this.#buffer.length < bufferSize) {
      this.#buffer.push(message);
      return;
    }
    if (overflow === "error") {
      this.#fail(new MessageOverflowError(filter, bufferSize, "error", 0));
      return;
    }
    if (overflow === "dropOldest") {
      this.#buffer.shift();
      this.#buffer.push(message);
    }
    this.#dropped += 1;
    if (!this.#overflowing) {
      this.#overflowing = true;
      this.#host.report(new MessageOverflowError(filter, bufferSize, overflow, this.#dropped));
    }
  };

  /** Ends the stream with `error`: waiting reads reject now, later reads after the buffer drains. */
  #fail(error: unknown): void {
    const readers = this.#readers.splice(0);
    if (readers.length > 0) for (const reader of readers) reader.reject(error);
    else this.#failure = error;
    this.#end().catch(ignore);
  }

  async #end(): Promise<void> {
    if (this.#phase === "ended") return;
    const started = this.#phase === "open";
    this.#phase = "ended";
    for (const reader of this.#readers.splice(0)) reader.resolve(DONE);
    if (!started) return;
    this.#settings.signal?.removeEventListener("abort", this.#onAbort);
    this.#host.streams.delete(this.#stream);
    const subscription = this.#subscription;
    this.#subscription = null;
    if (subscription) await subscription.unsubscribe().catch(ignore);
    else this.#stop.abort();
  }
}

function ignore(): void {}
