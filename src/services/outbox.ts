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

import type { IPublishPacket } from "mqtt";
import { PacketTooLargeError, PublishRejectedError, QueueOverflowError } from "../errors.js";
import { LinkedList, type Links } from "./linked-list.js";
import type { LiveConnection, PublishRequest, Qos } from "./live-connection.js";
import { publishPacketBytes, utf8Length } from "./packet-size.js";
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

/**
 * One publish: the request, its promise's settlement and its place in the
 * outbox in one object (a publish allocates this, its promise and one
 * closure for mqtt.js, as mqtt.js's own `publishAsync` does).
 */
export class Publication implements PublishRequest, Links<Publication> {
  readonly topic: string;
  readonly payload: string | Uint8Array;
  readonly qos: Qos;
  readonly retain: boolean;
  readonly properties: IPublishPacket["properties"] | undefined;
  /** Payload bytes, counted against `maxBytes`. */
  bytes = 0;
  /** The whole PUBLISH packet's size, once sized for a link. */
  packetBytes = 0;
  /** Set by `Outbox.publish`. */
  resolve!: () => void;
  reject!: (error: Error) => void;
  /** The link this entry was last written to; null while waiting. */
  sentOn: LiveConnection | null = null;
  /** Counted against the current link's Receive Maximum (QoS 1/2, written, unanswered). */
  holdsRoom = false;
  prev: Publication | null = null;
  next: Publication | null = null;
  listed = false;

  constructor(
    topic: string,
    payload: string | Uint8Array,
    qos: Qos,
    retain: boolean,
    properties?: IPublishPacket["properties"],
  ) {
    this.topic = topic;
    this.payload = payload;
    this.qos = qos;
    this.retain = retain;
    this.properties = properties;
  }
}

function payloadBytes(payload: string | Uint8Array): number {
  return typeof payload === "string" ? utf8Length(payload) : payload.byteLength;
}

export class Outbox {
  readonly #limits: OutboxLimits;
  /** Unsettled entries in publish order. */
  readonly #entries = new LinkedList<Publication>();
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

  /** Sends `entry` (or queues it); settles when it is delivered or rejected. */
  publish(entry: Publication): Promise<void> {
    const settled = new Promise<void>((resolve, reject) => {
      entry.resolve = resolve;
      entry.reject = reject;
    });
    const link = this.#link;
    const bytes = payloadBytes(entry.payload);
    if (!link && !this.#admit(entry, bytes)) return settled;
    entry.bytes = bytes;
    this.#entries.add(entry);
    this.#bytes += bytes;
    this.#waiting += 1;
    // The hot path: nothing queued ahead of it and room at the broker, so write it now.
    // Otherwise it waits its turn; acknowledgements pump the queue.
    if (link && this.#waiting === 1 && this.#hasRoom(entry, link)) this.#send(entry, link);
    return settled;
  }

  /** From `connected` on: flush what waited, in order, then send new publishes at once. */
  attach(link: LiveConnection): void {
    this.#link = link;
    this.#inFlight = 0;
    this.#waiting = 0;
    for (const entry of this.#entries) {
      if (entry.sentOn !== link) this.#waiting += 1;
      else if (entry.holdsRoom) this.#inFlight += 1;
    }
    this.#pump(link);
  }

  /** The session ended: everything unsettled waits for the next `attach`, in its original order. */
  detach(): void {
    this.#link = null;
    this.#inFlight = 0;
    this.#waiting = this.#entries.size;
    for (const entry of this.#entries) {
      entry.sentOn = null;
      entry.holdsRoom = false;
    }
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
   * Takes back the publish of `entry`, rejecting it with `error`. One still
   * queued is never sent. One already written is no longer waited for nor
   * sent again on a later connection (the broker may still deliver it): the
   * room it held under Receive Maximum goes to the next publish.
   */
  withdraw(entry: Publication, error: Error): void {
    if (!this.#entries.has(entry)) return;
    const heldRoom = this.#release(entry);
    this.#settle(entry);
    entry.reject(error);
    if (heldRoom && this.#link) this.#pump(this.#link);
  }

  /**
   * The broker closed `link` with DISCONNECT 0x95 (packet too large) without
   * having announced a limit: the largest QoS 1/2 publish written to it and
   * not acknowledged, if larger than any it acknowledged, was the cause. It is
   * rejected with `PacketTooLargeError` instead of being sent again.
   */
  packetTooLarge(link: LiveConnection): void {
    let culprit: Publication | undefined;
    for (const entry of this.#entries) {
      // Sized by `#send` when it was written to `link`.
      if (entry.sentOn !== link || entry.qos === 0) continue;
      if (!culprit || entry.packetBytes > culprit.packetBytes) culprit = entry;
    }
    if (!culprit || culprit.packetBytes <= this.#largestAcked) return;
    this.#release(culprit);
    this.#settle(culprit);
    culprit.reject(new PacketTooLargeError(culprit.topic, culprit.packetBytes, undefined));
  }

  /** Applies the offline limits to a publish of `bytes`; false when it was rejected. */
  #admit(entry: Publication, bytes: number): boolean {
    const { maxMessages, maxBytes, qos0, overflow } = this.#limits;
    if (entry.qos === 0 && qos0 === "reject") {
      entry.reject(
        new QueueOverflowError(
          entry.topic,
          "QoS 0 is not queued while disconnected (offlineQueue.qos0)",
        ),
      );
      return false;
    }
    const limit = `${maxMessages} messages, ${maxBytes} bytes`;
    if (bytes > maxBytes) {
      entry.reject(new QueueOverflowError(entry.topic, limit));
      return false;
    }
    while (this.#entries.size >= maxMessages || this.#bytes + bytes > maxBytes) {
      const oldest = overflow === "dropOldest" ? this.#entries.first : undefined;
      if (!oldest) {
        entry.reject(new QueueOverflowError(entry.topic, limit));
        return false;
      }
      this.#settle(oldest);
      oldest.reject(new QueueOverflowError(oldest.topic, `${limit}; dropped as the oldest`));
    }
    return true;
  }

  /**
   * Writes what has not been written to `link` yet, in order, stopping at the
   * first QoS 1/2 entry the broker's Receive Maximum has no room for: later
   * entries wait behind it so the order is kept.
   */
  #pump(link: LiveConnection): void {
    let next: Publication | null | undefined = this.#entries.first;
    while (next) {
      const entry: Publication = next;
      // Read before sending: an entry settled by `#send` (too large) leaves the list.
      next = entry.next;
      if (this.#link !== link || this.#waiting === 0) return;
      if (entry.sentOn === link) continue;
      if (!this.#hasRoom(entry, link)) return;
      this.#send(entry, link);
    }
  }

  /** QoS 0 always has room; QoS 1/2 while fewer than Receive Maximum are unacknowledged. */
  #hasRoom(entry: Publication, link: LiveConnection): boolean {
    return entry.qos === 0 || this.#inFlight < (link.receiveMaximum ?? Number.POSITIVE_INFINITY);
  }

  /** Gives back the room `entry` held under Receive Maximum; true if it held some. */
  #release(entry: Publication): boolean {
    if (!entry.holdsRoom) return false;
    entry.holdsRoom = false;
    this.#inFlight -= 1;
    return true;
  }

  #send(entry: Publication, link: LiveConnection): void {
    const limit = link.maximumPacketSize;
    // Sized only when it matters: with a limit announced, or to learn a size the broker takes.
    if (limit !== undefined || entry.qos > 0) {
      entry.packetBytes = publishPacketBytes(entry, link.protocolVersion, entry.bytes);
    }
    if (limit !== undefined && entry.packetBytes > limit) {
      this.#settle(entry);
      entry.reject(new PacketTooLargeError(entry.topic, entry.packetBytes, limit));
      return;
    }
    entry.sentOn = link;
    this.#waiting -= 1;
    if (entry.qos > 0) {
      this.#inFlight += 1;
      entry.holdsRoom = true;
    }
    link.publish(entry, this.#delivered);
  }

  /** Every link's acknowledgements, for every entry (no closure per publish). */
  readonly #delivered = (
    entry: Publication,
    error: Error | null | undefined,
    from: LiveConnection,
  ): void => {
    // Settled already (withdrawn, rejected), or acknowledged twice.
    if (!this.#entries.has(entry)) return;
    const code = error ? (error as { code?: unknown }).code : undefined;
    let heldRoom: boolean;
    if (error && typeof code !== "number") {
      // The connection failed under it: it waits for the next session (`detach` marks it
      // unsent), and is never written twice to this link; the room it held is free.
      heldRoom = entry.sentOn === from && this.#release(entry);
    } else {
      heldRoom = this.#release(entry);
      this.#settle(entry);
      if (typeof code === "number") {
        // MQTT 5 PUBACK/PUBREC with a failure reason code: the broker answered, retrying will not help.
        entry.reject(new PublishRejectedError(entry.topic, code, reasonName(code, 5)));
      } else {
        // Written is not taken for QoS 0: only an acknowledgement says the broker took that size.
        if (entry.qos > 0 && entry.packetBytes > this.#largestAcked) {
          this.#largestAcked = entry.packetBytes;
        }
        entry.resolve();
      }
    }
    // Room for the next waiting publish.
    const link = this.#link;
    if (heldRoom && link) this.#pump(link);
  };

  #settle(entry: Publication): void {
    if (entry.sentOn === null || entry.sentOn !== this.#link) this.#waiting -= 1;
    this.#entries.delete(entry);
    this.#bytes -= entry.bytes;
  }
}
