/**
 * A real ejabberd (Debian's `ejabberd` 23.01) for tests, as an MQTT broker
 * (`mod_mqtt`, MQTT 3.1.1 and 5, TCP and WebSocket): a private node started
 * by the test with `ejabberdctl foreground` from its own config on random
 * 127.0.0.1 ports, its node name, distribution port (no epmd), logs and
 * database under a temporary folder, stopped and removed by `close()`.
 *
 * Two virtual hosts: `localhost` with ejabberd's internal password store
 * (user name `alice` is `alice@localhost`; passwords set with the
 * `register` / `change_password` commands over ejabberd's HTTP API, no auth
 * cache, so a change counts at the next CONNECT), and `jwt.localhost` with `auth_method: jwt`
 * (an HS256 key; the user name is `name@jwt.localhost`, the password a JWT
 * with the claims `jid` and `exp`). ejabberd has no command that ends an
 * MQTT session: a test cuts the connection at a proxy (`WireTap`).
 *
 * ejabberdctl refuses to run as root (it switches to the `ejabberd` user
 * with `su`, which detaches the node from the test's process group), so the
 * node runs as the `ejabberd` user directly.
 */

import { createHmac, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { findBinary, freePort, type Service, startService } from "./processes.js";
import { connectAdmin, type ReceivedMessage, watchOn } from "./rabbitmq.js";

export const EJABBERD_HOST = "localhost";
export const EJABBERD_JWT_HOST = "jwt.localhost";
const ADMIN = "courier-admin";

/** The `ejabberd` system user, when this process may run as it (root) or is it. */
function ejabberdUser(): { uid: number; gid: number } | null {
  if (!existsSync("/etc/passwd")) return null;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("ejabberd:"));
  if (!line) return null;
  const [, , uid, gid] = line.split(":");
  const user = { uid: Number(uid), gid: Number(gid) };
  const me = process.getuid?.();
  return me === 0 || me === user.uid ? user : null;
}

/**
 * Why ejabberd cannot run here, or null when it can: the package is missing,
 * or this process is neither root nor the `ejabberd` user (ejabberdctl runs
 * as no one else).
 */
export function ejabberdUnavailable(): string | null {
  if (findBinary("ejabberdctl") === null) return "ejabberdctl not found";
  if (ejabberdUser() === null) return "ejabberdctl runs only as root or the ejabberd user";
  return null;
}

/** An HS256 JWT for `user@jwt.localhost` that expires at `exp` (seconds since the epoch). */
export function ejabberdJwt(key: Buffer, user: string, exp: number): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const body = `${part({ alg: "HS256", typ: "JWT" })}.${part({
    jid: `${user}@${EJABBERD_JWT_HOST}`,
    exp,
  })}`;
  return `${body}.${createHmac("sha256", key).update(body).digest("base64url")}`;
}

export interface EjabberdOptions {
  /** Extra `mod_mqtt` options (YAML lines, indented under `mod_mqtt:`). */
  readonly mqttOptions?: readonly string[];
}

export class Ejabberd {
  #admin: MqttClient | null = null;
  readonly #log: string[] = [];
  readonly #users = new Set<string>();

  private constructor(
    private readonly service: Service,
    private readonly dir: string,
    readonly tcpPort: number,
    readonly wsPort: number,
    /** The HS256 key of `jwt.localhost`. */
    readonly jwtKey: Buffer,
  ) {}

  readonly wsPath = "/mqtt";

  static async start(options: EjabberdOptions = {}): Promise<Ejabberd> {
    const why = ejabberdUnavailable();
    if (why) throw new Error(`ejabberd cannot run here: ${why} (apt-get install -y ejabberd)`);
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const dir = await mkdtemp(join(tmpdir(), "courier-ejabberd-"));
      try {
        return await Ejabberd.#startIn(dir, options);
      } catch (error) {
        lastError = error;
        await rm(dir, { recursive: true, force: true });
      }
    }
    throw lastError;
  }

  static async #startIn(dir: string, options: EjabberdOptions): Promise<Ejabberd> {
    const user = ejabberdUser();
    if (!user) throw new Error("ejabberd cannot run as this user");
    const ctlBinary = findBinary("ejabberdctl");
    if (!ctlBinary) throw new Error("ejabberdctl not found");
    const [tcpPort, wsPort, distPort] = [await freePort(), await freePort(), await freePort()];
    const node = `courier-${randomBytes(4).toString("hex")}@localhost`;
    const jwtKey = randomBytes(32);
    await mkdir(join(dir, "logs"));
    await mkdir(join(dir, "db"));
    await writeFile(
      join(dir, "jwt.jwk"),
      JSON.stringify({ kty: "oct", k: jwtKey.toString("base64url") }),
    );
    await writeFile(join(dir, "inetrc"), "{lookup, [file, native]}.\n");
    await writeFile(
      join(dir, "ejabberdctl.cfg"),
      [
        `ERLANG_NODE=${node}`,
        // Distribution on its own port, no epmd; bound to loopback.
        `ERL_DIST_PORT=${distPort}`,
        "INET_DIST_INTERFACE=127.0.0.1",
        "",
      ].join("\n"),
    );
    await writeFile(
      join(dir, "ejabberd.yml"),
      [
        "hosts:",
        `  - ${EJABBERD_HOST}`,
        `  - ${EJABBERD_JWT_HOST}`,
        "loglevel: info",
        "log_rotate_count: 0",
        "auth_method: internal",
        "auth_password_format: plain",
        // Else a changed password is still accepted for a while.
        "auth_use_cache: false",
        "host_config:",
        `  ${EJABBERD_JWT_HOST}:`,
        "    auth_method: jwt",
        `    jwt_key: ${join(dir, "jwt.jwk")}`,
        "listen:",
        "  -",
        `    port: ${tcpPort}`,
        '    ip: "127.0.0.1"',
        "    module: mod_mqtt",
        "    backlog: 1024",
        "  -",
        `    port: ${wsPort}`,
        '    ip: "127.0.0.1"',
        "    module: ejabberd_http",
        "    backlog: 1024",
        "    request_handlers:",
        "      /mqtt: mod_mqtt",
        "      /api: mod_http_api",
        "acl:",
        "  admin:",
        `    user: ${ADMIN}@${EJABBERD_HOST}`,
        // Accounts are changed over ejabberd's HTTP API from the test (an ejabberdctl call
        // boots an Erlang VM: ~0.5 s and a core's worth of CPU each).
        "api_permissions:",
        '  "console commands":',
        "    from: ejabberd_ctl",
        "    who: all",
        '    what: "*"',
        '  "loopback":',
        "    from: mod_http_api",
        "    who:",
        "      ip: 127.0.0.1/32",
        '    what: "*"',
        "modules:",
        "  mod_admin_extra: {}",
        ...(options.mqttOptions?.length
          ? ["  mod_mqtt:", ...options.mqttOptions.map((l) => `    ${l}`)]
          : ["  mod_mqtt: {}"]),
        "",
      ].join("\n"),
    );
    await chmod(dir, 0o700);
    for (const path of ["", "logs", "db", "jwt.jwk", "inetrc", "ejabberdctl.cfg", "ejabberd.yml"]) {
      await chown(join(dir, path), user.uid, user.gid);
    }
    const log: string[] = [];
    let broker: Ejabberd | undefined;
    const env = { HOME: dir };
    const service = startService(
      ctlBinary,
      [...Ejabberd.#dirArgs(dir), "foreground"],
      (line) => (broker ? broker.#log : log).push(line),
      { env, cwd: dir, user },
    );
    broker = new Ejabberd(service, dir, tcpPort, wsPort, jwtKey);
    broker.#log.push(...log);
    const started = broker;
    try {
      const deadline = Date.now() + 60_000;
      while (!started.#log.some((l) => /ejabberd \S+ is started/.test(l))) {
        const exited = await Promise.race([
          service.exited.then(() => true),
          new Promise<false>((resolve) => setTimeout(() => resolve(false), 100)),
        ]);
        if (exited || Date.now() > deadline) {
          throw new Error(
            `ejabberd did not start (${exited ? "exited" : "timeout"}): ${started.#log.slice(-8).join(" | ")}`,
          );
        }
      }
      const adminPassword = randomBytes(12).toString("hex");
      await started.api("register", { user: ADMIN, host: EJABBERD_HOST, password: adminPassword });
      started.#admin = await connectAdmin(`mqtt://127.0.0.1:${tcpPort}`, ADMIN, adminPassword, 5);
    } catch (error) {
      await started.close();
      throw error;
    }
    return started;
  }

  static #dirArgs(dir: string): string[] {
    return [
      "--config-dir",
      dir,
      "--config",
      join(dir, "ejabberd.yml"),
      "--ctl-config",
      join(dir, "ejabberdctl.cfg"),
      "--logs",
      join(dir, "logs"),
      "--spool",
      join(dir, "db"),
    ];
  }

  logLines(): string[] {
    return [...this.#log];
  }

  /**
   * Runs an ejabberd command over its HTTP API (`mod_http_api`, the same
   * commands as `ejabberdctl`); rejects if it fails.
   */
  async api(command: string, args: Record<string, string>): Promise<unknown> {
    const response = await fetch(`http://127.0.0.1:${this.wsPort}/api/${command}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(args),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`ejabberd ${command} failed (${response.status}): ${text}`);
    return text ? JSON.parse(text) : null;
  }

  /** Creates `username@localhost` or changes its password (counts at the next CONNECT). */
  async setPassword(username: string, password: string): Promise<void> {
    if (this.#users.has(username)) {
      await this.api("change_password", { user: username, host: EJABBERD_HOST, newpass: password });
    } else {
      await this.api("register", { user: username, host: EJABBERD_HOST, password });
      this.#users.add(username);
    }
  }

  /** A JWT for `user@jwt.localhost` that ejabberd accepts until `exp` (seconds since the epoch). */
  jwt(user: string, exp: number): string {
    return ejabberdJwt(this.jwtKey, user, exp);
  }

  publish(topic: string, payload: string, qos: 0 | 1 = 0): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#requireAdmin().publish(topic, payload, { qos }, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  }

  watch(filter: string): Promise<ReceivedMessage[]> {
    return watchOn(this.#requireAdmin(), filter);
  }

  async close(): Promise<void> {
    const admin = this.#admin;
    this.#admin = null;
    if (admin) await new Promise<void>((resolve) => admin.end(true, {}, () => resolve()));
    await this.service.stop(1000);
    await rm(this.dir, { recursive: true, force: true });
  }

  #requireAdmin(): MqttClient {
    if (!this.#admin) throw new Error("ejabberd is closed");
    return this.#admin;
  }
}
