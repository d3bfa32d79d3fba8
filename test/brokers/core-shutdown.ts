/**
 * The clean-shutdown part of the core behaviour suite (DESIGN.md behaviour
 * 10): `disconnect()` in each state leaves no socket, timer or pending
 * promise, and the broker sees the client gone. Called inside
 * `coreBehaviourSuite`, with its broker.
 */

import {
  type ConnectionState,
  RealtimeClient,
  type RealtimeClientOptions,
} from "@armaanjain/courier-web-sdk";
import { expect, test } from "vitest";
import { handleCounts, sleep, waitFor } from "../support/wait.js";
import type { BrokerDriver } from "./driver.js";

export interface SuiteContext {
  /** The broker of the running test. */
  broker(): BrokerDriver;
  nextId(prefix: string): string;
  /** False when the broker cannot drop a connection (the `backoff` case is then left out). */
  canKick: boolean;
}

export function cleanShutdownCases(ctx: SuiteContext): void {
  /** How to bring a client into each state (`whenConnected` runs once it is connected). */
  const scenarios: Partial<
    Record<
      ConnectionState,
      (user: string) => {
        options: Partial<RealtimeClientOptions>;
        password: string;
        whenConnected?: () => Promise<void>;
      }
    >
  > = {
    connected: () => ({ options: {}, password: "good" }),
    refreshing: () => ({
      options: { onAuthFailure: () => new Promise(() => {}) },
      password: "bad",
    }),
    waiting: () => ({
      options: { onAuthFailure: async () => ({ password: "good" }) },
      password: "bad",
    }),
    authBackoff: () => ({
      options: {
        onAuthFailure: async () => {
          throw new Error("token service down");
        },
      },
      password: "bad",
    }),
    reconnecting: () => ({
      options: {
        onAuthFailure: async () => ({ password: "good" }),
        refreshWaitSeconds: 0.01,
      },
      password: "bad",
    }),
    backoff: (user) => ({
      options: { retryBackoff: { baseSeconds: 30 } },
      password: "good",
      whenConnected: () => ctx.broker().kick(user),
    }),
  };

  if (!ctx.canKick) delete scenarios.backoff;
  for (const [state, scenario] of Object.entries(scenarios)) {
    test(`disconnect() in ${state}: no socket, timer or pending promise left; the broker sees the client gone`, async () => {
      const id = ctx.nextId(`bye-${state}`);
      const user = `user-${id}`;
      await ctx.broker().setPassword(user, "good");
      const before = handleCounts();
      const { options, password, whenConnected } = scenario(user);
      const c = new RealtimeClient({
        endpoint: ctx.broker().endpoint("tcp", { username: user, password, clientId: id }),
        environment: false,
        ...options,
        mqtt: ctx.broker().mqtt,
      });
      const promises = [
        c.subscribe("bye/topic", () => {}, { qos: 1 }),
        c.publish("bye/topic", "queued", { qos: 1 }),
        c.connect(),
      ].map((p) =>
        p.then(
          () => "resolved",
          () => "rejected",
        ),
      );
      let disconnected: Promise<void> | undefined;
      const onState = ({ state: now }: { state: ConnectionState }) => {
        if (now === "connected" && whenConnected) void whenConnected();
        if (now === state && !disconnected) disconnected = c.disconnect();
      };
      c.on("stateChange", onState);
      await waitFor(() => disconnected !== undefined, 10_000, `reaching ${state}`);
      await disconnected;
      expect(c.state).toBe("idle");
      const outcomes = await Promise.race([
        Promise.all(promises),
        sleep(2000).then(() => "pending"),
      ]);
      expect(outcomes).not.toBe("pending");
      await waitFor(() => !ctx.broker().connectedIds().includes(id), 5000, "broker side closed");
      await waitFor(
        () => {
          const after = handleCounts();
          return ["TCPSocketWrap", "Timeout", "Immediate"].every(
            (k) => (after[k] ?? 0) <= (before[k] ?? 0),
          );
        },
        3000,
        `no handles left (before ${JSON.stringify(before)}, now ${JSON.stringify(handleCounts())})`,
      );
      const later: string[] = [];
      c.on("stateChange", (s) => later.push(s.state));
      await sleep(300);
      expect(later).toEqual([]);
    });
  }
}
