/**
 * The platform watcher (`watchEnvironment`) runs while a session runs, and
 * only where there is a platform to watch (`watchesEnvironment` in the
 * input): elsewhere no child actor is started for it (it would cost memory
 * per client and watch nothing).
 */

import { expect, test } from "vitest";
import { createActor, fromCallback } from "xstate";
import { connectionMachine } from "../../src/machines/connection.machine.js";
import {
  type ConnectionInput,
  DEFAULT_RETRY,
  DEFAULT_TIMING,
} from "../../src/machines/connection.types.js";
import { Secret } from "../../src/services/secret.js";

function run(watchesEnvironment: boolean | undefined) {
  const watchers = { started: 0, stopped: 0 };
  const links = { opened: 0, closed: 0 };
  const machine = connectionMachine.provide({
    actions: {
      openLink: () => {
        links.opened += 1;
      },
      closeLink: () => {
        links.closed += 1;
      },
    },
    actors: {
      watchEnvironment: fromCallback(({ sendBack }) => {
        watchers.started += 1;
        // A platform signal reaches the machine like the browser's would.
        sendBack({ type: "NET.OFFLINE" });
        return () => {
          watchers.stopped += 1;
        };
      }),
    },
  });
  const input: ConnectionInput = {
    endpoints: [
      {
        host: "127.0.0.1",
        port: 1883,
        scheme: "mqtt",
        path: "/mqtt",
        username: "u",
        password: new Secret("p"),
        clientId: "env",
      },
    ],
    retry: DEFAULT_RETRY,
    timing: DEFAULT_TIMING,
    hasCredentialsProvider: false,
    random: () => 0.5,
    ...(watchesEnvironment === undefined ? {} : { watchesEnvironment }),
  };
  const actor = createActor(machine, { input }).start();
  actor.send({ type: "USER.CONNECT" });
  const children = Object.keys(actor.getSnapshot().children);
  const state = JSON.stringify(actor.getSnapshot().value);
  actor.send({ type: "USER.DISCONNECT" });
  const afterDisconnect = Object.keys(actor.getSnapshot().children);
  actor.stop();
  return { watchers, links, children, state, afterDisconnect };
}

test("with a platform to watch: started on connect, its signals handled, stopped on disconnect", () => {
  const result = run(true);
  expect(result.watchers).toEqual({ started: 1, stopped: 1 });
  // NET.OFFLINE from the watcher dropped the first link: the session backs off.
  expect(result.state).toContain("backoff");
  expect(result.afterDisconnect).not.toContain("environment");
});

test("by default (the published machine's input without the flag) the watcher runs", () => {
  expect(run(undefined).watchers.started).toBe(1);
});

test("without one: no watcher child at all, and the session runs as usual", () => {
  const result = run(false);
  expect(result.watchers).toEqual({ started: 0, stopped: 0 });
  expect(result.children).not.toContain("environment");
  // The connection is opened by the link state's entry action, no child actor either.
  expect(result.children).toEqual([]);
  expect(result.links.opened).toBe(1);
  expect(result.state).toContain("connecting");
});
