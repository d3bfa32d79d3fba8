/**
 * Browser bundle size, min + gzip, as a browser app gets it: the package by
 * its name (package.json `exports` → `dist/`, built first when stale),
 * esbuild, `platform: "browser"` (mqtt resolves to its browser build),
 * minified.
 * - own: the SDK's whole public surface with `mqtt` and `xstate` external;
 * - deps: exactly the `mqtt` and `xstate` bindings the SDK imports, alone;
 * - total: the SDK with its dependencies bundled in;
 * - tree-shaking (bench/tree-shaking.ts): apps importing only one part;
 * - first chunk (bench/first-chunk.ts): a Vite app in Chromium, initial
 *   chunk and time from page load to CONNACK, per variant.
 * `npm run size [-- --modules] [--no-browser]`: fails (exit 1) if the SDK's
 * own code passes its budget or a Node built-in leaks into the browser
 * bundle; the tree-shaking targets are checked by
 * test/package/tree-shaking.test.ts. `--modules` lists bytes per source
 * file (bundled from `src/`, the only place that attribution exists).
 */

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Plugin } from "esbuild";
import { type FirstChunkReport, measureFirstChunk } from "./first-chunk.js";
import { ensureDist, PACKAGE_NAME } from "./support/dist.js";
import { type BenchOutput, fmt, type Row } from "./support/stats.js";
import { type AppReport, measureApps, TARGETS } from "./tree-shaking.js";

/**
 * The target for the SDK's own code, min + gzip, in bytes (docs/benchmarks.md;
 * reported, not enforced): 11 KB, what the measured cuts (state descriptions
 * out of the runtime machine, `RemoteCredentials` and cross-tab sharing
 * behind their own entry, inspection loaded only when asked for) and leaner
 * validation can reach without dropping behaviour. (It was 6 KB, out of reach.)
 */
export const OWN_TARGET_BYTES = 11_000;
/**
 * What CI enforces: the size reached plus a small margin. 12,930 bytes after
 * the benchmark work (12,811 before it, −200 for shorter texts, +250 for the
 * outbox's linked list, which halved the SDK's CPU cost per publish); then
 * 15,050 with the browser work (docs/browser.md): +1.8 KB for redacted devtools inspection
 * (services/redact.ts) and one token request per origin across tabs
 * (services/cross-tab.ts), the rest for Receive Maximum and the pre-CONNACK
 * guard in the adapter. The 6 KB target is out of reach without dropping
 * behaviour: with every string literal emptied, the minified code alone
 * still gzips to 9.1 KB (docs/benchmarks.md).
 * 15,800 after the machine was split by idea: +0.55 KB for the one table of
 * option defaults (each option's value, unit and the delays it sets, read by
 * option resolution, the diagrams and the demo), the failure → error mapping
 * and retry accounting as named functions beside the chart, the timeouts
 * naming themselves through action params, and the typed provider
 * interface that replaced the hidden registry.
 * Then +1.6 KB for the interfaces JavaScript users expect — async
 * iteration over messages with its bounded buffer (client/message-stream.ts),
 * AbortSignal on connect/subscribe/publish and once() (client/abort.ts), and
 * their two errors. (The React bindings are a separate entry and add nothing.)
 * Then +1.8 KB (17,470 → 19,250) for refusing bad input where it is made:
 * durations past what a timer holds, mqtt.js options outside MQTT's ranges
 * (keepalive, clean, the CONNECT properties), unknown option keys with the
 * nearest known one, listeners that are not functions, RemoteCredentials'
 * arguments, values shown by kind ("the string \"1883\""), a mapper's
 * error kept as a scrubbed cause, publish() after disconnect(); and for the
 * one shared, redacting logger mqtt.js writes through (the `debug` option,
 * services/mqtt-log.ts), which keeps the password out of `DEBUG=mqttjs*`.
 * Then +2.6 KB (17.23 → 19.82 KB measured) for refreshing ahead of the
 * credentials' expiry: reading a JWT's exp/iat (services/expiry.ts), the
 * four renewal states inside connected.live with their guards and delays,
 * rotation at the old expiry, the provider's latest answer
 * (services/latest-answer.ts), the refreshAhead option and the renewal
 * event; raised by exactly that.
 * Lower this when the code shrinks; raise it only saying what the bytes buy.
 * Then measured as an app using RealtimeClient + RemoteCredentials gets it
 * (initial chunk, code splitting on): 16,080 bytes after state descriptions
 * moved beside the machine (−440), cross-tab sharing (−1.1 KB) and redacted
 * inspection (−0.9 KB) became chunks loaded only when used; budget 16,300.
 */
// Then 24,430 bytes measured once everything above met in one client: refreshing ahead of the
// expiry (+2.6 KB), the broker defects fixed (packet size, lone filters, early closes, overdue
// acknowledgements, sessionPresent distrust: ~1.5 KB), MQTT 5 re-authentication (~1 KB), and the
// input checks and logger above. Far over the 11 KB target: the next cut is the open weight work.
// Then 23,284 bytes (−1,146) with the code only a non-default option or call needs moved to chunks
// loaded on first use (counted in "loaded later"): the `debug` option's redacting formatter
// (services/debug-format.ts and the redaction rules, −811) and `mqtt5Auth`'s method/data/AUTH
// 0x18 code (services/enhanced-auth.ts, −89); the option groups checked from one table each
// (−117). (`messages()`'s buffer in a chunk of its own saved 172 bytes for a wrapper nearly as
// large; it was taken back.) Then 23,880 measured with: every error class writing its name out,
// so `error.name` survives an app's minifier (~+250); the publish path's acknowledgement watchdog
// as a class of its own (services/ack-watch.ts, ~+130); and the connection opened by the `link`
// state's actions instead of an invoked actor (about even). Budget: that + 1 %.
// Then 24,440 (+560) for the lean runtime (client/runtime.ts): a client without `inspect` runs
// its machine on the shared actor system instead of an XState actor of its own, which takes
// memory per idle client from 1.72× to 1.43× raw mqtt.js. Budget: that + 1 %.
export const OWN_BUDGET_BYTES = 24_700;
const TOTAL_RATIO_TARGET = 1.05;

const root = fileURLToPath(new URL("..", import.meta.url));
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

export interface Size {
  min: number;
  gzip: number;
}

export interface BundleReport {
  /** An app using RealtimeClient + RemoteCredentials: the SDK's code in its initial chunk. */
  own: Size;
  /** …and what the SDK loads later in that app, only when a feature needs it. */
  ownLater: Size;
  /** The SDK's whole public surface (`export *`), everything inlined. */
  surface: Size;
  deps: Size;
  total: Size;
  /** Node built-ins the browser bundle would import (must be none). */
  leakedBuiltins: string[];
  /** Bytes of minified output per SDK source file, largest first. */
  modules: [string, number][];
}

/** A directory where the package is found by its name, as in an app's node_modules. */
function withPackage<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "courier-size-"));
  mkdirSync(join(dir, "node_modules", PACKAGE_NAME.split("/")[0] as string), { recursive: true });
  symlinkSync(root, join(dir, "node_modules", PACKAGE_NAME), "dir");
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

async function bundle(
  contents: string,
  external: string[],
  plugins: Plugin[] = [],
  resolveDir = root,
): Promise<{ size: Size; text: string; modules: [string, number][] }> {
  const result = await build({
    stdin: { contents, resolveDir, loader: "ts", sourcefile: "entry.ts" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    external,
    plugins,
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error("esbuild produced no output");
  const output = Object.values(result.metafile.outputs)[0];
  const modules = Object.entries(output?.inputs ?? {})
    .map(([path, { bytesInOutput }]) => [path, bytesInOutput] as [string, number])
    .filter(([path]) => path.startsWith("src/"))
    .sort((a, b) => b[1] - a[1]);
  return {
    size: { min: file.contents.length, gzip: gzipSync(file.contents, { level: 9 }).length },
    text: file.text,
    modules,
  };
}

/**
 * The SDK's own code in an app that uses `RealtimeClient` and
 * `RemoteCredentials` (the published page's app), `mqtt` and `xstate`
 * external, bundled with code splitting as an app's bundler does: the
 * initial chunk (what the page loads before it runs) and, apart, what the
 * SDK loads later with `import()` only when a feature asks for it.
 */
async function measureApp(dir: string): Promise<{ initial: Size; later: Size }> {
  const entry = join(dir, "app.ts");
  writeFileSync(
    entry,
    `import { RealtimeClient, RemoteCredentials } from "${PACKAGE_NAME}";
globalThis.app = [RealtimeClient, RemoteCredentials];`,
  );
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: dir,
    outdir: join(dir, "out"),
    bundle: true,
    splitting: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    external: ["mqtt", "xstate"],
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const byPath = new Map(result.outputFiles.map((f) => [f.path, f]));
  const outputs = result.metafile.outputs;
  const initial = new Set<string>();
  const visit = (name: string) => {
    if (initial.has(name)) return;
    initial.add(name);
    for (const i of outputs[name]?.imports ?? [])
      if (i.kind === "import-statement" && !i.external) visit(i.path);
  };
  const entryName = Object.keys(outputs).find((name) => outputs[name]?.entryPoint);
  if (!entryName) throw new Error("esbuild produced no entry chunk");
  visit(entryName);
  const size = (names: string[]): Size => {
    const code = Buffer.concat(
      names.map((n) => byPath.get(join(dir, n))?.contents ?? new Uint8Array()),
    );
    return { min: code.length, gzip: names.length ? gzipSync(code, { level: 9 }).length : 0 };
  };
  const js = Object.keys(outputs).filter((n) => n.endsWith(".js"));
  return { initial: size([...initial]), later: size(js.filter((n) => !initial.has(n))) };
}

export function measureBundle(): Promise<BundleReport> {
  return withPackage((dir) => measureIn(dir));
}

async function measureIn(dir: string): Promise<BundleReport> {
  const surface = `export * from "${PACKAGE_NAME}";`;
  const own = await bundle(surface, ["mqtt", "xstate"], [], dir);
  const app = await measureApp(dir);
  // What the SDK takes from its dependencies, by name, from its own bundle's imports.
  const imported = new Map<string, Set<string>>();
  for (const [, clause, from] of own.text.matchAll(/import\s*([^;]*?)\s*from\s*"([^"]+)"/g)) {
    const names = imported.get(from as string) ?? new Set<string>();
    const named = /\{([^}]*)\}/.exec(clause as string)?.[1] ?? "";
    for (const spec of named.split(",")) {
      const name = spec.trim().split(/\s+as\s+/)[0];
      if (name) names.add(name);
    }
    if (/^[\w$]+\s*(,|$)/.test((clause as string).trim())) names.add("default");
    imported.set(from as string, names);
  }
  // Loaded on first use (`import("mqtt")`): its default export, in its own chunk.
  for (const [, from] of own.text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) {
    const names = imported.get(from as string) ?? new Set<string>();
    names.add("default");
    imported.set(from as string, names);
  }
  const depsEntry = [...imported]
    .map(([from, names], i) =>
      [...names].map((name) => `export { ${name} as d${i}_${name} } from "${from}";`).join("\n"),
    )
    .join("\n");
  const deps = await bundle(depsEntry, []);
  const leakedBuiltins = new Set<string>();
  const catchBuiltins: Plugin = {
    name: "catch-builtins",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!builtins.has(args.path)) return undefined;
        leakedBuiltins.add(args.path);
        return { path: args.path, external: true };
      });
    },
  };
  const total = await bundle(surface, [], [catchBuiltins], dir);
  return {
    own: app.initial,
    ownLater: app.later,
    surface: own.size,
    deps: deps.size,
    total: total.size,
    leakedBuiltins: [...leakedBuiltins],
    modules: [],
  };
}

/** `[median, min, max]` in ms. */
const ms = ([med, min, max]: number[]) =>
  `${fmt(med ?? Number.NaN, 0)} ms (${fmt(min ?? Number.NaN, 0)}–${fmt(max ?? Number.NaN, 0)})`;

/** KB of 1,000 bytes. */
const kb = (bytes: number) => `${fmt(bytes / 1000, 2)} KB`;

/** Bytes of minified output per source file (from `src/`: dist/ has no per-file attribution). */
export async function modulesFromSource(): Promise<[string, number][]> {
  return (await bundle(`export * from "./src/index.ts";`, ["mqtt", "xstate"])).modules;
}

function treeShakingRows(apps: AppReport[]): Row[] {
  const whole = apps.find((a) => a.name.startsWith("the whole client"));
  const parts = (a: AppReport) =>
    [a.hasMqtt ? "mqtt.js inside" : "no mqtt.js", a.hasXstate ? "xstate inside" : "no xstate"].join(
      ", ",
    );
  return apps
    .filter((a) => a !== whole)
    .map((a) => {
      const credentials = a.name.startsWith("RemoteCredentials");
      const met =
        !a.hasMqtt && !a.hasXstate && (!credentials || a.gzip <= TARGETS.remoteCredentialsGzip);
      return {
        benchmark: `Tree-shaking: an app importing ${a.name} (esbuild, min + gzip)`,
        measured: `${kb(a.gzip)} (${parts(a)})`,
        anchor: whole ? `the whole client: ${kb(whole.gzip)} (${parts(whole)})` : "—",
        ratio: whole ? `${fmt((a.gzip / whole.gzip) * 100, 1)} % of the whole client` : "—",
        target: credentials
          ? `≤ ${kb(TARGETS.remoteCredentialsGzip)}; no mqtt.js, no xstate`
          : "no mqtt.js, no xstate",
        met,
        note: met ? "" : "the import pulls in the client's dependencies",
      } satisfies Row;
    });
}

function firstChunkRows(report: FirstChunkReport): Row[] {
  const eager = report.variants.find((v) => v.name === "eager");
  const deferred = report.variants.find((v) => v.name === "deferred");
  const cell = (v: typeof eager) =>
    v
      ? `${v.name}: first chunk ${kb(v.initialGzip)} (${kb(v.initialBytes)} min, mqtt.js ${v.initialHasMqtt ? "in it" : "not in it"}, ${v.chunks} chunk(s) in all); load → CONNACK ${ms(v.connackMs)}`
      : "";
  return [
    {
      benchmark:
        "First chunk of a Vite app that constructs a client (Chromium, gzip; load → CONNACK)",
      measured: deferred ? cell(deferred) : "deferred: — (no deferred entry yet)",
      anchor: eager ? cell(eager) : "—",
      ratio:
        eager && deferred
          ? `${fmt(deferred.initialGzip / eager.initialGzip, 2)}× eager's first chunk`
          : "—",
      target: "deferred: mqtt.js not in the first chunk",
      met: deferred ? !deferred.initialHasMqtt : null,
      note: `${report.network}; medians of ${report.reps} page loads`,
    },
  ];
}

export async function run({ quick = false }: { quick?: boolean } = {}): Promise<BenchOutput> {
  const report = await measureBundle();
  const apps = await measureApps();
  const chunk = await measureFirstChunk({ reps: quick ? 2 : 5 });
  const ratio = report.total.gzip / report.deps.gzip;
  const ownMet = report.own.gzip <= OWN_TARGET_BYTES;
  const totalMet = ratio <= TOTAL_RATIO_TARGET;
  const clean = report.leakedBuiltins.length === 0;
  return {
    rows: [
      {
        benchmark: "Browser bundle, min + gzip (esbuild, platform browser)",
        measured: `SDK's own code, initial chunk of an app using RealtimeClient + RemoteCredentials: ${kb(report.own.gzip)} (${kb(report.own.min)} min; ${kb(report.ownLater.gzip)} more loaded only when used; whole surface ${kb(report.surface.gzip)}); SDK + deps ${kb(report.total.gzip)}`,
        anchor: `mqtt + xstate alone: ${kb(report.deps.gzip)}`,
        ratio: `${fmt(ratio, 3)}× deps`,
        target: `own ≤ ${kb(OWN_TARGET_BYTES)}; total ≤ ${TOTAL_RATIO_TARGET}× deps`,
        met: ownMet && totalMet && clean,
        note: [
          ownMet ? "" : `own code ${kb(report.own.gzip - OWN_TARGET_BYTES)} over the target`,
          `CI budget ${kb(OWN_BUDGET_BYTES)}`,
          totalMet ? "" : "total over 1.05× deps",
          clean
            ? "no Node built-in in the browser bundle"
            : `Node built-ins leak: ${report.leakedBuiltins.join(", ")}`,
        ]
          .filter(Boolean)
          .join("; "),
      },
      ...treeShakingRows(apps),
      ...firstChunkRows(chunk),
    ],
    data: { ...report, apps, firstChunk: chunk },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(`size: ${ensureDist()}`);
  const report = await measureBundle();
  console.log(
    `SDK's own code (an app using RealtimeClient + RemoteCredentials, initial chunk): ${kb(report.own.gzip)} min+gzip (${kb(report.own.min)} min); CI budget ${kb(OWN_BUDGET_BYTES)}, target ${kb(OWN_TARGET_BYTES)}`,
  );
  console.log(
    `  loaded later, only when used: ${kb(report.ownLater.gzip)}; the whole public surface, all inlined: ${kb(report.surface.gzip)} (${kb(report.surface.min)} min)`,
  );
  console.log(
    `mqtt + xstate (what the SDK imports): ${kb(report.deps.gzip)}; SDK + deps: ${kb(report.total.gzip)} (${fmt(report.total.gzip / report.deps.gzip, 3)}×)`,
  );
  if (process.argv.includes("--modules")) {
    console.log("minified bytes per source file (bundled from src/):");
    for (const [path, bytes] of await modulesFromSource())
      console.log(`${String(bytes).padStart(7)}  ${path}`);
  }
  console.log("\ntree-shaking (an app importing one part, esbuild, min + gzip):");
  for (const app of await measureApps()) {
    console.log(
      `  ${app.name.padEnd(36)} ${kb(app.gzip).padStart(10)} gzip  mqtt.js: ${app.hasMqtt ? "inside" : "no"}, xstate: ${app.hasXstate ? "inside" : "no"}`,
    );
  }
  if (!process.argv.includes("--no-browser")) {
    const chunk = await measureFirstChunk({ reps: 3 });
    console.log(
      `\nfirst chunk of a Vite app that constructs a client (Chromium, ${chunk.network}):`,
    );
    for (const v of chunk.variants) {
      console.log(
        `  ${v.name.padEnd(9)} first chunk ${kb(v.initialGzip)} gzip (${kb(v.initialBytes)} min), mqtt.js ${v.initialHasMqtt ? "in it" : "not in it"}, ${v.chunks} chunk(s); load → CONNACK ${ms(v.connackMs)}`,
      );
    }
    if (!chunk.variants.some((v) => v.name === "deferred"))
      console.log("  deferred  — (no deferred entry yet: bench/first-chunk/deferred.ts)");
  }
  let failed = false;
  if (report.own.gzip > OWN_BUDGET_BYTES) {
    console.error(
      `FAIL: the SDK's own code is ${kb(report.own.gzip - OWN_BUDGET_BYTES)} over its budget (run with --modules to see where).`,
    );
    failed = true;
  }
  if (report.leakedBuiltins.length > 0) {
    console.error(
      `FAIL: Node built-ins in the browser bundle: ${report.leakedBuiltins.join(", ")}`,
    );
    failed = true;
  }
  process.exit(failed ? 1 : 0);
}
