/**
 * Serves the pages on 127.0.0.1: the Vite build at `/`, the no-bundler page
 * at `/esm/`, and for that page the package's `dist/` and the browser builds
 * of its two dependencies (what an import map points at).
 */

import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, normalize } from "node:path";
import { ROOT } from "./bundle.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json",
  ".map": "application/json",
};

/** URL prefix → directory. Nothing outside these is served. */
function mounts(buildDir: string): [string, string][] {
  return [
    ["/esm/", `${ROOT}test/e2e/pages/esm/`],
    ["/dist/", `${ROOT}dist/`],
    ["/node_modules/mqtt/dist/", `${ROOT}node_modules/mqtt/dist/`],
    ["/node_modules/xstate/dist/", `${ROOT}node_modules/xstate/dist/`],
    ["/", `${buildDir}/`],
  ];
}

export interface StaticServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  close(): Promise<void>;
}

export async function startStaticServer(buildDir: string): Promise<StaticServer> {
  const table = mounts(buildDir);
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
