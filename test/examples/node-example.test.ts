/**
 * The Node example, run as a user runs it — `npm run example -- node` —
 * against the demo stack with tokens living 3 s: it must read messages,
 * live through a token expiry (renewed ahead, rotated at the close) and keep reading after it,
 * end its loop when its signal fires, disconnect (`await using`), and exit 0.
 */

import { spawn } from "node:child_process";
import { expect, test } from "vitest";

function run(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "--silent", "example", "--", ...args], {
      cwd: process.cwd(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test("npm run example -- node lives through a token expiry and exits 0", {
  timeout: 90_000,
}, async () => {
  const { code, output } = await run(["node", "--ttl", "3", "--duration", "8"]);
  expect(output).toMatch(/restoring → connected/);
  const lines = output.split("\n");
  // Renewed ahead of the first token's expiry (the default): at the broker's close the client
  // rotates to the fresh token at once, without the page's refresh and 2 s wait.
  const refreshed = lines.findIndex((line) => line.startsWith("connected → reconnecting"));
  expect(refreshed).toBeGreaterThan(0);
  const reconnected = lines.findIndex(
    (line, i) => i > refreshed && line.startsWith("restoring → connected"),
  );
  expect(reconnected).toBeGreaterThan(refreshed);
  const done = /done: (\d+) messages, latest seq (\d+)/.exec(output);
  expect(done).not.toBeNull();
  const [, received, lastSeq] = done ?? [];
  expect(Number(received)).toBeGreaterThan(10);
  // Messages kept coming after the reconnection: the last one read is recent.
  const before = lines
    .slice(0, reconnected)
    .map((line) => /latest seq (\d+)/.exec(line)?.[1])
    .filter(Boolean)
    .map(Number);
  expect(Number(lastSeq)).toBeGreaterThan(Math.max(0, ...before));
  // `await using` disconnected the client before the script returned.
  expect(output).toMatch(/closing → idle/);
  expect(code).toBe(0);
});
