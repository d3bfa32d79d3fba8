/**
 * Memory per idle connected client (heap + external after GC), ours vs raw
 * mqtt.js. Each sample is a fresh process (no garbage from the other kind);
 * raw and ours alternate; the broker runs in a process of its own.
 */

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TSX_LOADER } from "./support/dist.js";
import { RemoteBroker } from "./support/remote-broker.js";
import { alternate, type BenchOutput, fmt, median, summary } from "./support/stats.js";

const sampleEntry = fileURLToPath(new URL("./support/memory-sample.ts", import.meta.url));

function sample(kind: "raw" | "ours", n: number, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", TSX_LOADER, "--expose-gc", sampleEntry, kind, String(n), String(port)],
      { maxBuffer: 1 << 20 },
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
  const { a: raw, b: ours } = await alternate(
    reps,
    () => sample("raw", n, broker.port),
    () => sample("ours", n, broker.port),
  );
  await broker.close();
  const kb = (values: number[]) => values.map((v) => v / 1024);
  const ratio = median(ours) / median(raw);
  const met = ratio <= 1.2;
  return {
    rows: [
      {
        benchmark: `Memory per idle connected client, ${fmt(n)} clients (heap + external, KB)`,
        measured: summary(kb(ours), "KB", 1),
        anchor: `raw mqtt.js clients: ${summary(kb(raw), "KB", 1)}`,
        ratio: `${fmt(ratio, 2)}×`,
        target: "≤ 1.2× raw",
        met,
        note: met ? "" : "each client holds more than raw mqtt.js beyond the allowance",
      },
    ],
    data: { raw, ours },
  };
}
