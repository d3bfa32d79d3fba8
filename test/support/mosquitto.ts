/**
 * A real mosquitto (the Debian package) for tests: started by the test on
 * random 127.0.0.1 ports with a generated config — a TCP and a WebSocket
 * listener, the dynamic-security plugin shipped with the package for
 * credentials — and stopped (process group and all) by `close()`.
 *
 * Credentials live in the dynamic-security plugin, driven over its MQTT
 * control topic by an admin connection, so a test can rotate or revoke a
 * password while clients are connected. The plugin drops every connection
 * of a user whose password changes or who is disabled (MQTT 5 clients get
 * DISCONNECT 0x98, administrative action): a token "expires" for real.
 * `Mosquitto.startWithPlugin` loads another auth plugin instead (the JWT
 * plugin of `test/support/mosquitto-jwt.ts`, whose tokens expire by `exp`).
 *
 * `Mosquitto.startOpen()` is the same broker without the plugin: it accepts
 * every CONNECT whatever its credentials, for tests that put their own gate
 * in front of it (the model-based replay's fault proxy).
 *
 * The binary is the one `findBinary("mosquitto")` finds: PATH and the sbin
 * directories, or `COURIER_MOSQUITTO_BINARY` when set.
 *
 * What the broker saw (accepted and refused CONNECTs, SUBSCRIBE packets and
 * their filters, who is connected) is read from its own log (`log_type all`,
 * written to stderr, which is unbuffered): no `$SYS` topics, and every count is what mosquitto itself reports per packet.
 */

import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type MqttClient } from "mqtt";
import { dynsecConfig } from "./dynsec.js";
import { findBinary, freePort, type Service, startService } from "./processes.js";

const ADMIN = "courier-admin";
const CONTROL = "$CONTROL/dynamic-security/v1";

export interface MosquittoConnect {
  readonly clientId: string;
  readonly username: string | undefined;
  /** 4 (MQTT 3.1.1) or 5, as mosquitto logged it. */
  readonly protocolVersion: number;
  readonly cleanStart: boolean;
  /** When the log line arrived (mosquitto logs it just before sending CONNACK). */
  readonly at: number;
}

export interface MosquittoRefusal {
  /** The client identifier, or the peer address when mosquitto did not read one. */
  readonly clientId: string;
  readonly reasonCode: number;
  readonly at: number;
}

export interface ReceivedMessage {
  readonly topic: string;
  readonly payload: string;
  readonly qos: number;
}

/** The dynamic-security plugin shipped with Debian's mosquitto package. */
export function dynsecPlugin(): string | null {
  const candidates = ["/usr/lib/mosquitto_dynamic_security.so"];
  for (const dir of ["/usr/lib", "/usr/local/lib"]) {
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir)) {
      candidates.push(join(dir, entry, "mosquitto_dynamic_security.so"));
    }
    candidates.push(join(dir, "mosquitto_dynamic_security.so"));
  }
  return candidates.find((path) => existsSync(path)) ?? null;
}

/**
 * How a started mosquitto authenticates: the dynamic-security plugin with
 * named users (the default), or another auth plugin (see
 * `test/support/mosquitto-jwt.ts`) that accepts `adminPassword` for the
 * admin connection this class keeps. Null: no plugin, every CONNECT accepted.
 */
export interface MosquittoAuth {
  /** The plugin's shared object. */
  readonly plugin: string;
  /** `plugin_opt_<key> <value>` lines. */
  readonly options: Readonly<Record<string, string>>;
  readonly adminPassword: string;
}

function configText(
  auth: MosquittoAuth | null,
  tcpPort: number,
  wsPort: number,
  extra: readonly string[],
): string {
  return [
    // Global limits (`max_packet_size 256`, …) come first, before the listeners.
    ...extra,
    "per_listener_settings false",
    ...(auth === null
      ? ["allow_anonymous true"]
      : [
          "allow_anonymous false",
          `plugin ${auth.plugin}`,
          ...Object.entries(auth.options).map(([key, value]) => `plugin_opt_${key} ${value}`),
        ]),
    "persistence false",
    // As root, mosquitto otherwise drops to user `mosquitto`, which cannot write the plugin's file.
    ...(process.getuid?.() === 0 ? ["user root"] : []),
    "log_dest stderr",
    "log_type all",
    "log_timestamp false",
    `listener ${tcpPort} 127.0.0.1`,
    `listener ${wsPort} 127.0.0.1`,
    "protocol websockets",
    // Else the websockets listener binds to every address.
    "socket_domain ipv4",
    "",
  ].join("\n");
}

const NEW_CLIENT =
  /^New client connected from \S+ as (\S+) \(p(\d+), c(\d), k\d+(?:, u'(.*)')?\)\.$/;
const CONNACK = /^Sending CONNACK to (\S+) \((\d), (\d+)\)$/;
const GONE = [
  /^Client (\S+) (?:disconnected|closed its connection|been disconnected|has exceeded timeout)/,
  /^Socket error on client (\S+), disconnecting/,
  /^Client (\S+) already connected, closing old connection/,
];

export class Mosquitto extends EventEmitter {
  readonly #connects: MosquittoConnect[] = [];
  readonly #refusals: MosquittoRefusal[] = [];
  /** One entry per SUBSCRIBE packet mosquitto received: the filters it carried. */
  readonly #subscribePackets: { clientId: string; filters: string[] }[] = [];
  readonly #log: string[] = [];
  #syncs = 0;
  readonly #live = new Map<string, number>();
  readonly #users = new Set<string>();
  #admin: MqttClient | null = null;
  #control: Promise<unknown> = Promise.resolve();
  #collecting: string[] | null = null;

  private constructor(
    private readonly service: Service,
    private readonly dir: string,
    readonly tcpPort: number,
    readonly wsPort: number,
    /** Null when started open (no plugin: nothing to administer). */
    private readonly adminPassword: string | null,
    /** Whether the dynamic-security plugin holds the credentials (setPassword, revoke, kick). */
    private readonly dynsec: boolean,
  ) {
    super();
    this.setMaxListeners(100);
  }

  /**
   * Starts mosquitto with `users` (username → password) already defined, and
   * `config` lines (global settings such as `max_packet_size 256`) on top.
   * Retries on fresh ports if one was taken between choosing and binding it.
   */
  static async start(
    users: Record<string, string> = {},
    options: { readonly config?: readonly string[] } = {},
  ): Promise<Mosquitto> {
    const plugin = dynsecPlugin();
    if (!plugin) throw new Error("mosquitto_dynamic_security.so not found");
    return Mosquitto.#start(
      users,
      async (dir) => {
        const adminPassword = randomBytes(12).toString("hex");
        const file = join(dir, "dynamic-security.json");
        await writeFile(file, JSON.stringify(dynsecConfig(ADMIN, adminPassword, users)));
        return { plugin, options: { config_file: file }, adminPassword };
      },
      options.config ?? [],
    );
  }

  /**
   * Starts mosquitto with another auth plugin instead of dynamic security:
   * `setPassword`, `revoke` and `kick` are then unavailable.
   */
  static startWithPlugin(auth: MosquittoAuth): Promise<Mosquitto> {
    return Mosquitto.#start(null, async () => auth);
  }

  /**
   * Starts mosquitto without any auth plugin: every CONNECT is accepted, whatever
   * its credentials; `setPassword`, `revoke` and `kick` are not available.
   */
  static startOpen(): Promise<Mosquitto> {
    return Mosquitto.#start(null, async () => null);
  }

  static async #start(
    users: Record<string, string> | null,
    auth: (dir: string) => Promise<MosquittoAuth | null>,
    config: readonly string[] = [],
  ): Promise<Mosquitto> {
    const binary = findBinary("mosquitto");
    if (!binary) throw new Error("mosquitto is not installed (apt-get install -y mosquitto)");
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const dir = await mkdtemp(join(tmpdir(), "courier-mosquitto-"));
      try {
        return await Mosquitto.#startIn(dir, binary, users, await auth(dir), config);
      } catch (error) {
        lastError = error;
        await rm(dir, { recursive: true, force: true });
      }
    }
    throw lastError;
  }

  static async #startIn(
    dir: string,
    binary: string,
    users: Record<string, string> | null,
    auth: MosquittoAuth | null,
    config: readonly string[],
  ): Promise<Mosquitto> {
    const [tcpPort, wsPort] = [await freePort(), await freePort()];
    await writeFile(join(dir, "mosquitto.conf"), configText(auth, tcpPort, wsPort, config));
    let broker: Mosquitto | undefined;
    const early: string[] = [];
    const service = startService(binary, ["-c", join(dir, "mosquitto.conf")], (line) =>
      broker ? broker.#onLine(line) : early.push(line),
    );
    broker = new Mosquitto(
      service,
      dir,
      tcpPort,
      wsPort,
      auth?.adminPassword ?? null,
      users !== null,
    );
    for (const user of Object.keys(users ?? {})) broker.#users.add(user);
    for (const line of early.splice(0)) broker.#onLine(line);
    const started = broker;
    try {
      await Promise.race([
        started.waitForLine(/^mosquitto version \S+ running$/, 10_000),
        service.exited.then((code) => {
          throw new Error(`mosquitto exited (${code}): ${started.#log.slice(-5).join(" | ")}`);
        }),
      ]);
      await started.#connectAdmin();
    } catch (error) {
      await service.stop();
      throw error;
    }
    return started;
  }

  /** Resolves with the first log line (from now on) that matches `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off("line", onLine);
        reject(new Error(`mosquitto did not log ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onLine = (line: string) => {
        const match = pattern.exec(line);
        if (!match) return;
        clearTimeout(timer);
        this.off("line", onLine);
        resolve(match);
      };
      this.on("line", onLine);
    });
  }

  /** Client identifiers with a live connection, as mosquitto's log tells (the admin left out). */
  connectedIds(): string[] {
    return [...this.#live.keys()].filter((id) => id !== ADMIN);
  }

  /**
   * Resolves once every line mosquitto logged before this call has been read.
   * The log comes through a pipe and client packets through sockets, so a
   * client can see a SUBACK before this process has read the lines mosquitto
   * wrote before sending it; the counters below wait for this first.
   */
  async sync(): Promise<void> {
    this.#syncs += 1;
    const topic = `courier-sync/${this.#syncs}`;
    const logged = this.waitForLine(new RegExp(`^Received PUBLISH from ${ADMIN} \\(.*'${topic}'`));
    await this.publish(topic, "", 0);
    await logged;
  }

  /** Accepted CONNECTs of `clientId`. */
  async connectsOf(clientId: string): Promise<MosquittoConnect[]> {
    await this.sync();
    return this.#connects.filter((c) => c.clientId === clientId);
  }

  /** The filters of each SUBSCRIBE packet `clientId` sent. */
  async subscribePacketsOf(clientId: string): Promise<string[][]> {
    await this.sync();
    return this.#subscribePackets.filter((p) => p.clientId === clientId).map((p) => p.filters);
  }

  /** The reason code of each CONNACK that refused a connection. */
  async refusalCodes(): Promise<number[]> {
    await this.sync();
    return this.#refusals.map((r) => r.reasonCode);
  }

  /** Everything mosquitto logged so far (the latest few thousand lines). */
  async logLines(): Promise<string[]> {
    await this.sync();
    return [...this.#log];
  }

  /**
   * Makes `password` the one that works for `username` (creating the user if
   * needed). Connections of that user are dropped, as the plugin does.
   */
  async setPassword(username: string, password: string): Promise<void> {
    if (this.#users.has(username)) {
      await this.#command({ command: "setClientPassword", username, password });
    } else {
      await this.#command({ command: "createClient", username, password });
      this.#users.add(username);
    }
  }

  /** No password works for `username` any more; its connections are dropped (the token expired). */
  async revoke(username: string): Promise<void> {
    await this.setPassword(username, randomBytes(16).toString("hex"));
  }

  /** Drops `username`'s connections from the broker side; its password keeps working. */
  async kick(username: string): Promise<void> {
    await this.#command(
      { command: "disableClient", username },
      { command: "enableClient", username },
    );
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
    const admin = this.#requireAdmin();
    const received: ReceivedMessage[] = [];
    const matches = (topic: string) =>
      filter === "#" ||
      topic === filter ||
      (filter.endsWith("/#") && topic.startsWith(filter.slice(0, -1)));
    admin.on("message", (topic, payload, packet) => {
      if (matches(topic)) received.push({ topic, payload: payload.toString(), qos: packet.qos });
    });
    await new Promise<void>((resolve, reject) =>
      admin.subscribe(filter, { qos: 2 }, (error) => (error ? reject(error) : resolve())),
    );
    return received;
  }

  /** Stops mosquitto (its whole process group) and removes its files. */
  async close(): Promise<void> {
    const admin = this.#admin;
    this.#admin = null;
    if (admin) await new Promise<void>((resolve) => admin.end(true, {}, () => resolve()));
    await this.service.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  #requireAdmin(): MqttClient {
    if (!this.#admin) throw new Error("mosquitto is closed");
    return this.#admin;
  }

  async #connectAdmin(): Promise<void> {
    const admin = connect(`mqtt://127.0.0.1:${this.tcpPort}`, {
      clientId: ADMIN,
      ...(this.adminPassword === null ? {} : { username: ADMIN, password: this.adminPassword }),
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    admin.on("error", () => {});
    await new Promise<void>((resolve, reject) => {
      admin.once("connect", () => resolve());
      admin.once("close", () => reject(new Error("admin connection to mosquitto closed")));
    });
    await new Promise<void>((resolve, reject) =>
      admin.subscribe(`${CONTROL}/response`, { qos: 1 }, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    this.#admin = admin;
  }

  /** Sends dynamic-security commands in one request; rejects if any of them failed. */
  #command(...commands: Record<string, unknown>[]): Promise<void> {
    if (this.adminPassword === null) {
      return Promise.reject(new Error("mosquitto was started open: it has no users to change"));
    }
    const run = async () => {
      if (!this.dynsec) throw new Error("this mosquitto runs without the dynamic-security plugin");
      const admin = this.#requireAdmin();
      const response = new Promise<string>((resolve) => {
        const onMessage = (topic: string, payload: Buffer) => {
          if (topic !== `${CONTROL}/response`) return;
          admin.off("message", onMessage);
          resolve(payload.toString());
        };
        admin.on("message", onMessage);
      });
      await new Promise<void>((resolve, reject) =>
        admin.publish(CONTROL, JSON.stringify({ commands }), { qos: 1 }, (error) =>
          error ? reject(error) : resolve(),
        ),
      );
      const { responses } = JSON.parse(await response) as {
        responses: { command: string; error?: string }[];
      };
      const failed = responses.find((r) => r.error);
      if (failed) throw new Error(`dynsec ${failed.command}: ${failed.error}`);
    };
    // One request at a time: responses carry no identifier of their own.
    const next = this.#control.then(run, run);
    this.#control = next.catch(() => {});
    return next;
  }

  #onLine(line: string): void {
    this.#log.push(line);
    if (this.#log.length > 5000) this.#log.splice(0, 1000);
    this.#parse(line);
    this.emit("line", line);
  }

  #parse(line: string): void {
    // "\t<filter> (QoS n)" lines (and "<id> <qos> <filter>" ones) follow "Received SUBSCRIBE
    // from <id>" until "Sending SUBACK to <id>".
    if (this.#collecting) {
      const filter = /^\t(.*) \(QoS \d\)$/.exec(line)?.[1];
      if (filter !== undefined) this.#collecting.push(filter);
      if (!line.startsWith("Sending SUBACK")) return;
      this.#collecting = null;
    }
    const subscribe = /^Received SUBSCRIBE from (\S+)$/.exec(line);
    if (subscribe?.[1]) {
      const filters: string[] = [];
      this.#subscribePackets.push({ clientId: subscribe[1], filters });
      this.#collecting = filters;
      return;
    }
    const connected = NEW_CLIENT.exec(line);
    if (connected?.[1]) {
      const clientId = connected[1];
      this.#live.set(clientId, (this.#live.get(clientId) ?? 0) + 1);
      this.#connects.push({
        clientId,
        username: connected[4],
        protocolVersion: Number(connected[2]) === 5 ? 5 : 4,
        cleanStart: connected[3] === "1",
        at: Date.now(),
      });
      return;
    }
    const connack = CONNACK.exec(line);
    if (connack?.[1] && connack[3] !== "0") {
      this.#refusals.push({ clientId: connack[1], reasonCode: Number(connack[3]), at: Date.now() });
      return;
    }
    for (const pattern of GONE) {
      const id = pattern.exec(line)?.[1];
      if (id === undefined) continue;
      const count = (this.#live.get(id) ?? 0) - 1;
      if (count > 0) this.#live.set(id, count);
      else this.#live.delete(id);
      return;
    }
  }
}
