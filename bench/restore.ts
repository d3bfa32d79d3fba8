/**
 * Restoring 10,000 filters after a reconnection, counted and timed at the
 * broker (from CONNACK to the SUBSCRIBE that completes the set), for:
 * - our client (`subscribeBatchSize` filters per packet, packets pipelined);
 * - mqtt.js `resubscribe: true` (its own restore: every subscription in one
 *   SUBSCRIBE packet), the anchor the target is set against;
 * - a naive loop: one `subscribeAsync(filter)` per filter, all in flight
 *   (context only: no app has to restore this way with mqtt.js).
 */

import type { MqttClient } from "mqtt";
import { BenchBroker } from "./support/broker.js";
import { endRaw, HOST, ourClient, rawClient } from "./support/clients.js";
import {
  type BenchOutput,
  fmt,
  median,
  pairRatios,
  type Row,
  ratioRange,
  summary,
} from "./support/stats.js";

const BATCH = 100;

interface Restore {
  ms: number;
  packets: number;
}

/** Waits for `clientId`'s next CONNACK and counts SUBSCRIBE packets until `filters` were covered. */
function watchRestore(broker: BenchBroker, clientId: string, filters: number): Promise<Restore> {
  return new Promise((resolve) => {
    let t0 = -1;
    let seen = 0;
    let packets = 0;
    broker.onConnack = (id, at) => {
      if (id === clientId) t0 = at;
    };
    broker.onSubscribe = (record) => {
      if (record.clientId !== clientId || t0 < 0) return;
      packets += 1;
      seen += record.filters;
      if (seen >= filters) resolve({ ms: record.at - t0, packets });
    };
  });
}

export async function run({ quick }: { quick: boolean }): Promise<BenchOutput> {
  const count = quick ? 2_000 : 10_000;
  const reps = quick ? 2 : 5;
  const filters = Array.from({ length: count }, (_, i) => `devices/${i}/telemetry`);
  const broker = await BenchBroker.start();

  const ours = ourClient(broker.port, {
    endpoint: { host: HOST, port: broker.port, scheme: "mqtt", clientId: "ours-restore" },
    retryBackoff: { baseSeconds: 0.01 },
    subscribeBatchSize: BATCH,
  });
  for (const filter of filters) void ours.subscribe(filter, () => {});
  await ours.connect();

  const resub: MqttClient = await rawClient(broker.port, {
    clientId: "raw-resubscribe",
    reconnectPeriod: 10,
    resubscribe: true,
  });
  await resub.subscribeAsync(filters);

  const naive: MqttClient = await rawClient(broker.port, {
    clientId: "raw-naive",
    reconnectPeriod: 10,
    resubscribe: false,
  });
  const naiveRestore = () => Promise.all(filters.map((f) => naive.subscribeAsync(f, { qos: 0 })));
  await naiveRestore();
  naive.on("connect", () => void naiveRestore());

  const contenders: [string, string][] = [
    ["ours", "ours-restore"],
    ["resubscribe", "raw-resubscribe"],
    ["naive", "raw-naive"],
  ];
  const results: Record<string, Restore[]> = { ours: [], resubscribe: [], naive: [] };
  for (let rep = 0; rep < reps; rep++) {
    // Rotate who goes first.
    for (let k = 0; k < contenders.length; k++) {
      const [name, clientId] = contenders[(rep + k) % contenders.length] as [string, string];
      const restored = watchRestore(broker, clientId, count);
      broker.kick(clientId);
      results[name]?.push(await restored);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  await ours.disconnect();
  await endRaw(resub);
  naive.removeAllListeners("connect");
  await endRaw(naive);
  await broker.stop();

  const ms = (name: string) => (results[name] ?? []).map((r) => r.ms);
  const packets = (name: string) => median((results[name] ?? []).map((r) => r.packets));
  const maxPackets = Math.ceil(count / BATCH);
  // Each repetition ran the three back to back: ratios are taken per repetition.
  const vsResubscribe = pairRatios(ms("ours"), ms("resubscribe"));
  const vsNaive = pairRatios(ms("ours"), ms("naive"));
  const ratio = median(vsResubscribe);
  const met = packets("ours") <= maxPackets && ratio <= 1;
  return {
    rows: [
      {
        benchmark: `Restore ${fmt(count)} filters after a reconnection (SUBSCRIBE packets, ms)`,
        measured: `${packets("ours")} packets, ${summary(ms("ours"), "ms", 1)}`,
        anchor: `mqtt.js resubscribe (its own batched restore): ${packets("resubscribe")} packet(s), ${summary(ms("resubscribe"), "ms", 1)}; naive one-per-filter: ${packets("naive")} packets, ${summary(ms("naive"), "ms", 1)}`,
        ratio: `${ratioRange(vsResubscribe)} resubscribe; ${ratioRange(vsNaive)} naive`,
        target: `≤ ${maxPackets} packets; time ≤ 1× mqtt.js resubscribe`,
        met,
        note: met
          ? ""
          : packets("ours") > maxPackets
            ? "too many packets"
            : "slower than mqtt.js's own resubscribe",
      } satisfies Row,
    ],
    data: results,
  };
}
