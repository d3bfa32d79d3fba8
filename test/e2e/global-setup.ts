/**
 * Before the browser suite: Chromium must be there; `dist/` must be built
 * from the current sources (the pages use the package as published); the
 * pages are bundled by Vite once, and the report (modules, sizes, Node
 * built-ins) is handed to the tests.
 */

import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { type BundleReport, buildPages, distIsStale, ROOT } from "./support/bundle.js";
import { CHROMIUM } from "./support/chromium.js";

declare module "vitest" {
  export interface ProvidedContext {
    bundle: BundleReport;
  }
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => `${entry.parentPath}/${entry.name}`);
}

export default async function setup(project: TestProject): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH.`,
    );
  }
  if (distIsStale(sourceFiles(`${ROOT}src`))) {
    const started = Date.now();
    const run = spawnSync(process.execPath, [`${ROOT}node_modules/tsup/dist/cli-default.js`], {
      cwd: ROOT,
      stdio: "pipe",
      encoding: "utf8",
    });
    if (run.status !== 0) throw new Error(`building dist/ failed:\n${run.stdout}\n${run.stderr}`);
    console.log(`e2e: built dist/ (tsup, ${Date.now() - started} ms)`);
  }
  const bundle = await buildPages(`${ROOT}.e2e/build`);
  const app = bundle.entries.find((e) => e.page === "index.html");
  if (app) {
    console.log(
      `e2e: Vite bundle of a page using the SDK: ${app.bytes} bytes minified, ${app.gzipBytes} gzipped (first chunk: SDK + xstate; mqtt.js is a chunk loaded on connect())`,
    );
  }
  project.provide("bundle", bundle);
}
