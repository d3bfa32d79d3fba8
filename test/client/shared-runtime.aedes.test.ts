/**
 * Clients without `inspect` run their machines on one actor system shared
 * by the process: the credential refreshes and subscription restores they
 * invoke are child actors there, and their delayed events are scheduled
 * there. Once every client is idle again, none of it may be left behind: no
 * child still running, no delayed event still scheduled (a leak there would
 * be the whole process's, not one client's).
 */

import type { Endpoint } from "@armaanjain/courier-web-sdk";
import { afterEach, expect, test } from "vitest";
import { Actor, type AnyActorRef } from "xstate";
import { TestBroker } from "../support/broker.js";
import { ClientPool } from "../support/clients.js";
import { reach } from "../support/wait.js";

let broker: TestBroker | undefined;
const pool = new ClientPool();
afterEach(async () => {
  await pool.closeAll();
  await broker?.close();
});

const CLIENTS = 20;
const CYCLES = 3;

test("after refreshes and restores on many clients, the shared system holds no running child and no delayed event", async () => {
  // Every actor started in this process from here on: the clients' invoked children.
  const started: AnyActorRef[] = [];
  const start = Actor.prototype.start;
  Actor.prototype.start = function (this: Actor<never>) {
    started.push(this as unknown as AnyActorRef);
    return start.call(this);
  } as typeof start;
  try {
    // Only the current generation's password is accepted: each cycle refuses the last one.
    let generation = 0;
    broker = await TestBroker.start({
      authenticate: (_user, password) => (password === `token-${generation}` ? true : 5),
    });
    const port = broker.tcpPort;
    const clients = Array.from({ length: CLIENTS }, (_, i) =>
      pool.make({
        endpoint: {
          host: "127.0.0.1",
          port,
          clientId: `shared-${i}`,
          username: "app",
          password: "token-none",
        },
        onAuthFailure: async () => ({ password: `token-${generation}` }) as Endpoint,
        refreshWaitSeconds: 0.05,
        environment: false,
      }),
    );
    for (const [i, client] of clients.entries()) void client.subscribe(`shared/${i}`, () => {});
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      generation += 1;
      await Promise.all(clients.map((client) => client.connect()));
      expect(clients.every((client) => client.state === "connected")).toBe(true);
      await Promise.all(clients.map((client) => client.disconnect()));
    }
    expect(clients.every((client) => client.state === "idle")).toBe(true);

    // A refresh left unanswered, cut short by disconnect(): its child is stopped, not left running.
    const hung = pool.make({
      endpoint: {
        host: "127.0.0.1",
        port,
        clientId: "shared-hung",
        username: "app",
        password: "x",
      },
      onAuthFailure: () => new Promise<Endpoint>(() => {}),
      environment: false,
    });
    const connecting = hung.connect().catch(() => {});
    await reach(hung, "refreshing");
    await hung.disconnect();
    await connecting;

    // Each client refreshed and restored once per cycle, each time as a child actor.
    expect(started.length).toBeGreaterThanOrEqual(CLIENTS * CYCLES * 2 + 1);
    const system = started[0]?.system as { getSnapshot(): { _scheduledEvents: object } };
    await new Promise((resolve) => setTimeout(resolve, 50));
    const running = started.filter((actor) => actor.getSnapshot().status === "active");
    expect(running.map((actor) => actor.id)).toEqual([]);
    expect(Object.keys(system.getSnapshot()._scheduledEvents)).toEqual([]);
  } finally {
    Actor.prototype.start = start;
  }
});
