/**
 * One command per example, against the demo stack (aedes with expiring JWTs
 * and the token endpoint, on 127.0.0.1) and a publisher of ticks:
 *
 *   npm run example -- node      # the Node script: for await over messages, then exits
 *   npm run example -- browser   # serves the plain page (no bundler); open the printed URL
 *   npm run example -- react     # builds the React app with Vite and serves it
 *
 * Options: --ttl <s> (token lifetime, default 10), --duration <s> (node: how long to read,
 * default 25; pages: stop after, default until Ctrl-C).
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { type Stack, startStack } from "../demo/stack/index.js";
import { runNodeExample } from "./node/main.js";
import { type ExamplePublisher, startPublisher } from "./support/publisher.js";
import { buildReactExample, ensureDist, ROOT, servePage } from "./support/serve.js";

export type ExampleKind = "node" | "browser" | "react";

export interface RunningExample {
  readonly stack: Stack;
  readonly publisher: ExamplePublisher;
  /** The token endpoint for this example's transport (viewer tokens). */
  readonly tokenUrl: string;
  /** For the pages: the URL to open (the token endpoint in its query). */
  readonly pageUrl: string | null;
  stop(): Promise<void>;
}

/** Starts the stack and the publisher, and for a page serves it (building the React app first). */
export async function startExample(
  kind: ExampleKind,
  { ttlSeconds = 10, log = (_line: string) => {} } = {},
): Promise<RunningExample> {
  const stack = await startStack({ ttlSeconds, ttlSecondsByUser: { publisher: 3600 } });
  const publisher = await startPublisher(stack);
  const token = new URL(stack.tokenUrl);
  token.searchParams.set("user", "viewer");
  token.searchParams.set("transport", kind === "node" ? "tcp" : "ws");
  let pageUrl: string | null = null;
  const cleanups: (() => Promise<void>)[] = [];
  if (kind !== "node") {
    log(ensureDist());
    let dir = `${ROOT}examples/browser`;
    if (kind === "react") {
      dir = await mkdtemp(join(tmpdir(), "courier-react-example-"));
      const built = dir;
      cleanups.push(() => rm(built, { recursive: true, force: true }));
      log("building the React example (Vite)…");
      await buildReactExample(dir);
    }
    const server = await servePage(dir);
    cleanups.push(() => server.close());
    pageUrl = `${server.origin}/?token=${encodeURIComponent(String(token))}`;
  }
  return {
    stack,
    publisher,
    tokenUrl: String(token),
    pageUrl,
    async stop() {
      await publisher.stop();
      for (const cleanup of cleanups.reverse()) await cleanup();
      await stack.stop();
    },
  };
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { ttl: { type: "string" }, duration: { type: "string" }, help: { type: "boolean" } },
  });
  const kind = positionals[0];
  if (values.help || (kind !== "node" && kind !== "browser" && kind !== "react")) {
    console.log(
      "usage: npm run example -- node|browser|react [--ttl seconds] [--duration seconds]",
    );
    return values.help ? 0 : 2;
  }
  const log = (line: string) => console.log(line);
  const running = await startExample(kind, { ttlSeconds: Number(values.ttl ?? 10), log });
  log(
    `demo stack: broker ${running.stack.brokerUrl} / ${running.stack.wsUrl}, tokens live ${running.stack.options.ttlSeconds} s`,
  );
  try {
    if (kind === "node") {
      const result = await runNodeExample(running.tokenUrl, Number(values.duration ?? 25), log);
      return result.received > 0 ? 0 : 1;
    }
    log(`open ${running.pageUrl}`);
    log("Ctrl-C stops");
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
      if (values.duration) setTimeout(resolve, Number(values.duration) * 1000);
    });
    return 0;
  } finally {
    await running.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
