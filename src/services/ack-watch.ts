/**
 * Watches that the broker acknowledges what the client sends (PUBACK /
 * PUBCOMP, SUBACK, UNSUBACK): when a request has waited `timeoutMs` or more
 * unacknowledged, `overdue` is called once, so the connection can be taken as
 * dead even while the broker still answers PINGREQ.
 *
 * Cheap per request on purpose (a counter, no clock read, no map entry, no
 * timer): requests are counted in generations of a quarter of `timeoutMs`,
 * and one timer per connection, running only while something is
 * unacknowledged, closes a generation each quarter. A request is overdue once
 * four generations have been closed after its own: it has then waited at
 * least `timeoutMs` (a timer never fires early) and at most about 1.25 times
 * that on a timely event loop.
 */

const QUARTERS = 4;
/** The open generation and the four before it. */
const SLOTS = QUARTERS + 1;

export class AckWatch {
  readonly #tickMs: number;
  readonly #overdue: () => void;
  /** Unacknowledged requests per generation, by generation modulo `SLOTS`. */
  readonly #counts = [0, 0, 0, 0, 0];
  #total = 0;
  /** The generation new requests join. */
  #generation = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(timeoutMs: number, overdue: () => void) {
    this.#tickMs = timeoutMs / QUARTERS;
    this.#overdue = overdue;
  }

  /** A request was sent; returns the ticket to hand to `acked`. */
  sent(): number {
    const generation = this.#generation;
    if (this.#stopped) return generation;
    this.#counts[generation % SLOTS] = (this.#counts[generation % SLOTS] as number) + 1;
    this.#total += 1;
    this.#timer ??= setTimeout(() => this.#tick(), this.#tickMs);
    return generation;
  }

  /** The request of `ticket` was acknowledged (or failed): it is no longer waited for. */
  acked(ticket: number): void {
    // A ticket older than the tracked generations was overdue already.
    if (this.#stopped || ticket <= this.#generation - SLOTS) return;
    const slot = ticket % SLOTS;
    const count = this.#counts[slot] as number;
    if (count === 0) return;
    this.#counts[slot] = count - 1;
    this.#total -= 1;
  }

  /** No more checks (the connection closed). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    // The slot the next generation takes is the one of the generation four quarters old.
    const next = this.#generation + 1;
    if ((this.#counts[next % SLOTS] as number) > 0) {
      this.stop();
      this.#overdue();
      return;
    }
    this.#generation = next;
    // Idle: stop until the next request (nothing is left running).
    if (this.#total > 0) this.#timer = setTimeout(() => this.#tick(), this.#tickMs);
  }
}
