/**
 * The benchmarks' broker: aedes on 127.0.0.1 over TCP, lean (it records
 * timestamps and counts, never messages), restartable on the same port.
 * Times are `performance.now()` of this process.
 */

import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { Aedes } from "aedes";

/** Decides a CONNECT: true accepts, 2..5 refuses with that CONNACK return code. */
export type Authenticate = (username: string | undefined, password: string | undefined) => true | 5;

export interface SubscribeRecord {
  readonly clientId: string;
  readonly filters: number;
  readonly at: number;
}

export class BenchBroker {
  port = 0;
  /** One timestamp per TCP connection accepted (a connection attempt). */
  readonly accepts: number[] = [];
  /** One record per SUBSCRIBE packet. */
  readonly subscribes: SubscribeRecord[] = [];
  authenticate: Authenticate = () => true;
  /** Called when the broker refuses a CONNECT (CONNACK ≠ 0). */
  onRefused: ((clientId: string, at: number) => void) | null = null;
  /** Called after CONNACK 0 was written. */
  onConnack: ((clientId: string, at: number) => void) | null = null;
  /** Called after each SUBSCRIBE packet was handled. */
  onSubscribe: ((record: SubscribeRecord) => void) | null = null;
  #aedes: Aedes | null = null;
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();

  static async start(port = 0): Promise<BenchBroker> {
    const broker = new BenchBroker();
    await broker.listen(port);
    return broker;
  }

  get aedes(): Aedes {
    if (!this.#aedes) throw new Error("broker is stopped");
    return this.#aedes;
  }

  /** Starts a fresh aedes (no sessions) on `port` (0: a random one, kept for restarts). */
  async listen(port = this.port): Promise<void> {
    const aedes = await Aedes.createBroker();
    aedes.authenticate = (client, username, password, done) => {
      const verdict = this.authenticate(username, password?.toString());
      if (verdict === true) return done(null, true);
      this.onRefused?.(client.id, performance.now());
      done(Object.assign(new Error("refused"), { returnCode: verdict }), false);
    };
    aedes.on("connackSent", (packet, client) => {
      if (packet.returnCode === 0) this.onConnack?.(client.id, performance.now());
    });
    aedes.on("subscribe", (subs, client) => {
      const record = { clientId: client.id, filters: subs.length, at: performance.now() };
      this.subscribes.push(record);
      this.onSubscribe?.(record);
    });
    const server = createServer((socket) => {
      this.accepts.push(performance.now());
      // As mosquitto and most brokers do: no Nagle delay on small acks.
      socket.setNoDelay(true);
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
      socket.on("error", () => {});
      aedes.handle(socket);
    });
    server.maxConnections = 100_000;
    server.listen({ port, host: "127.0.0.1", backlog: 4096 });
    await once(server, "listening");
    this.port = (server.address() as { port: number }).port;
    this.#aedes = aedes;
    this.#server = server;
  }

  /** Drops every connection at once and stops listening (a broker crash or restart). */
  async stop(): Promise<void> {
    const aedes = this.#aedes;
    const server = this.#server;
    this.#aedes = null;
    this.#server = null;
    if (!aedes || !server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await closed;
  }

  /** Kicks one client from the broker side (as a broker does when a token expires). */
  kick(clientId: string): void {
    const clients = (this.aedes as unknown as { clients: Record<string, { close(): void }> })
      .clients;
    const client = clients[clientId];
    if (!client) throw new Error(`no client ${clientId}`);
    client.close();
  }

  get connectedClients(): number {
    return this.#aedes?.connectedClients ?? 0;
  }

  /**
   * Publishes `count` QoS 0 messages of `payload` to `topic` from the broker
   * itself, `window` at a time (aedes calls back once they are written to
   * the subscribers' sockets, so a slow subscriber slows the source down).
   */
  blast(topic: string, payload: Buffer, count: number, window = 64): Promise<void> {
    const aedes = this.aedes;
    return new Promise((resolve, reject) => {
      let sent = 0;
      let done = 0;
      const next = (): void => {
        while (sent < count && sent - done < window) {
          sent += 1;
          aedes.publish(
            { cmd: "publish", topic, payload, qos: 0, retain: false, dup: false },
            (error) => {
              if (error) return reject(error);
              done += 1;
              if (done === count) resolve();
              else next();
            },
          );
        }
      };
      next();
    });
  }
}
