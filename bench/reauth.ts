/**
 * Token expiry, three ways, on mosquitto 2.0 with the project's JWT plugin
 * (test/support/mosquitto-jwt): short-lived HS256 tokens, the broker ends a
 * connection at its token's `exp` with DISCONNECT 0x87 unless an AUTH 0x19
 * moved it. One client per flow, over several lifetimes:
 *
 * - the page's reactive flow (`refreshAhead: false`): the broker ends the
 *   connection, the client refreshes, waits 2 s, reconnects;
 * - refresh ahead: fresh token before the expiry, reconnect at once when the
 *   broker ends the connection (rotation);
 * - re-authentication in place (`mqtt5Auth`): the fresh token is presented
 *   on the live connection; no reconnect.
 *
 * Measured: time not `connected` per expiry (target 0 ms in place), and the
 * worst latency of a QoS 1 message the client publishes to itself every
 * 20 ms (publish → delivery), which spans every renewal of the run.
 */

import { RealtimeClient, type RealtimeClientOptions } from "@armaanjain/courier-web-sdk";
import { type JwtMosquitto, startJwtMosquitto } from "../test/support/mosquitto-jwt.js";
import { type BenchOutput, fmt, median, type Row } from "./support/stats.js";

const PROBE_MS = 20;

interface FlowResult {
  readonly expiries: number;
  readonly offlinePerExpiryMs: number;
  readonly maxLatencyMs: number;
  readonly medianLatencyMs: number;
  readonly lost: number;
}

type Flow = "reactive" | "ahead" | "inPlace";

async function runFlow(
  broker: JwtMosquitto,
  flow: Flow,
  lifetimeS: number,
  expiries: number,
): Promise<FlowResult> {
  const endpoint = { host: "127.0.0.1", port: broker.broker.tcpPort, clientId: `bench-${flow}` };
  const fresh = () => ({ ...endpoint, username: "bench", password: broker.token(lifetimeS) });
  const options: RealtimeClientOptions = {
    endpoint: fresh(),
    onAuthFailure: async () => fresh(),
    environment: false,
    mqtt: { protocolVersion: 5 },
    ...(flow === "reactive" ? { refreshAhead: false } : {}),
    ...(flow === "inPlace" ? { mqtt5Auth: { method: broker.method } } : {}),
  };
  const client = new RealtimeClient(options);
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let offlineMs = 0;
  let downSince: number | undefined;
  let up = false;
  client.on("stateChange", (change) => {
    if (change.state === "connected") {
      if (downSince !== undefined) offlineMs += change.at - downSince;
      downSince = undefined;
      up = true;
    } else if (up && downSince === undefined) {
      downSince = change.at;
    }
  });
  await client.connect();
  await client.subscribe(
    "bench/probe",
    (m) => {
      const id = new TextDecoder().decode(m.payload);
      const at = sentAt.get(id);
      if (at !== undefined && !latencies[Number(id)])
        latencies[Number(id)] = performance.now() - at;
    },
    { qos: 1 },
  );
  const start = performance.now();
  // Each lifetime ends at its token's exp; run until `expiries` of them passed, plus a margin.
  const until = start + expiries * lifetimeS * 1000 + (flow === "reactive" ? expiries * 2500 : 0);
  let n = 0;
  const publishes: Promise<void>[] = [];
  while (performance.now() < until) {
    const id = String(n++);
    sentAt.set(id, performance.now());
    publishes.push(client.publish("bench/probe", id, { qos: 1 }));
    await new Promise((r) => setTimeout(r, PROBE_MS));
  }
  await Promise.all(publishes);
  const deadline = performance.now() + 5000;
  while (latencies.filter(Boolean).length < n && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await client.disconnect();
  const got = latencies.filter((v) => v !== undefined);
  // Expiries that really passed: the run's length over the token lifetime.
  const passed = Math.max(1, Math.floor((until - start) / (lifetimeS * 1000)));
  return {
    expiries: passed,
    offlinePerExpiryMs: offlineMs / passed,
    maxLatencyMs: Math.max(...got),
    medianLatencyMs: median(got),
    lost: n - got.length,
  };
}

export async function run({ quick }: { quick: boolean }): Promise<BenchOutput> {
  const lifetimeS = quick ? 3 : 5;
  const expiries = quick ? 2 : 5;
  const results = {} as Record<Flow, FlowResult>;
  for (const flow of ["reactive", "ahead", "inPlace"] as const) {
    const broker = await startJwtMosquitto();
    try {
      results[flow] = await runFlow(broker, flow, lifetimeS, expiries);
    } finally {
      await broker.close();
    }
  }
  const { reactive, ahead, inPlace } = results;
  const lost = (r: FlowResult) => (r.lost ? `; ${r.lost} lost` : "");
  const rows: Row[] = [
    {
      benchmark: `Offline per token expiry, re-authentication in place (MQTT 5 AUTH 0x19; ${inPlace.expiries} expiries of ${lifetimeS} s tokens)`,
      measured: `${fmt(inPlace.offlinePerExpiryMs)} ms`,
      anchor: `refresh ahead ${fmt(ahead.offlinePerExpiryMs)} ms; page's reactive flow ${fmt(reactive.offlinePerExpiryMs)} ms`,
      ratio: "",
      target: "0 ms",
      met: inPlace.offlinePerExpiryMs === 0 && inPlace.lost === 0,
      note: `mosquitto 2.0 + JWT plugin${lost(inPlace)}`,
    },
    {
      benchmark:
        "Worst QoS 1 message latency across the renewals (self-publish every 20 ms), re-authentication in place",
      measured: `${fmt(inPlace.maxLatencyMs, 1)} ms (median ${fmt(inPlace.medianLatencyMs, 1)} ms)`,
      anchor: `refresh ahead ${fmt(ahead.maxLatencyMs, 1)} ms (median ${fmt(ahead.medianLatencyMs, 1)}); reactive ${fmt(reactive.maxLatencyMs, 1)} ms (median ${fmt(reactive.medianLatencyMs, 1)})`,
      ratio: "",
      target: "",
      met: null,
      note: `lost: in place ${inPlace.lost}, ahead ${ahead.lost}, reactive ${reactive.lost}`,
    },
  ];
  return { rows, data: results };
}
