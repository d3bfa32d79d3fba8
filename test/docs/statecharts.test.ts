/**
 * docs/statecharts/ is generated from the production machine: regenerate it
 * in memory and fail when the committed files differ (drift), and check that
 * the diagrams show the whole machine, readably.
 */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { createActor, createMachine } from "xstate";
import { readChart } from "../../scripts/statecharts/chart.js";
import { connectionChart, DELAY_OPTIONS } from "../../scripts/statecharts/connection.js";
import { generateStatecharts } from "../../scripts/statecharts/generate.js";
import { overviewChecks, readOverview } from "../../scripts/statecharts/overview.js";
import { crossings, overlaps } from "../../scripts/statecharts/svg.js";
import { machineInput, resolveOptions } from "../../src/client/options.js";
import { connectionMachine } from "../../src/machines/connection.machine.js";
import type { ConnectionContext } from "../../src/machines/connection.types.js";

type DelayFn = (args: { context: ConnectionContext; event: { type: string } }) => number;

const dir = fileURLToPath(new URL("../../docs/statecharts/", import.meta.url));

describe("docs/statecharts", () => {
  test("the committed files are what `npm run diagrams` generates now (run it after changing the machine)", async () => {
    const files = await generateStatecharts();
    expect(Object.keys(files).sort()).toEqual([
      "README.md",
      "connection.mmd",
      "connection.svg",
      "overview.svg",
    ]);
    for (const [name, content] of Object.entries(files)) {
      expect(readFileSync(`${dir}${name}`, "utf8"), `docs/statecharts/${name} drifted`).toBe(
        content,
      );
    }
  });

  test("the same machine gives byte-identical files", async () => {
    expect(await generateStatecharts()).toEqual(await generateStatecharts());
  });

  test("every state, delay and transition appears; no label sits on another label, a state or an arrow", async () => {
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

  test("the full diagram's arrows cross no more often than recorded", async () => {
    // Arrows crossing arrows in connection.svg, counted on the laid-out diagram: 4 in the
    // layout this replaced (one wire per guarded candidate, labels at the arrows' ends), 0
    // since. A change that adds crossings must make the layout better, not raise this figure.
    const RECORDED = 0;
    expect(await crossings(connectionChart())).toBeLessThanOrEqual(RECORDED);
  });

  test("the overview is the page's flow as one loop, backoff and failed beside it; readable", async () => {
    const chart = connectionChart();
    const overview = readOverview(chart);
    const key = (id: string) => id.split(".").at(-1);
    expect(overview.loop.map(key)).toEqual([
      "restoring",
      "connected",
      "authFailed",
      "refreshing",
      "waiting",
      "reconnecting",
    ]);
    const shown = overview.states.map((s) => s.key);
    expect(shown).toEqual(expect.arrayContaining(["idle", "connecting", "backoff", "failed"]));
    // Folded away: inner detail and the rarer paths.
    for (const hidden of ["session", "link", "live", "probing", "closing", "authBackoff"]) {
      expect(shown).not.toContain(hidden);
    }
    const arrows = overview.edges.map((e) => `${key(e.source)}->${key(e.target)}`);
    expect(arrows).toEqual(
      expect.arrayContaining(["connected->backoff", "backoff->reconnecting", "connecting->failed"]),
    );
    // One arrow per pair of states: folded, not one wire per transition.
    expect(new Set(arrows).size).toBe(arrows.length);
    expect(overview.edges.find((e) => key(e.source) === "waiting")?.labels).toEqual(["after 2 s"]);
    const svg = (await generateStatecharts())["overview.svg"] ?? "";
    for (const state of overview.states) expect(svg).toContain(`id="${state.id}"`);
    expect(await overviewChecks(chart)).toEqual({ overlaps: [], crossings: 0 });
  });

  test("both diagrams carry their own light and dark colours", async () => {
    const files = await generateStatecharts();
    for (const name of ["connection.svg", "overview.svg"]) {
      const svg = files[name] ?? "";
      expect(svg, name).toContain("@media (prefers-color-scheme: dark)");
      // An opaque background of each theme's own, so a mismatched page theme cannot hide text.
      expect(svg, name).toMatch(/<rect class="sc-bg" width=/);
      // Every colour comes from the style block, so the dark rules reach everything.
      const drawn = svg.slice(svg.indexOf("</style>"));
      expect(drawn, name).not.toMatch(/(fill|stroke)="#/);
    }
  });
});

test("the overview reads meta.overview, whatever the states are called", () => {
  const machine = createMachine({
    id: "m",
    initial: "a",
    states: {
      a: { meta: { overview: true }, on: { GO: { target: "g", meta: { overview: "go" } } } },
      g: {
        initial: "b",
        on: { FAIL: { target: "a", meta: { overview: "fail", from: "c" } } },
        states: {
          b: { meta: { overview: true }, on: { NEXT: { target: "c", meta: { overview: true } } } },
          c: { meta: { overview: true }, on: { BACK: "b" } },
          d: {},
        },
      },
    },
  });
  const overview = readOverview(readChart(machine));
  expect(overview.states.map((s) => s.key)).toEqual(["a", "b", "c"]);
  expect(overview.edges.map((e) => [e.source, e.target, e.labels])).toEqual([
    ["m.a", "m.g.b", ["go"]],
    // A group's transition is drawn from the shown state its meta.from names.
    ["m.g.c", "m.a", ["fail"]],
    ["m.g.b", "m.g.c", ["NEXT"]],
  ]);
  // The loop starts where the way in from the initial state meets it (here: the initial state).
  expect(overview.loop).toEqual(["m.a", "m.g.b", "m.g.c"]);
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
    if (name === "REFRESH_AHEAD") {
      // The options set the lead before the credentials' expiry: 7.5 s + u · 7.5 s.
      const now = Date.now();
      const expiresAt = now + 3_600_000;
      const resolved = resolveOptions({
        endpoint: { host: "h", port: 1, username: "u", password: "p", expiresAt },
        onAuthFailure: () => ({ host: "h", port: 1 }),
        ...patch,
      });
      const context = createActor(connectionMachine, {
        input: machineInput(resolved, { random: Math.random, now: () => now }),
      }).getSnapshot().context;
      const delay = (connectionMachine.implementations.delays as Record<string, DelayFn>)[name];
      const lead = expiresAt - now - (delay?.({ context, event: { type: "" } }) ?? 0);
      expect(lead, name).toBeGreaterThanOrEqual(7500);
      expect(lead, name).toBeLessThanOrEqual(15_000);
      continue;
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
