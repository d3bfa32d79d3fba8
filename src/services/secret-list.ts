/**
 * The secrets a client has held, so that what it shows devtools can be
 * redacted of them (README, "In the browser").
 */

import { MIN_SEARCHED } from "./scrub.js";
import { Secret } from "./secret.js";

/** Secrets the client has held (passwords, tokens), to catch them inside any text. */
export class SecretList {
  readonly #values: string[] = [];

  add(value: string | Secret | undefined): void {
    const text = value instanceof Secret ? value.reveal() : value;
    // A short password would blank every text that happens to contain it (a state name,
    // an error message): those are left to the Secret and field-name rules.
    if (!text || text.length < MIN_SEARCHED || this.#values.includes(text)) return;
    this.#values.push(text);
    // Old tokens have expired; a bounded list keeps a long-lived client small.
    if (this.#values.length > 16) this.#values.shift();
  }

  /** True if `text` contains one of the secrets. */
  within(text: string): boolean {
    return this.#values.some((secret) => text.includes(secret));
  }
}
