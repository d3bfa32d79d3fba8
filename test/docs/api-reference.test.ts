/**
 * The API reference check (`npm run docs:check`, run by .ci/run) fails on a
 * public export without a doc comment: TypeDoc run with this repository's
 * typedoc.json validation settings over a small package whose one export is
 * undocumented must exit non-zero and name it; documented, it must pass.
 */

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";

const root = process.cwd();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "courier-typedoc-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function typedoc(source: string): Promise<{ code: number; output: string }> {
  const settings = JSON.parse(await readFile(join(root, "typedoc.json"), "utf8"));
  await writeFile(join(dir, "index.ts"), source);
  await writeFile(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { strict: true, module: "ESNext", target: "ES2022" },
      include: ["index.ts"],
    }),
  );
  const config = {
    ...settings,
    entryPoints: [join(dir, "index.ts")],
    tsconfig: join(dir, "tsconfig.json"),
    intentionallyNotDocumented: [],
  };
  await writeFile(join(dir, "typedoc.json"), JSON.stringify(config));
  return new Promise((resolve, reject) => {
    execFile(
      join(root, "node_modules", ".bin", "typedoc"),
      ["--options", join(dir, "typedoc.json"), "--emit", "none"],
      { cwd: root, timeout: 120_000 },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (!error) resolve({ code: 0, output });
        else if (typeof error.code === "number") resolve({ code: error.code, output });
        else reject(error);
      },
    );
  });
}

test("an undocumented public export fails the check; documented, it passes", {
  timeout: 240_000,
}, async () => {
  const failing = await typedoc(
    "/** Documented. */\nexport const a = 1;\nexport function undocumented(): void {}\n",
  );
  expect(failing.output).toMatch(/undocumented.*does not have any documentation/);
  expect(failing.code).not.toBe(0);
  const passing = await typedoc(
    "/** Documented. */\nexport const a = 1;\n/** Documented too. */\nexport function documented(): void {}\n",
  );
  expect(passing.output).not.toMatch(/does not have any documentation/);
  expect(passing.code).toBe(0);
});
