/**
 * Reconnect herd: many clients in one process, connected to one broker (in a
 * process of its own), which goes down and comes back on the same port.
 * Connection attempts are counted where the broker sees them (TCP accepts),
 * per 100 ms, for each jitter mode. `none` is the page's default.
 */

import type { Jitter, RealtimeClient } from "@armaanjain/courier-web-sdk";
import { ourClient } from "./support/clients.js";
import { RemoteBroker } from "./support/remote-broker.js";
import { type BenchOutput, fmt, median, type Row } from "./support/stats.js";

export const BIN_MS = 100;
const MODES: Jitter[] = ["none", "full", "equal", "decorrelated"];

export interface HerdRun {
  jitter: Jitter;
  /** Accepts per second, one value per 100 ms bin from the moment the broker went down. */
  rate: number[];
  peak: number;
  /** From the broker being back until the last client was connected again (ms). */
  backWithinMs: number;
  /** Clients connected again by the end. */
  back: number;
  downMs: number;
}

export interface HerdData {
  clients: number;
  baseSeconds: number;
  ceilSeconds: number;
  downMs: number;
  runs: HerdRun[];
}

async function herdOnce(
  broker: RemoteBroker,
  jitter: Jitter,
  clients: number,
  baseSeconds: number,
  ceilSeconds: number,
  downMs: number,
): Promise<HerdRun> {
  const herd: RealtimeClient[] = [];
  let connected = 0;
  let lastBackAt = 0;
  for (let i = 0; i < clients; i++) {
    const client = ourClient(broker.port, { retryBackoff: { baseSeconds, ceilSeconds, jitter } });
    client.on("stateChange", ({ state, previous }) => {
      if (state === "connected") {
        connected += 1;
        lastBackAt = performance.now();
      } else if (previous === "connected") connected -= 1;
    });
    herd.push(client);
  }
  // Connect in waves: the herd under test is the reconnection, not this.
  for (let i = 0; i < clients; i += 100) {
    await Promise.all(herd.slice(i, i + 100).map((c) => c.connect()));
  }
  const restart = await broker.call<{ down: number; up: number }>({ cmd: "restart", downMs });
  const upAt = performance.now();
  const deadline = upAt + ceilSeconds * 1000 + 10_000;
  while (connected < clients && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const back = connected;
  const accepts = await broker.call<number[]>({ cmd: "accepts", since: restart.down });
  await Promise.all(herd.map((c) => c.disconnect()));
  const end = Math.max(restart.up + ceilSeconds * 1000, ...accepts);
  const rate = new Array<number>(Math.ceil(end / BIN_MS) + 1).fill(0);
  for (const at of accepts) {
    const bin = Math.floor(at / BIN_MS);
    rate[bin] = (rate[bin] ?? 0) + 1000 / BIN_MS;
  }
  return {
    jitter,
    rate,
    peak: Math.max(...rate),
    backWithinMs: lastBackAt - upAt,
    back,
    downMs: restart.up,
  };
}

interface Scenario {
  name: string;
  clients: number;
  baseSeconds: number;
  ceilSeconds: number;
  downMs: number;
  reps: number;
}

/**
 * A long outage (the broker is away for about the backoff ceiling: a crash and
 * a supervisor restart, a rolling deploy) is the herd the plot shows; a short
 * one (a quick restart) is reported too, since jitter spreads less there.
 */
function scenarios(quick: boolean): Scenario[] {
  if (quick) {
    return [
      { name: "outage", clients: 200, baseSeconds: 0.25, ceilSeconds: 1, downMs: 1500, reps: 1 },
    ];
  }
  return [
    { name: "long outage", clients: 2000, baseSeconds: 1, ceilSeconds: 8, downMs: 8000, reps: 3 },
    { name: "short outage", clients: 2000, baseSeconds: 1, ceilSeconds: 8, downMs: 2500, reps: 3 },
  ];
}

async function runScenario(
  broker: RemoteBroker,
  sc: Scenario,
): Promise<{ row: Row; data: HerdData }> {
  const runs: HerdRun[] = [];
  for (let rep = 0; rep < sc.reps; rep++) {
    // Rotate the order so no mode always runs on a warmer (or more tired) process.
    for (let k = 0; k < MODES.length; k++) {
      const jitter = MODES[(rep + k) % MODES.length] as Jitter;
      runs.push(
        await herdOnce(broker, jitter, sc.clients, sc.baseSeconds, sc.ceilSeconds, sc.downMs),
      );
    }
  }
  const of = (jitter: Jitter) => runs.filter((r) => r.jitter === jitter);
  const peak = (jitter: Jitter) => median(of(jitter).map((r) => r.peak));
  const slowest = (jitter: Jitter) => Math.max(...of(jitter).map((r) => r.backWithinMs));
  // Jitter must not cost recovery: with it, every client is back within the
  // ceiling of the broker's return. (Without it, the deterministic schedule can
  // wait a whole ceiling and then the herd itself takes time to get through.)
  const allBack = runs
    .filter((r) => r.jitter !== "none")
    .every((r) => r.back === sc.clients && r.backWithinMs <= sc.ceilSeconds * 1000);
  const ratio = peak("full") / peak("none");
  const met = ratio <= 0.2 && allBack;
  const row: Row = {
    benchmark: `Reconnect herd, ${sc.name}: ${fmt(sc.clients)} clients, broker down ${fmt(sc.downMs / 1000, 1)} s (peak accepts/s, ${BIN_MS} ms bins)`,
    measured: MODES.filter((m) => m !== "none")
      .map((m) => `${m} ${fmt(peak(m))}/s (all back in ${fmt(slowest(m) / 1000, 1)} s)`)
      .join("; "),
    anchor: `jitter none: ${fmt(peak("none"))}/s (all back in ${fmt(slowest("none") / 1000, 1)} s)`,
    ratio: `full/none ${fmt(ratio, 2)}`,
    target: `full peak ≤ 1/5 of none; with jitter, all back within the ${sc.ceilSeconds} s ceiling`,
    met,
    note: [
      `base ${sc.baseSeconds} s, ceiling ${sc.ceilSeconds} s, ${sc.reps} rep(s) per mode`,
      allBack ? "" : "with jitter, some clients were not back within the ceiling",
      ratio <= 0.2 ? "" : "full jitter's peak is above 1/5 of none",
    ]
      .filter(Boolean)
      .join("; "),
  };
  const { name: _name, reps: _reps, ...shape } = sc;
  return { row, data: { ...shape, runs } };
}

export async function run({ quick }: { quick: boolean }): Promise<BenchOutput> {
  const broker = await RemoteBroker.start();
  const results = [];
  for (const sc of scenarios(quick)) results.push(await runScenario(broker, sc));
  await broker.close();
  // The first scenario is the one plotted.
  return { rows: results.map((r) => r.row), data: results[0]?.data };
}
