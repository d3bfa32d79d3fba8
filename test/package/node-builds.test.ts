/**
 * Node users see no change from mqtt.js being loaded on the first
 * `connect()`: the built package, required as CommonJS (`dist/index.cjs`)
 * and imported as ESM (`dist/index.js`) by plain Node (no TypeScript
 * loader, no bundler) in a child process, connects to a real broker (aedes
 * on 127.0.0.1), subscribes, receives its own message and disconnects. The
 * parts loaded on first use load in both: `messages()` iteration and the
 * `debug` option's redacting formatter.
 */

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureDist, ROOT } from "../../bench/support/dist.js";
import { TestBroker } from "../support/broker.js";

const run = promisify(execFile);
let broker: TestBroker;

beforeAll(async () => {
  console.log(`node builds: ${ensureDist()}`);
  broker = await TestBroker.start();
}, 120_000);

afterAll(async () => {
  await broker?.close();
});

/** The same script for both module systems; `load` is how it gets the package. */
function script(load: string): string {
  return `
(async () => {
  const { RealtimeClient } = ${load};
  const states = [];
  const lines = [];
  const client = new RealtimeClient({
    endpoint: { host: "127.0.0.1", port: Number(process.env.PORT), clientId: process.env.CLIENT_ID },
    debug: (line) => lines.push(line),
  });
  client.on("stateChange", ({ state }) => states.push(state));
  await client.connect();
  let text;
  const received = new Promise((resolve) => {
    text = client.subscribe("node-builds/t", (m) => resolve(new TextDecoder().decode(m.payload)));
  });
  await text;
  await client.publish("node-builds/t", "hello", { qos: 1 });
  text = await received;
  const stream = client.messages("node-builds/stream");
  const next = stream.next();
  while (!client.subscriptions.includes("node-builds/stream")) await new Promise((r) => setTimeout(r, 10));
  await client.publish("node-builds/stream", "streamed", { qos: 1 });
  const streamed = new TextDecoder().decode((await next).value.payload);
  await stream.return();
  await client.disconnect();
  const debug = { state: lines.includes("state idle → connecting"), mqtt: lines.some((l) => l.startsWith("mqtt.js ")) };
  console.log(JSON.stringify({ states, text, streamed, debug }));
})().catch((error) => { console.error(error); process.exit(1); });`;
}

async function runNode(kind: "commonjs" | "module", load: string, clientId: string) {
  const { stdout } = await run(process.execPath, [`--input-type=${kind}`, "--eval", script(load)], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(broker.tcpPort), CLIENT_ID: clientId },
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split("\n").at(-1) as string) as {
    states: string[];
    text: string;
    streamed: string;
    debug: { state: boolean; mqtt: boolean };
  };
}

describe("the built package in plain Node", () => {
  test("require(): dist/index.cjs connects, receives and disconnects", async () => {
    const result = await runNode("commonjs", `require(${JSON.stringify(ROOT)})`, "node-cjs");
    expect(result.text).toBe("hello");
    expect(result.streamed).toBe("streamed");
    expect(result.debug).toEqual({ state: true, mqtt: true });
    expect(result.states).toEqual(["connecting", "restoring", "connected", "closing", "idle"]);
    expect(broker.connects.map((c) => c.clientId)).toContain("node-cjs");
  });

  test("import(): dist/index.js connects, receives and disconnects", async () => {
    const url = new URL("dist/index.js", `file://${ROOT}`).href;
    const result = await runNode("module", `await import(${JSON.stringify(url)})`, "node-esm");
    expect(result.text).toBe("hello");
    expect(result.streamed).toBe("streamed");
    expect(result.debug).toEqual({ state: true, mqtt: true });
    expect(result.states).toEqual(["connecting", "restoring", "connected", "closing", "idle"]);
    expect(broker.connects.map((c) => c.clientId)).toContain("node-esm");
  });
});
