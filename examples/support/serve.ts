/**
 * Serves an example page on 127.0.0.1 (a random port): the page's own files,
 * the package's `dist/` and the browser builds of `mqtt` and `xstate` (what
 * the plain page's import map points at). The React example is built by
 * Vite first, from the package's `dist/` as an app gets it.
 */

import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { readdirSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, normalize } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
};

export interface ExampleServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  close(): Promise<void>;
}

/** Serves `pageDir` at `/`, plus `/dist/` and the dependencies' browser builds. */
export async function servePage(pageDir: string): Promise<ExampleServer> {
  const table: [string, string][] = [
    ["/dist/", `${ROOT}dist/`],
    ["/node_modules/mqtt/dist/", `${ROOT}node_modules/mqtt/dist/`],
    ["/node_modules/xstate/dist/", `${ROOT}node_modules/xstate/dist/`],
    ["/", pageDir.endsWith("/") ? pageDir : `${pageDir}/`],
  ];
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
    const [prefix, dir] = table.find(([p]) => path.startsWith(p)) ?? ["", ""];
    const rest = normalize(path.slice(prefix.length) || "index.html");
    if (!dir || rest.startsWith("..")) {
      response.writeHead(404).end();
      return;
    }
    const file = rest.endsWith("/") ? `${dir}${rest}index.html` : `${dir}${rest}`;
    try {
      const body = await readFile(file);
      response.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
      });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Builds `dist/` (tsup) when it is missing or older than a file of `src/`. */
export function ensureDist(log: (line: string) => void = () => {}): void {
  const built = mtime(`${ROOT}dist/react.js`);
  const sources = readdirSync(`${ROOT}src`, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => `${e.parentPath}/${e.name}`);
  if (built !== undefined && sources.every((file) => (mtime(file) ?? 0) <= built)) return;
  log("building dist/ (tsup)…");
  const run = spawnSync(process.execPath, [`${ROOT}node_modules/tsup/dist/cli-default.js`], {
    cwd: ROOT,
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(`building dist/ failed:\n${run.stdout}\n${run.stderr}`);
}

function mtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Builds the React example with Vite into `outDir`, in development mode (so
 * StrictMode double-mounts, as in `vite dev`), resolving the package through
 * `exports` to the built `dist/` files.
 */
export function buildReactExample(outDir: string): Promise<void> {
  return buildReactApp(`${ROOT}examples/react`, outDir);
}

/** Builds the React app whose `index.html` is in `root` (see `buildReactExample`). */
export async function buildReactApp(root: string, outDir: string): Promise<void> {
  const { build } = await import("vite");
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "development";
  try {
    await build({
      root,
      configFile: false,
      logLevel: "silent",
      mode: "development",
      define: { "process.env.NODE_ENV": JSON.stringify("development") },
      resolve: {
        alias: [
          { find: /^@armaanjain\/courier-web-sdk\/react$/, replacement: `${ROOT}dist/react.js` },
          { find: /^@armaanjain\/courier-web-sdk$/, replacement: `${ROOT}dist/index.js` },
        ],
      },
      build: { outDir, emptyOutDir: true, target: "es2022", minify: false, sourcemap: false },
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}
