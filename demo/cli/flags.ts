/**
 * `npm run demo -- [flags]`: parsing and validation. A bad flag is a
 * `UsageError` whose message says what was wrong and what is accepted; the
 * entry point prints it and exits with code 2.
 */

import { parseArgs } from "node:util";
import type { Jitter } from "@armaanjain/courier-web-sdk";
import {
  DEFAULT_CONFIG,
  type DemoConfig,
  MAX_CLIENTS,
  MAX_RATE,
  MIN_TTL_SECONDS,
} from "../scenario/config.js";

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export type Command =
  | { readonly kind: "help" }
  | {
      readonly kind: "run";
      readonly config: DemoConfig;
      readonly json: boolean;
      /** `--web`: serve the live statechart viewer on 127.0.0.1 (`port` 0: any free one). */
      readonly web?: { readonly port: number };
    };

const JITTERS: readonly Jitter[] = ["none", "full", "equal", "decorrelated"];

export const USAGE = `Usage: npm run demo -- [options]

Starts an MQTT broker whose JWTs expire every --ttl seconds and a token
endpoint (GET /api/mqtt/token) on 127.0.0.1, connects --clients
RealtimeClients sharing one RemoteCredentials plus a publisher sending
numbered QoS 1 messages, and prints the timeline of every token expiry:
auth failure, refresh, the 2 s wait, reconnect, restore. Ends with a summary.

Options:
  --ttl <seconds>       token lifetime, at least ${MIN_TTL_SECONDS} (default ${DEFAULT_CONFIG.ttlSeconds})
  --duration <seconds>  how long to publish; 0 runs until Ctrl-C (default ${DEFAULT_CONFIG.durationSeconds})
  --clients <n>         viewers sharing one RemoteCredentials, 1-${MAX_CLIENTS} (default ${DEFAULT_CONFIG.clients})
  --rate <n>            messages published per second, 1-${MAX_RATE} (default ${DEFAULT_CONFIG.rate})
  --jitter <kind>       retry backoff jitter: ${JITTERS.join(", ")} (default ${DEFAULT_CONFIG.jitter})
  --transport <kind>    broker listener: tcp or ws (default ${DEFAULT_CONFIG.transport})
  --token-latency <ms>  how long the token endpoint takes to answer, like a real
                        backend; overlapping refreshes share one request (default ${DEFAULT_CONFIG.tokenLatencyMs})
  --clean               clean sessions instead of persistent ones: every reconnection
                        re-subscribes, and what was published meanwhile is lost
  --json                one JSON event per line instead of the timeline
  --web                 also serve a live statechart viewer on 127.0.0.1: the
                        state diagram with every client's state highlighted and
                        an event log (works offline); runs until Ctrl-C unless
                        --duration is given
  --port <n>            the viewer's port (default: any free one; the URL is printed)
  -h, --help            show this help

Colour is used on a terminal unless NO_COLOR is set.
Exit codes: 0 nothing lost, 1 messages lost or the run failed, 2 bad flags.
`;

function number(
  flag: string,
  value: string | undefined,
  fallback: number,
  { min, max, integer, why }: { min: number; max: number; integer: boolean; why?: string },
): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  const ok =
    value.trim() !== "" && Number.isFinite(parsed) && (!integer || Number.isInteger(parsed));
  if (!ok || parsed < min || parsed > max) {
    const kind = integer ? "a whole number" : "a number";
    const reason = why ? ` (${why})` : "";
    throw new UsageError(
      `--${flag} must be ${kind} from ${min} to ${max}${reason}, got "${value}"`,
    );
  }
  return parsed;
}

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T))
    throw new UsageError(`--${flag} must be one of ${allowed.join(", ")}, got "${value}"`);
  return value as T;
}

export function parseFlags(argv: readonly string[]): Command {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        ttl: { type: "string" },
        duration: { type: "string" },
        clients: { type: "string" },
        rate: { type: "string" },
        jitter: { type: "string" },
        transport: { type: "string" },
        "token-latency": { type: "string" },
        clean: { type: "boolean" },
        json: { type: "boolean" },
        web: { type: "boolean" },
        port: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    // node:util's messages name the flag ("Unknown option '--tll'"); keep them, drop its hint about "--".
    throw new UsageError((error as Error).message.replace(/\. To specify a positional .*$/s, ""));
  }
  if (values.help) return { kind: "help" };
  const text = (name: string) => values[name] as string | undefined;
  const config: DemoConfig = {
    ttlSeconds: number("ttl", text("ttl"), DEFAULT_CONFIG.ttlSeconds, {
      min: MIN_TTL_SECONDS,
      max: 3600,
      integer: false,
      why: "a refreshed token must outlive the SDK's 2 s wait and the reconnection",
    }),
    // A viewer is watched, not waited for: with --web the run lasts until Ctrl-C by default.
    durationSeconds: number(
      "duration",
      text("duration"),
      values.web ? 0 : DEFAULT_CONFIG.durationSeconds,
      {
        min: 0,
        max: 86_400,
        integer: false,
      },
    ),
    clients: number("clients", text("clients"), DEFAULT_CONFIG.clients, {
      min: 1,
      max: MAX_CLIENTS,
      integer: true,
    }),
    rate: number("rate", text("rate"), DEFAULT_CONFIG.rate, {
      min: 1,
      max: MAX_RATE,
      integer: false,
    }),
    jitter: oneOf("jitter", text("jitter"), JITTERS, DEFAULT_CONFIG.jitter),
    transport: oneOf(
      "transport",
      text("transport"),
      ["tcp", "ws"] as const,
      DEFAULT_CONFIG.transport,
    ),
    tokenLatencyMs: number("token-latency", text("token-latency"), DEFAULT_CONFIG.tokenLatencyMs, {
      min: 0,
      max: 5000,
      integer: false,
    }),
    cleanSession: values.clean === true,
  };
  if (text("port") !== undefined && !values.web) throw new UsageError("--port needs --web");
  const port = number("port", text("port"), 0, { min: 0, max: 65_535, integer: true });
  return {
    kind: "run",
    config,
    json: values.json === true,
    ...(values.web ? { web: { port } } : {}),
  };
}
