/**
 * Turns demo events into timeline lines: `time  +elapsed  who  what`. It
 * keeps the little context a line needs (when the run started, the latest
 * token each user got) and nothing else; writing is the terminal's job.
 */

import type { ConnectionState } from "@armaanjain/courier-web-sdk";
import { PUBLISHER_TTL_FACTOR, PUBLISHER_USER, VIEWER_USER } from "../scenario/config.js";
import type { DemoEvent } from "../scenario/events.js";
import type { StackEvent } from "../stack/index.js";
import type { Palette, Style } from "./colour.js";
import { clock, duration, pad, plural } from "./format.js";

const WHO_WIDTH = 10;
const TRANSITION_WIDTH = 28;

export class TimelineFormatter {
  readonly #p: Palette;
  #startedAt = 0;
  readonly #latestToken = new Map<string, number>();
  #viewers: readonly string[] = [];

  constructor(palette: Palette) {
    this.#p = palette;
  }

  /** The lines an event adds to the timeline; none for events shown elsewhere (rates, summary). */
  format(event: DemoEvent): string[] {
    switch (event.type) {
      case "demo.started":
        this.#startedAt = event.at;
        this.#viewers = event.viewers;
        return this.#header(event);
      case "client.state":
        return [this.#line(event.at, event.client, this.#transition(event))];
      case "client.restored":
        return [this.#line(event.at, event.client, this.#restored(event))];
      case "client.error":
        // A lost connection is already on the timeline as the broker's kick and the move to backoff.
        if (event.code === "CONNECTION_LOST") return [];
        return [this.#line(event.at, event.client, this.#p.red(`${event.code}: ${event.message}`))];
      case "messages.gap":
        return [
          this.#line(
            event.at,
            event.client,
            this.#p.yellow(
              `seq ${range(event.from, event.to)} not here yet (a later one came first)`,
            ),
          ),
        ];
      case "messages.resumed":
        return [
          this.#line(
            event.at,
            event.client,
            this.#p.green(
              `messages again after ${duration(event.silentMs)}: seq ${event.seq} first, ${event.behind} more queued behind it`,
            ),
          ),
        ];
      case "demo.stopping":
        return [
          this.#line(
            event.at,
            "demo",
            this.#p.bold(
              `${event.reason === "signal" ? "interrupted" : "duration reached"}: publishing stopped at seq ${event.lastSeq}; waiting for what is still queued`,
            ),
          ),
        ];
      case "messages.rate":
      case "demo.summary":
        return [];
      default:
        return this.#stack(event);
    }
  }

  /** The messages-per-second line (the terminal's status line). */
  rate(event: Extract<DemoEvent, { type: "messages.rate" }>): string {
    const p = this.#p;
    const missing =
      event.missing > 0 ? p.yellow(`${event.missing} in flight or queued`) : "none missing";
    return this.#line(
      event.at,
      "msgs/s",
      p.dim(`published ${event.published} · received ${event.received} · `) + missing,
    );
  }

  #line(at: number, who: string, text: string): string {
    const p = this.#p;
    const elapsed = `+${((at - this.#startedAt) / 1000).toFixed(3)}s`;
    return `${p.dim(clock(at))} ${p.dim(elapsed.padStart(9))}  ${pad(this.#who(who), WHO_WIDTH)} ${text}`;
  }

  #who(who: string): string {
    const p = this.#p;
    if (who === "broker") return p.magenta(who);
    if (who === "token") return p.yellow(who);
    if (who === "publisher") return p.blue(who);
    if (who === "msgs/s" || who === "demo") return p.dim(who);
    return p.bold(who);
  }

  #header(event: Extract<DemoEvent, { type: "demo.started" }>): string[] {
    const p = this.#p;
    const { config } = event;
    const until = config.durationSeconds > 0 ? `for ${config.durationSeconds} s` : "until Ctrl-C";
    return [
      p.bold(
        `courier demo: tokens live ${config.ttlSeconds} s · ${plural(config.clients, "viewer")} share one RemoteCredentials · publisher sends ${config.rate} msg/s at QoS 1 (its tokens live ${config.ttlSeconds * PUBLISHER_TTL_FACTOR} s) · ${until}`,
      ),
      `  broker   ${event.brokerUrl}  (JWT signature and exp checked, topic grants enforced, expired sessions closed)`,
      `  tokens   ${event.tokenUrl}  (answers in ${config.tokenLatencyMs} ms)`,
      `  viewers  ${event.viewers.join(", ")} subscribed to ${event.filters.join(", ")} (QoS 1, clean: ${config.cleanSession})`,
      `  jitter   ${config.jitter}   transport ${config.transport}`,
      "",
    ];
  }

  #transition(event: Extract<DemoEvent, { type: "client.state" }>): string {
    const p = this.#p;
    const arrow = `${event.previous} → ${styleOf(p, event.state)(event.state)}`;
    let note = p.dim(`after ${duration(event.durationMs)}`);
    if (event.state === "authFailed") note += `  ${p.red(p.bold("auth failure"))}`;
    if (event.state === "refreshing") note += `  ${p.yellow("asking for a new token")}`;
    if (event.state === "waiting") {
      const token = this.#latestToken.get(this.#userOf(event.client));
      note += `  ${p.blue(`got token #${token ?? "?"}; the 2 s wait`)}`;
    }
    if (event.state === "backoff" && event.previous === "connected")
      note += `  ${p.dim("connection closed")}`;
    return `${pad(arrow, TRANSITION_WIDTH)} ${note}`;
  }

  #restored(event: Extract<DemoEvent, { type: "client.restored" }>): string {
    const p = this.#p;
    const sent = `${plural(event.filters, "filter")} in ${plural(event.packets, "SUBSCRIBE packet")}`;
    let what = `restored ${sent}`;
    if (event.sessionPresent)
      what =
        event.filters === 0
          ? "restored: the broker kept the session (sessionPresent), nothing to re-subscribe"
          : `restored: the broker kept the session (sessionPresent), re-sent ${sent}`;
    else if (event.filters === 0) what = "restored: no subscriptions to restore";
    const parts = [p.green(what)];
    if (event.rejected > 0) parts.push(p.red(`${event.rejected} refused`));
    if (event.recoveryMs !== undefined)
      parts.push(p.bold(`recovered ${duration(event.recoveryMs)} beyond the 2 s wait`));
    if (event.offlineMs !== undefined) parts.push(p.dim(`offline ${duration(event.offlineMs)}`));
    return parts.join(p.dim(" · "));
  }

  #stack(event: StackEvent): string[] {
    const p = this.#p;
    switch (event.type) {
      case "token.issued":
        this.#latestToken.set(event.userId, event.request);
        return [
          this.#line(
            event.at,
            "token",
            `${event.userId} token #${event.request} issued, valid ${duration(event.expiresAt - event.at)}`,
          ),
        ];
      case "broker.accepted":
        return [
          this.#line(
            event.at,
            "broker",
            p.dim(
              `accepted ${event.clientId} (token valid ${duration(event.expiresAt - event.at)} more)`,
            ),
          ),
        ];
      case "broker.refused":
        return [
          this.#line(
            event.at,
            "broker",
            p.red(`refused ${event.clientId}: CONNACK ${event.returnCode} (token ${event.reason})`),
          ),
        ];
      case "broker.kicked":
        return [
          this.#line(
            event.at,
            "broker",
            p.red(`token of ${event.clientId} ${event.reason}: connection closed`),
          ),
        ];
      case "broker.denied":
        return [
          this.#line(
            event.at,
            "broker",
            p.red(`denied ${event.clientId} ${event.action} ${event.topic} (${event.reason})`),
          ),
        ];
      case "broker.client-error":
        return [
          this.#line(event.at, "broker", p.red(`closed ${event.clientId}: ${event.message}`)),
        ];
    }
  }

  #userOf(client: string): string {
    return this.#viewers.includes(client) ? VIEWER_USER : PUBLISHER_USER;
  }
}

function range(from: number, to: number): string {
  return from === to ? String(from) : `${from}–${to}`;
}

function styleOf(p: Palette, state: ConnectionState): Style {
  switch (state) {
    case "connected":
      return (s) => p.green(p.bold(s));
    case "authFailed":
      return (s) => p.red(p.bold(s));
    case "failed":
      return (s) => p.inverse(p.red(s));
    case "refreshing":
      return p.yellow;
    case "waiting":
      return p.blue;
    case "backoff":
    case "authBackoff":
      return p.magenta;
    case "connecting":
    case "reconnecting":
    case "restoring":
      return p.cyan;
    default:
      return p.dim;
  }
}
