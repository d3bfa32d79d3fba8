/**
 * Message throughput, against raw mqtt.js on the same broker (a child
 * process, so each client has a core of its own):
 * - QoS 0 receive, twice: from aedes (a real broker, which is the bottleneck:
 *   it delivers fewer messages per second than a client takes), and from a
 *   broker stand-in that writes pre-encoded PUBLISH packets as fast as the
 *   socket takes them, so the client is the bottleneck and its cost shows;
 * - QoS 1 publish: one publisher, `window` publishes awaited at a time.
 * Also reports the client process's CPU time per message.
 */

import type { RealtimeClient } from "@armaanjain/courier-web-sdk";
import type { MqttClient } from "mqtt";
import { endRaw, ourClient, rawClient } from "./support/clients.js";
import { RemoteBroker } from "./support/remote-broker.js";
import {
  alternate,
  type BenchOutput,
  fmt,
  median,
  pairRatios,
  type Row,
  ratioRange,
  summary,
} from "./support/stats.js";

const PAYLOAD_BYTES = 1024;

interface Sample {
  /** Messages per second. */
  rate: number;
  /** CPU time of this process per message, in microseconds. */
  cpuUs: number;
}

function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** Counts messages until `count` arrived; the rate is taken from the first to the last. */
function counter(count: number) {
  let received = 0;
  let first = 0;
  let cpu0 = 0;
  let finish: (sample: Sample) => void = () => {};
  const done = new Promise<Sample>((resolve) => {
    finish = resolve;
  });
  const onMessage = (): void => {
    received += 1;
    if (received === 1) {
      first = performance.now();
      cpu0 = cpuNow();
    }
    if (received === count) {
      const seconds = (performance.now() - first) / 1000;
      finish({ rate: (count - 1) / seconds, cpuUs: (cpuNow() - cpu0) / (count - 1) });
    }
  };
  return { onMessage, done };
}

async function receiveQos0(quick: boolean, source: "aedes" | "standin"): Promise<Rates> {
  // The stand-in is ~3× faster than aedes: more messages for as long a run.
  const count = (quick ? 15_000 : 100_000) * (source === "standin" ? 3 : 1);
  const reps = quick ? 3 : 7;
  const broker = await RemoteBroker.start(source);
  const raw: MqttClient = await rawClient(broker.port);
  const ours: RealtimeClient = ourClient(broker.port);
  await ours.connect();
  let rawSink = (): void => {};
  let ourSink = (): void => {};
  raw.on("message", () => rawSink());
  await raw.subscribeAsync("bench/raw", { qos: 0 });
  await ours.subscribe("bench/ours", () => ourSink(), { qos: 0 });

  const run = async (which: "raw" | "ours", n: number): Promise<Sample> => {
    const c = counter(n);
    if (which === "raw") rawSink = c.onMessage;
    else ourSink = c.onMessage;
    await broker.call({ cmd: "blast", topic: `bench/${which}`, size: PAYLOAD_BYTES, count: n });
    return c.done;
  };
  // Warm-up: JIT, socket buffers.
  await run("raw", count / 10);
  await run("ours", count / 10);
  const { a, b } = await alternate(
    reps,
    () => run("raw", count),
    () => run("ours", count),
  );
  await ours.disconnect();
  await endRaw(raw);
  await broker.close();
  return rateRow(
    source === "aedes"
      ? `QoS 0 receive from aedes (broker-bound), ${fmt(count)} × 1 KB (msg/s)`
      : `QoS 0 receive from a broker stand-in (client-bound), ${fmt(count)} × 1 KB (msg/s)`,
    a,
    b,
    0.97,
    "raw mqtt.js subscriber",
  );
}

async function publishQos1(quick: boolean): Promise<Rates> {
  const count = quick ? 8_000 : 50_000;
  const window = 100;
  const reps = quick ? 3 : 7;
  const broker = await RemoteBroker.start();
  const raw = await rawClient(broker.port);
  const ours = ourClient(broker.port);
  await ours.connect();
  const payload = Buffer.alloc(PAYLOAD_BYTES, 120);

  const run = async (publish: () => Promise<unknown>, n: number): Promise<Sample> => {
    const t0 = performance.now();
    const cpu0 = cpuNow();
    for (let sent = 0; sent < n; sent += window) {
      const batch: Promise<unknown>[] = [];
      for (let i = 0; i < window && sent + i < n; i++) batch.push(publish());
      await Promise.all(batch);
    }
    const seconds = (performance.now() - t0) / 1000;
    return { rate: n / seconds, cpuUs: (cpuNow() - cpu0) / n };
  };
  const rawPublish = () => raw.publishAsync("bench/raw", payload, { qos: 1 });
  const ourPublish = () => ours.publish("bench/ours", payload, { qos: 1 });
  await run(rawPublish, count / 10);
  await run(ourPublish, count / 10);
  const { a, b } = await alternate(
    reps,
    () => run(rawPublish, count),
    () => run(ourPublish, count),
  );
  await ours.disconnect();
  await endRaw(raw);
  await broker.close();
  return rateRow(
    `QoS 1 publish, ${fmt(count)} × 1 KB, ${window} awaited at a time (msg/s)`,
    a,
    b,
    0.97,
    "raw mqtt.js publisher",
  );
}

interface Rates {
  row: Row;
  raw: Sample[];
  ours: Sample[];
}

function rateRow(
  name: string,
  raw: Sample[],
  ours: Sample[],
  target: number,
  anchor: string,
): Rates {
  // Each repetition's pair ran back to back: the median of the pairs' ratios
  // shrugs off load that drifts across the run (other processes on the machine).
  const ratios = pairRatios(
    ours.map((s) => s.rate),
    raw.map((s) => s.rate),
  );
  const ratio = median(ratios);
  const cpu = (samples: Sample[]) => fmt(median(samples.map((s) => s.cpuUs)), 1);
  // Best of each, for context: what each reaches when the machine leaves it alone.
  const best = (samples: Sample[]) => Math.max(...samples.map((s) => s.rate));
  const bestRatio = best(ours) / best(raw);
  const met = ratio >= target;
  const row: Row = {
    benchmark: name,
    measured: `${summary(
      ours.map((s) => s.rate),
      "",
    )} (${cpu(ours)} µs CPU/msg)`,
    anchor: `${anchor}: ${summary(
      raw.map((s) => s.rate),
      "",
    )} (${cpu(raw)} µs CPU/msg)`,
    ratio: `${ratioRange(ratios, 3)} (pairs; best-of ${fmt(bestRatio, 3)}×)`,
    target: `median ≥ ${target}× raw`,
    met,
    note: met ? "" : "slower than raw mqtt.js beyond the allowance",
  };
  return { row, raw, ours };
}

export async function run({ quick }: { quick: boolean }): Promise<BenchOutput> {
  const receive = await receiveQos0(quick, "aedes");
  const standin = await receiveQos0(quick, "standin");
  const publish = await publishQos1(quick);
  return {
    rows: [receive.row, standin.row, publish.row],
    data: {
      receive: { raw: receive.raw, ours: receive.ours },
      receiveStandin: { raw: standin.raw, ours: standin.ours },
      publish: { raw: publish.raw, ours: publish.ours },
    },
  };
}
