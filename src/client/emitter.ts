/**
 * A small typed event emitter that works the same in browsers and Node.js.
 * A listener that throws does not stop the others nor the client: its error
 * is re-thrown on a fresh task, as DOM event listeners' errors are.
 */

import { InvalidOptionsError } from "../errors.js";
import { shown } from "../services/values.js";

/** Re-throws `error` on a fresh task: it reaches the host as uncaught, and stops nothing here. */
export function throwLater(error: unknown): void {
  setTimeout(() => {
    throw error;
  }, 0);
}

// biome-ignore lint/suspicious/noExplicitAny: listener signatures vary per event.
type Listener = (...args: any[]) => void;

export class Emitter<Events extends { [K in keyof Events]: Listener }> {
  /** Created with the first listener: most clients' emitters hold few or none. */
  #listeners: Map<keyof Events, Set<Listener>> | undefined;

  on<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    // Checked here, not when the event fires: a listener that is not a function would throw then.
    if (typeof listener !== "function") {
      throw new InvalidOptionsError("listener", `expected a function, got ${shown(listener)}`);
    }
    this.#listeners ??= new Map();
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Events[K]): void {
    this.#listeners?.get(event)?.delete(listener);
  }

  has<K extends keyof Events>(event: K): boolean {
    return (this.#listeners?.get(event)?.size ?? 0) > 0;
  }

  emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    const set = this.#listeners?.get(event);
    if (!set) return;
    for (const listener of set) {
      try {
        listener(...args);
      } catch (error) {
        throwLater(error);
      }
    }
  }

  clear(): void {
    this.#listeners?.clear();
  }
}
