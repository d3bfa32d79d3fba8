/**
 * The broker's auth hooks: a CONNECT's password must be a valid JWT for its
 * username (else CONNACK 5, or 4 without one), and a session lives only as
 * long as its token. At the token's `exp` the broker closes the connection
 * (MQTT 3.1.1 has no DISCONNECT from the server, so closing is how a broker
 * says it); reconnecting with the same token is then refused with CONNACK 5.
 * SUBSCRIBE and PUBLISH are checked against the topics the token grants.
 */

import type { Aedes, AuthenticateError, Client } from "aedes";
import type { StackCounters, StackEvent } from "./events.js";
import { canPublish, canSubscribe } from "./grants.js";
import type { TokenAuthority, TokenClaims, TokenRejection } from "./tokens.js";

interface Session {
  readonly claims: TokenClaims;
  readonly timer: NodeJS.Timeout;
}

/** CONNACK return codes (MQTT 3.1.1 §3.2.2.3). */
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;
const SERVER_UNAVAILABLE = 3;

function refusal(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export class JwtGate {
  readonly #authority: TokenAuthority;
  readonly #counters: StackCounters;
  readonly #emit: (event: StackEvent) => void;
  /** Connections whose token was accepted, until they close. */
  readonly #sessions = new Map<Client, Session>();

  constructor(
    authority: TokenAuthority,
    counters: StackCounters,
    emit: (event: StackEvent) => void,
  ) {
    this.#authority = authority;
    this.#counters = counters;
    this.#emit = emit;
  }

  install(aedes: Aedes): void {
    aedes.authenticate = (client, username, password, done) => {
      this.#authority.verify(password?.toString("utf8"), username).then(
        (verdict) => {
          if (verdict.ok) {
            this.#track(client, verdict.claims);
            done(null, true);
          } else {
            done(this.#refuse(client, verdict.reason), false);
          }
        },
        (error: unknown) => done(refusal(String(error), SERVER_UNAVAILABLE), false),
      );
    };
    aedes.authorizeSubscribe = (client, subscription, callback) => {
      const session = this.#sessions.get(client);
      const lapsed = session ? this.#authority.lapsed(session.claims) : "expired";
      if (lapsed || !session) {
        this.#deny(client, "subscribe", subscription.topic, lapsed ?? "expired");
        callback(new Error(`token ${lapsed}`));
      } else if (canSubscribe(session.claims.grants, subscription.topic)) {
        callback(null, subscription);
      } else {
        this.#counters.subscribeDenied += 1;
        this.#deny(client, "subscribe", subscription.topic, "not-granted");
        // No subscription: SUBACK carries 0x80 for this filter (§3.9.3), the others stand.
        callback(null, null);
      }
    };
    aedes.authorizePublish = (client, packet, callback) => {
      // The broker's own messages (wills of gone clients) come without a client.
      if (!client) return callback(null);
      const session = this.#sessions.get(client);
      const lapsed = session ? this.#authority.lapsed(session.claims) : "expired";
      if (lapsed || !session) {
        this.#deny(client, "publish", packet.topic, lapsed ?? "expired");
        return callback(new Error(`token ${lapsed}`));
      }
      if (canPublish(session.claims.grants, packet.topic)) return callback(null);
      this.#counters.publishDenied += 1;
      this.#deny(client, "publish", packet.topic, "not-granted");
      // MQTT 3.1.1 cannot refuse one PUBLISH: the broker closes the connection (§3.3.5).
      callback(new Error("publish not granted"));
    };
  }

  /**
   * Cancels the tokens issued so far (to `userId`, or everyone's) and closes
   * the connections that hold one. Returns how many were closed.
   */
  cancel(reason: "expired" | "revoked", userId?: string): number {
    const cancelled = this.#authority.cancel(reason, userId);
    let kicked = 0;
    for (const [client, session] of [...this.#sessions]) {
      if (!cancelled.has(session.claims.tokenId)) continue;
      this.#kick(client, reason);
      kicked += 1;
    }
    return kicked;
  }

  /** Stops every expiry timer (the broker is shutting down). */
  dispose(): void {
    for (const session of this.#sessions.values()) clearTimeout(session.timer);
    this.#sessions.clear();
  }

  #track(client: Client, claims: TokenClaims): void {
    const timer = setTimeout(() => this.#kick(client, "expired"), claims.expiresAt - Date.now());
    this.#sessions.set(client, { claims, timer });
    client.conn.once("close", () => this.#untrack(client));
    this.#counters.connects += 1;
    this.#emit({
      type: "broker.accepted",
      at: Date.now(),
      clientId: client.id,
      userId: claims.userId,
      expiresAt: claims.expiresAt,
    });
  }

  #untrack(client: Client): Session | undefined {
    const session = this.#sessions.get(client);
    if (!session) return undefined;
    clearTimeout(session.timer);
    this.#sessions.delete(client);
    return session;
  }

  #kick(client: Client, reason: "expired" | "revoked"): void {
    const session = this.#untrack(client);
    if (!session) return;
    this.#counters.kicks += 1;
    this.#emit({
      type: "broker.kicked",
      at: Date.now(),
      clientId: client.id,
      userId: session.claims.userId,
      reason,
    });
    client.close();
  }

  #refuse(client: Client, reason: TokenRejection): AuthenticateError {
    const returnCode = reason === "missing" ? BAD_USERNAME_OR_PASSWORD : NOT_AUTHORIZED;
    this.#counters.refusals[reason] = (this.#counters.refusals[reason] ?? 0) + 1;
    this.#emit({ type: "broker.refused", at: Date.now(), clientId: client.id, returnCode, reason });
    return refusal(`token ${reason}`, returnCode);
  }

  #deny(
    client: Client,
    action: "subscribe" | "publish",
    topic: string,
    reason: "not-granted" | "expired" | "revoked",
  ): void {
    this.#emit({
      type: "broker.denied",
      at: Date.now(),
      clientId: client.id,
      action,
      topic,
      reason,
    });
  }
}
