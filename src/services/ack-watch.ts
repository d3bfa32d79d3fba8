/**
 * Watches that the broker acknowledges what the client sends (PUBACK /
 * PUBCOMP, SUBACK, UNSUBACK): when a request has waited `timeoutMs` or more
 * unacknowledged, `overdue` is called once, so the connection can be taken as
 * dead even while the broker still answers PINGREQ.
 *
 * Cheap per request on purpose (a counter, no clock read, no map entry, no
 * timer): requests are counted in generations of an eighth of `timeoutMs`,
 * and one timer per connection, running only while something is
 * unacknowledged, closes a generation each eighth. A request is overdue once
 * eight generations have been closed after its own: it has then waited at
 * least `timeoutMs` (a timer never fires early) and at most about 1.125 times
 * that on a timely event loop.
 */

/** The open generation and the eight before it. */
const SLOTS = 9;

export class AckWatch {
  readonly #tickMs: number;
  readonly #overdue: () => void;
  /** Unacknowledged requests per generation, by generation modulo `SLOTS`. */
  readonly #counts = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  /** The generation new requests join. */
  #generation = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(timeoutMs: number, overdue: () => void) {
    this.#tickMs = timeoutMs / (SLOTS - 1);
    this.#overdue = overdue;
  }

  /** A request was sent; returns the ticket to hand to `acked`. */
  sent(): number {
    const generation = this.#generation;
    if (!this.#stopped) {
      this.#counts[generation % SLOTS] = (this.#counts[generation % SLOTS] as number) + 1;
      this.#arm();
    }
    return generation;
  }

  /** The request of `ticket` was acknowledged (or failed): it is no longer waited for. */
  acked(ticket: number): void {
    const slot = ticket % SLOTS;
    const count = this.#counts[slot] as number;
    // A ticket older than the tracked generations was reported overdue already.
    if (count > 0 && ticket > this.#generation - SLOTS) this.#counts[slot] = count - 1;
  }

  /** No more checks (the connection closed). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #arm(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      // The slot the next generation takes is the one of the generation eight eighths old.
      const next = ++this.#generation;
      if (this.#stopped) return;
      if ((this.#counts[next % SLOTS] as number) > 0) {
        this.stop();
        this.#overdue();
      } else if (this.#counts.some((count) => count > 0)) {
        this.#arm();
      }
      // Otherwise idle: no timer until the next request.
    }, this.#tickMs);
  }
}
