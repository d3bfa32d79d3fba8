/**
 * The publisher: a RealtimeClient with its own credentials (its token expires
 * too) sending sequence-numbered QoS 1 messages at a fixed rate, round-robin
 * over the demo topics. While it is refreshing, its publishes queue in the
 * SDK's offline queue and go out in order once it is back.
 */

import type { RealtimeClient } from "@armaanjain/courier-web-sdk";
import { topicFor } from "./config.js";
import type { Ledger } from "./ledger.js";

export class Publisher {
  readonly name: string;
  readonly client: RealtimeClient;
  readonly #ledger: Ledger;
  readonly #pending = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #publishedInTick = 0;

  constructor(name: string, client: RealtimeClient, ledger: Ledger) {
    this.name = name;
    this.client = client;
    this.#ledger = ledger;
  }

  /** Publishes `rate` messages a second until `stopPublishing()`. */
  start(rate: number): void {
    this.#timer = setInterval(() => this.#publishOne(), 1000 / rate);
  }

  stopPublishing(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Messages published since the last call (for messages/s). */
  takeCount(): number {
    const count = this.#publishedInTick;
    this.#publishedInTick = 0;
    return count;
  }

  /** Resolves once every publish has settled (acknowledged or failed), or after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const all = Promise.all([...this.#pending]).then(() => true);
    const done = await Promise.race([all, timeout]);
    clearTimeout(timer);
    return done;
  }

  #publishOne(): void {
    const seq = this.#ledger.nextSeq();
    const topic = topicFor(seq);
    this.#publishedInTick += 1;
    const payload = JSON.stringify({ seq, sentAt: Date.now() });
    const pending = this.client.publish(topic, payload, { qos: 1 }).then(
      () => this.#ledger.acked(),
      () => this.#ledger.failed(),
    );
    this.#pending.add(pending);
    pending.finally(() => this.#pending.delete(pending));
  }
}
