/**
 * Memory per idle connected client (heap + external after GC), ours (from
 * `dist/`) vs raw mqtt.js; and what the client's lean runtime saves: the same
 * client run by an XState actor of its own (`actor`: what it runs when given
 * `inspect`). Each sample is a fresh process
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

type Kind = "raw" | "ours" | "actor";
const KINDS: Kind[] = ["raw", "ours", "actor"];

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
  const bytes: Record<Kind, number[]> = { raw: [], ours: [], actor: [] };
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
  // The actor's cost per client over the lean runtime (same repetition, so paired).
  const saved = bytes.actor.map((v, i) => v - (bytes.ours[i] ?? Number.NaN));
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
      benchmark: `Memory: the same client given a no-op \`inspect\` (an XState actor of its own, events redacted for devtools), ${fmt(n)} clients (KB)`,
      measured: `lean runtime (the default): ${summary(kb(bytes.ours), "KB", 1)}`,
      anchor: `with \`inspect\`: ${summary(kb(bytes.actor), "KB", 1)}`,
      ratio: `saved per client: ${ratioRange(kb(saved), 1, " KB")}; with \`inspect\` ${ratioRange(pairRatios(bytes.actor, bytes.raw))} raw`,
      target: "— (what the lean runtime buys, plus the inspection's own cost)",
      met: null,
      note: "src/client/runtime.ts",
    },
  ];
  return { rows, data: bytes };
}
