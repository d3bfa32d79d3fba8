/**
 * A viewer: one RealtimeClient subscribed (QoS 1) to every demo filter,
 * recording each sequence number it receives in the ledger and reporting
 * gaps and the moment messages flow again after a silence.
 */

import type { Message, RealtimeClient } from "@armaanjain/courier-web-sdk";
import { TOPICS } from "./config.js";
import type { DemoSink } from "./events.js";
import type { Ledger } from "./ledger.js";

/** The publisher's payload: `{ "seq": 42, "sentAt": 1700000000000 }`. */
export function seqOf(message: Message): number | undefined {
  try {
    const { seq } = JSON.parse(new TextDecoder().decode(message.payload)) as { seq?: unknown };
    return typeof seq === "number" && Number.isInteger(seq) && seq > 0 ? seq : undefined;
  } catch {
    return undefined;
  }
}

export class Viewer {
  readonly name: string;
  readonly client: RealtimeClient;
  readonly #ledger: Ledger;
  readonly #sink: DemoSink;
  /** A silence longer than this, then a message, is reported as "resumed". */
  readonly #silenceMs: number;
  #lastAt: number | undefined;

  constructor(name: string, client: RealtimeClient, ledger: Ledger, sink: DemoSink, rate: number) {
    this.name = name;
    this.client = client;
    this.#ledger = ledger;
    this.#sink = sink;
    this.#silenceMs = Math.max(1000, 3000 / rate);
  }

  /** When the last message arrived (epoch ms), if any did. */
  get lastReceivedAt(): number | undefined {
    return this.#lastAt;
  }

  /** Subscribes to every filter (tracked before connecting, restored by the first CONNACK) and connects. */
  async start(): Promise<void> {
    const subscribed = TOPICS.map(({ filter }) =>
      this.client.subscribe(filter, (message) => this.#receive(message), { qos: 1 }),
    );
    await this.client.connect();
    await Promise.all(subscribed);
  }

  #receive(message: Message): void {
    const seq = seqOf(message);
    if (seq === undefined) return;
    const at = Date.now();
    const silentMs = this.#lastAt === undefined ? 0 : at - this.#lastAt;
    this.#lastAt = at;
    const receipt = this.#ledger.received(this.name, seq);
    if (silentMs > this.#silenceMs) {
      const behind = this.#ledger.lastSent - seq;
      this.#sink({ type: "messages.resumed", at, client: this.name, silentMs, seq, behind });
    }
    if (receipt.gap) this.#sink({ type: "messages.gap", at, client: this.name, ...receipt.gap });
  }
}
