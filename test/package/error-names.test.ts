/**
 * An app's minifier renames classes; the SDK's errors keep their names all
 * the same (`error.name === "AuthRefreshError"` in production builds). The
 * package is bundled by esbuild from `dist/` (through package.json
 * `exports`, built first when older than `src/`), minified, and run.
 */

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ensureDist, PACKAGE_NAME, ROOT } from "../../bench/support/dist.js";

const dir = mkdtempSync(join(tmpdir(), "courier-error-names-"));
let names: [exported: string, name: string, isCourierError: boolean][] = [];
let minifiedClassNames: string[] = [];

beforeAll(async () => {
  console.log(`error names: ${ensureDist()}`);
  mkdirSync(join(dir, "node_modules", PACKAGE_NAME.split("/")[0] as string), { recursive: true });
  symlinkSync(ROOT, join(dir, "node_modules", PACKAGE_NAME), "dir");
  // The app's bundle leaves its dependencies to the runtime, as a minified library build would.
  for (const dep of ["mqtt", "xstate"])
    symlinkSync(join(ROOT, "node_modules", dep), join(dir, "node_modules", dep), "dir");
  const result = await build({
    stdin: {
      // Every exported error class, constructed with placeholder arguments (each takes them).
      contents: `import * as sdk from "${PACKAGE_NAME}";
export const names = Object.entries(sdk)
  .filter(([, v]) => typeof v === "function" && v.prototype instanceof Error)
  .map(([k, v]) => { const e = new v("a", "b", {}, {}); return [k, e.name, e instanceof sdk.CourierError, v.name]; });`,
      resolveDir: dir,
      loader: "js",
    },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    external: ["mqtt", "xstate"],
    write: false,
    logLevel: "silent",
  });
  const bundled = join(dir, "app.mjs");
  writeFileSync(bundled, result.outputFiles[0]?.text ?? "");
  const module = (await import(pathToFileURL(bundled).href)) as {
    names: [string, string, boolean, string][];
  };
  names = module.names.map(([k, n, c]) => [k, n, c]);
  minifiedClassNames = module.names.map(([, , , className]) => className);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("the bundle is minified: the classes themselves lost their names (else this test proves nothing)", () => {
  expect(minifiedClassNames.length).toBeGreaterThan(10);
  expect(minifiedClassNames.filter((n) => n.endsWith("Error"))).toEqual([]);
});

test("every exported error's name is its exported name after minification, and each is a CourierError", () => {
  expect(names.length).toBeGreaterThan(10);
  for (const [exported, name, isCourierError] of names) {
    expect({ exported, name, isCourierError }).toEqual({
      exported,
      name: exported,
      isCourierError: true,
    });
  }
});
