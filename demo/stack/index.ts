/**
 * The demo's real setup, in one place: an aedes broker whose auth hooks
 * verify JWTs and enforce their expiry and topic grants, listening on TCP
 * and WebSocket, plus the token endpoint that issues those JWTs. `npm run
 * demo` and the test suites start exactly this.
 *
 * ```ts
 * const stack = await startStack({ ttlSeconds: 3 });
 * const creds = new RemoteCredentials(stack.tokenUrl, (r: TokenResponse) => ({ … }));
 * …
 * await stack.stop();
 * ```
 */

import { Aedes } from "aedes";
import { emptyCounters, Listeners, type StackCounters, type StackEvent } from "./events.js";
import type { Grants } from "./grants.js";
import { JwtGate } from "./jwt-gate.js";
import { listen, WS_PATH } from "./listeners.js";
import {
  type ResolvedStackOptions,
  resolveStackOptions,
  STACK_HOST,
  type StackOptions,
  StackOptionsError,
} from "./options.js";
import { patchSessionReplay } from "./session-replay.js";
import { startTokenServer, type TokenIssuer, type TokenResponse } from "./token-server.js";
import { type IssuedToken, TokenAuthority } from "./tokens.js";

export type { StackCounters, StackEvent, StackEventType } from "./events.js";
export { canPublish, canSubscribe, filterCovers, type Grants } from "./grants.js";
export {
  DEFAULT_USERS,
  type ResolvedStackOptions,
  STACK_HOST,
  type StackOptions,
  StackOptionsError,
  type Transport,
} from "./options.js";
export { TOKEN_PATH, type TokenResponse } from "./token-server.js";
export type { IssuedToken, TokenClaims, TokenRejection } from "./tokens.js";

export interface IssueTokenOptions {
  /** @default the user's lifetime from the stack's options; negative gives an already expired token */
  ttlSeconds?: number;
  /** @default the user's grants from the stack's `users` */
  grants?: Grants;
}

export interface Stack {
  readonly options: ResolvedStackOptions;
  /** The aedes instance, for tests that need the broker's own events or to publish as the broker. */
  readonly broker: Aedes;
  readonly host: string;
  readonly tcpPort: number;
  readonly wsPort: number;
  /** `mqtt://127.0.0.1:<tcpPort>` */
  readonly brokerUrl: string;
  /** `ws://127.0.0.1:<wsPort>/mqtt` */
  readonly wsUrl: string;
  /** `http://127.0.0.1:<port>/api/mqtt/token` */
  readonly tokenUrl: string;
  /** Live counters (token requests, connects, refusals, kicks, SUBSCRIBE packets…). */
  readonly counters: Readonly<StackCounters>;
  /** Signs a token without going through the endpoint (not counted as a token request). */
  issueToken(userId: string, options?: IssueTokenOptions): Promise<IssuedToken>;
  /** Revokes every token issued so far (to `userId`, or all); closes their connections. Returns how many. */
  revoke(userId?: string): number;
  /** Expires every token issued so far now (to `userId`, or all); closes their connections. Returns how many. */
  expire(userId?: string): number;
  /** Ids of the connected clients. */
  clientIds(): string[];
  /** Follows what the stack does; returns the function that stops following. */
  on(listener: (event: StackEvent) => void): () => void;
  stop(): Promise<void>;
}

export async function startStack(stackOptions: StackOptions = {}): Promise<Stack> {
  const options = resolveStackOptions(stackOptions);
  const counters = emptyCounters();
  const listeners = new Listeners<StackEvent>();
  const emit = (event: StackEvent) => listeners.emit(event);
  const authority = new TokenAuthority();
  const gate = new JwtGate(authority, counters, emit);

  const aedes = await Aedes.createBroker();
  patchSessionReplay(aedes);
  gate.install(aedes);
  aedes.on("subscribe", (_subscriptions, client) => {
    counters.subscribePackets += 1;
    counters.subscribePacketsByClient[client.id] =
      (counters.subscribePacketsByClient[client.id] ?? 0) + 1;
  });
  aedes.on("clientError", (client, error) => {
    // A refused CONNECT is reported as broker.refused already; errors of a
    // connection already closing (writes cut short by a kick) say nothing new.
    if ("errorCode" in error || client.closed) return;
    emit({
      type: "broker.client-error",
      at: Date.now(),
      clientId: client.id,
      message: error.message,
    });
  });
  const listening = await listen(aedes, STACK_HOST);

  const issueToken = (userId: string, issue: IssueTokenOptions = {}) => {
    const grants = issue.grants ?? options.users[userId];
    if (!grants) throw new StackOptionsError(`unknown user "${userId}": pass grants`);
    const ttl = issue.ttlSeconds ?? options.ttlSecondsByUser[userId] ?? options.ttlSeconds;
    return authority.issue(userId, grants, ttl);
  };
  const issuer: TokenIssuer = async (request) => {
    const userId = request.user ?? options.defaultUser;
    if (!Object.hasOwn(options.users, userId))
      return { ok: false, status: 403, error: "unknown user" };
    const transport = request.transport ?? options.defaultTransport;
    const { jwt, claims } = await issueToken(userId);
    counters.tokenRequests += 1;
    const count = (counters.tokenRequestsByUser[userId] ?? 0) + 1;
    counters.tokenRequestsByUser[userId] = count;
    emit({
      type: "token.issued",
      at: Date.now(),
      userId,
      transport,
      request: count,
      expiresAt: claims.expiresAt,
    });
    const port = transport === "ws" ? listening.wsPort : listening.tcpPort;
    const body: TokenResponse = { broker: { host: STACK_HOST, port }, userId, jwt };
    return { ok: true, body };
  };
  const tokenServer = await startTokenServer(STACK_HOST, issuer, options.tokenLatencyMs);

  const clients = () => (aedes as unknown as { clients: Record<string, unknown> }).clients;
  let stopped: Promise<void> | undefined;
  return {
    options,
    broker: aedes,
    host: STACK_HOST,
    tcpPort: listening.tcpPort,
    wsPort: listening.wsPort,
    brokerUrl: `mqtt://${STACK_HOST}:${listening.tcpPort}`,
    wsUrl: `ws://${STACK_HOST}:${listening.wsPort}${WS_PATH}`,
    tokenUrl: tokenServer.url,
    counters,
    issueToken,
    revoke: (userId) => gate.cancel("revoked", userId),
    expire: (userId) => gate.cancel("expired", userId),
    clientIds: () => Object.keys(clients()),
    on: (listener) => listeners.add(listener),
    stop() {
      stopped ??= (async () => {
        gate.dispose();
        await tokenServer.close();
        await listening.close();
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
      })();
      return stopped;
    },
  };
}
