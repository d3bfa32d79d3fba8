/**
 * Per-client refresh cycles and how long they took, from the client's own
 * `stateChange` and `restored` events. A cycle starts when the broker drops
 * the connection (or refuses it) and ends when subscriptions are restored;
 * its recovery time runs from the auth failure (`authFailed`, or `refreshing`
 * entered at once when the broker closed at the token's known expiry) to
 * restored, less the 2 s wait the page prescribes. Pure: times come in with the events.
 */

import type { ConnectionState } from "@armaanjain/courier-web-sdk";

export interface Recovery {
  /** From the auth failure to restored, less the refresh wait; absent when no refresh happened. */
  readonly recoveryMs?: number;
  /** From the connection's loss to restored; absent on the first connection. */
  readonly offlineMs?: number;
}

export class RecoveryTracker {
  readonly #refreshWaitMs: number;
  #refreshes = 0;
  #renewals = 0;
  #authFailures = 0;
  #offlineSince: number | undefined;
  #authFailedAt: number | undefined;
  #worstRecoveryMs = 0;
  #worstOfflineMs = 0;
  #recoveries = 0;
  readonly #offline: number[] = [];

  constructor(refreshWaitMs: number) {
    this.#refreshWaitMs = refreshWaitMs;
  }

  /** Times the client asked its provider for a token (entered `refreshing`). */
  get refreshes(): number {
    return this.#refreshes;
  }

  /** Times the client asked its provider ahead of the token's expiry (`renewal` started). */
  get renewals(): number {
    return this.#renewals;
  }

  renewal(): void {
    this.#renewals += 1;
  }

  get authFailures(): number {
    return this.#authFailures;
  }

  get worstRecoveryMs(): number {
    return this.#worstRecoveryMs;
  }

  get worstOfflineMs(): number {
    return this.#worstOfflineMs;
  }

  /** Every offline stretch so far (connection lost → restored), in ms. */
  get offlineStretches(): readonly number[] {
    return this.#offline;
  }

  /** Completed recoveries after an auth failure. */
  get recoveries(): number {
    return this.#recoveries;
  }

  state(state: ConnectionState, previous: ConnectionState, at: number): void {
    if (previous === "connected" && this.#offlineSince === undefined) this.#offlineSince = at;
    if (state === "authFailed") {
      this.#authFailures += 1;
      // Several refusals in one outage (new credentials refused again): the first one counts.
      this.#authFailedAt ??= at;
    }
    if (state === "refreshing") {
      this.#refreshes += 1;
      // Closed at the credentials' known expiry: the page's flow starts here, with no refusal first.
      if (previous !== "authFailed" && previous !== "authBackoff") {
        this.#authFailures += 1;
        this.#authFailedAt ??= at;
      }
    }
    // disconnect(): the outage is not the broker's doing; it is not a recovery.
    if (state === "idle" || state === "closing") {
      this.#offlineSince = undefined;
      this.#authFailedAt = undefined;
    }
  }

  restored(at: number): Recovery {
    const recovery: { recoveryMs?: number; offlineMs?: number } = {};
    if (this.#authFailedAt !== undefined) {
      recovery.recoveryMs = Math.max(0, at - this.#authFailedAt - this.#refreshWaitMs);
      this.#worstRecoveryMs = Math.max(this.#worstRecoveryMs, recovery.recoveryMs);
      this.#recoveries += 1;
    }
    if (this.#offlineSince !== undefined) {
      recovery.offlineMs = at - this.#offlineSince;
      this.#offline.push(recovery.offlineMs);
      this.#worstOfflineMs = Math.max(this.#worstOfflineMs, recovery.offlineMs);
    }
    this.#offlineSince = undefined;
    this.#authFailedAt = undefined;
    return recovery;
  }
}
