/**
 * The summary as the terminal shows it: what the run proved, one fact per
 * line, ending with the verdict the exit code reports.
 */

import { VIEWER_USER } from "../scenario/config.js";
import type { Summary } from "../scenario/summary.js";
import type { Palette } from "./colour.js";
import { duration, plural } from "./format.js";

/** Offline per expiry and refused CONNECTs: viewers renewing ahead beside those on the page's flow. */
function modeLines(summary: Summary, label: (text: string) => string): string[] {
  const line = (title: string, m: Summary["modes"]["ahead"]) =>
    m.viewers.length === 0
      ? []
      : [
          `${label(title)}${m.viewers.join(", ")}: offline per expiry ${duration(m.medianOfflineMs)} median, ${duration(m.worstOfflineMs)} worst, over ${plural(m.expiries, "expiry", "expiries")} · ${plural(m.refusedConnects, "refused CONNECT")}`,
        ];
  return [
    ...line("refresh ahead", summary.modes.ahead),
    ...line("page's flow", summary.modes.reactive),
  ];
}

export function summaryLines(summary: Summary, p: Palette): string[] {
  const { config, messages, tokenRequests, clients, broker } = summary;
  const label = (text: string) => `  ${text.padEnd(16)}`;
  const viewers = Object.entries(clients).filter(([, c]) => c.role === "viewer");
  const publisher = Object.entries(clients).find(([, c]) => c.role === "publisher");
  const perViewer = viewers.map(([name, c]) => `${name} ${c.refreshes}`).join(", ");
  const expected = messages.published * viewers.length;

  const viewerRequests = tokenRequests.viewerRefreshes + 1;
  const dedup =
    tokenRequests.viewerRefreshCalls > 0
      ? ` serving ${plural(tokenRequests.viewerRefreshCalls, "viewer refresh", "viewer refreshes")} (${tokenRequests.viewerRefreshCalls} → ${tokenRequests.viewerRefreshes} by sharing)`
      : "";
  const publisherRequests = Object.entries(tokenRequests.byUser)
    .filter(([user]) => user !== VIEWER_USER)
    .map(([user, n]) => `${user} ${n}`)
    .join(", ");

  const lostLine =
    messages.lost === 0
      ? p.green("lost 0")
      : p.red(
          `lost ${messages.lost} (${viewers
            .filter(([, c]) => (c.lost ?? 0) > 0)
            .map(([name, c]) => `${name}: ${c.lost}, first ${c.lostSeqs?.join(", ")}`)
            .join("; ")})`,
        );

  return [
    "",
    p.bold(
      `Summary: ${duration(summary.durationMs)} of publishing (+${duration(summary.drainMs)} for queued messages to arrive), tokens living ${config.ttlSeconds} s, ${plural(viewers.length, "viewer")}`,
    ),
    `${label("refresh cycles")}${summary.refreshCycles} (${perViewer}${publisher ? `; ${publisher[0]} ${publisher[1].refreshes}` : ""})`,
    `${label("token requests")}${tokenRequests.total}: viewer ${viewerRequests} = 1 initial + ${plural(tokenRequests.viewerRefreshes, "refresh", "refreshes")}${dedup}; ${publisherRequests}`,
    `${label("messages")}published ${messages.published} (acked ${messages.acked}${messages.failed ? `, ${p.red(`failed ${messages.failed}`)}` : ""}) · received ${messages.received}/${expected} · ${lostLine} · duplicated ${messages.duplicated} · out of order ${messages.late}`,
    ...modeLines(summary, label),
    `${label("worst recovery")}${duration(summary.worstRecoveryMs)} beyond the 2 s wait (auth failure → subscriptions restored) · longest offline ${duration(summary.worstOfflineMs)}`,
    `${label("broker")}${plural(broker.connects, "connection")} accepted · ${broker.refusals} refused · ${broker.kicks} closed at token expiry · ${plural(broker.subscribePackets, "SUBSCRIBE packet")}`,
    summary.ok
      ? p.green(p.bold("  OK: nothing lost"))
      : p.red(p.bold(`  FAILED: ${plural(messages.lost, "message")} lost`)),
  ];
}
