/**
 * `npm run demo -- --web`: a live statechart viewer on 127.0.0.1. It serves
 * the generated diagrams (docs/statecharts/overview.svg and connection.svg)
 * inside a page that highlights every demo client's current state and keeps
 * an event log in the user's words (narrate.ts), fed by the clients'
 * inspection streams (redacted by the SDK) and the demo's own events, over
 * Server-Sent Events. Everything it serves comes from this server: the page
 * works with no network beyond the loopback.
 */

import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { createServer, type ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import {
  connectionMachine,
  connectionStateOf,
  STATE_DESCRIPTIONS,
} from "@armaanjain/courier-web-sdk/machine";
import type { AnyStateNode, InspectionEvent, StateValue } from "xstate";
import type { DemoEvent } from "../scenario/events.js";
import { type LogLine, type MachineFacts, Narrator } from "./narrate.js";

const HERE = fileURLToPath(new URL("./", import.meta.url));
const FILES: Record<string, [path: string, type: string]> = {
  "/": [`${HERE}assets/index.html`, "text/html; charset=utf-8"],
  "/viewer.js": [`${HERE}assets/viewer.js`, "text/javascript; charset=utf-8"],
  "/viewer.css": [`${HERE}assets/viewer.css`, "text/css; charset=utf-8"],
  "/connection.svg": [`${HERE}../../docs/statecharts/connection.svg`, "image/svg+xml"],
  "/overview.svg": [`${HERE}../../docs/statecharts/overview.svg`, "image/svg+xml"],
};

/** What the page is sent, one JSON object per Server-Sent Event. */
export type ViewerMessage =
  | {
      /** A client's state changed (its inspection stream's snapshot). */
      readonly kind: "state";
      readonly at: number;
      readonly client: string;
      /** The machine's state value, e.g. `{ session: { link: { connected: "live" } } }`. */
      readonly value: unknown;
      /** The public state (`client.state`). */
      readonly state: string;
      /** The event that led there. */
      readonly event: string;
    }
  | ({
      /** A line of the event log (narrate.ts). */
      readonly kind: "line";
    } & LogLine);

export interface ViewerServer {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  /** A client's inspection event (already redacted by the SDK). */
  inspect(client: string, event: InspectionEvent): void;
  /** A demo event (broker, token endpoint, restores, messages). */
  demo(event: DemoEvent): void;
  close(): Promise<void>;
}

/** The root actor's own events (a client's machine), not those of its child actors. */
function isRoot(event: InspectionEvent): boolean {
  return event.actorRef.sessionId === event.rootId;
}

type DelayFn = (args: { context: unknown; event: { type: string } }) => number;

/** What the log needs to know about the machine, read from the machine itself. */
export const CONNECTION_FACTS: MachineFacts = {
  publicState: (value: StateValue) => connectionStateOf(value),
  // The machine ships without its descriptions; they sit beside it, by state id.
  description: (stateId) => STATE_DESCRIPTIONS[stateId],
  actorSource(actorId) {
    // XState names an invoked actor without an id `<index>.<state id>`.
    const [, index, stateId] = /^(\d+)\.(.+)$/.exec(actorId) ?? [];
    const invoke = stateId ? node(stateId)?.invoke[Number(index)] : undefined;
    return typeof invoke?.src === "string" ? invoke.src : undefined;
  },
  delayMs(name, context) {
    const delay = (connectionMachine.implementations.delays as Record<string, unknown>)[name];
    try {
      if (typeof delay === "number") return delay;
      if (typeof delay === "function") return (delay as DelayFn)({ context, event: { type: "" } });
    } catch {
      // A context the delay cannot read: the line goes without the length.
    }
    return undefined;
  },
};

function node(stateId: string): AnyStateNode | undefined {
  try {
    return connectionMachine.getStateNodeById(stateId);
  } catch {
    return undefined;
  }
}

export async function startViewerServer(port = 0): Promise<ViewerServer> {
  const streams = new Set<ServerResponse>();
  /** The latest state of each client, for a page that connects late. */
  const latest = new Map<string, ViewerMessage>();
  const recent: ViewerMessage[] = [];
  const narrator = new Narrator(CONNECTION_FACTS);

  const send = (message: ViewerMessage) => {
    if (message.kind === "state") latest.set(message.client, message);
    else recent.push(message);
    if (recent.length > 200) recent.shift();
    const data = `data: ${JSON.stringify(message)}\n\n`;
    for (const stream of streams) stream.write(data);
  };

  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
    if (path === "/events") {
      response.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        connection: "keep-alive",
      });
      for (const message of [...recent, ...latest.values()]) {
        response.write(`data: ${JSON.stringify(message)}\n\n`);
      }
      streams.add(response);
      request.on("close", () => streams.delete(response));
      return;
    }
    const file = FILES[path];
    if (!file) {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    try {
      const body = await readFile(file[0]);
      response.writeHead(200, { "content-type": file[1], "cache-control": "no-store" });
      response.end(body);
    } catch {
      response.writeHead(500, { "content-type": "text/plain" }).end("unreadable");
    }
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  const { port: bound } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${bound}/`,
    inspect(client, event) {
      if (!isRoot(event)) return;
      const at = Date.now();
      if (event.type === "@xstate.snapshot") {
        const value = (event.snapshot as { value?: unknown }).value;
        if (value === undefined) return;
        const state = connectionStateOf(value as StateValue);
        send({ kind: "state", at, client, value, state, event: event.event.type });
      }
      const line = narrator.inspect(client, event, at);
      if (line) send({ kind: "line", ...line });
    },
    demo(event) {
      const line = narrator.demo(event);
      if (line) send({ kind: "line", ...line });
    },
    async close() {
      for (const stream of streams) stream.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
