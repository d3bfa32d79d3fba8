/**
 * The token authority: signs and verifies the short-lived JWTs the broker
 * accepts as MQTT passwords. Signing and verification are `jose`'s (HS256
 * with a random per-stack secret); this file only decides the claims and
 * names every reason a token is refused.
 */

import { randomBytes, randomUUID } from "node:crypto";
import { errors, jwtVerify, SignJWT } from "jose";
import { type Grants, parseGrants } from "./grants.js";

/** What a verified token says. */
export interface TokenClaims {
  readonly userId: string;
  readonly grants: Grants;
  /** `exp`, in milliseconds since the epoch. */
  readonly expiresAt: number;
  /** `jti`: identifies this token for revocation. */
  readonly tokenId: string;
}

/** Why a token was refused; the broker answers CONNACK 4 for `missing`, 5 for the rest. */
export type TokenRejection = "missing" | "expired" | "revoked" | "invalid" | "wrong-user";

export type Verdict =
  | { readonly ok: true; readonly claims: TokenClaims }
  | { readonly ok: false; readonly reason: TokenRejection };

export interface IssuedToken {
  readonly jwt: string;
  readonly claims: TokenClaims;
}

const ALGORITHM = "HS256";

export class TokenAuthority {
  readonly #secret: Uint8Array;
  /** Tokens issued so far, by id: whose they are, so a user's tokens can be revoked. */
  readonly #issued = new Map<string, string>();
  /** Token ids refused before their `exp`, and the reason given for them. */
  readonly #cancelled = new Map<string, "expired" | "revoked">();

  constructor(secret: Uint8Array = randomBytes(32)) {
    this.#secret = secret;
  }

  /**
   * Signs a token for `userId`. `exp` is a whole second (JWT NumericDate) and
   * rounded up, so the token lives at least `ttlSeconds`; a negative
   * `ttlSeconds` gives a token that has already expired.
   */
  async issue(userId: string, grants: Grants, ttlSeconds: number): Promise<IssuedToken> {
    const tokenId = randomUUID();
    const nowSeconds = Date.now() / 1000;
    const exp = Math.ceil(nowSeconds + ttlSeconds);
    const jwt = await new SignJWT({ acl: grants })
      .setProtectedHeader({ alg: ALGORITHM })
      .setSubject(userId)
      .setJti(tokenId)
      .setIssuedAt(Math.floor(nowSeconds))
      .setExpirationTime(exp)
      .sign(this.#secret);
    this.#issued.set(tokenId, userId);
    return { jwt, claims: { userId, grants, expiresAt: exp * 1000, tokenId } };
  }

  /** Checks signature, `exp` (jose: expired once the current second reaches it) and revocation. */
  async verify(jwt: string | undefined, username: string | undefined): Promise<Verdict> {
    if (!jwt) return { ok: false, reason: "missing" };
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(jwt, this.#secret, {
        algorithms: [ALGORITHM],
        requiredClaims: ["sub", "exp", "jti"],
      }));
    } catch (error) {
      return { ok: false, reason: error instanceof errors.JWTExpired ? "expired" : "invalid" };
    }
    const grants = parseGrants(payload.acl);
    const { sub, jti, exp } = payload;
    if (!grants || typeof sub !== "string" || typeof jti !== "string" || typeof exp !== "number")
      return { ok: false, reason: "invalid" };
    // The token is the password of one user: it must not be replayed under another name.
    if (username !== sub) return { ok: false, reason: "wrong-user" };
    const cancelled = this.#cancelled.get(jti);
    if (cancelled) return { ok: false, reason: cancelled };
    return { ok: true, claims: { userId: sub, grants, expiresAt: exp * 1000, tokenId: jti } };
  }

  /**
   * Cancels every token issued so far (to `userId`, or to anyone): from now
   * on they are refused as `reason`. Returns the ids cancelled.
   */
  cancel(reason: "expired" | "revoked", userId?: string): Set<string> {
    const ids = new Set<string>();
    for (const [tokenId, owner] of this.#issued) {
      if (userId !== undefined && owner !== userId) continue;
      if (!this.#cancelled.has(tokenId)) this.#cancelled.set(tokenId, reason);
      ids.add(tokenId);
    }
    return ids;
  }

  /** Why a verified token is no longer good now, or undefined while it is. */
  lapsed(claims: TokenClaims, now = Date.now()): "expired" | "revoked" | undefined {
    const cancelled = this.#cancelled.get(claims.tokenId);
    if (cancelled) return cancelled;
    return now >= claims.expiresAt ? "expired" : undefined;
  }
}
