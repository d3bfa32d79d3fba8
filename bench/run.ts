/**
 * `npm run bench [-- --quick] [--only=a,b] [--write] [--strict] [--render]`
 *
 * Builds `dist/` first if it is older than `src/` (and says so): every
 * benchmark measures the SDK as apps load it, the built package through its
 * `exports` (bench/support/dist.ts). Runs each benchmark in a fresh process
 * (so one's garbage, sockets or crash cannot skew another), prints the
 * table, and — in the full run, or
 * with `--write` — regenerates docs/benchmarks.md, its herd plot and the raw
 * results (docs/benchmarks.json). `--render` rebuilds the page from those
 * results without measuring (after editing bench/analysis.md).
 * Exit code: 1 if a benchmark crashed; missed targets are reported, and
 * fail the run only with `--strict`.
 */

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { HerdData } from "./herd.js";
import { distEnv, ensureDist, TSX_LOADER } from "./support/dist.js";
import { herdSvg } from "./support/plot.js";
import { machineSummary, markdownTable, renderDoc } from "./support/report.js";
import type { BenchOutput, Row } from "./support/stats.js";

const BENCHMARKS = [
  "throughput",
  "recovery",
  "expiry",
  "restore",
  "herd",
  "memory",
  "bundle-size",
  "reauth",
] as const;
const BIN_MS = 100;

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const strict = args.includes("--strict");
const write = !quick || args.includes("--write");
const only = args
  .find((a) => a.startsWith("--only="))
  ?.slice("--only=".length)
  .split(",");
const selected = BENCHMARKS.filter((name) => !only || only.includes(name));

const root = fileURLToPath(new URL("..", import.meta.url));
const childEntry = fileURLToPath(new URL("./support/child.ts", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "courier-bench-"));

function runChild(name: string): Promise<BenchOutput> {
  const out = join(scratch, `${name}.json`);
  const argv = ["--import", TSX_LOADER, "--expose-gc", childEntry, name, out];
  if (quick) argv.push("--quick");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      cwd: root,
      // The SDK as apps load it: the package's exports (dist/), not src/.
      env: distEnv(),
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (code !== 0) return reject(new Error(`benchmark "${name}" exited with ${signal ?? code}`));
      resolve(JSON.parse(readFileSync(out, "utf8")) as BenchOutput);
    });
  });
}

interface Saved {
  rows: Row[];
  outputs: Record<string, BenchOutput>;
  machine: ReturnType<typeof machineSummary>;
  command: string;
  seconds: number;
  quick: boolean;
}

function writeDocs(saved: Saved): void {
  const herd = saved.outputs.herd?.data as HerdData | undefined;
  if (herd) writeFileSync(join(root, "docs/benchmarks-herd.svg"), herdSvg(herd, BIN_MS));
  writeFileSync(join(root, "docs/benchmarks.json"), `${JSON.stringify(saved)}\n`);
  writeFileSync(
    join(root, "docs/benchmarks.md"),
    renderDoc({ ...saved, hasPlot: herd !== undefined }),
  );
  console.log("wrote docs/benchmarks.md, docs/benchmarks-herd.svg and docs/benchmarks.json");
}

if (args.includes("--render")) {
  writeDocs(JSON.parse(readFileSync(join(root, "docs/benchmarks.json"), "utf8")) as Saved);
  process.exit(0);
}

// Build dist/ first if it is older than src/, and say which it was.
console.error(`bench: ${ensureDist()}`);

const started = Date.now();
const machine = machineSummary();
const rows: Row[] = [];
const outputs: Record<string, BenchOutput> = {};
const crashed: string[] = [];
for (const name of selected) {
  const t0 = Date.now();
  process.stderr.write(`bench: ${name}${quick ? " (quick)" : ""}…`);
  try {
    const output = await runChild(name);
    outputs[name] = output;
    rows.push(...output.rows);
    process.stderr.write(` ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  } catch (error) {
    crashed.push(name);
    process.stderr.write(`\nbench: ${(error as Error).message}\n`);
  }
}
const seconds = (Date.now() - started) / 1000;

console.log(`\n${markdownTable(rows)}\n`);
for (const row of rows.filter((r) => r.met === false)) {
  console.log(`MISSED: ${row.benchmark}: ${row.measured} vs target ${row.target}. ${row.note}`);
}
console.log(
  `\n${rows.length} rows in ${seconds.toFixed(1)} s${quick ? " (quick mode: smaller counts, fewer repetitions)" : ""}; ${machine.oneLine}`,
);

if (write && crashed.length === 0) {
  const command = `npm run bench${args.length ? ` -- ${args.join(" ")}` : ""}`;
  writeDocs({ rows, outputs, machine, command, seconds, quick });
}

if (crashed.length > 0) {
  console.error(`bench: the harness failed for: ${crashed.join(", ")}`);
  process.exit(1);
}
process.exit(strict && rows.some((r) => r.met === false) ? 1 : 0);
