/**
 * The viewer's event log in the user's words: one line per happening (a
 * client changed state, credentials were renewed, a token was issued),
 * saying what happened, to which client, and with the MQTT reason code and
 * its name when the broker gave one. The raw inspection event stays one
 * click away (`raw`).
 *
 * Nothing here lists the machine's states: a line is built from the event
 * that caused a change (who speaks: `USER.*`, `MQTT.*`, `NET.*`, delays,
 * invoked actors) and the state the client went to, described by the
 * machine's own `description`. A transition into any state whose name
 * speaks of refreshing or renewing reads as a renewal of credentials, and
 * says why when it can tell: ahead of expiry (the event says so) or after
 * the broker refused the credentials.
 */

import type { InspectionEvent, StateValue } from "xstate";
import type { DemoEvent } from "../scenario/events.js";

/** A line of the log. */
export interface LogLine {
  readonly at: number;
  /** The client it is about; absent for the demo's own lines. */
  readonly client?: string;
  /** What happened, in words. */
  readonly text: string;
  /** The public state the client went to, when it changed. */
  readonly state?: string;
  /** The inner state (`probing`), when it says more than `state`. */
  readonly detail?: string;
  /** What kind of happening: for the page's colours and the test. */
  readonly tone: "flow" | "renewal" | "problem" | "user" | "demo";
  /** The machine's description of the state it went to (shown on hover). */
  readonly about?: string;
  /** The inspection event (already redacted by the SDK) or demo event, as JSON. */
  readonly raw: string;
}

/** What the narrator needs of the machine: read from the machine itself, never listed here. */
export interface MachineFacts {
  /** The public state (`client.state`) of a snapshot value. */
  publicState(value: StateValue): string;
  /** A state node's description, by id. */
  description(stateId: string): string | undefined;
  /** The source name of an invoked actor, by its XState id (`0.connection.session.refreshing`). */
  actorSource(actorId: string): string | undefined;
  /** A named delay's length in ms on this context, when the machine can say. */
  delayMs(name: string, context: unknown): number | undefined;
}

interface Refusal {
  readonly source?: string;
  readonly reasonCode?: number;
  readonly reason?: string;
  readonly category?: string;
}

interface ClientMemory {
  leaf?: string;
  /** `disconnect()` was called and no `connect()` since: a close is the one asked for. */
  disconnecting: boolean;
  /** The last refusal of the credentials, for the renewal that follows it. */
  refused?: string;
  /** What the broker said about this client just before (the demo's broker events). */
  broker?: { text: string; at: number };
}

/** How long a broker's own account of a close waits for the client's line it explains. */
const BROKER_NOTE_MS = 3000;

const RENEWAL = /refresh|renew/i;
const AHEAD = /ahead|expir/i;

/** `CONNACK 5 (not authorized)`, `DISCONNECT 0x87 (not authorized)`. */
export function codeText(refusal: Refusal): string {
  const packet = refusal.source === "disconnect" ? "DISCONNECT" : "CONNACK";
  const code = refusal.reasonCode ?? 0;
  // MQTT 5 reason codes are written in hex (§2.4), 3.1.1 return codes as numbers (§3.2.2.3).
  const number = code >= 0x80 ? `0x${code.toString(16).toUpperCase()}` : String(code);
  return `${packet} ${number}${refusal.reason ? ` (${refusal.reason})` : ""}`;
}

function ids(value: StateValue, prefix: string): string[] {
  if (typeof value === "string") return [`${prefix}.${value}`];
  return Object.entries(value).flatMap(([key, inner]) => [
    `${prefix}.${key}`,
    ...ids(inner as StateValue, `${prefix}.${key}`),
  ]);
}

const keyOf = (id: string | undefined) => id?.split(".").at(-1) ?? "";

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 1000 ? 3 : 1))} s`;
}

/** Words for the detail of an error the SDK sent (redacted: name, code, message). */
function errorText(error: unknown): string {
  if (typeof error !== "object" || error === null) return "";
  const { message, code } = error as { message?: unknown; code?: unknown };
  if (typeof message === "string" && message) {
    // The SDK's message ends with what it will do next; the log says that with the state.
    return message
      .replace(/^Connection lost: /, "")
      .replace(/\s*Reconnecting with backoff\.$/, "")
      .replace(/\.$/, "");
  }
  return typeof code === "string" ? code : "";
}

function words(type: string): string {
  return type.toLowerCase().replace(/[._]+/g, " ");
}

export class Narrator {
  readonly #facts: MachineFacts;
  readonly #clients = new Map<string, ClientMemory>();

  constructor(facts: MachineFacts) {
    this.#facts = facts;
  }

  #memory(client: string): ClientMemory {
    let memory = this.#clients.get(client);
    if (!memory) {
      memory = { disconnecting: false };
      this.#clients.set(client, memory);
    }
    return memory;
  }

  /** A line for a client's inspection event (its root actor's), or none. */
  inspect(client: string, event: InspectionEvent, at = Date.now()): LogLine | undefined {
    if (event.actorRef.sessionId !== event.rootId || event.type !== "@xstate.snapshot") {
      return undefined;
    }
    const snapshot = event.snapshot as { value?: StateValue; context?: unknown };
    if (snapshot.value === undefined) return undefined;
    const memory = this.#memory(client);
    const cause = event.event as { type: string; [key: string]: unknown };
    const leaf = ids(snapshot.value, "connection").at(-1);
    const from = memory.leaf;
    memory.leaf = leaf;
    const raw = JSON.stringify({ type: event.type, event: cause, from, to: leaf });
    if (leaf === from) {
      // Happenings that leave the state as it is: a renewal while connected (refresh ahead)
      // and a new endpoint. Everything else that changes nothing is not a happening.
      if (cause.type.startsWith("AUTH.")) {
        const text = `credentials: ${this.#renewalWords(cause, memory, from)}`;
        return { at, client, text, tone: "renewal", raw };
      }
      if (cause.type === "USER.UPDATE_ENDPOINT") {
        const text = "updateEndpoint(): the next connection uses the new endpoint";
        return { at, client, text, tone: "user", raw };
      }
      return undefined;
    }
    if (from === undefined && cause.type === "xstate.init") return undefined;
    const state = this.#facts.publicState(snapshot.value);
    const inner = keyOf(leaf);
    // The detail: the state inside the public one (`connected · probing`), one level deep;
    // what happens deeper (a renewal ahead of the expiry) the line's words say.
    const path = ids(snapshot.value, "connection");
    const below = path[path.findIndex((id) => keyOf(id) === state) + 1];
    const about = leaf ? this.#facts.description(leaf) : undefined;
    const base = {
      at,
      client,
      state,
      raw,
      ...(below && inner !== state ? { detail: keyOf(below) } : {}),
      ...(about ? { about } : {}),
    };
    // Entering a state of renewal: say it is one, and why.
    if (RENEWAL.test(inner) && !RENEWAL.test(keyOf(from))) {
      const why = this.#renewalWords(cause, memory, from, snapshot.context, at);
      return { ...base, text: `renewing credentials ${why}`, tone: "renewal" };
    }
    const { text, tone } = this.#cause(cause, memory, from, snapshot.context, at);
    return { ...base, text, tone };
  }

  /** Why credentials are being renewed, as far as the event and what came before tell. */
  #renewalWords(
    cause: { type: string; [key: string]: unknown },
    memory: ClientMemory,
    from?: string,
    context?: unknown,
    at = Date.now(),
  ): string {
    const said = [cause.type, cause.reason, cause.why].filter((v) => typeof v === "string");
    if (said.some((v) => AHEAD.test(v as string)) || cause.ahead === true) {
      return "ahead of expiry (the connection stays up)";
    }
    if (cause.type.startsWith("AUTH.")) return words(cause.type.slice(5));
    if (/backoff/i.test(keyOf(from))) return "again, after the auth backoff";
    // Closed at the credentials' known expiry with none fresh in hand: the page's flow, no refusal.
    const error = (context as { error?: { code?: unknown } } | undefined)?.error;
    if (cause.type === "MQTT.CLOSED" && error?.code === "CREDENTIALS_EXPIRED") {
      const broker =
        memory.broker && at - memory.broker.at <= BROKER_NOTE_MS ? ` — ${memory.broker.text}` : "";
      memory.broker = undefined;
      return `after the broker closed the connection at their expiry${broker}: asking onAuthFailure`;
    }
    const refused = memory.refused;
    memory.refused = undefined;
    if (refused) return `after the broker refused them with ${refused}: asking onAuthFailure`;
    return "(asking onAuthFailure)";
  }

  #cause(
    cause: { type: string; [key: string]: unknown },
    memory: ClientMemory,
    from: string | undefined,
    context: unknown,
    at: number,
  ): { text: string; tone: LogLine["tone"] } {
    const broker =
      memory.broker && at - memory.broker.at <= BROKER_NOTE_MS ? ` — ${memory.broker.text}` : "";
    memory.broker = undefined;
    const type = cause.type;
    switch (type) {
      case "USER.CONNECT":
        memory.disconnecting = false;
        return { text: "connect(): connecting", tone: "user" };
      case "USER.DISCONNECT":
        memory.disconnecting = true;
        return { text: "disconnect(): closing the connection, as asked", tone: "user" };
      case "MQTT.CONNACK":
        return {
          text: `broker accepted the connection${cause.sessionPresent ? " (it kept the session)" : ""}`,
          tone: "flow",
        };
      case "MQTT.REFUSED":
      case "MQTT.DISCONNECT": {
        const refusal = (cause.refusal ?? {}) as Refusal;
        const code = codeText(refusal);
        const verb = type === "MQTT.REFUSED" ? "refused the connection" : "disconnected the client";
        if (refusal.category === "auth") {
          memory.refused = code;
          return { text: `broker refused the credentials: ${code}${broker}`, tone: "problem" };
        }
        return { text: `broker ${verb}: ${code}${broker}`, tone: "problem" };
      }
      case "MQTT.CLOSED": {
        if (memory.disconnecting) {
          return { text: "disconnected, as disconnect() asked", tone: "user" };
        }
        if (/authFailed/i.test(keyOf(from))) {
          return { text: "the refused session is closed", tone: "flow" };
        }
        const detail = errorText(cause.error);
        return {
          text: `connection lost${detail ? `: ${detail}` : ""}${broker}`,
          tone: "problem",
        };
      }
      case "NET.OFFLINE":
        return { text: "the device went offline", tone: "problem" };
      case "NET.ONLINE":
        return { text: "the device is online again", tone: "flow" };
      case "PAGE.VISIBLE":
        return { text: "the page is visible again: checking the connection", tone: "flow" };
      case "MQTT.PONG":
        return { text: "the broker answered the ping", tone: "flow" };
    }
    const after = /^xstate\.after\.([^.]+)\./.exec(type)?.[1];
    if (after) {
      const ms = this.#facts.delayMs(after, context);
      const length = ms !== undefined && ms > 0 ? ` (${seconds(ms)})` : "";
      const timeout = /TIMEOUT/.test(after);
      return {
        text: timeout
          ? `${words(after)}${length}: nothing came in time`
          : `waited${length ? ` ${length.slice(2, -1)}` : ""} (${words(after)})`,
        tone: timeout ? "problem" : "flow",
      };
    }
    const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(type);
    if (actor?.[1] && actor[2]) {
      const src = this.#facts.actorSource(actor[2]) ?? "an actor";
      return actor[1] === "done"
        ? { text: doneText(src, cause.output), tone: RENEWAL.test(src) ? "renewal" : "flow" }
        : {
            text: `${src} failed${errorText(cause.error) ? `: ${errorText(cause.error)}` : ""}`,
            tone: "problem",
          };
    }
    if (type.startsWith("AUTH.")) {
      return { text: `credentials: ${words(type.slice(5))}`, tone: "renewal" };
    }
    return { text: words(type), tone: "flow" };
  }

  /** A line for a demo event; broker events explain the client's next line instead of their own. */
  demo(event: DemoEvent): LogLine | undefined {
    const raw = JSON.stringify(event);
    const line = (text: string, client?: string): LogLine => ({
      at: event.at,
      text,
      tone: "demo",
      raw,
      ...(client ? { client } : {}),
    });
    switch (event.type) {
      case "demo.started":
        return line(`demo started: ${event.viewers.length} viewers and a publisher`);
      case "token.issued":
        return line(
          `token endpoint issued ${event.userId} token #${event.request} (valid ${seconds(event.expiresAt - event.at)})`,
        );
      case "broker.kicked":
        this.#memory(event.clientId).broker = {
          text: `the broker ended it, token ${event.reason}`,
          at: event.at,
        };
        return undefined;
      case "broker.refused":
        this.#memory(event.clientId).broker = {
          text: `the broker says: token ${event.reason}`,
          at: event.at,
        };
        return undefined;
      case "messages.resumed":
        return line(
          `messages flow again after ${seconds(event.silentMs)} (seq ${event.seq}; ${event.behind} were queued)`,
          event.client,
        );
      case "demo.stopping":
        return line("demo stopping: draining queued messages, then disconnect()");
      default:
        return undefined;
    }
  }
}

function doneText(src: string, output: unknown): string {
  const o = (output ?? {}) as Record<string, unknown>;
  if (typeof o.filters === "number" && typeof o.packets === "number") {
    const rejected =
      Array.isArray(o.rejected) && o.rejected.length ? `, ${o.rejected.length} refused` : "";
    return o.sessionPresent
      ? "subscriptions restored: the broker kept the session"
      : o.filters === 0
        ? "nothing to re-subscribe"
        : `subscriptions restored: ${o.filters} filters in ${o.packets} SUBSCRIBE${rejected}`;
  }
  if (RENEWAL.test(src)) {
    const until =
      typeof o.expiresAt === "number"
        ? ` (valid until ${new Date(o.expiresAt).toISOString().slice(11, 19)})`
        : "";
    return `new credentials received${until}`;
  }
  return `${src} finished`;
}
