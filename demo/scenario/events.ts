/**
 * The demo's event stream: everything the timeline, `--json` and (later) a
 * web viewer show. Each event is plain JSON with a `type` namespaced by who
 * speaks and `at` (epoch milliseconds). The stack's own events
 * (`token.*`, `broker.*`) pass through unchanged.
 */

import type { ConnectionState } from "@armaanjain/courier-web-sdk";
import type { StackEvent } from "../stack/index.js";
import type { DemoConfig } from "./config.js";
import type { Summary } from "./summary.js";

export type DemoEvent =
  | StackEvent
  | {
      readonly type: "demo.started";
      readonly at: number;
      readonly config: DemoConfig;
      readonly brokerUrl: string;
      readonly tokenUrl: string;
      readonly viewers: readonly string[];
      readonly filters: readonly string[];
    }
  | {
      /** Every transition of every client; `durationMs` is the time spent in `previous`. */
      readonly type: "client.state";
      readonly at: number;
      readonly client: string;
      readonly state: ConnectionState;
      readonly previous: ConnectionState;
      readonly durationMs: number;
    }
  | {
      /** Subscriptions restored after a (re)connection (the client's `restored` event). */
      readonly type: "client.restored";
      readonly at: number;
      readonly client: string;
      readonly filters: number;
      readonly packets: number;
      readonly rejected: number;
      readonly sessionPresent: boolean;
      /** From the auth failure to now, less the 2 s wait; absent when this was no refresh. */
      readonly recoveryMs?: number;
      /** From losing the connection to now; absent on the first connection. */
      readonly offlineMs?: number;
    }
  | {
      readonly type: "client.error";
      readonly at: number;
      readonly client: string;
      readonly code: string;
      readonly message: string;
    }
  | {
      /** Counts over the last second. */
      readonly type: "messages.rate";
      readonly at: number;
      readonly published: number;
      readonly received: number;
      /** Sequence numbers still missing somewhere (may yet arrive). */
      readonly missing: number;
    }
  | {
      /** A viewer got `seq` while `from`..`to` had not arrived (yet). */
      readonly type: "messages.gap";
      readonly at: number;
      readonly client: string;
      readonly from: number;
      readonly to: number;
    }
  | {
      /** A viewer received messages again after a silence; `behind` were queued meanwhile. */
      readonly type: "messages.resumed";
      readonly at: number;
      readonly client: string;
      readonly silentMs: number;
      readonly seq: number;
      readonly behind: number;
    }
  | {
      readonly type: "demo.stopping";
      readonly at: number;
      readonly reason: "duration" | "signal";
      readonly lastSeq: number;
    }
  | ({ readonly type: "demo.summary"; readonly at: number } & Summary);

export type DemoEventType = DemoEvent["type"];

/** Where events go: a renderer, a test, a web page. */
export type DemoSink = (event: DemoEvent) => void;
