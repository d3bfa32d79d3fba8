/**
 * One memory sample, in a fresh process: `n` idle connected clients of one
 * kind, heap + external bytes per client after GC:
 * - `raw`: mqtt.js with its defaults; `ours`: `RealtimeClient` (from `dist/`);
 * - `actor` / `pure` / `lean`: the prototype drivers of machine-drivers.ts (an
 *   XState actor per client; only a snapshot driven by `transition()`; the
 *   same with the unstarted child actors in the snapshot swapped for stubs).
 * `TSX_TSCONFIG_PATH=bench/tsconfig.dist.json node --import tsx --expose-gc
 * memory-sample.ts <kind> <n> <port>` prints JSON.
 */

import type { RealtimeClient } from "@armaanjain/courier-web-sdk";
import type { MqttClient } from "mqtt";
import { endRaw, ourClient, rawClient } from "./clients.js";
import { ActorDriver, PureDriver } from "./machine-drivers.js";

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
  if (kind === "actor" || kind === "pure" || kind === "lean") {
    const make = (id: string) =>
      kind === "actor"
        ? new ActorDriver(port, id)
        : new PureDriver(port, id, { lean: kind === "lean" });
    const drivers: (ActorDriver | PureDriver)[] = [];
    for (let i = 0; i < count; i += 50) {
      const wave = Array.from({ length: Math.min(50, count - i) }, (_, k) =>
        make(`${kind}-${process.pid}-${i + k}-${Math.random()}`),
      );
      await Promise.all(wave.map((d) => d.connect()));
      drivers.push(...wave);
    }
    return async () => {
      for (const d of drivers) d.disconnect();
    };
  }
  const clients: RealtimeClient[] = [];
  for (let i = 0; i < count; i += 50) {
    const wave = Array.from({ length: Math.min(50, count - i) }, () => ourClient(port));
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
