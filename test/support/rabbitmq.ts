/**
 * A real RabbitMQ (Debian's `rabbitmq-server` 3.10) for tests, with the
 * `rabbitmq_mqtt` and `rabbitmq_web_mqtt` plugins: a private node started by
 * the test from its own config on random 127.0.0.1 ports (MQTT, Web MQTT,
 * Erlang distribution, and its own epmd), every base directory under a
 * temporary folder, stopped and removed by `close()`.
 *
 * Users live in RabbitMQ's internal database, changed with `rabbitmqctl`
 * (or, with `httpAuth`, in this process, asked by RabbitMQ's HTTP auth backend).
 * RabbitMQ never ends a live MQTT connection when a password changes, and
 * its MQTT connections are not in `list_connections`: `kick()` closes them
 * with `rabbitmqctl eval` of `rabbit_mqtt_reader:close_connection`, the
 * plugin's own close (TCP and Web MQTT alike).
 */

import { execFileSync } from "node:child_process";
import { createSign, generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type MqttClient } from "mqtt";
import { atExit, freePort, runCommand, type Service, startService } from "./processes.js";

/** The real scripts; `/usr/sbin/rabbitmq-*` are wrappers that switch to the `rabbitmq` user. */
const SCRIPTS = "/usr/lib/rabbitmq/bin";
const EPMD = "/usr/bin/epmd";
const ADMIN = "courier-admin";

export function rabbitmqInstalled(): boolean {
  return existsSync(join(SCRIPTS, "rabbitmq-server")) && existsSync(join(SCRIPTS, "rabbitmqctl"));
}

export interface RabbitMqOptions {
  /**
   * Also accept JWTs (`rabbitmq_auth_backend_oauth2` after the internal user
   * database): RS256, audience and resource server `courier`, read/write/
   * configure scopes on everything; sign them with `jwt()`.
   */
  readonly oauth2?: boolean;
  /**
   * Check passwords with `rabbitmq_auth_backend_http` against this test
   * process (an HTTP server on 127.0.0.1 that knows the passwords
   * `setPassword` set) instead of the internal user database: a password
   * change is then instant, where each `rabbitmqctl` call boots an Erlang VM.
   * Everything else (vhost, resources, topics) is allowed.
   */
  readonly httpAuth?: boolean;
}

/** The resource server id (and audience) of the JWTs `jwt()` signs. */
export const RABBITMQ_RESOURCE = "courier";

export interface ReceivedMessage {
  readonly topic: string;
  readonly payload: string;
  readonly qos: number;
}

export class RabbitMq {
  #admin: MqttClient | null = null;
  readonly #log: string[] = [];
  readonly #users = new Set<string>();
  /** The passwords the HTTP auth backend accepts (with `httpAuth: true`). */
  #httpAuth: Map<string, string> | null = null;
  #authServer: Server | null = null;
  #unregisterEpmd: () => void = () => {};

  private constructor(
    private readonly service: Service,
    private readonly dir: string,
    readonly tcpPort: number,
    readonly wsPort: number,
    private readonly env: Record<string, string>,
    private readonly adminPassword: string,
    private readonly jwtKey: KeyObject,
  ) {}

  /**
   * A JWT the oauth2 backend accepts (with `oauth2: true`) until `exp`
   * (seconds since the epoch): RS256, key id `k1`, audience `courier`,
   * scopes to read, write and configure everything.
   */
  jwt(subject: string, exp: number): string {
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    // vhost/resource scopes, and vhost/exchange/routing-key ones for topic authorisation.
    const scope = ["read", "write", "configure"].flatMap((p) => [
      `${RABBITMQ_RESOURCE}.${p}:*/*`,
      `${RABBITMQ_RESOURCE}.${p}:*/*/*`,
    ]);
    const body = `${part({ alg: "RS256", typ: "JWT", kid: "k1" })}.${part({
      sub: subject,
      aud: [RABBITMQ_RESOURCE],
      scope,
      iat: Math.floor(Date.now() / 1000),
      exp,
    })}`;
    return `${body}.${createSign("RSA-SHA256").update(body).sign(this.jwtKey).toString("base64url")}`;
  }

  /** The Web MQTT endpoint's path. */
  readonly wsPath = "/ws";

  static async start(options: RabbitMqOptions = {}): Promise<RabbitMq> {
    if (!rabbitmqInstalled()) {
      throw new Error("RabbitMQ is not installed (apt-get install -y rabbitmq-server)");
    }
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const dir = await mkdtemp(join(tmpdir(), "courier-rabbitmq-"));
      try {
        return await RabbitMq.#startIn(dir, options);
      } catch (error) {
        lastError = error;
        await rm(dir, { recursive: true, force: true });
      }
    }
    throw lastError;
  }

  static async #startIn(dir: string, options: RabbitMqOptions): Promise<RabbitMq> {
    const [tcpPort, wsPort, distPort, epmdPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const node = `courier-${randomBytes(4).toString("hex")}@localhost`;
    const plugins = [
      "rabbitmq_mqtt",
      "rabbitmq_web_mqtt",
      ...(options.oauth2 ? ["rabbitmq_auth_backend_oauth2"] : []),
      ...(options.httpAuth ? ["rabbitmq_auth_backend_http"] : []),
    ];
    const passwords = new Map<string, string>();
    const authServer = options.httpAuth ? await startAuthServer(passwords) : null;
    const authUrl = `http://127.0.0.1:${(authServer?.address() as { port: number } | null)?.port}`;
    await mkdir(join(dir, "log"));
    const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
    await writeFile(join(dir, "jwt.pem"), keys.publicKey.export({ type: "spki", format: "pem" }));
    await writeFile(
      join(dir, "rabbitmq.conf"),
      [
        "listeners.tcp = none",
        `mqtt.listeners.tcp.default = 127.0.0.1:${tcpPort}`,
        `web_mqtt.tcp.ip = 127.0.0.1`,
        `web_mqtt.tcp.port = ${wsPort}`,
        "mqtt.allow_anonymous = false",
        "log.console = true",
        "log.console.level = info",
        "log.file = false",
        ...(options.httpAuth
          ? [
              "auth_backends.1 = http",
              "auth_http.http_method = post",
              `auth_http.user_path = ${authUrl}/user`,
              `auth_http.vhost_path = ${authUrl}/allow`,
              `auth_http.resource_path = ${authUrl}/allow`,
              `auth_http.topic_path = ${authUrl}/allow`,
            ]
          : []),
        ...(options.oauth2
          ? [
              "auth_backends.1 = internal",
              "auth_backends.2 = rabbit_auth_backend_oauth2",
              `auth_oauth2.resource_server_id = ${RABBITMQ_RESOURCE}`,
              "auth_oauth2.default_key = k1",
              `auth_oauth2.signing_keys.k1 = ${join(dir, "jwt.pem")}`,
            ]
          : []),
        "",
      ].join("\n"),
    );
    await writeFile(join(dir, "enabled_plugins"), `[${plugins.join(",")}].\n`);
    const env: Record<string, string> = {
      HOME: dir, // its Erlang cookie
      RABBITMQ_CONF_ENV_FILE: join(dir, "rabbitmq-env.conf"), // absent: not /etc/rabbitmq's
      RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq.conf"),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, "advanced.config"),
      RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
      RABBITMQ_LOG_BASE: join(dir, "log"),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
      RABBITMQ_PLUGINS_EXPAND_DIR: join(dir, "plugins-expand"),
      RABBITMQ_PID_FILE: join(dir, "rabbitmq.pid"),
      RABBITMQ_NODENAME: node,
      RABBITMQ_DIST_PORT: String(distPort),
      ERL_EPMD_PORT: String(epmdPort),
      ERL_EPMD_ADDRESS: "127.0.0.1",
      // The distribution listener on loopback too (it binds every address otherwise).
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "-kernel inet_dist_use_interface {127,0,0,1}",
      RABBITMQ_CTL_ERL_ARGS: "-kernel inet_dist_use_interface {127,0,0,1}",
    };
    const adminPassword = randomBytes(12).toString("hex");
    const log: string[] = [];
    let broker: RabbitMq | undefined;
    const service = startService(
      join(SCRIPTS, "rabbitmq-server"),
      [],
      (line) => {
        (broker ? broker.#log : log).push(line);
      },
      { env, cwd: dir },
    );
    // The node starts its own epmd (on the private port), outside the node's process group.
    const stopEpmd = () => {
      try {
        execFileSync(EPMD, ["-port", String(epmdPort), "-kill"], { stdio: "ignore" });
      } catch {
        // not running
      }
    };
    const unregister = atExit(stopEpmd);
    broker = new RabbitMq(service, dir, tcpPort, wsPort, env, adminPassword, keys.privateKey);
    broker.#authServer = authServer;
    broker.#httpAuth = options.httpAuth ? passwords : null;
    broker.#log.push(...log);
    broker.#unregisterEpmd = () => {
      unregister();
      stopEpmd();
    };
    const started = broker;
    try {
      const deadline = Date.now() + 60_000;
      while (!started.#log.some((l) => l.includes("Server startup complete"))) {
        const exited = await Promise.race([
          service.exited.then(() => true),
          new Promise<false>((resolve) => setTimeout(() => resolve(false), 100)),
        ]);
        if (exited || Date.now() > deadline) {
          throw new Error(
            `RabbitMQ did not start (${exited ? "exited" : "timeout"}): ${started.#log.slice(-8).join(" | ")}`,
          );
        }
      }
      await started.setPassword(ADMIN, adminPassword);
      await started.#connectAdmin();
    } catch (error) {
      await started.close();
      throw error;
    }
    return started;
  }

  /** Runs `rabbitmqctl` against this node; rejects with its output if it fails. */
  async ctl(...args: string[]): Promise<string> {
    const result = await runCommand(
      join(SCRIPTS, "rabbitmqctl"),
      ["-n", this.env.RABBITMQ_NODENAME ?? "", "-q", ...args],
      {
        env: this.env,
        cwd: this.dir,
      },
    );
    if (result.code !== 0) {
      throw new Error(
        `rabbitmqctl ${args[0]} failed (${result.code}): ${result.stderr || result.stdout}`,
      );
    }
    return result.stdout;
  }

  /** Everything the node logged so far. */
  logLines(): string[] {
    return [...this.#log];
  }

  /**
   * Limits what `username` may read and write on the MQTT exchange (`amq.topic`):
   * regular expressions over routing keys (an MQTT topic `a/b` is `a.b`).
   */
  async setTopicPermissions(username: string, write: string, read: string): Promise<void> {
    await this.ctl("set_topic_permissions", username, "amq.topic", write, read);
  }

  /** Creates `username` (all permissions on `/`) or changes its password. */
  async setPassword(username: string, password: string): Promise<void> {
    if (this.#httpAuth) {
      this.#httpAuth.set(username, password);
      return;
    }
    if (this.#users.has(username)) {
      await this.ctl("change_password", username, password);
    } else {
      await this.ctl("add_user", username, password);
      await this.ctl("set_permissions", username, ".*", ".*", ".*");
      this.#users.add(username);
    }
  }

  /**
   * Closes the MQTT connections (TCP or Web MQTT) of these client
   * identifiers, with the plugin's own close. Resolves with how many it closed.
   */
  async closeConnections(clientIds: readonly string[]): Promise<number> {
    if (clientIds.length === 0) return 0;
    const ids = clientIds.map((id) => JSON.stringify(id)).join(", ");
    const out = await this.ctl(
      "eval",
      `length([rabbit_mqtt_reader:close_connection(P, "closed by the test") || {Id, P} <- rabbit_mqtt_collector:list(), lists:member(Id, [${ids}])]).`,
    );
    return Number(out.trim());
  }

  /** Publishes from the admin connection (resolves on PUBACK for QoS 1). */
  publish(topic: string, payload: string, qos: 0 | 1 = 0): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#requireAdmin().publish(topic, payload, { qos }, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  }

  /** Subscribes the admin connection to `filter`; the returned list fills as messages arrive. */
  async watch(filter: string): Promise<ReceivedMessage[]> {
    return watchOn(this.#requireAdmin(), filter);
  }

  async close(): Promise<void> {
    const admin = this.#admin;
    this.#admin = null;
    if (admin) await new Promise<void>((resolve) => admin.end(true, {}, () => resolve()));
    await this.service.stop(1000);
    const authServer = this.#authServer;
    this.#authServer = null;
    if (authServer) await new Promise<void>((resolve) => authServer.close(() => resolve()));
    this.#unregisterEpmd();
    await rm(this.dir, { recursive: true, force: true });
  }

  #requireAdmin(): MqttClient {
    if (!this.#admin) throw new Error("RabbitMQ is closed");
    return this.#admin;
  }

  async #connectAdmin(): Promise<void> {
    this.#admin = await connectAdmin(
      `mqtt://127.0.0.1:${this.tcpPort}`,
      ADMIN,
      this.adminPassword,
      4,
    );
  }
}

/**
 * The HTTP server `rabbitmq_auth_backend_http` asks (POST, form-encoded):
 * `/user` allows a user name with its current password, `/allow` allows
 * everything else.
 */
async function startAuthServer(passwords: ReadonlyMap<string, string>): Promise<Server> {
  const server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      body += chunk;
    });
    request.on("end", () => {
      const form = new URLSearchParams(body);
      const user = form.get("username") ?? "";
      const allowed =
        request.url === "/user"
          ? passwords.has(user) && passwords.get(user) === form.get("password")
          : true;
      response.end(allowed ? "allow" : "deny");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}

/** An mqtt.js connection for a broker's own side of a test (publish, watch). */
export async function connectAdmin(
  url: string,
  username: string,
  password: string,
  protocolVersion: 4 | 5,
): Promise<MqttClient> {
  const admin = connect(url, {
    clientId: `courier-admin-${randomBytes(4).toString("hex")}`,
    username,
    password,
    protocolVersion,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
  admin.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    admin.once("connect", () => resolve());
    admin.once("close", () => reject(new Error(`admin connection to ${url} closed`)));
  });
  return admin;
}

/** Subscribes `client` to `filter`; the returned list fills as messages arrive. */
export async function watchOn(client: MqttClient, filter: string): Promise<ReceivedMessage[]> {
  const received: ReceivedMessage[] = [];
  const matches = (topic: string) =>
    filter === "#" ||
    topic === filter ||
    (filter.endsWith("/#") && topic.startsWith(filter.slice(0, -1)));
  client.on("message", (topic, payload, packet) => {
    if (matches(topic)) received.push({ topic, payload: payload.toString(), qos: packet.qos });
  });
  await new Promise<void>((resolve, reject) =>
    client.subscribe(filter, { qos: 1 }, (error) => (error ? reject(error) : resolve())),
  );
  return received;
}
