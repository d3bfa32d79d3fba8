/**
 * `npm run demo`: the SDK surviving expiring tokens, live. Starts the stack
 * (demo/stack), runs the scenario (demo/scenario) and renders its event
 * stream as a timeline or, with `--json`, as JSON lines. Exit code: 0 when
 * no message was lost, 1 when some were or the run failed, 2 for bad flags.
 */

import { parseFlags, USAGE, UsageError } from "./cli/flags.js";
import { wantsColour } from "./render/colour.js";
import { jsonLines } from "./render/json.js";
import { TerminalRenderer } from "./render/terminal.js";
import type { DemoEvent } from "./scenario/events.js";
import { runDemo } from "./scenario/run.js";
import { startViewerServer, type ViewerServer } from "./web/server.js";

/** After the run, a handle left open must not keep the process from exiting. */
const EXIT_GRACE_MS = 2000;

async function main(argv: readonly string[]): Promise<number> {
  let command: ReturnType<typeof parseFlags>;
  try {
    command = parseFlags(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(
      `demo: ${error.message}\nRun \`npm run demo -- --help\` for the options.\n`,
    );
    return 2;
  }
  if (command.kind === "help") {
    process.stdout.write(USAGE);
    return 0;
  }

  const out = process.stdout;
  const terminal = command.json
    ? undefined
    : new TerminalRenderer(out, {
        colour: wantsColour({ isTTY: out.isTTY === true, env: process.env }),
        live: out.isTTY === true,
        columns: () => out.columns ?? 80,
      });
  const render: (event: DemoEvent) => void = terminal
    ? (event) => terminal.event(event)
    : jsonLines(out);

  // --web: the live statechart viewer, fed by the same events plus every client's inspection stream.
  let viewer: ViewerServer | undefined;
  if (command.web) {
    viewer = await startViewerServer(command.web.port);
    out.write(
      command.json
        ? `${JSON.stringify({ type: "demo.web", at: Date.now(), url: viewer.url })}\n`
        : `Statechart viewer (live, offline): ${viewer.url}\n`,
    );
  }
  const web = viewer;
  const sink: (event: DemoEvent) => void = web
    ? (event) => {
        web.demo(event);
        render(event);
      }
    : render;

  const run = runDemo(
    command.config,
    sink,
    web ? (client, event) => web.inspect(client, event) : undefined,
  );
  let interrupts = 0;
  const onSignal = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write("\nStopping: draining queued messages (Ctrl-C again to quit now)…\n");
    run.stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const summary = await run.finished;
    return summary.ok ? 0 : 1;
  } catch (error) {
    process.stderr.write(`demo: the run failed: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  } finally {
    terminal?.close();
    await viewer?.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  },
  (error: unknown) => {
    process.stderr.write(`demo: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
