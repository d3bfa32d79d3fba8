/**
 * What the stack reports as it works — tokens issued, connections accepted,
 * refused and kicked, requests denied — and the counters it keeps. Every
 * event is plain JSON data, so a timeline, a test or a web page can take it
 * as it is.
 */

import type { Transport } from "./options.js";
import type { TokenRejection } from "./tokens.js";

export type StackEvent =
  | {
      readonly type: "token.issued";
      readonly at: number;
      readonly userId: string;
      readonly transport: Transport;
      /** How many tokens this user has been issued, this one included. */
      readonly request: number;
      readonly expiresAt: number;
    }
  | {
      readonly type: "broker.accepted";
      readonly at: number;
      readonly clientId: string;
      readonly userId: string;
      readonly expiresAt: number;
    }
  | {
      readonly type: "broker.refused";
      readonly at: number;
      readonly clientId: string;
      /** The CONNACK return code sent (MQTT 3.1.1 §3.2.2.3). */
      readonly returnCode: 4 | 5;
      readonly reason: TokenRejection;
    }
  | {
      readonly type: "broker.kicked";
      readonly at: number;
      readonly clientId: string;
      readonly userId: string;
      readonly reason: "expired" | "revoked";
    }
  | {
      /** aedes closed a connection over an error (protocol violation, refused publish…). */
      readonly type: "broker.client-error";
      readonly at: number;
      readonly clientId: string;
      readonly message: string;
    }
  | {
      readonly type: "broker.denied";
      readonly at: number;
      readonly clientId: string;
      readonly action: "subscribe" | "publish";
      readonly topic: string;
      readonly reason: "not-granted" | "expired" | "revoked";
    };

export type StackEventType = StackEvent["type"];

export interface StackCounters {
  /** `GET /api/mqtt/token` answered with a token. */
  tokenRequests: number;
  tokenRequestsByUser: Record<string, number>;
  /** CONNECTs accepted. */
  connects: number;
  /** CONNECTs refused, by reason. */
  refusals: Partial<Record<TokenRejection, number>>;
  /** Connections closed by the broker because their token expired or was revoked. */
  kicks: number;
  /** SUBSCRIBE packets received (restores of a kept session are not packets and are not counted). */
  subscribePackets: number;
  subscribePacketsByClient: Record<string, number>;
  /** Subscriptions refused (SUBACK 0x80) and publishes refused (connection closed). */
  subscribeDenied: number;
  publishDenied: number;
}

export function emptyCounters(): StackCounters {
  return {
    tokenRequests: 0,
    tokenRequestsByUser: {},
    connects: 0,
    refusals: {},
    kicks: 0,
    subscribePackets: 0,
    subscribePacketsByClient: {},
    subscribeDenied: 0,
    publishDenied: 0,
  };
}

/** A set of listeners; one that throws does not stop the others. */
export class Listeners<T> {
  readonly #set = new Set<(event: T) => void>();

  add(listener: (event: T) => void): () => void {
    this.#set.add(listener);
    return () => this.#set.delete(listener);
  }

  emit(event: T): void {
    for (const listener of this.#set) {
      try {
        listener(event);
      } catch (error) {
        // A faulty listener is a bug to see, not a reason to stop the broker.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
