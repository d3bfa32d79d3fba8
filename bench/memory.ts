/**
 * Memory per idle connected client (heap + external after GC), ours (from
 * `dist/`) vs raw mqtt.js, and the prototype that says what a client would
 * cost without an XState actor per client: the same machine and mqtt.js
 * connection, run by an actor (`actor`) or by a snapshot and `transition()`
 * (`pure`) — see support/machine-drivers.ts. Each sample is a fresh process
 * (no garbage from another kind); the kinds rotate; the broker runs in a
 * process of its own.
 */

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { distEnv, TSX_LOADER } from "./support/dist.js";
import { RemoteBroker } from "./support/remote-broker.js";
import {
  type BenchOutput,
  fmt,
  median,
  pairRatios,
  type Row,
  ratioRange,
  summary,
} from "./support/stats.js";

const sampleEntry = fileURLToPath(new URL("./support/memory-sample.ts", import.meta.url));

type Kind = "raw" | "ours" | "actor" | "pure" | "lean";
const KINDS: Kind[] = ["raw", "ours", "actor", "pure", "lean"];

function sample(kind: Kind, n: number, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", TSX_LOADER, "--expose-gc", sampleEntry, kind, String(n), String(port)],
      { maxBuffer: 1 << 20, env: distEnv() },
      (error, stdout) => {
        if (error) return reject(error);
        const line = stdout.trim().split("\n").pop() ?? "";
        resolve((JSON.parse(line) as { perClient: number }).perClient);
      },
    );
  });
}

export async function run({ quick }: { quick: boolean }): Promise<BenchOutput> {
  const n = quick ? 200 : 1000;
  const reps = quick ? 2 : 5;
  const broker = await RemoteBroker.start();
  const bytes: Record<Kind, number[]> = { raw: [], ours: [], actor: [], pure: [], lean: [] };
  for (let rep = 0; rep < reps; rep++) {
    // Rotate the order: no kind always samples a warmer (or busier) machine.
    for (let k = 0; k < KINDS.length; k++) {
      const kind = KINDS[(rep + k) % KINDS.length] as Kind;
      bytes[kind].push(await sample(kind, n, broker.port));
    }
  }
  await broker.close();
  const kb = (values: number[]) => values.map((v) => v / 1024);
  const ratios = pairRatios(bytes.ours, bytes.raw);
  const ratio = median(ratios);
  const met = ratio <= 1.5;
  // The actor's cost per client over each snapshot variant, and the SDK client
  // with its actor replaced by that snapshot (same repetition, so paired).
  const minus = (a: number[], b: number[]) => a.map((v, i) => v - (b[i] ?? Number.NaN));
  const saved = (variant: "pure" | "lean") => minus(bytes.actor, bytes[variant]);
  const sdkWithout = (variant: "pure" | "lean") =>
    ratioRange(pairRatios(minus(bytes.ours, saved(variant)), bytes.raw));
  const rows: Row[] = [
    {
      benchmark: `Memory per idle connected client, ${fmt(n)} clients (heap + external, KB)`,
      measured: summary(kb(bytes.ours), "KB", 1),
      anchor: `raw mqtt.js clients: ${summary(kb(bytes.raw), "KB", 1)}`,
      ratio: ratioRange(ratios),
      target: "≤ 1.5× raw",
      met,
      note: met ? "" : "each client holds more than 1.5× a raw mqtt.js client",
    },
    {
      benchmark: `Memory: the same machine without an XState actor per client (prototype, ${fmt(n)} clients, KB)`,
      measured: `snapshot + transition(): ${summary(kb(bytes.pure), "KB", 1)}; the same, child actors stubbed: ${summary(kb(bytes.lean), "KB", 1)}`,
      anchor: `an XState actor per client: ${summary(kb(bytes.actor), "KB", 1)} (each kind with one mqtt.js connection)`,
      ratio: `saved per client: ${ratioRange(kb(saved("pure")), 1, " KB")} (snapshot), ${ratioRange(kb(saved("lean")), 1, " KB")} (stubbed); SDK client so ≈ ${sdkWithout("pure")} / ≈ ${sdkWithout("lean")} raw`,
      target: "— (informs the next step)",
      met: null,
      note: "bench/support/machine-drivers.ts; the SDK's own objects are the same either way",
    },
  ];
  return { rows, data: bytes };
}
