/**
 * Reconnect herd: many clients in one process, connected to one broker (in a
 * process of its own), which goes down and comes back on the same port.
 * Connection attempts are counted where the broker sees them (TCP accepts),
 * per 100 ms, for each jitter mode. `none` is the page's default.
 */

import { backoffDelay, type Jitter, type RealtimeClient } from "@armaanjain/courier-web-sdk";
import { ourClient } from "./support/clients.js";
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

/** A small seeded PRNG (mulberry32): the model's herds are the same every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The peak the backoff schedule itself allows, with no process in the way:
 * each client loses its connection at 0, retries after the SDK's own
 * `backoffDelay(n)` for n = 1, 2, … (a refused attempt costs no time), and
 * is accepted by its first attempt at or after `downMs`. The median over
 * `herds` seeded herds of the busiest bin, in accepts per second. What `none`
 * would show if every client could reconnect at the same instant is
 * `clients / bin`; a measured `none` below that is the client process
 * smearing its own herd (see bench/analysis.md).
 */
export function modelPeak(
  jitter: Jitter,
  clients: number,
  baseSeconds: number,
  ceilSeconds: number,
  downMs: number,
  herds = 51,
): number {
  const policy = { baseSeconds, ceilSeconds, jitter };
  const peaks: number[] = [];
  for (let h = 0; h < herds; h++) {
    const random = seeded(h + 1);
    const bins = new Map<number, number>();
    for (let c = 0; c < clients; c++) {
      let t = 0;
      let previous: number | undefined;
      for (let n = 1; t < downMs; n++) {
        previous = backoffDelay(n, policy, random, previous);
        t += previous;
      }
      const bin = Math.floor(t / BIN_MS);
      bins.set(bin, (bins.get(bin) ?? 0) + 1);
    }
    peaks.push((Math.max(...bins.values()) * 1000) / BIN_MS);
  }
  return median(peaks);
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
  const slowest = (jitter: Jitter) => Math.max(...of(jitter).map((r) => r.backWithinMs));
  // Jitter must not cost recovery: with it, every client is back within the
  // ceiling of the broker's return. (Without it, the deterministic schedule can
  // wait a whole ceiling and then the herd itself takes time to get through.)
  const allBack = runs
    .filter((r) => r.jitter !== "none")
    .every((r) => r.back === sc.clients && r.backWithinMs <= sc.ceilSeconds * 1000);
  // Runs are in repetition order for each mode: full and none of one repetition ran close together.
  const peaks = (jitter: Jitter) => of(jitter).map((r) => r.peak);
  const ratios = pairRatios(peaks("full"), peaks("none"));
  const ratio = median(ratios);
  const met = ratio <= 0.2 && allBack;
  const model = (jitter: Jitter) =>
    modelPeak(jitter, sc.clients, sc.baseSeconds, sc.ceilSeconds, sc.downMs);
  const row: Row = {
    benchmark: `Reconnect herd, ${sc.name}: ${fmt(sc.clients)} clients, broker down ${fmt(sc.downMs / 1000, 1)} s (peak accepts/s, ${BIN_MS} ms bins)`,
    measured: MODES.filter((m) => m !== "none")
      .map((m) => `${m} ${summary(peaks(m), "/s")} (all back in ${fmt(slowest(m) / 1000, 1)} s)`)
      .join("; "),
    anchor: `jitter none: ${summary(peaks("none"), "/s")} (all back in ${fmt(slowest("none") / 1000, 1)} s)`,
    ratio: `full/none ${ratioRange(ratios, 2, "")}`,
    target: `full peak ≤ 1/5 of none; with jitter, all back within the ${sc.ceilSeconds} s ceiling`,
    met,
    note: [
      `base ${sc.baseSeconds} s, ceiling ${sc.ceilSeconds} s, ${sc.reps} rep(s) per mode`,
      `the schedule's own peaks (modelPeak): full ${fmt(model("full"))}/s, equal ${fmt(model("equal"))}/s, decorrelated ${fmt(model("decorrelated"))}/s, none ${fmt(model("none"))}/s, so full/none ≥ ${fmt(model("full") / model("none"), 2)}`,
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
