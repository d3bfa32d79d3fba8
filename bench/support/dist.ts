/**
 * Benchmarks measure the SDK as apps get it: the built package (`dist/`,
 * through its package.json `exports`), never `src/` through a TypeScript
 * loader (which keeps function names and other development-only code:
 * ~5 KB more per client in the memory row). Before measuring, `dist/` is
 * checked against its inputs and rebuilt (`npm run build`) when stale.
 */

import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const PACKAGE_NAME = "@armaanjain/courier-web-sdk";

/**
 * A tsconfig without the `paths` that map the package name to `src/`: child
 * processes run with `TSX_TSCONFIG_PATH` set to it, so the package name
 * resolves the way Node resolves it for an app (package `exports` → `dist/`).
 */
export const DIST_TSCONFIG = fileURLToPath(new URL("../tsconfig.dist.json", import.meta.url));

/** `--import` argument that runs TypeScript in a child process, whatever its working directory. */
export const TSX_LOADER = import.meta.resolve("tsx");

/** Environment for a child process that must load the SDK from `dist/`. */
export function distEnv(): NodeJS.ProcessEnv {
  return { ...process.env, TSX_TSCONFIG_PATH: DIST_TSCONFIG };
}

function files(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile())
      .map((entry) => `${entry.parentPath}/${entry.name}`);
  } catch {
    return [];
  }
}

const mtime = (file: string) => statSync(file).mtimeMs;

export interface DistStatus {
  fresh: boolean;
  /** Why it is stale (or "up to date"). */
  reason: string;
  /** When the oldest file of `dist/` was written. */
  builtAt: Date | null;
}

/** Is every file of `dist/` newer than every file it is built from? */
export function distStatus(): DistStatus {
  const built = files(`${ROOT}dist`).filter((f) => /\.(c|m)?js$/.test(f));
  if (built.length === 0) return { fresh: false, reason: "dist/ is missing", builtAt: null };
  const oldest = Math.min(...built.map(mtime));
  const inputs = [...files(`${ROOT}src`), `${ROOT}tsup.config.ts`, `${ROOT}package.json`];
  const newer = inputs.find((f) => mtime(f) > oldest);
  return {
    fresh: newer === undefined,
    reason: newer ? `${newer.replace(ROOT, "")} is newer than dist/` : "up to date",
    builtAt: new Date(oldest),
  };
}

/**
 * Builds `dist/` (`npm run build`, i.e. tsup) when it is missing or older
 * than `src/`; returns the line to print, so a run says which SDK it measured.
 */
export function ensureDist(): string {
  const status = distStatus();
  if (status.fresh) {
    return `dist/ is up to date with src/ (built ${status.builtAt?.toISOString().slice(0, 19)}Z): measuring it`;
  }
  const started = Date.now();
  const run = spawnSync(process.execPath, [`${ROOT}node_modules/tsup/dist/cli-default.js`], {
    cwd: ROOT,
    stdio: "pipe",
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(`npm run build failed:\n${run.stdout}\n${run.stderr}`);
  return `${status.reason}: built it (npm run build, ${((Date.now() - started) / 1000).toFixed(1)} s), measuring it`;
}

/**
 * Throws unless the package name resolves into `dist/` in this process
 * (call it where a benchmark imports the SDK).
 */
export function assertSdkFromDist(resolved: string): void {
  if (!resolved.includes("/dist/")) {
    throw new Error(
      `the SDK resolved to ${resolved}, not dist/: run benchmarks through npm run bench (it sets TSX_TSCONFIG_PATH=${DIST_TSCONFIG})`,
    );
  }
}
