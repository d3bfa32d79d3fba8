/**
 * The outbox: every publish goes through it. While
 * the statechart has a live session attached, publishes go straight out;
 * otherwise they wait, bounded, in order. An entry leaves only when settled:
 * resolved on delivery (written for QoS 0, PUBACK/PUBCOMP for QoS 1/2) or
 * rejected with a typed error. A publish that was in flight when the
 * connection dropped is sent again on the next connection (at-least-once).
 * No more QoS 1/2 publishes are unacknowledged at once than the broker's
 * Receive Maximum (MQTT 5 §3.3.4, [MQTT-3.3.4-7]); the rest wait, in order.
 * None larger than the broker's Maximum Packet Size is sent [MQTT-3.2.2-15]:
 * it is rejected with `PacketTooLargeError`, as is one the broker answered
 * with DISCONNECT 0x95 (packet too large) when it announced no limit.
 */

import { PacketTooLargeError, PublishRejectedError, QueueOverflowError } from "../errors.js";
import { LinkedList, type Links } from "./linked-list.js";
import type { LiveConnection, PublishRequest } from "./live-connection.js";
import { publishPacketBytes } from "./packet-size.js";
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
  sentOn: LiveConnection | null;
}

const encoder = /* @__PURE__ */ new TextEncoder();

function payloadBytes(payload: string | Uint8Array): number {
  return typeof payload === "string" ? encoder.encode(payload).length : payload.byteLength;
}

export class Outbox {
  readonly #limits: OutboxLimits;
  /** Unsettled entries in publish order. */
  readonly #entries = new LinkedList<Entry>();
  #bytes = 0;
  #link: LiveConnection | null = null;
  /** QoS 1/2 entries written to `#link` and not yet acknowledged. */
  #inFlight = 0;
  /** Entries not written to `#link` (all of them while detached). */
  #waiting = 0;
  /** The largest PUBLISH packet the broker acknowledged: a size it is known to take. */
  #largestAcked = 0;

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
      this.#waiting += 1;
      // The hot path: nothing queued ahead of it and room at the broker, so write it now.
      // Otherwise it waits its turn; acknowledgements pump the queue.
      if (link && this.#waiting === 1 && this.#hasRoom(entry, link)) this.#send(entry, link);
    });
  }

  /** From `connected` on: flush what waited, in order, then send new publishes at once. */
  attach(link: LiveConnection): void {
    this.#link = link;
    this.#inFlight = 0;
    this.#waiting = 0;
    for (const entry of this.#entries) {
      if (entry.sentOn !== link) this.#waiting += 1;
      else if (entry.request.qos > 0) this.#inFlight += 1;
    }
    this.#pump(link);
  }

  /** The session ended: everything unsettled waits for the next `attach`, in its original order. */
  detach(): void {
    this.#link = null;
    this.#inFlight = 0;
    this.#waiting = this.#entries.size;
    for (const entry of this.#entries) entry.sentOn = null;
  }

  /** Rejects every unsettled publish (disconnect, terminal failure). */
  rejectAll(error: Error): void {
    const entries = this.#entries.clear();
    this.#bytes = 0;
    this.#inFlight = 0;
    this.#waiting = 0;
    for (const entry of entries) entry.reject(error);
  }

  /**
   * Takes back the publish of `request`, rejecting it with `error`. One still
   * queued is never sent. One already written is no longer waited for nor
   * sent again on a later connection (the broker may still deliver it): the
   * room it held under Receive Maximum goes to the next publish.
   */
  withdraw(request: PublishRequest, error: Error): void {
    for (const entry of this.#entries) {
      if (entry.request !== request) continue;
      const link = this.#link;
      const heldRoom = request.qos > 0 && link !== null && entry.sentOn === link;
      this.#settle(entry);
      if (heldRoom) this.#inFlight -= 1;
      entry.reject(error);
      if (heldRoom && link) this.#pump(link);
      return;
    }
  }

  /**
   * The broker closed `link` with DISCONNECT 0x95 (packet too large) without
   * having announced a limit: the largest QoS 1/2 publish written to it and
   * not acknowledged, if larger than any it acknowledged, was the cause. It is
   * rejected with `PacketTooLargeError` instead of being sent again.
   */
  packetTooLarge(link: LiveConnection): void {
    let culprit: Entry | undefined;
    let culpritBytes = 0;
    for (const entry of this.#entries) {
      if (entry.sentOn !== link || entry.request.qos === 0) continue;
      const bytes = publishPacketBytes(entry.request, link.protocolVersion, entry.bytes);
      if (bytes > culpritBytes) {
        culprit = entry;
        culpritBytes = bytes;
      }
    }
    if (!culprit || culpritBytes <= this.#largestAcked) return;
    const heldRoom = this.#link === link;
    this.#settle(culprit);
    if (heldRoom) this.#inFlight -= 1;
    culprit.reject(new PacketTooLargeError(culprit.request.topic, culpritBytes, undefined));
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

  /**
   * Writes what has not been written to `link` yet, in order, stopping at the
   * first QoS 1/2 entry the broker's Receive Maximum has no room for: later
   * entries wait behind it so the order is kept.
   */
  #pump(link: LiveConnection): void {
    let next: Entry | null | undefined = this.#entries.first;
    while (next) {
      const entry: Entry = next;
      // Read before sending: an entry settled by `#send` (too large) leaves the list.
      next = entry.next;
      if (this.#link !== link || this.#waiting === 0) return;
      if (entry.sentOn === link) continue;
      if (!this.#hasRoom(entry, link)) return;
      this.#send(entry, link);
    }
  }

  /** QoS 0 always has room; QoS 1/2 while fewer than Receive Maximum are unacknowledged. */
  #hasRoom(entry: Entry, link: LiveConnection): boolean {
    return (
      entry.request.qos === 0 || this.#inFlight < (link.receiveMaximum ?? Number.POSITIVE_INFINITY)
    );
  }

  #send(entry: Entry, link: LiveConnection): void {
    const limit = link.maximumPacketSize;
    // Sized only when it matters: with a limit announced, or to learn a size the broker takes.
    const bytes =
      limit !== undefined || entry.request.qos > 0
        ? publishPacketBytes(entry.request, link.protocolVersion, entry.bytes)
        : 0;
    if (limit !== undefined && bytes > limit) {
      this.#settle(entry);
      entry.reject(new PacketTooLargeError(entry.request.topic, bytes, limit));
      return;
    }
    entry.sentOn = link;
    this.#waiting -= 1;
    const counted = entry.request.qos > 0;
    if (counted) this.#inFlight += 1;
    link.publish(entry.request, (error) => {
      if (!this.#entries.has(entry)) return;
      const heldRoom = counted && entry.sentOn === link && this.#link === link;
      if (heldRoom) this.#inFlight -= 1;
      if (!error) {
        if (counted && bytes > this.#largestAcked) this.#largestAcked = bytes;
        this.#settle(entry);
        entry.resolve();
      } else if (typeof (error as { code?: unknown }).code === "number") {
        // MQTT 5 PUBACK/PUBREC with a failure reason code: the broker answered, retrying will not help.
        const code = (error as unknown as { code: number }).code;
        this.#settle(entry);
        entry.reject(new PublishRejectedError(entry.request.topic, code, reasonName(code, 5)));
      } else {
        // The connection failed under it: it waits for the next session (`detach` marks it
        // unsent), and is never written twice to this link.
        return;
      }
      // The broker acknowledged one: room for the next waiting publish.
      if (heldRoom) this.#pump(link);
    });
  }

  #settle(entry: Entry): void {
    if (entry.sentOn === null || entry.sentOn !== this.#link) this.#waiting -= 1;
    this.#entries.delete(entry);
    this.#bytes -= entry.bytes;
  }
}
