/**
 * mosquitto (Debian's 2.0.x) started for the model-based tests: the real
 * MQTT 5 broker behind the fault proxy, for the packets aedes (MQTT 3.1.1
 * only) cannot speak. Deliberately minimal and private to test/model: one
 * anonymous loopback listener, no persistence.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BINARY = "/usr/sbin/mosquitto";

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

export class Mosquitto {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(): Promise<Mosquitto> {
    const dir = mkdtempSync(join(tmpdir(), "courier-mosquitto-"));
    const port = await freePort();
    const config = join(dir, "mosquitto.conf");
    writeFileSync(
      config,
      [
        "persistence false",
        "user root", // else it drops to user mosquitto (STACK.md)
        `listener ${port} 127.0.0.1`,
        "allow_anonymous true",
        "log_dest stderr",
        "log_type error",
        "",
      ].join("\n"),
    );
    const child = spawn(BINARY, ["-c", config], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<never>((_, reject) => {
      child.once("error", (error) =>
        reject(
          new Error(`cannot start ${BINARY} (apt-get install -y mosquitto): ${error.message}`),
        ),
      );
      child.once("exit", (code) => reject(new Error(`mosquitto exited (${code}): ${stderr}`)));
    });
    exited.catch(() => {});
    const deadline = Date.now() + 10_000;
    while (!(await Promise.race([accepts(port), exited]))) {
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return new Mosquitto(port, child, dir);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exit = new Promise((resolve) => this.child.once("exit", resolve));
      this.child.kill("SIGTERM");
      await exit;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
