/**
 * What docs/testing.md shows an app team: generate paths from the published
 * machine (`@armaanjain/courier-web-sdk/machine`) with `xstate/graph`, for
 * tests of their own — here, a status banner that must have a text for
 * every state the client can show. Only the package's public exports are
 * used, so the doc's code keeps compiling and running.
 */

import { ConnectionLostError } from "@armaanjain/courier-web-sdk";
import {
  type ConnectionEvent,
  type ConnectionInput,
  type ConnectionState,
  classifyConnack,
  connectionMachine,
  connectionStateOf,
  DEFAULT_RETRY,
  DEFAULT_TIMING,
  type ResolvedEndpoint,
  Secret,
} from "@armaanjain/courier-web-sdk/machine";
import { describe, expect, expectTypeOf, test } from "vitest";
import type { AnyMachineSnapshot } from "xstate";
import { getShortestPaths } from "xstate/graph";

// --- docs/testing.md, "Generate paths for your own tests" (keep in sync) ---

const endpoint: ResolvedEndpoint = {
  host: "broker.example.com",
  port: 8883,
  scheme: "mqtts",
  path: "/mqtt",
  username: "app",
  password: new Secret("token"),
  clientId: "app-test",
};

const input: ConnectionInput = {
  endpoints: [endpoint],
  retry: DEFAULT_RETRY,
  timing: DEFAULT_TIMING,
  hasCredentialsProvider: true,
  random: Math.random,
};

/**
 * The events to try in every state, with the payloads the machine's guards and actions
 * read. `root.events` lists every event type the machine handles, delays
 * (`xstate.after.*`) and invoked actors' results (`xstate.done.actor.*`) included.
 */
function eventsOf(type: string): ConnectionEvent[] {
  const event = (e: object) => e as ConnectionEvent;
  if (type === "MQTT.CONNACK") return [event({ type, sessionPresent: false })];
  if (type === "MQTT.REFUSED") {
    // Token rejected (refresh path) and identifier rejected (cannot be fixed by retrying).
    return [classifyConnack(5, 4), classifyConnack(2, 4)].map((refusal) =>
      event({ type, refusal }),
    );
  }
  if (type === "MQTT.DISCONNECT") return []; // MQTT 5 only: add classifyDisconnect(…) payloads if you use 5
  if (type === "MQTT.CLOSED") return [event({ type, error: new ConnectionLostError("closed") })];
  if (type === "USER.UPDATE_ENDPOINT") return [event({ type, endpoint })];
  if (type.startsWith("xstate.done.actor.") && type.endsWith(".refreshing")) {
    return [event({ type, output: { ...endpoint, password: new Secret("fresh-token") } })];
  }
  if (type.startsWith("xstate.done.actor.") && type.endsWith(".restoring")) {
    return [
      event({ type, output: { filters: 0, packets: 0, rejected: [], sessionPresent: false } }),
    ];
  }
  return [event({ type })];
}

const paths = getShortestPaths(connectionMachine, {
  input,
  events: connectionMachine.root.events.flatMap(eventsOf),
  // The state value only: the context holds retry counters that grow without end.
  serializeState: (snapshot) => JSON.stringify(snapshot.value),
});

// --- end of the doc's code ---

/** The app's status banner: a text for every state. */
const banner: Record<ConnectionState, string> = {
  idle: "Offline",
  connecting: "Connecting…",
  restoring: "Connecting…",
  connected: "Live",
  authFailed: "Renewing your session…",
  refreshing: "Renewing your session…",
  waiting: "Renewing your session…",
  reconnecting: "Reconnecting…",
  authBackoff: "Renewing your session…",
  backoff: "Reconnecting…",
  closing: "Disconnecting…",
  failed: "Disconnected: check your account",
};

describe("an app team's own tests, generated from the published machine", () => {
  test("every generated path shows a banner text at every step", () => {
    const seen = new Set<ConnectionState>();
    for (const path of paths) {
      for (const step of path.steps) {
        const state = connectionStateOf((step.state as AnyMachineSnapshot).value);
        expect(banner[state]).toBeTruthy();
        seen.add(state);
      }
    }
    // Every public state is reachable, so every banner text is exercised.
    expect([...seen].sort()).toEqual(Object.keys(banner).sort());
  });

  test("states and events are typed unions", () => {
    expectTypeOf<"connected">().toMatchTypeOf<ConnectionState>();
    expectTypeOf<string>().not.toMatchTypeOf<ConnectionState>();
    expectTypeOf<{ type: "MQTT.PONG" }>().toMatchTypeOf<ConnectionEvent>();
    expectTypeOf<{ type: "NOT.AN.EVENT" }>().not.toMatchTypeOf<ConnectionEvent>();
  });
});

test("docs/testing.md shows this file's code", async () => {
  const { readFileSync } = await import("node:fs");
  const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8");
  const source = read("./app-team.test.ts");
  const start = source.indexOf("\n", source.indexOf("// --- docs/testing.md")) + 1;
  const body = source.slice(start, source.indexOf("// --- end of the doc's code ---")).trim();
  expect(read("../../docs/testing.md")).toContain(body);
});
