/**
 * The human timeline. On a terminal the messages-per-second line stays at
 * the bottom, rewritten in place each second; piped, it is printed every
 * few seconds like any other line.
 */

import type { DemoEvent } from "../scenario/events.js";
import { palette } from "./colour.js";
import { fitWidth } from "./format.js";
import { summaryLines } from "./summary-text.js";
import { TimelineFormatter } from "./timeline.js";

export interface Output {
  write(text: string): void;
}

/** Piped output shows one rate line in this many. */
const PLAIN_RATE_EVERY = 5;
const CLEAR_LINE = "\r\u001b[2K";

export class TerminalRenderer {
  readonly #out: Output;
  readonly #live: boolean;
  readonly #formatter: TimelineFormatter;
  readonly #palette: ReturnType<typeof palette>;
  readonly #columns: () => number;
  #status = "";
  #rates = 0;

  /**
   * `live`: the output is a terminal whose last line can be rewritten;
   * `columns` is its width (the status line must not wrap).
   */
  constructor(out: Output, options: { colour: boolean; live: boolean; columns?: () => number }) {
    this.#out = out;
    this.#live = options.live;
    this.#columns = options.columns ?? (() => Number.POSITIVE_INFINITY);
    this.#palette = palette(options.colour);
    this.#formatter = new TimelineFormatter(this.#palette);
  }

  event(event: DemoEvent): void {
    if (event.type === "messages.rate") {
      const line = this.#formatter.rate(event);
      this.#rates += 1;
      if (this.#live) {
        this.#status = fitWidth(line, this.#columns());
        this.#out.write(`${CLEAR_LINE}${this.#status}`);
      } else if (this.#rates % PLAIN_RATE_EVERY === 0) {
        this.#out.write(`${line}\n`);
      }
      return;
    }
    const lines =
      event.type === "demo.summary"
        ? summaryLines(event, this.#palette)
        : this.#formatter.format(event);
    if (event.type === "demo.summary" || event.type === "demo.stopping") this.#status = "";
    if (lines.length === 0) return;
    const text = lines.map((line) => `${line}\n`).join("");
    this.#out.write(this.#live ? `${CLEAR_LINE}${text}${this.#status}` : text);
  }

  /** Leaves the cursor on a clean line. */
  close(): void {
    if (this.#live && this.#status) this.#out.write(`${CLEAR_LINE}`);
    this.#status = "";
  }
}
