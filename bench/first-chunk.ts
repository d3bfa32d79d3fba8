/**
 * mqtt.js out of the first chunk: a Vite app that constructs a client,
 * built once per variant (an entry module that takes the broker's port from
 * `?port=`; see bench/first-chunk/eager.ts), loaded in Debian Chromium
 * (playwright-core over CDP, test/e2e/support/chromium.ts) from a local
 * server that gzips like a production server, against aedes over WebSocket
 * on 127.0.0.1. Reports, per variant: the initial chunk (the entry chunk and
 * every chunk it imports statically: what the page must load before it
 * runs), whether mqtt.js is in it, and the time from the start of the page's
 * navigation to CONNACK, over `reps` loads (variants alternate), on a
 * throttled network where bytes cost time (CDP network emulation).
 *
 * Variants: `bench/first-chunk/<name>.ts`; `eager.ts` is today's app. Add
 * `deferred.ts` (the same app through the entry or option that loads the
 * transport on `connect()`) and it is measured beside it.
 * `node --import tsx bench/first-chunk.ts [--reps=N] [--entry=name=path …]`.
 */

import { once } from "node:events";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { Aedes } from "aedes";
import { build } from "vite";
import { createWebSocketStream, WebSocketServer } from "ws";
import { launchChromium } from "../test/e2e/support/chromium.js";
import { ensureDist, PACKAGE_NAME, ROOT } from "./support/dist.js";
import { median } from "./support/stats.js";
import { MARKERS } from "./tree-shaking.js";

export interface Variant {
  readonly name: string;
  /** Absolute path of the app's entry module. */
  readonly entry: string;
}

export interface VariantReport {
  readonly name: string;
  /** Minified bytes and gzip bytes of the initial chunk(s). */
  readonly initialBytes: number;
  readonly initialGzip: number;
  readonly initialHasMqtt: boolean;
  /** Chunks the build emitted (the initial ones and the lazily loaded ones). */
  readonly chunks: number;
  /** Navigation start → CONNACK, per page load (ms). */
  readonly connackMs: number[];
}

export interface FirstChunkReport {
  readonly network: string;
  readonly reps: number;
  readonly variants: VariantReport[];
}

/** A slow mobile network (Chrome DevTools' "Fast 3G"-like): bytes cost time. */
const NETWORK = { latency: 150, downloadThroughput: 200_000, uploadThroughput: 93_750 };
const NETWORK_LABEL = "throttled: 150 ms latency, 1.6 Mbit/s down, gzip served";

const VARIANT_DIR = fileURLToPath(new URL("./first-chunk/", import.meta.url));

/** The variants found in bench/first-chunk/ (eager first). */
export function defaultVariants(): Variant[] {
  return ["eager", "deferred"]
    .map((name) => ({ name, entry: `${VARIANT_DIR}${name}.ts` }))
    .filter((v) => existsSync(v.entry));
}

interface Built {
  dir: string;
  entryFile: string;
  report: Omit<VariantReport, "connackMs">;
}

async function buildVariant(variant: Variant): Promise<Built> {
  const dir = join(tmpdir(), `courier-first-chunk-${variant.name}-${process.pid}`);
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  const result = await build({
    root: VARIANT_DIR,
    configFile: false,
    logLevel: "silent",
    // Served under /<variant>/: every chunk URL relative to the page.
    base: "./",
    resolve: {
      // The package as an app gets it: its package.json `exports` (dist/).
      alias: [
        {
          find: new RegExp(`^${PACKAGE_NAME.replace("/", "\\/")}`),
          replacement: ROOT.replace(/\/$/, ""),
        },
      ],
    },
    build: {
      outDir: dir,
      emptyOutDir: true,
      target: "es2022",
      sourcemap: false,
      modulePreload: false,
      rollupOptions: { input: { app: variant.entry } },
    },
  }).finally(() => {
    process.env.NODE_ENV = nodeEnv;
  });
  const outputs = (Array.isArray(result) ? result : [result]) as {
    output: {
      type: string;
      fileName: string;
      code?: string;
      isEntry?: boolean;
      imports?: string[];
    }[];
  }[];
  const chunks = new Map(
    outputs
      .flatMap((o) => o.output)
      .filter((c) => c.type === "chunk")
      .map((c) => [c.fileName, c]),
  );
  const entry = [...chunks.values()].find((c) => c.isEntry);
  if (!entry) throw new Error(`vite built no entry for ${variant.name}`);
  const initial = new Set<string>();
  const visit = (name: string) => {
    if (initial.has(name)) return;
    initial.add(name);
    for (const next of chunks.get(name)?.imports ?? []) visit(next);
  };
  visit(entry.fileName);
  const code = [...initial].map((name) => chunks.get(name)?.code ?? "").join("\n");
  writeFileSync(
    join(dir, "index.html"),
    `<!doctype html><html><head><meta charset="utf-8"><title>first chunk</title><script type="module" src="./${entry.fileName}"></script></head><body></body></html>\n`,
  );
  return {
    dir,
    entryFile: entry.fileName,
    report: {
      name: variant.name,
      initialBytes: Buffer.byteLength(code),
      initialGzip: gzipSync(code, { level: 9 }).length,
      initialHasMqtt: MARKERS.mqtt.some((m) => code.includes(m)),
      chunks: chunks.size,
    },
  };
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
};

/** Serves each variant's build under `/<name>/`, gzipped, never cached. */
async function serve(builds: Map<string, Built>) {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    const [, name, ...rest] = path.split("/");
    const built = builds.get(name ?? "");
    const file = normalize(rest.join("/") || "index.html");
    if (!built || file.startsWith("..")) return void response.writeHead(404).end();
    try {
      const body = gzipSync(readFileSync(join(built.dir, file)));
      response.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "content-encoding": "gzip",
        "cache-control": "no-store",
      });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    origin: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** aedes over WebSocket on 127.0.0.1 (MQTT 3.1.1, anonymous). */
async function startBroker() {
  const aedes = await Aedes.createBroker();
  const server = createTcpServer();
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on("connection", (ws, req) => aedes.handle(createWebSocketStream(ws) as never, req));
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  return {
    port: (http.address() as { port: number }).port,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
      server.close();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

export async function measureFirstChunk({
  reps = 5,
  variants = defaultVariants(),
}: {
  reps?: number;
  variants?: Variant[];
} = {}): Promise<FirstChunkReport> {
  const builds = new Map<string, Built>();
  for (const variant of variants) builds.set(variant.name, await buildVariant(variant));
  const web = await serve(builds);
  const broker = await startBroker();
  const chromium = await launchChromium();
  const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  try {
    for (let rep = 0; rep < reps; rep++) {
      for (let k = 0; k < variants.length; k++) {
        const variant = variants[(rep + k) % variants.length] as Variant;
        const page = await chromium.newPage();
        const problems: string[] = [];
        page.on("pageerror", (error) => problems.push(error.message));
        page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
        const cdp = await page.context().newCDPSession(page);
        await cdp.send("Network.enable");
        await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
        await cdp.send("Network.emulateNetworkConditions", { offline: false, ...NETWORK });
        await page.goto(`${web.origin}/${variant.name}/?port=${broker.port}`);
        const result = await page
          .waitForFunction(() => window.firstChunkResult, undefined, { timeout: 60_000 })
          .then((handle) => handle.jsonValue())
          .catch((error: Error) => {
            throw new Error(
              `${variant.name}: no CONNACK (${error.message}); page: ${problems.join("; ")}`,
            );
          });
        await page.close();
        if (!result || "error" in result)
          throw new Error(`${variant.name}: ${result?.error ?? "no result"}`);
        times.get(variant.name)?.push(result.connackMs);
      }
    }
  } finally {
    await chromium.close();
    await broker.close();
    await web.close();
    for (const built of builds.values()) rmSync(built.dir, { recursive: true, force: true });
  }
  return {
    network: NETWORK_LABEL,
    reps,
    variants: variants.map((v) => {
      const built = builds.get(v.name) as Built;
      const ms = times.get(v.name) ?? [];
      return { ...built.report, connackMs: [median(ms), Math.min(...ms), Math.max(...ms)] };
    }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(`first-chunk: ${ensureDist()}`);
  const reps = Number(process.argv.find((a) => a.startsWith("--reps="))?.slice(7) ?? 3);
  const given = process.argv
    .filter((a) => a.startsWith("--entry="))
    .map((a) => {
      const [name, path] = a.slice(8).split("=");
      return { name: name as string, entry: resolve(path as string) };
    });
  const report = await measureFirstChunk({
    reps,
    variants: given.length ? given : defaultVariants(),
  });
  console.log(JSON.stringify(report, null, 2));
  process.exit(0);
}
