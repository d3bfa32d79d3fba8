/**
 * "Adding a state or a transition must produce new paths by itself": build
 * variants of the production machine with one more transition and one more
 * state, and check the generator finds paths through them — nothing in
 * test/model lists states, events or transitions by hand.
 */

import { describe, expect, test } from "vitest";
import { type AnyStateMachine, createMachine } from "xstate";
import { readChart } from "../../scripts/statecharts/chart.js";
import { connectionMachine } from "../../src/machines/connection.machine.js";
import { candidatePaths, SCENARIOS } from "./model-graph.js";

type Config = { states?: Record<string, Config>; on?: Record<string, unknown> } & Record<
  string,
  unknown
>;

/** The production config with `edit` applied to the state at `path` (a copy; nothing shared is mutated). */
function variant(path: string[], edit: (state: Config) => Config): AnyStateMachine {
  const change = (config: Config, rest: string[]): Config => {
    const [head, ...tail] = rest;
    if (head === undefined) return edit(config);
    const states = config.states ?? {};
    return { ...config, states: { ...states, [head]: change(states[head] ?? {}, tail) } };
  };
  return createMachine(
    change(connectionMachine.config as unknown as Config, path) as never,
    connectionMachine.implementations as never,
  ) as unknown as AnyStateMachine;
}

const scenario = SCENARIOS[0];

describe("new transitions and states get paths without listing them", () => {
  test("a new event handled in backoff", () => {
    const machine = variant(["session", "backoff"], (state) => ({
      ...state,
      on: { ...state.on, "USER.CONNECT": "link.reconnecting" },
    }));
    const key = "connection.session.backoff|USER.CONNECT|0";
    expect(readChart(machine).transitions.map((t) => t.key)).toContain(key);
    const paths = candidatePaths(scenario as never, true, machine);
    expect(paths.some((p) => p.covers.has(key))).toBe(true);
  });

  test("a new state with a delay out of it", () => {
    const machine = variant(["session"], (session) => ({
      ...session,
      states: {
        ...session.states,
        cooling: {
          description: "A new state for this test.",
          after: { REFRESH_WAIT: "link.reconnecting" },
        },
        backoff: {
          ...session.states?.backoff,
          on: { ...session.states?.backoff?.on, "NET.OFFLINE": "cooling" },
        },
      },
    }));
    const keys = readChart(machine)
      .transitions.filter((t) => t.source === "connection.session.cooling")
      .map((t) => t.key);
    expect(keys).toHaveLength(1);
    const covered = new Set(
      candidatePaths(scenario as never, true, machine).flatMap((p) => [...p.covers]),
    );
    expect(covered.has(keys[0] as string)).toBe(true);
    expect(covered.has("connection.session.backoff|NET.OFFLINE|0")).toBe(true);
  });
});
