/**
 * Message accounting: which sequence numbers the publisher sent and which
 * each viewer received. A message is lost for a viewer when it was sent
 * (publish() called) and never arrived; arriving twice is a duplicate,
 * arriving after a later one is late (its gap closes). Pure: no clock, no I/O.
 */

export interface Receipt {
  readonly duplicate: boolean;
  /** Sequence numbers skipped by this arrival, if it skipped any. */
  readonly gap?: { readonly from: number; readonly to: number };
  /** It fills an earlier gap. */
  readonly late: boolean;
}

export interface MessageTotals {
  /** publish() calls. */
  readonly published: number;
  /** Publishes the broker acknowledged (PUBACK). */
  readonly acked: number;
  /** Publishes whose promise rejected. */
  readonly failed: number;
  /** Distinct messages received, summed over viewers. */
  readonly received: number;
  /** Extra deliveries of a message a viewer already had, summed over viewers. */
  readonly duplicated: number;
  /** Sent messages a viewer never received, summed over viewers. */
  readonly lost: number;
  /** Times a viewer saw a sequence number skipped, and how many of those were filled later. */
  readonly gaps: number;
  readonly late: number;
}

interface Inbox {
  readonly seen: Set<number>;
  highest: number;
  duplicated: number;
  gaps: number;
  late: number;
}

export class Ledger {
  readonly #inboxes = new Map<string, Inbox>();
  #lastSent = 0;
  #acked = 0;
  #failed = 0;

  constructor(viewers: readonly string[]) {
    for (const viewer of viewers)
      this.#inboxes.set(viewer, { seen: new Set(), highest: 0, duplicated: 0, gaps: 0, late: 0 });
  }

  /** The sequence number of the next publish; numbers run 1, 2, 3… */
  nextSeq(): number {
    this.#lastSent += 1;
    return this.#lastSent;
  }

  get lastSent(): number {
    return this.#lastSent;
  }

  acked(): void {
    this.#acked += 1;
  }

  failed(): void {
    this.#failed += 1;
  }

  received(viewer: string, seq: number): Receipt {
    const inbox = this.#inboxes.get(viewer);
    if (!inbox) throw new Error(`unknown viewer ${viewer}`);
    if (inbox.seen.has(seq)) {
      inbox.duplicated += 1;
      return { duplicate: true, late: false };
    }
    inbox.seen.add(seq);
    if (seq < inbox.highest) {
      inbox.late += 1;
      return { duplicate: false, late: true };
    }
    const skipped = seq > inbox.highest + 1;
    const from = inbox.highest + 1;
    inbox.highest = seq;
    if (!skipped) return { duplicate: false, late: false };
    inbox.gaps += 1;
    return { duplicate: false, late: false, gap: { from, to: seq - 1 } };
  }

  /** How many sent messages `viewer` has not received (yet). */
  missing(viewer: string): number {
    const inbox = this.#inboxes.get(viewer);
    if (!inbox) return 0;
    let count = 0;
    for (const seq of inbox.seen) if (seq <= this.#lastSent) count += 1;
    return this.#lastSent - count;
  }

  /** Sent messages missing anywhere, summed over viewers. */
  totalMissing(): number {
    let sum = 0;
    for (const viewer of this.#inboxes.keys()) sum += this.missing(viewer);
    return sum;
  }

  /** Up to `limit` sequence numbers `viewer` never received, for the summary. */
  missingSeqs(viewer: string, limit = 10): number[] {
    const seen = this.#inboxes.get(viewer)?.seen;
    const out: number[] = [];
    for (let seq = 1; seq <= this.#lastSent && out.length < limit; seq++)
      if (!seen?.has(seq)) out.push(seq);
    return out;
  }

  totals(): MessageTotals {
    let received = 0;
    let duplicated = 0;
    let gaps = 0;
    let late = 0;
    for (const inbox of this.#inboxes.values()) {
      received += inbox.seen.size;
      duplicated += inbox.duplicated;
      gaps += inbox.gaps;
      late += inbox.late;
    }
    return {
      published: this.#lastSent,
      acked: this.#acked,
      failed: this.#failed,
      received,
      duplicated,
      lost: this.totalMissing(),
      gaps,
      late,
    };
  }
}
