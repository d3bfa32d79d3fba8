/**
 * The live viewer's log (demo/web/narrate.ts), fed by real machines'
 * inspection streams: the production connection machine driven through a
 * refused token, a refresh and a disconnect(), and a small machine with a
 * state the production one does not have yet (a renewal ahead of expiry),
 * to show the log names it without being told its name.
 */

import { describe, expect, test } from "vitest";
import { createActor, createMachine, fromPromise, type InspectionEvent, waitFor } from "xstate";
import { type LogLine, type MachineFacts, Narrator } from "../../demo/web/narrate.js";
import { CONNECTION_FACTS } from "../../demo/web/server.js";
import { machineInput, resolveOptions } from "../../src/client/options.js";
import { connectionMachine } from "../../src/machines/connection.machine.js";
import type { RestoreResult } from "../../src/machines/connection.types.js";

function recorder(facts: MachineFacts) {
  const narrator = new Narrator(facts);
  const lines: LogLine[] = [];
  const inspect = (event: InspectionEvent) => {
    const line = narrator.inspect("c1", event);
    if (line) lines.push(line);
  };
  return { lines, inspect, narrator };
}

describe("the viewer's log", () => {
  test("the page's flow in words: the refusal with its code, the renewal and why, a disconnect() as asked", async () => {
    const { lines, inspect } = recorder(CONNECTION_FACTS);
    const options = resolveOptions({
      endpoint: { host: "127.0.0.1", port: 1 },
      refreshWaitSeconds: 0.01,
    });
    const machine = connectionMachine.provide({
      actions: { openLink: () => {} },
      actors: {
        restoreSubscriptions: fromPromise(
          async (): Promise<RestoreResult> => ({
            filters: 2,
            packets: 1,
            rejected: [],
            sessionPresent: false,
          }),
        ),
        refreshCredentials: fromPromise(async ({ input }) => input.endpoint),
      },
    });
    const actor = createActor(machine, {
      input: { ...machineInput(options, { random: Math.random }), hasCredentialsProvider: true },
      inspect,
    }).start();
    actor.send({ type: "USER.CONNECT" });
    actor.send({ type: "MQTT.CONNACK", sessionPresent: false });
    await waitFor(actor, (s) => s.matches({ session: { link: "connected" } }));
    actor.send({
      type: "MQTT.REFUSED",
      refusal: { source: "connack", reasonCode: 5, reason: "not authorized", category: "auth" },
    });
    actor.send({ type: "MQTT.CLOSED", error: new Error("closed") as never });
    await waitFor(actor, (s) => s.matches({ session: { link: "reconnecting" } }));
    actor.send({ type: "MQTT.CONNACK", sessionPresent: true });
    await waitFor(actor, (s) => s.matches({ session: { link: "connected" } }));
    actor.send({ type: "USER.DISCONNECT" });
    actor.send({ type: "MQTT.CLOSED", error: new Error("closed") as never });
    actor.stop();

    expect(lines.map((l) => `${l.text} → ${l.state}${l.detail ? ` · ${l.detail}` : ""}`)).toEqual([
      "connect(): connecting → connecting",
      "broker accepted the connection → restoring",
      "subscriptions restored: 2 filters in 1 SUBSCRIBE → connected · live",
      "broker refused the credentials: CONNACK 5 (not authorized) → authFailed",
      "renewing credentials after the broker refused them with CONNACK 5 (not authorized): asking onAuthFailure → refreshing",
      "new credentials received → waiting",
      "waited 0.01 s (refresh wait) → reconnecting",
      "broker accepted the connection (it kept the session) → restoring",
      "subscriptions restored: 2 filters in 1 SUBSCRIBE → connected · live",
      "disconnect(): closing the connection, as asked → closing",
      "disconnected, as disconnect() asked → idle",
    ]);
    expect(lines.find((l) => l.state === "refreshing")?.tone).toBe("renewal");
    // The machine's own words for where the client went, and the raw event behind each line.
    expect(lines.find((l) => l.state === "waiting")?.about).toMatch(/2 s/);
    for (const line of lines) expect(JSON.parse(line.raw)).toHaveProperty("event.type");
  });

  test("a renewal state it was never told about: ahead of expiry, and a renewal that stays put", () => {
    const machine = createMachine({
      id: "connection",
      initial: "connected",
      states: {
        connected: {
          initial: "live",
          states: {
            live: { on: { "AUTH.EXPIRING": "renewingAhead" } },
            renewingAhead: { on: { "AUTH.RENEWED": "live" } },
          },
          on: { "AUTH.ROTATED": {} },
        },
      },
    });
    const facts: MachineFacts = {
      publicState: () => "connected",
      description: () => undefined,
      actorSource: () => undefined,
      delayMs: () => undefined,
    };
    const { lines, inspect } = recorder(facts);
    const actor = createActor(machine, { inspect }).start();
    actor.send({ type: "AUTH.EXPIRING" });
    actor.send({ type: "AUTH.RENEWED" });
    actor.send({ type: "AUTH.ROTATED" });
    actor.stop();
    expect(lines.map((l) => [l.text, l.tone])).toEqual([
      ["renewing credentials ahead of expiry (the connection stays up)", "renewal"],
      ["credentials: renewed", "renewal"],
      ["credentials: rotated", "renewal"],
    ]);
  });
});
