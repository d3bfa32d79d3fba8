/**
 * The browser build under test: the E2E pages bundled by Vite exactly as an
 * app would bundle the SDK — `import … from "@armaanjain/courier-web-sdk"`
 * resolved through the package's `exports` (the built `dist/`), `mqtt` to
 * its browser build, `xstate` to its ESM build — plus a record of every Node
 * built-in anything in the graph tried to import (there must be none).
 */

import { statSync } from "node:fs";
import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Plugin } from "vite";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const PAGES = `${ROOT}test/e2e/pages/`;

export interface EntryReport {
  /** The HTML page. */
  readonly page: string;
  /** Every module in the page's initial chunks (loaded before it runs), relative to the repository. */
  readonly modules: readonly string[];
  /** Every module in the chunks the page loads later (`import()`), relative to the repository. */
  readonly lazyModules: readonly string[];
  /** Minified bytes of the page's initial JavaScript (its initial chunks), and gzipped. */
  readonly bytes: number;
  readonly gzipBytes: number;
}

export interface BundleReport {
  readonly outDir: string;
  readonly entries: readonly EntryReport[];
  /** Node built-ins something imported: `specifier ← importer`. Must be empty. */
  readonly builtins: readonly string[];
  /** Vite's warnings (a Node module externalized for the browser shows up here too). */
  readonly warnings: readonly string[];
}

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Records, and fails to resolve, any Node built-in. */
function catchBuiltins(found: string[]): Plugin {
  return {
    name: "catch-node-builtins",
    enforce: "pre",
    resolveId(source, importer) {
      if (!BUILTINS.has(source)) return null;
      found.push(`${source} ← ${importer ?? "?"}`);
      return null;
    },
  };
}

const relative = (id: string) => id.replace(/\0/g, "").replace(ROOT, "");

export async function buildPages(outDir: string): Promise<BundleReport> {
  const builtins: string[] = [];
  const warnings: string[] = [];
  const pages = ["index.html", "devtools.html", "receiver.html"];
  // A production build, as an app ships it: under vitest NODE_ENV is "test", which
  // would make Vite pick packages' "development" builds (xstate's, for one).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  const result = await build({
    root: PAGES,
    configFile: false,
    logLevel: "silent",
    plugins: [catchBuiltins(builtins)],
    resolve: {
      // The package itself, as an app gets it from node_modules: its package.json `exports`.
      alias: [{ find: /^@armaanjain\/courier-web-sdk$/, replacement: ROOT }],
    },
    build: {
      outDir,
      emptyOutDir: true,
      target: "es2022",
      sourcemap: false,
      rollupOptions: {
        input: Object.fromEntries(pages.map((page) => [page.replace(".html", ""), PAGES + page])),
        onwarn: (warning) => {
          warnings.push(String(warning.message ?? warning));
        },
      },
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
      facadeModuleId?: string | null;
      moduleIds?: string[];
      imports?: string[];
      dynamicImports?: string[];
    }[];
  }[];
  const chunks = new Map(
    outputs
      .flatMap((o) => o.output)
      .filter((c) => c.type === "chunk")
      .map((c) => [c.fileName, c]),
  );
  const entries = pages.map((page): EntryReport => {
    const entry = [...chunks.values()].find(
      (c) => c.isEntry && c.facadeModuleId?.endsWith(`/${page}`),
    );
    if (!entry) throw new Error(`vite built no entry for ${page}`);
    // The entry and every chunk it imports, transitively.
    const files = new Set<string>();
    const visit = (name: string) => {
      if (files.has(name)) return;
      files.add(name);
      for (const next of chunks.get(name)?.imports ?? []) visit(next);
    };
    visit(entry.fileName);
    // What those chunks import dynamically, and everything that reaches in turn.
    const lazy = new Set<string>();
    const visitLazy = (name: string) => {
      if (files.has(name) || lazy.has(name)) return;
      lazy.add(name);
      const chunk = chunks.get(name);
      for (const next of [...(chunk?.imports ?? []), ...(chunk?.dynamicImports ?? [])])
        visitLazy(next);
    };
    for (const name of files)
      for (const next of chunks.get(name)?.dynamicImports ?? []) visitLazy(next);
    const modulesOf = (names: Set<string>) =>
      [...names].flatMap((name) => (chunks.get(name)?.moduleIds ?? []).map(relative));
    const code = [...files].map((name) => chunks.get(name)?.code ?? "").join("\n");
    return {
      page,
      modules: modulesOf(files),
      lazyModules: modulesOf(lazy),
      bytes: Buffer.byteLength(code),
      gzipBytes: gzipSync(code, { level: 9 }).length,
    };
  });
  return { outDir, entries, builtins, warnings };
}

/** True when `dist/index.js` is missing or older than a file of `src/`. */
export function distIsStale(files: readonly string[]): boolean {
  const built = statSafe(`${ROOT}dist/index.js`);
  if (built === undefined) return true;
  return files.some((file) => (statSafe(file) ?? 0) > built);
}

function statSafe(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}
