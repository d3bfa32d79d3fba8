/**
 * Restoring 10,000 filters after a reconnection, counted and timed at the
 * broker (from CONNACK to the SUBSCRIBE that completes the set), for:
 * - our client (`subscribeBatchSize` filters per packet, packets pipelined);
 * - mqtt.js `resubscribe: true` (its own restore);
 * - a naive loop: one `subscribeAsync(filter)` per filter, all in flight.
 */

import type { MqttClient } from "mqtt";
import { BenchBroker } from "./support/broker.js";
import { endRaw, HOST, ourClient, rawClient } from "./support/clients.js";
import { type BenchOutput, fmt, median, type Row, summary } from "./support/stats.js";

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
  const ratio = median(ms("ours")) / median(ms("naive"));
  const met = packets("ours") <= maxPackets && ratio <= 0.5;
  return {
    rows: [
      {
        benchmark: `Restore ${fmt(count)} filters after a reconnection (SUBSCRIBE packets, ms)`,
        measured: `${packets("ours")} packets, ${summary(ms("ours"), "ms", 1)}`,
        anchor: `naive one-per-filter: ${packets("naive")} packets, ${summary(ms("naive"), "ms", 1)}; mqtt.js resubscribe: ${packets("resubscribe")} packet(s), ${summary(ms("resubscribe"), "ms", 1)}`,
        ratio: `${fmt(ratio, 2)}× naive; ${fmt(median(ms("ours")) / median(ms("resubscribe")), 2)}× resubscribe`,
        target: `≤ ${maxPackets} packets; ≤ 0.5× naive`,
        met,
        note: met
          ? ""
          : packets("ours") > maxPackets
            ? "too many packets"
            : "slower than half the naive loop",
      } satisfies Row,
    ],
    data: results,
  };
}
