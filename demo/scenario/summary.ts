/**
 * The end-of-run summary: refresh cycles, token requests (and what sharing
 * one `RemoteCredentials` saved), messages published / received / lost /
 * duplicated, and the worst recovery. `ok` is what the exit code reports:
 * true only when no message was lost.
 */

import type { StackCounters } from "../stack/index.js";
import type { DemoConfig } from "./config.js";
import type { Ledger, MessageTotals } from "./ledger.js";
import type { RecoveryTracker } from "./recovery.js";

export interface ClientSummary {
  readonly role: "viewer" | "publisher";
  readonly refreshes: number;
  readonly authFailures: number;
  /** Beyond the 2 s wait, from the auth failure to restored subscriptions. */
  readonly worstRecoveryMs: number;
  /** From the connection's loss to restored subscriptions. */
  readonly worstOfflineMs: number;
  /** Renews its token ahead of the expiry (`refreshAhead`), or only after the broker closes. */
  readonly refreshAhead: boolean;
  /** Each time it was offline (connection lost → restored), in ms: one per token expiry here. */
  readonly offlineMs: readonly number[];
  /** CONNECTs of this client the broker refused (stale tokens). */
  readonly refusedConnects: number;
  /** Viewers: sent messages never received, and the first few of their numbers. */
  readonly lost?: number;
  readonly lostSeqs?: readonly number[];
}

export interface Summary {
  /** Nothing was lost. */
  readonly ok: boolean;
  readonly config: DemoConfig;
  /** From the first publish to the last (`--duration`, or until Ctrl-C). */
  readonly durationMs: number;
  /** After publishing stopped, until every queued message had arrived (or the drain timed out). */
  readonly drainMs: number;
  /** Refreshes of the viewer that refreshed most. */
  readonly refreshCycles: number;
  readonly tokenRequests: {
    readonly total: number;
    readonly byUser: Readonly<Record<string, number>>;
    /** Requests the viewers' shared RemoteCredentials made to refresh (its first got the initial token). */
    readonly viewerRefreshes: number;
    /** Refreshes (after the close, and ahead of the expiry) the viewers asked for, summed: the requests there would be without deduplication. */
    readonly viewerRefreshCalls: number;
  };
  readonly messages: MessageTotals;
  /** Over every client, beyond the 2 s wait. */
  readonly worstRecoveryMs: number;
  readonly worstOfflineMs: number;
  readonly broker: {
    readonly connects: number;
    readonly refusals: number;
    readonly kicks: number;
    readonly subscribePackets: number;
  };
  readonly clients: Readonly<Record<string, ClientSummary>>;
  /** Viewers renewing ahead against viewers on the page's flow (`refreshAhead: false`). */
  readonly modes: {
    readonly ahead: ModeSummary;
    readonly reactive: ModeSummary;
  };
}

export interface ModeSummary {
  readonly viewers: readonly string[];
  /** Offline stretches of those viewers (one per expiry). */
  readonly expiries: number;
  readonly medianOfflineMs: number;
  readonly worstOfflineMs: number;
  readonly refusedConnects: number;
}

export interface SummaryInput {
  readonly config: DemoConfig;
  readonly durationMs: number;
  readonly drainMs: number;
  readonly viewers: ReadonlyMap<string, RecoveryTracker>;
  readonly publisher: { readonly name: string; readonly tracker: RecoveryTracker };
  /** The stack user whose token requests the viewers' shared RemoteCredentials makes. */
  readonly viewerUser: string;
  readonly ledger: Ledger;
  readonly counters: Readonly<StackCounters>;
  /** Clients renewing ahead of the expiry. */
  readonly refreshAhead: ReadonlySet<string>;
  /** CONNECTs the broker refused, by client identifier. */
  readonly refusedBy: ReadonlyMap<string, number>;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function summarize(input: SummaryInput): Summary {
  const { ledger, counters } = input;
  const clients: Record<string, ClientSummary> = {};
  const describe = (name: string, tracker: RecoveryTracker) => ({
    refreshes: tracker.refreshes,
    authFailures: tracker.authFailures,
    worstRecoveryMs: tracker.worstRecoveryMs,
    worstOfflineMs: tracker.worstOfflineMs,
    refreshAhead: input.refreshAhead.has(name),
    offlineMs: [...tracker.offlineStretches],
    refusedConnects: input.refusedBy.get(name) ?? 0,
  });
  for (const [name, tracker] of input.viewers) {
    clients[name] = {
      role: "viewer",
      ...describe(name, tracker),
      lost: ledger.missing(name),
      lostSeqs: ledger.missingSeqs(name),
    };
  }
  clients[input.publisher.name] = {
    role: "publisher",
    ...describe(input.publisher.name, input.publisher.tracker),
  };
  const mode = (ahead: boolean): ModeSummary => {
    const names = [...input.viewers.keys()].filter((n) => input.refreshAhead.has(n) === ahead);
    const stretches = names.flatMap((n) => clients[n]?.offlineMs ?? []);
    return {
      viewers: names,
      expiries: stretches.length,
      medianOfflineMs: median(stretches),
      worstOfflineMs: Math.max(0, ...stretches),
      refusedConnects: names.reduce((sum, n) => sum + (input.refusedBy.get(n) ?? 0), 0),
    };
  };

  const trackers = [...input.viewers.values(), input.publisher.tracker];
  const viewerRefreshCalls = [...input.viewers.values()].reduce(
    (n, t) => n + t.refreshes + t.renewals,
    0,
  );
  const messages = ledger.totals();
  return {
    ok: messages.lost === 0,
    config: input.config,
    durationMs: input.durationMs,
    drainMs: input.drainMs,
    refreshCycles: Math.max(0, ...[...input.viewers.values()].map((t) => t.refreshes)),
    tokenRequests: {
      total: counters.tokenRequests,
      byUser: { ...counters.tokenRequestsByUser },
      viewerRefreshes: Math.max(0, (counters.tokenRequestsByUser[input.viewerUser] ?? 0) - 1),
      viewerRefreshCalls,
    },
    messages,
    worstRecoveryMs: Math.max(0, ...trackers.map((t) => t.worstRecoveryMs)),
    worstOfflineMs: Math.max(0, ...trackers.map((t) => t.worstOfflineMs)),
    broker: {
      connects: counters.connects,
      refusals: Object.values(counters.refusals).reduce((n, c) => n + (c ?? 0), 0),
      kicks: counters.kicks,
      subscribePackets: counters.subscribePackets,
    },
    clients,
    modes: { ahead: mode(true), reactive: mode(false) },
  };
}
