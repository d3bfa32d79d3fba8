/**
 * Transition coverage: every transition of the machine (chart.ts: state ×
 * event × guard candidate → target), and how many replayed paths took it —
 * as observed in the inspection stream, not as the model predicted.
 */

import type { ChartTransition } from "../../scripts/statecharts/chart.js";
import { guardLabel } from "../../scripts/statecharts/svg.js";
import { expirySuite, noRealCause } from "./faults.js";
import { chart } from "./model-graph.js";

export interface CoverageRow {
  readonly transition: ChartTransition;
  /** Replayed paths on a real client that took it. */
  readonly client: number;
  /** Machine-only replays (test actors) that took it. */
  readonly machine: number;
  /** Why no real client can take it, if so (faults.ts). */
  readonly noRealCause: string | undefined;
  /** The suite that takes it instead of the generated paths (expiry-driven; faults.ts). */
  readonly elsewhere: { readonly by: string; readonly real: boolean } | undefined;
}

export interface Coverage {
  readonly rows: readonly CoverageRow[];
  /** Transitions not taken where they must be: on a real client, or on the machine when no real cause exists. */
  readonly missing: readonly CoverageRow[];
  /** Transitions faults.ts says no real cause can trigger, yet a real client took: the claim is wrong. */
  readonly contradicted: readonly CoverageRow[];
  readonly percent: number;
}

export function computeCoverage(
  client: readonly (readonly string[])[],
  machine: readonly (readonly string[])[],
): Coverage {
  const count = (runs: readonly (readonly string[])[], key: string) =>
    runs.filter((taken) => taken.includes(key)).length;
  const rows = chart.transitions.map((transition) => ({
    transition,
    client: count(client, transition.key),
    machine: count(machine, transition.key),
    noRealCause: noRealCause(transition.key),
    elsewhere: expirySuite(transition.key),
  }));
  const missing = rows.filter((r) =>
    r.noRealCause ? r.machine === 0 : r.elsewhere ? false : r.client === 0,
  );
  const contradicted = rows.filter((r) => r.noRealCause && r.client > 0);
  return {
    rows,
    missing,
    contradicted,
    percent: Math.floor((100 * (rows.length - missing.length)) / rows.length),
  };
}

const short = (id: string) => (id === chart.id ? "(any)" : id.slice(chart.id.length + 1));

export function formatCoverage(coverage: Coverage): string {
  const header = ["#", "from", "on", "guard", "to", "client", "machine"];
  const lines = coverage.rows.map((r, i) => [
    String(i + 1),
    short(r.transition.source),
    r.transition.trigger,
    guardLabel(r.transition),
    r.transition.ignored
      ? "(ignored)"
      : r.transition.targets.length
        ? r.transition.targets.map(short).join(",")
        : "(stays)",
    String(r.client),
    r.noRealCause
      ? `${r.machine} (no real cause)`
      : r.elsewhere && r.client === 0
        ? `taken in ${r.elsewhere.by}${r.elsewhere.real ? " (real client)" : " (machine)"}`
        : "",
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => (l[c] ?? "").length)));
  const row = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join("  ");
  const onClient = coverage.rows.filter((r) => r.client > 0).length;
  const onMachine = coverage.rows.filter(
    (r) => r.client === 0 && r.machine > 0 && !r.elsewhere,
  ).length;
  const elsewhere = coverage.rows.filter((r) => r.client === 0 && r.elsewhere);
  return [
    row(header),
    ...lines.map(row),
    "",
    `${coverage.rows.length} transitions: ${onClient} taken on a real client against a real broker, ` +
      `${onMachine} only on the machine (no real cause; reasons in test/model/faults.ts); ` +
      `${elsewhere.filter((r) => r.elsewhere?.real).length} expiry-driven ones on a real client and ` +
      `${elsewhere.filter((r) => !r.elsewhere?.real).length} on the machine by the suites named (the paths have no clock); ` +
      `coverage ${coverage.percent} %`,
    ...coverage.missing.map((r) => `NOT COVERED: ${r.transition.key}`),
    ...coverage.contradicted.map(
      (r) => `TAKEN FOR REAL despite "no real cause": ${r.transition.key}`,
    ),
  ].join("\n");
}
