/**
 * A value that must never be printed: passwords and tokens. It serializes,
 * stringifies and inspects as `[redacted]`, so a snapshot, an inspection
 * event or a log line that reaches it shows nothing. Only the broker adapter
 * calls `reveal()`, when it opens the socket.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value itself; only the code that opens the socket should call it. */
  reveal(): string {
    return this.#value;
  }

  /** True when both hold the same value (without revealing either). */
  equals(other: Secret | undefined): boolean {
    return other !== undefined && other.#value === this.#value;
  }

  /** `"[redacted]"`: `JSON.stringify` never shows the value. */
  toJSON(): string {
    return "[redacted]";
  }

  /** `"[redacted]"`: string conversion never shows the value. */
  toString(): string {
    return "[redacted]";
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return "Secret([redacted])";
  }
}
