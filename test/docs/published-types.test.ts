/**
 * The declarations the package ships are read by users in their editor: their
 * comments may cite the MQTT spec, the README or the CHANGELOG (which ship
 * with the package), never a file of the repository, a tracker number or a
 * maintainers' note. Builds the declarations as `npm run build` does (tsup,
 * `tsup.config.ts`), into a temporary directory, and reads every comment.
 */

import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));

/** What a user who installed the package cannot open or does not care about. */
const INTERNAL: readonly [string, RegExp][] = [
  ["a path into the repository", /\b(src|services|machines|client|test|scripts|bench|demo)\//],
  ["a maintainers' document", /\b(DESIGN|STYLE|STACK)\.md\b/],
  ["a tracker reference", /\bissues?\b|#\d{2,}\b|\btracker\b/i],
  ["a TypeScript file name", /[\w-]+\.ts\b/],
  ["a maintainers' note", /\b\d+ lines on purpose\b/],
];

let dir = "";
const comments: { file: string; text: string }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "courier-dts-"));
  await run(join(root, "node_modules", ".bin", "tsup"), ["--dts-only", "--out-dir", dir], {
    cwd: root,
    timeout: 170_000,
  });
  for (const file of await readdir(dir)) {
    if (!/\.d\.c?ts$/.test(file)) continue;
    const source = await readFile(join(dir, file), "utf8");
    for (const match of source.matchAll(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g)) {
      comments.push({ file, text: match[0] });
    }
  }
}, 180_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("the declarations were built and have comments to read", () => {
  expect(comments.length).toBeGreaterThan(100);
});

test.each(INTERNAL)("no comment in the shipped .d.ts cites %s", (_, pattern) => {
  const offending = comments
    .filter((c) => pattern.test(c.text))
    .map((c) => `${c.file}: ${c.text.slice(0, 160)}`);
  expect(offending).toEqual([]);
});
