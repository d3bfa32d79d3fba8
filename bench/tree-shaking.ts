/**
 * Pay for what you import: tiny browser apps, each importing one part of
 * the package by its name (resolved through package.json `exports` to
 * `dist/`, as an app's bundler resolves it), bundled with esbuild
 * (`platform: "browser"`, minified, ESM), gzip level 9. For each: the size,
 * and whether mqtt.js or xstate code is inside, told by marker strings that
 * survive minification (checked on the whole client, which must contain
 * both: a detector that cannot fail proves nothing).
 */

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { PACKAGE_NAME, ROOT } from "./support/dist.js";

/** Strings that only mqtt.js's browser build / xstate's runtime contain (not the SDK's own code). */
export const MARKERS = {
  mqtt: ["mqttjs:client"],
  xstate: ["xstate.init", "xstate.spawnChild"],
} as const;

export interface App {
  readonly name: string;
  /** The app's whole source. */
  readonly source: string;
}

/** The apps, each using what it imports (so a bundler cannot drop it as unused). */
export const APPS: readonly App[] = [
  {
    name: "RemoteCredentials only",
    source: `import { RemoteCredentials } from "${PACKAGE_NAME}";
const provider = new RemoteCredentials("/token", (json) => ({ password: json.token }));
globalThis.provider = provider;`,
  },
  {
    name: "error classes only",
    source: `import { CourierError, NotAuthorizedError } from "${PACKAGE_NAME}";
globalThis.isCourierError = (e) => e instanceof CourierError || e instanceof NotAuthorizedError;`,
  },
  {
    name: "types only",
    source: `import type { Endpoint, ConnectionState } from "${PACKAGE_NAME}";
const endpoint: Endpoint = { host: "example.com" };
const state: ConnectionState = "idle";
globalThis.app = { endpoint, state };`,
  },
  {
    name: "the whole client (RealtimeClient)",
    source: `import { RealtimeClient } from "${PACKAGE_NAME}";
globalThis.client = new RealtimeClient({ endpoint: { host: "example.com" } });`,
  },
];

export interface AppReport {
  readonly name: string;
  readonly min: number;
  readonly gzip: number;
  readonly hasMqtt: boolean;
  readonly hasXstate: boolean;
}

/**
 * A directory outside the repository with `node_modules/<package>` linked
 * to it: the package is found by its name, as in an app, and its own
 * dependencies (mqtt, xstate) from the repository's node_modules.
 */
function appDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "courier-tree-shaking-"));
  const scope = join(dir, "node_modules", PACKAGE_NAME.split("/")[0] as string);
  mkdirSync(scope, { recursive: true });
  symlinkSync(ROOT, join(dir, "node_modules", PACKAGE_NAME), "dir");
  return dir;
}

export async function measureApps(apps: readonly App[] = APPS): Promise<AppReport[]> {
  const dir = appDir();
  try {
    const reports: AppReport[] = [];
    for (const [i, app] of apps.entries()) {
      const entry = join(dir, `app${i}.ts`);
      writeFileSync(entry, app.source);
      const result = await build({
        entryPoints: [entry],
        absWorkingDir: dir,
        bundle: true,
        minify: true,
        format: "esm",
        platform: "browser",
        target: "es2022",
        write: false,
        logLevel: "silent",
        define: { "process.env.NODE_ENV": '"production"' },
      });
      const file = result.outputFiles[0];
      if (!file) throw new Error(`esbuild produced no output for ${app.name}`);
      const text = file.text;
      reports.push({
        name: app.name,
        min: file.contents.length,
        gzip: gzipSync(file.contents, { level: 9 }).length,
        hasMqtt: MARKERS.mqtt.some((m) => text.includes(m)),
        hasXstate: MARKERS.xstate.some((m) => text.includes(m)),
      });
    }
    return reports;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Targets (the weight issue's): the first three apps must not carry the client. */
export const TARGETS = {
  remoteCredentialsGzip: 3_000,
} as const;
