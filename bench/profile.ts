/**
 * `node --import tsx bench/profile.ts [publish|receive] [--count=N]`
 *
 * Profiles one throughput path of our client and of raw mqtt.js, each in a
 * fresh process under `node --cpu-prof` (the SDK from `dist/`, as the
 * benchmarks load it; the broker in a process of its own), and prints where
 * each spends its CPU: self time by package and the top functions, in
 * percent of the profiled process's samples. The `.cpuprofile` files stay in
 * a temporary directory (printed) for Chrome DevTools.
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { distEnv, ensureDist, ROOT, TSX_LOADER } from "./support/dist.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  /** Written by profile-target.ts: CPU time of the profiled loop, and its message count. */
  cpuUs: number;
  count: number;
  writes: { calls: number; chunks: number };
}

export interface SelfTime {
  /** `function (file:line)` */
  readonly name: string;
  readonly pkg: string;
  /** Of the non-idle samples. */
  readonly percent: number;
}

/** Which part of the process a script URL belongs to. */
export function packageOf(url: string): string {
  if (url === "") return "(native / runtime)";
  if (url.startsWith("node:")) return "node internals";
  const path = url.replace(/^file:\/\//, "");
  if (path.includes("/dist/") && !path.includes("node_modules")) return "SDK (dist/)";
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (match) return match[1] as string;
  if (path.includes("/bench/")) return "benchmark harness";
  return path;
}

/** Self time per function and per package, in percent of all samples (idle excluded). */
export function selfTimes(profile: CpuProfile): {
  functions: SelfTime[];
  packages: [string, number][];
} {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const time = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    time.set(id, (time.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const perFunction = new Map<string, { pkg: string; us: number }>();
  let total = 0;
  for (const [id, us] of time) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") continue;
    total += us;
    const file = url.replace(/^.*\/(node_modules\/)?/, "").replace(/^file:\/\//, "");
    const name = `${functionName || "(anonymous)"} (${file || "native"}${url ? `:${lineNumber + 1}` : ""})`;
    const pkg = functionName.startsWith("(") ? functionName : packageOf(url);
    const entry = perFunction.get(name) ?? { pkg, us: 0 };
    entry.us += us;
    perFunction.set(name, entry);
  }
  const functions = [...perFunction]
    .map(([name, { pkg, us }]) => ({ name, pkg, percent: (us / total) * 100 }))
    .sort((a, b) => b.percent - a.percent);
  const packages = new Map<string, number>();
  for (const f of functions) packages.set(f.pkg, (packages.get(f.pkg) ?? 0) + f.percent);
  return { functions, packages: [...packages].sort((a, b) => b[1] - a[1]) };
}

const target = fileURLToPath(new URL("./support/profile-target.ts", import.meta.url));

function profileOnce(path: string, kind: "raw" | "ours", count: number): CpuProfile {
  const dir = mkdtempSync(join(tmpdir(), `courier-profile-${kind}-`));
  const file = join(dir, `${path}-${kind}.cpuprofile`);
  const run = spawnSync(
    process.execPath,
    ["--import", TSX_LOADER, target, path, kind, String(count), file],
    { cwd: ROOT, env: distEnv(), encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  if (run.status !== 0) throw new Error(`profiling ${kind} failed (${run.status})`);
  process.stdout.write(run.stdout);
  console.log(`  profile: ${file}`);
  return JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const path = process.argv[2] === "receive" ? "receive" : "publish";
  const count = Number(
    process.argv.find((a) => a.startsWith("--count="))?.slice(8) ??
      (path === "publish" ? 50_000 : 200_000),
  );
  console.error(`profile: ${ensureDist()}`);
  const results = (["raw", "ours"] as const).map((kind) => {
    const profile = profileOnce(path, kind, count);
    const usPerMsg = profile.cpuUs / profile.count;
    return { kind, usPerMsg, writes: profile.writes, ...selfTimes(profile) };
  });
  const [raw, ours] = results as [(typeof results)[0], (typeof results)[0]];
  console.log(
    `\n${path}, ${count} messages: CPU per message raw ${raw.usPerMsg.toFixed(2)} µs, ours ${ours.usPerMsg.toFixed(2)} µs (+${(ours.usPerMsg - raw.usPerMsg).toFixed(2)} µs)`,
  );
  for (const r of results) {
    console.log(
      `socket writes, ${r.kind}: ${(r.writes.calls / count).toFixed(3)} per message (${(r.writes.chunks / Math.max(1, r.writes.calls)).toFixed(1)} chunks each)`,
    );
  }
  console.log("\nself time by package, µs per message (share of the process's CPU):");
  const pkgs = new Set([...raw.packages, ...ours.packages].map(([p]) => p));
  const us = (r: typeof raw, pkg: string) =>
    ((r.packages.find(([p]) => p === pkg)?.[1] ?? 0) / 100) * r.usPerMsg;
  const rowsOut = [...pkgs]
    .map((pkg) => ({ pkg, raw: us(raw, pkg), ours: us(ours, pkg) }))
    .sort((a, b) => b.ours - a.ours);
  console.log("  raw µs   ours µs   delta   package");
  for (const r of rowsOut.filter((x) => x.raw > 0.01 || x.ours > 0.01)) {
    console.log(
      `  ${r.raw.toFixed(2).padStart(6)}   ${r.ours.toFixed(2).padStart(7)}   ${(r.ours - r.raw >= 0 ? "+" : "") + (r.ours - r.raw).toFixed(2).padStart(5)}   ${r.pkg}`,
    );
  }
  for (const r of results) {
    console.log(`\ntop functions by self time, ${r.kind}: % of CPU (µs per message)`);
    for (const f of r.functions.slice(0, 25))
      console.log(
        `  ${f.percent.toFixed(1).padStart(5)} % (${((f.percent / 100) * r.usPerMsg).toFixed(2)})  [${f.pkg}] ${f.name}`,
      );
  }
  const perMsg = (r: typeof raw) =>
    new Map(r.functions.map((f) => [f.name, { pkg: f.pkg, us: (f.percent / 100) * r.usPerMsg }]));
  const rawF = perMsg(raw);
  const oursF = perMsg(ours);
  const names = new Set([...rawF.keys(), ...oursF.keys()]);
  const diffs = [...names]
    .map((name) => ({
      name,
      pkg: oursF.get(name)?.pkg ?? rawF.get(name)?.pkg ?? "",
      delta: (oursF.get(name)?.us ?? 0) - (rawF.get(name)?.us ?? 0),
    }))
    .sort((x, y) => y.delta - x.delta);
  console.log("\nwhere ours spends more than raw: self time, ours − raw, µs per message:");
  for (const d of diffs.slice(0, 20))
    console.log(`  ${(d.delta >= 0 ? "+" : "") + d.delta.toFixed(3)}  [${d.pkg}] ${d.name}`);
  console.log("\nthe SDK's and xstate's own functions, ours (self time):");
  for (const f of ours.functions
    .filter((x) => x.pkg === "SDK (dist/)" || x.pkg === "xstate")
    .slice(0, 25))
    console.log(
      `  ${f.percent.toFixed(2).padStart(5)} % (${((f.percent / 100) * ours.usPerMsg).toFixed(3)} µs)  [${f.pkg}] ${f.name}`,
    );
}
