/**
 * The outbox: every publish goes through it (DESIGN.md behaviour 9). While
 * the statechart has a live session attached, publishes go straight out;
 * otherwise they wait, bounded, in order. An entry leaves only when settled:
 * resolved on delivery (written for QoS 0, PUBACK/PUBCOMP for QoS 1/2) or
 * rejected with a typed error. A publish that was in flight when the
 * connection dropped is sent again on the next connection (at-least-once).
 */

import { PublishRejectedError, QueueOverflowError } from "../errors.js";
import type { PublishRequest, SessionLink } from "./broker-link.js";
import { LinkedList, type Links } from "./linked-list.js";
import { reasonName } from "./reason-codes.js";

export interface OutboxLimits {
  /** Most publishes held while not connected. */
  readonly maxMessages: number;
  /** Most payload bytes held while not connected. */
  readonly maxBytes: number;
  /** A QoS 0 publish while not connected: queue it like QoS 1/2, or reject it at once. */
  readonly qos0: "queue" | "reject";
  /** When full: reject the new publish, or reject the oldest queued one to make room. */
  readonly overflow: "rejectNew" | "dropOldest";
}

interface Entry extends Links<Entry> {
  readonly request: PublishRequest;
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  /** The link this entry was last written to; null while waiting. */
  sentOn: SessionLink | null;
}

const encoder = new TextEncoder();

function payloadBytes(payload: string | Uint8Array): number {
  return typeof payload === "string" ? encoder.encode(payload).length : payload.byteLength;
}

export class Outbox {
  readonly #limits: OutboxLimits;
  /** Unsettled entries in publish order. */
  readonly #entries = new LinkedList<Entry>();
  #bytes = 0;
  #link: SessionLink | null = null;

  constructor(limits: OutboxLimits) {
    this.#limits = limits;
  }

  /** Publishes not yet settled (queued or awaiting acknowledgement). */
  get size(): number {
    return this.#entries.size;
  }

  publish(request: PublishRequest): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const link = this.#link;
      if (!link && !this.#admit(request, reject)) return;
      const bytes = payloadBytes(request.payload);
      const entry: Entry = {
        request,
        bytes,
        resolve,
        reject,
        sentOn: null,
        prev: null,
        next: null,
        listed: false,
      };
      this.#entries.add(entry);
      this.#bytes += bytes;
      if (link) this.#send(entry, link);
    });
  }

  /** From `connected` on: flush what waited, in order, then send new publishes at once. */
  attach(link: SessionLink): void {
    this.#link = link;
    for (const entry of [...this.#entries]) {
      if (this.#link !== link) return;
      if (entry.sentOn !== link) this.#send(entry, link);
    }
  }

  /** The session ended: everything unsettled waits for the next `attach`, in its original order. */
  detach(): void {
    this.#link = null;
    for (const entry of this.#entries) entry.sentOn = null;
  }

  /** Rejects every unsettled publish (disconnect, terminal failure). */
  rejectAll(error: Error): void {
    const entries = this.#entries.clear();
    this.#bytes = 0;
    for (const entry of entries) entry.reject(error);
  }

  /** Applies the offline limits; false when `request` was rejected. */
  #admit(request: PublishRequest, reject: (error: Error) => void): boolean {
    const { maxMessages, maxBytes, qos0, overflow } = this.#limits;
    if (request.qos === 0 && qos0 === "reject") {
      reject(
        new QueueOverflowError(
          request.topic,
          "QoS 0 is not queued while disconnected (offlineQueue.qos0)",
        ),
      );
      return false;
    }
    const bytes = payloadBytes(request.payload);
    const limit = `${maxMessages} messages, ${maxBytes} bytes`;
    if (bytes > maxBytes) {
      reject(new QueueOverflowError(request.topic, limit));
      return false;
    }
    while (this.#entries.size >= maxMessages || this.#bytes + bytes > maxBytes) {
      const oldest = overflow === "dropOldest" ? this.#entries.first : undefined;
      if (!oldest) {
        reject(new QueueOverflowError(request.topic, limit));
        return false;
      }
      this.#settle(oldest);
      oldest.reject(
        new QueueOverflowError(oldest.request.topic, `${limit}; dropped as the oldest`),
      );
    }
    return true;
  }

  #send(entry: Entry, link: SessionLink): void {
    entry.sentOn = link;
    link.publish(entry.request, (error) => {
      if (!this.#entries.has(entry)) return;
      if (!error) {
        this.#settle(entry);
        entry.resolve();
      } else if (typeof (error as { code?: unknown }).code === "number") {
        // MQTT 5 PUBACK/PUBREC with a failure reason code: the broker answered, retrying will not help.
        const code = (error as unknown as { code: number }).code;
        this.#settle(entry);
        entry.reject(new PublishRejectedError(entry.request.topic, code, reasonName(code, 5)));
      } else if (entry.sentOn === link) {
        // The connection failed under it: wait for the next session.
        entry.sentOn = null;
      }
    });
  }

  #settle(entry: Entry): void {
    this.#entries.delete(entry);
    this.#bytes -= entry.bytes;
  }
}
