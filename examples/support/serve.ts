/**
 * Serves an example page on 127.0.0.1 (a random port): the page's own files,
 * the package's `dist/` and the browser builds of `mqtt` and `xstate` (what
 * the plain page's import map points at). The React example is built by
 * Vite first, from the package's `dist/` as an app gets it.
 */

import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, normalize } from "node:path";
import { ROOT } from "../../bench/support/dist.js";

export { ensureDist, ROOT } from "../../bench/support/dist.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json",
  ".map": "application/json",
};

export interface ExampleServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  close(): Promise<void>;
}

/** URL prefix → directory, first match wins. Nothing outside these is served. */
export type Mounts = readonly (readonly [prefix: string, dir: string])[];

/** The package's `dist/` and its dependencies' browser builds (what an import map points at). */
export const PACKAGE_MOUNTS: Mounts = [
  ["/dist/", `${ROOT}dist/`],
  ["/node_modules/mqtt/dist/", `${ROOT}node_modules/mqtt/dist/`],
  ["/node_modules/xstate/dist/", `${ROOT}node_modules/xstate/dist/`],
];

/** Serves `pageDir` at `/`, plus `/dist/` and the dependencies' browser builds. */
export function servePage(pageDir: string): Promise<ExampleServer> {
  return serveMounts([...PACKAGE_MOUNTS, ["/", pageDir.endsWith("/") ? pageDir : `${pageDir}/`]]);
}

/** Serves the files under `mounts` on 127.0.0.1, a random port, uncached. */
export async function serveMounts(mounts: Mounts): Promise<ExampleServer> {
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
    const [prefix, dir] = mounts.find(([p]) => path.startsWith(p)) ?? ["", ""];
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
