/**
 * Services the tests start themselves (mosquitto, redis-server, ejabberd,
 * RabbitMQ): each runs in
 * its own process group on 127.0.0.1, and every group still alive when the
 * test process exits is killed, so a failed or interrupted test leaves no
 * broker behind.
 */

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";

/** Where Debian puts daemons; not always on a non-root PATH. */
const SYSTEM_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/**
 * The environment variable that points the tests at `name`'s executable:
 * `COURIER_MOSQUITTO_BINARY`, `COURIER_REDIS_SERVER_BINARY`. When set, that
 * path is the only candidate (a path with nothing executable there counts as
 * missing: the suites that need it skip loudly, or fail under
 * `COURIER_REQUIRE_BROKERS=1`).
 */
export function binaryVariable(name: string): string {
  return `COURIER_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_BINARY`;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The absolute path of an executable: the one its environment variable names
 * (`binaryVariable`), else the first on PATH (or in the sbin directories); null when
 * there is none.
 */
export function findBinary(name: string): string | null {
  const chosen = process.env[binaryVariable(name)];
  if (chosen) return isExecutable(chosen) ? chosen : null;
  const dirs = [...(process.env.PATH ?? "").split(delimiter), ...SYSTEM_DIRS];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/** A TCP port that was free on 127.0.0.1 a moment ago (callers retry if it is taken meanwhile). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Synchronous clean-ups for what a service leaves outside its group (an Erlang epmd). */
const exitCleanups = new Set<() => void>();

function killAll(): void {
  for (const child of running) killGroup(child, "SIGKILL");
  for (const cleanup of exitCleanups) {
    try {
      cleanup();
    } catch {
      // best effort at exit
    }
  }
}

/** Runs `cleanup` (synchronously) if this process exits first; the returned function unregisters it. */
export function atExit(cleanup: () => void): () => void {
  installExitHook();
  exitCleanups.add(cleanup);
  return () => exitCleanups.delete(cleanup);
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (a broker's control tool), with `options` as for `startService`. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: ServiceOptions & { readonly timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: options.env ? { ...process.env, ...options.env } : process.env,
        ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
        timeout: options.timeoutMs ?? 30_000,
        killSignal: "SIGKILL",
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/**
 * Kills every group still running when this process exits — normally, or by
 * a signal (a test runner stopping its worker), after which the signal's
 * default action is taken as if no handler were installed.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", killAll);
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal);
    });
  }
}

export interface Service {
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<number | string>;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves when it is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface ServiceOptions {
  readonly cwd?: string;
  /** Added to this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Run as this user (this process must be root): a daemon that refuses to run as root. */
  readonly user?: { readonly uid: number; readonly gid: number };
}

/**
 * Starts `command` in a new process group. `onLine` gets every line it
 * writes to stdout or stderr, as it comes.
 */
export function startService(
  command: string,
  args: readonly string[],
  onLine: (line: string) => void,
  options: ServiceOptions = {},
): Service {
  installExitHook();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ? { ...process.env, ...options.env } : process.env,
    ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? "unknown");
    });
    child.once("error", (error) => {
      running.delete(child);
      resolve(error.message);
    });
  });
  for (const stream of [child.stdout, child.stderr]) {
    let pending = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    });
  }
  return {
    child,
    exited,
    async stop(graceMs = 3000) {
      if (!running.has(child)) return;
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
