/**
 * A real redis-server (the Debian package) for the aedes cluster tests:
 * started by the test on a random 127.0.0.1 port, nothing saved to disk,
 * stopped (process group and all) by `close()`.
 */

import { findBinary, freePort, type Service, startService } from "./processes.js";

export class RedisServer {
  private constructor(
    private readonly service: Service,
    readonly port: number,
  ) {}

  static async start(): Promise<RedisServer> {
    const binary = findBinary("redis-server");
    if (!binary) throw new Error("redis-server is not installed (apt-get install -y redis-server)");
    let lastError: unknown;
    // Retried on a fresh port if another process took the chosen one meanwhile.
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort();
      const log: string[] = [];
      let ready: () => void = () => {};
      const isReady = new Promise<void>((resolve) => {
        ready = resolve;
      });
      const service = startService(
        binary,
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "no",
          "--daemonize",
          "no",
          "--protected-mode",
          "yes",
          "--dir",
          "/tmp",
        ],
        (line) => {
          log.push(line);
          if (/Ready to accept connections/.test(line)) ready();
        },
      );
      const outcome = await Promise.race([
        isReady.then(() => "ready" as const),
        service.exited.then(() => "exited" as const),
        new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 10_000)),
      ]);
      if (outcome === "ready") return new RedisServer(service, port);
      await service.stop();
      lastError = new Error(
        `redis-server did not start (${outcome}): ${log.slice(-3).join(" | ")}`,
      );
    }
    throw lastError;
  }

  close(): Promise<void> {
    return this.service.stop();
  }
}
