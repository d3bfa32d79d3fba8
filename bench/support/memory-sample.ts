/**
 * One memory sample, in a fresh process: `n` idle connected clients of one
 * kind, heap + external bytes per client after GC:
 * - `raw`: mqtt.js with its defaults; `ours`: `RealtimeClient` (from `dist/`);
 * - `actor`: the same client given a no-op `inspect`, with which it runs its
 *   machine in an XState actor of its own (devtools see a standard actor)
 *   instead of the lean runtime.
 * `TSX_TSCONFIG_PATH=bench/tsconfig.dist.json node --import tsx --expose-gc
 * memory-sample.ts <kind> <n> <port>` prints JSON.
 */

import type { RealtimeClient } from "@armaanjain/courier-web-sdk";
import type { MqttClient } from "mqtt";
import { endRaw, ourClient, rawClient } from "./clients.js";

const [kind, nArg, portArg] = process.argv.slice(2);
const n = Number(nArg);
const port = Number(portArg);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

function settle(): Promise<number> {
  return new Promise((resolve) =>
    setTimeout(() => {
      for (let i = 0; i < 4; i++) gc?.();
      const { heapUsed, external } = process.memoryUsage();
      resolve(heapUsed + external);
    }, 200),
  );
}

async function open(count: number): Promise<() => Promise<void>> {
  if (kind === "raw") {
    const clients: MqttClient[] = [];
    for (let i = 0; i < count; i += 50) {
      const wave = Math.min(50, count - i);
      // Raw mqtt.js as an app would use it: its defaults (reconnectPeriod 1000 ms).
      clients.push(
        ...(await Promise.all(
          Array.from({ length: wave }, () => rawClient(port, { reconnectPeriod: 1000 })),
        )),
      );
    }
    return async () => {
      await Promise.all(clients.map(endRaw));
    };
  }
  const clients: RealtimeClient[] = [];
  for (let i = 0; i < count; i += 50) {
    const wave = Array.from({ length: Math.min(50, count - i) }, () =>
      ourClient(port, kind === "actor" ? { inspect: () => {} } : {}),
    );
    await Promise.all(wave.map((c) => c.connect()));
    clients.push(...wave);
  }
  return async () => {
    await Promise.all(clients.map((c) => c.disconnect()));
  };
}

// Warm-up: code paths compiled, lazy module state allocated.
await (await open(20))();
const before = await settle();
const close = await open(n);
const after = await settle();
await close();
process.stdout.write(`${JSON.stringify({ kind, n, perClient: (after - before) / n })}\n`);
process.exit(0);
