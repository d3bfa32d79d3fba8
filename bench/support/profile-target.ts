/**
 * What bench/profile.ts profiles, in a fresh process: one client (`raw`
 * mqtt.js or `ours`) publishing at QoS 1 with 100 awaited at a time, or
 * receiving QoS 0 from the broker stand-in, exactly as bench/throughput.ts
 * does. Only the measured loop is profiled (node:inspector, after a
 * warm-up: no module loading, no JIT warm-up in the profile); the profile
 * is written to the file named by the fourth argument and the rate printed.
 */

import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { Socket } from "node:net";

import { endRaw, ourClient, rawClient } from "./clients.js";
import { RemoteBroker } from "./remote-broker.js";

const [path, kind, countArg, out] = process.argv.slice(2);
const count = Number(countArg);
const payload = Buffer.alloc(1024, 120);
const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.setSamplingInterval", { interval: 100 });

/**
 * Socket writes (syscalls) and their chunks during the profiled loop: how
 * well each client's packets are batched into one `writev`.
 */
const writes = { calls: 0, chunks: 0, counting: false };
const proto = Socket.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const method of ["_writev", "_write"] as const) {
  const original = proto[method] as (...args: unknown[]) => unknown;
  proto[method] = function (this: unknown, ...args: unknown[]) {
    if (writes.counting) {
      writes.calls += 1;
      writes.chunks += method === "_writev" ? (args[0] as unknown[]).length : 1;
    }
    return original.apply(this, args);
  };
}

async function profiled(body: () => Promise<void>): Promise<number> {
  writes.counting = true;
  await session.post("Profiler.start");
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await body();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const { profile } = await session.post("Profiler.stop");
  writes.counting = false;
  writeFileSync(
    out as string,
    JSON.stringify({ ...profile, cpuUs: cpu.user + cpu.system, count, seconds, writes }),
  );
  return count / seconds;
}

if (path === "publish") {
  const broker = await RemoteBroker.start("aedes");
  const raw = kind === "raw" ? await rawClient(broker.port) : null;
  const ours = kind === "ours" ? ourClient(broker.port) : null;
  await ours?.connect();
  const publish = raw
    ? () => raw.publishAsync("bench/raw", payload, { qos: 1 })
    : () => (ours as NonNullable<typeof ours>).publish("bench/ours", payload, { qos: 1 });
  const loop = async (n: number) => {
    for (let sent = 0; sent < n; sent += 100) {
      const batch: Promise<unknown>[] = [];
      for (let i = 0; i < 100 && sent + i < n; i++) batch.push(publish());
      await Promise.all(batch);
    }
  };
  await loop(count / 5); // warm-up
  const rate = await profiled(() => loop(count));
  console.log(`  ${kind}: ${Math.round(rate)} msg/s`);
  if (raw) await endRaw(raw);
  await ours?.disconnect();
  await broker.close();
} else {
  const broker = await RemoteBroker.start("standin");
  let left = 0;
  let done: () => void = () => {};
  const onMessage = () => {
    left -= 1;
    if (left === 0) done();
  };
  const raw = kind === "raw" ? await rawClient(broker.port) : null;
  const ours = kind === "ours" ? ourClient(broker.port) : null;
  if (raw) {
    raw.on("message", onMessage);
    await raw.subscribeAsync("bench/t", { qos: 0 });
  } else if (ours) {
    await ours.connect();
    await ours.subscribe("bench/t", onMessage, { qos: 0 });
  }
  const blast = async (n: number) => {
    left = n;
    const received = new Promise<void>((resolve) => {
      done = resolve;
    });
    await broker.call({ cmd: "blast", topic: "bench/t", size: 1024, count: n });
    await received;
  };
  await blast(count / 5); // warm-up
  const rate = await profiled(() => blast(count));
  console.log(`  ${kind}: ${Math.round(rate)} msg/s`);
  if (raw) await endRaw(raw);
  await ours?.disconnect();
  await broker.close();
}
process.exit(0);
