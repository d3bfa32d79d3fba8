/**
 * The stack's configuration: who may ask for tokens, what each user's token
 * grants, how long tokens live. The demo and the test suites start the same
 * stack with these defaults, overriding only what they exercise.
 */

import type { Grants } from "./grants.js";

export type Transport = "tcp" | "ws";

export interface StackOptions {
  /** Lifetime of the tokens the endpoint issues, in seconds. @default 10 */
  ttlSeconds?: number;
  /** Lifetimes for some users that differ from `ttlSeconds`, in seconds. @default {} */
  ttlSecondsByUser?: Readonly<Record<string, number>>;
  /**
   * Users the token endpoint issues tokens to (`?user=`), and what their
   * tokens grant. @default DEFAULT_USERS
   */
  users?: Readonly<Record<string, Grants>>;
  /** The user a request without `?user=` gets a token for. @default "viewer" */
  defaultUser?: string;
  /** Which listener's port the endpoint answers with when a request has no `?transport=`. @default "tcp" */
  defaultTransport?: Transport;
  /**
   * Delay before the endpoint answers, in milliseconds, as a real backend
   * (session lookup, signing service) would take. @default 0
   */
  tokenLatencyMs?: number;
}

export interface ResolvedStackOptions {
  readonly ttlSeconds: number;
  readonly ttlSecondsByUser: Readonly<Record<string, number>>;
  readonly users: Readonly<Record<string, Grants>>;
  readonly defaultUser: string;
  readonly defaultTransport: Transport;
  readonly tokenLatencyMs: number;
}

/** Everything under `demo/`: viewers read it all, the publisher writes it. */
export const DEFAULT_USERS: Readonly<Record<string, Grants>> = {
  viewer: { subscribe: ["demo/#"], publish: [] },
  publisher: { subscribe: [], publish: ["demo/#"] },
};

/** Listeners bind here only: the stack is for this machine, never the network. */
export const STACK_HOST = "127.0.0.1";

/** Thrown by `startStack` for options it cannot run with. */
export class StackOptionsError extends Error {
  override readonly name = "StackOptionsError";
}

export function resolveStackOptions(options: StackOptions = {}): ResolvedStackOptions {
  const ttlSeconds = options.ttlSeconds ?? 10;
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0)
    throw new StackOptionsError(`ttlSeconds must be a positive number, got ${ttlSeconds}`);
  const ttlSecondsByUser = options.ttlSecondsByUser ?? {};
  for (const [user, ttl] of Object.entries(ttlSecondsByUser)) {
    if (!Number.isFinite(ttl) || ttl <= 0)
      throw new StackOptionsError(`ttlSecondsByUser.${user} must be a positive number, got ${ttl}`);
  }
  const users = options.users ?? DEFAULT_USERS;
  const defaultUser = options.defaultUser ?? "viewer";
  if (!(defaultUser in users))
    throw new StackOptionsError(`defaultUser "${defaultUser}" is not one of the users`);
  const tokenLatencyMs = options.tokenLatencyMs ?? 0;
  if (!Number.isFinite(tokenLatencyMs) || tokenLatencyMs < 0)
    throw new StackOptionsError(`tokenLatencyMs must be 0 or more, got ${tokenLatencyMs}`);
  return {
    ttlSeconds,
    ttlSecondsByUser,
    users,
    defaultUser,
    defaultTransport: options.defaultTransport ?? "tcp",
    tokenLatencyMs,
  };
}
