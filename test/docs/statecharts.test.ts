/**
 * docs/statecharts/ is generated from the production machine: regenerate it
 * in memory and fail when the committed files differ (drift), and check that
 * the diagrams show the whole machine, readably.
 */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { createActor } from "xstate";
import { connectionChart, DELAY_OPTIONS } from "../../scripts/statecharts/connection.js";
import { generateStatecharts } from "../../scripts/statecharts/generate.js";
import { overlaps } from "../../scripts/statecharts/svg.js";
import { machineInput, resolveOptions } from "../../src/client/options.js";
import { connectionMachine } from "../../src/machines/connection.machine.js";
import type { ConnectionContext } from "../../src/machines/connection.types.js";

type DelayFn = (args: { context: ConnectionContext; event: { type: string } }) => number;

const dir = fileURLToPath(new URL("../../docs/statecharts/", import.meta.url));

describe("docs/statecharts", () => {
  test("the committed files are what `npm run diagrams` generates now (run it after changing the machine)", async () => {
    const files = await generateStatecharts();
    expect(Object.keys(files).sort()).toEqual(["README.md", "connection.mmd", "connection.svg"]);
    for (const [name, content] of Object.entries(files)) {
      expect(readFileSync(`${dir}${name}`, "utf8"), `docs/statecharts/${name} drifted`).toBe(
        content,
      );
    }
  });

  test("the same machine gives byte-identical files", async () => {
    expect(await generateStatecharts()).toEqual(await generateStatecharts());
  });

  test("every state, delay and transition appears; no label sits on another label or a state", async () => {
    const chart = connectionChart();
    const files = await generateStatecharts();
    const readme = files["README.md"] ?? "";
    const mermaid = files["connection.mmd"] ?? "";
    const svg = files["connection.svg"] ?? "";
    for (const state of chart.states.slice(1)) {
      expect(mermaid).toContain(state.key);
      expect(svg).toContain(`id="${state.id}"`);
      expect(readme).toContain(`| \`${state.key}\` |`);
    }
    for (const delay of chart.delays) {
      expect(svg).toContain(`after ${delay.name} (${delay.value})`);
    }
    expect(chart.delays.find((d) => d.name === "REFRESH_WAIT")?.value).toBe("2 s");
    const rows = readme.split("\n").filter((line) => /^\| \d+ \|/.test(line));
    expect(rows).toHaveLength(chart.transitions.length);
    expect(await overlaps(chart)).toEqual([]);
  });
});

test("each delay's 'set by' option really sets it", () => {
  // Evaluate each delay with the machine's own function on a context built from options
  // where only that option was changed.
  for (const [name, options] of Object.entries(DELAY_OPTIONS)) {
    const patch: Record<string, Record<string, number> | number> = {};
    for (const option of options) {
      const [group, field] = option.split(".") as [string, string | undefined];
      if (field === undefined) patch[group] = 7.5;
      else patch[group] = { ...(patch[group] as Record<string, number>), [field]: 7.5 };
    }
    const resolved = resolveOptions({ endpoint: { host: "h", port: 1 }, ...patch });
    const context = createActor(connectionMachine, {
      input: machineInput(resolved, { random: Math.random }),
    }).getSnapshot().context;
    const delay = (connectionMachine.implementations.delays as Record<string, DelayFn>)[name];
    // A backoff delay is drawn when a failure is counted: the policy is what the option sets.
    const value = delay?.({ context, event: { type: "" } }) || context.retry.baseSeconds * 1000;
    expect(value, name).toBe(7500);
  }
});
