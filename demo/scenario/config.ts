/**
 * What a demo run does, as the flags set it. Defaults give a new user a few
 * refresh cycles within a minute.
 */

import { type Jitter, OPTION_DEFAULTS } from "@armaanjain/courier-web-sdk";
import type { Transport } from "../stack/index.js";

export interface DemoConfig {
  /** Token lifetime, seconds. */
  readonly ttlSeconds: number;
  /** Publishing time before the summary, seconds; 0 runs until Ctrl-C. */
  readonly durationSeconds: number;
  /** Viewers (RealtimeClients) sharing one RemoteCredentials. */
  readonly clients: number;
  /** Messages the publisher sends per second. */
  readonly rate: number;
  /** Retry backoff jitter of every client. */
  readonly jitter: Jitter;
  /** Which broker listener the token endpoint sends clients to. */
  readonly transport: Transport;
  /**
   * How long the token endpoint takes to answer, in milliseconds, as a real
   * backend over a real network would. Refreshes that overlap it share one
   * request; at 0 (loopback, no work) the window is a few milliseconds and
   * viewers refused a few milliseconds apart may each make their own.
   */
  readonly tokenLatencyMs: number;
  /**
   * Clean sessions instead of persistent ones: every reconnection
   * re-subscribes, and what was published meanwhile is lost (exit code 1).
   * Shows why the demo's default keeps the session.
   */
  readonly cleanSession: boolean;
}

export const DEFAULT_CONFIG: DemoConfig = {
  ttlSeconds: 10,
  durationSeconds: 40,
  clients: 3,
  rate: 20,
  jitter: "none",
  transport: "tcp",
  tokenLatencyMs: 100,
  cleanSession: false,
};

/**
 * A refreshed token must outlive the SDK's 2 s wait plus a reconnection,
 * else it is refused again before it is ever used.
 */
export const MIN_TTL_SECONDS = 3;
export const MAX_CLIENTS = 50;
export const MAX_RATE = 500;

/**
 * The publisher's tokens live this much longer than the viewers': it is
 * another service with its own credentials, so its expiries fall at other
 * times, and the broker has to queue messages for viewers while they refresh.
 */
export const PUBLISHER_TTL_FACTOR = 1.5;

/** The page's "Wait 2 seconds" (the SDK's default `refreshWaitSeconds`). */
export const REFRESH_WAIT_MS = OPTION_DEFAULTS.refreshWaitSeconds.value * 1000;

/** The stack users the two roles get tokens for (see `DEFAULT_USERS`). */
export const VIEWER_USER = "viewer";
export const PUBLISHER_USER = "publisher";

/** What viewers subscribe to, and the topic of each that the publisher writes to, in turn. */
export const TOPICS: readonly { readonly filter: string; readonly topic: string }[] = [
  { filter: "demo/ticks/#", topic: "demo/ticks/eu" },
  { filter: "demo/rooms/+/chat", topic: "demo/rooms/42/chat" },
  { filter: "demo/alerts", topic: "demo/alerts" },
];

/** The topic message `seq` is published on: the demo topics in turn. */
export function topicFor(seq: number): string {
  return TOPICS[seq % TOPICS.length]?.topic ?? "demo/alerts";
}
