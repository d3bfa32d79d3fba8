/** Starts `broker-process.ts` (aedes) or `standin-process.ts` in a child process and talks to it. */

import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BrokerCommand } from "./broker-process.js";
import { TSX_LOADER } from "./dist.js";
import type { StandinCommand } from "./standin-process.js";

const ENTRIES = {
  /** aedes (broker-process.ts). */
  aedes: fileURLToPath(new URL("./broker-process.ts", import.meta.url)),
  /** The broker stand-in that lets the client be the bottleneck (standin-process.ts). */
  standin: fileURLToPath(new URL("./standin-process.ts", import.meta.url)),
};

export class RemoteBroker {
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  #nextId = 1;

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.port = port;
    child.on("message", (message: { id: number; result?: unknown; error?: string }) => {
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.error) pending?.reject(new Error(`broker: ${message.error}`));
      else pending?.resolve(message.result);
    });
  }

  static start(kind: keyof typeof ENTRIES = "aedes"): Promise<RemoteBroker> {
    const child = fork(ENTRIES[kind], [], {
      execArgv: ["--import", TSX_LOADER],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    return new Promise((resolve, reject) => {
      const exited = (code: number | null) => reject(new Error(`broker process exited (${code})`));
      child.once("error", reject);
      child.once("exit", exited);
      child.once("message", (message: { result: { port: number } }) => {
        child.off("exit", exited);
        resolve(new RemoteBroker(child, message.result.port));
      });
    });
  }

  call<T>(command: BrokerCommand | StandinCommand): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#child.send({ id, command });
    });
  }

  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.#child.once("exit", () => resolve()));
    await this.call({ cmd: "exit" }).catch(() => {});
    await exited;
  }
}
