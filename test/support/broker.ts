/**
 * A real MQTT broker for tests: aedes in-process on 127.0.0.1, TCP and
 * WebSocket listeners on random ports. Auth rules are real `authenticate`
 * hooks; the broker records what it saw (CONNECTs, SUBSCRIBE packets) so
 * tests can assert on the wire, not on mocks.
 */

import { once } from "node:events";
import { createServer, type Server as HttpServer } from "node:http";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { Aedes, type AedesOptions, type Client } from "aedes";
import { createWebSocketStream, type WebSocket, WebSocketServer } from "ws";

export interface ConnectRecord {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly accepted: boolean;
  readonly at: number;
}

export interface TestBrokerOptions {
  /**
   * Decides each CONNECT: return true to accept, or a CONNACK return code
   * (2..5) to refuse. @default accept everyone
   */
  authenticate?: (
    username: string | undefined,
    password: string | undefined,
    clientId: string,
  ) => true | 2 | 3 | 4 | 5;
  /** Options for `Aedes.createBroker` (an `mq` and `persistence` shared by cluster nodes, an `id`). */
  aedes?: AedesOptions;
}

export class TestBroker {
  readonly connects: ConnectRecord[] = [];
  /** One entry per SUBSCRIBE packet: the filters it carried. */
  readonly subscribePackets: { clientId: string; filters: string[] }[] = [];
  readonly unsubscribePackets: { clientId: string; filters: string[] }[] = [];
  readonly published: { topic: string; payload: string; clientId: string | null; qos: number }[] =
    [];
  authenticate: NonNullable<TestBrokerOptions["authenticate"]>;
  tcpPort = 0;
  wsPort = 0;

  private constructor(
    readonly aedes: Aedes,
    private readonly tcp: NetServer,
    private readonly http: HttpServer,
    private readonly wss: WebSocketServer,
    options: TestBrokerOptions,
  ) {
    this.authenticate = options.authenticate ?? (() => true);
  }

  static start(options: TestBrokerOptions = {}): Promise<TestBroker> {
    return TestBroker.startOn(0, options);
  }

  /** Starts on a given TCP port (to bring a broker "back" where clients expect it). */
  static async startOn(tcpPort: number, options: TestBrokerOptions = {}): Promise<TestBroker> {
    const aedes = await Aedes.createBroker(options.aedes);
    const sockets = new Set<Socket>();
    const tcp = createNetServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      aedes.handle(socket);
    });
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    wss.on("connection", (ws: WebSocket, req) => aedes.handle(createWebSocketStream(ws), req));
    const broker = new TestBroker(aedes, tcp, http, wss, options);
    broker.sockets = sockets;
    aedes.authenticate = (client, username, password, done) => {
      const pw = password?.toString();
      const verdict = broker.authenticate(username, pw, client.id);
      broker.connects.push({
        clientId: client.id,
        username,
        password: pw,
        accepted: verdict === true,
        at: Date.now(),
      });
      if (verdict === true) done(null, true);
      else done(Object.assign(new Error("refused"), { returnCode: verdict }), false);
    };
    aedes.on("subscribe", (subs, client) => {
      broker.subscribePackets.push({ clientId: client.id, filters: subs.map((s) => s.topic) });
    });
    aedes.on("unsubscribe", (filters, client) => {
      broker.unsubscribePackets.push({ clientId: client.id, filters });
    });
    aedes.on("publish", (packet, client) => {
      if (packet.topic.startsWith("$SYS")) return;
      broker.published.push({
        topic: packet.topic,
        payload: packet.payload.toString(),
        clientId: client?.id ?? null,
        qos: packet.qos,
      });
    });
    tcp.listen(tcpPort, "127.0.0.1");
    await once(tcp, "listening");
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    broker.tcpPort = (tcp.address() as { port: number }).port;
    broker.wsPort = (http.address() as { port: number }).port;
    return broker;
  }

  private sockets = new Set<Socket>();

  /** Connected clients by id. */
  client(id: string): Client | undefined {
    return (this.aedes as unknown as { clients: Record<string, Client> }).clients[id];
  }

  clientIds(): string[] {
    return Object.keys((this.aedes as unknown as { clients: Record<string, Client> }).clients);
  }

  /** Closes a client's connection from the broker side (a kick). */
  kick(id: string): void {
    const client = this.client(id);
    if (!client) throw new Error(`no client ${id}`);
    client.close();
  }

  /** Drops every TCP connection at the socket level (as a network failure would). */
  dropAllSockets(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Publishes from the broker itself. */
  publish(topic: string, payload: string, qos: 0 | 1 = 0): Promise<void> {
    return new Promise((resolve, reject) =>
      this.aedes.publish(
        { cmd: "publish", topic, payload: Buffer.from(payload), qos, retain: false, dup: false },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }

  subscribePacketsOf(clientId: string): string[][] {
    return this.subscribePackets.filter((p) => p.clientId === clientId).map((p) => p.filters);
  }

  /** Stops accepting new TCP connections (existing ones stay). */
  stopListening(): void {
    // close() stops accepting at once; its callback would wait for the open connections.
    this.tcp.close();
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await Promise.all([
      new Promise<void>((resolve) =>
        this.tcp.listening ? this.tcp.close(() => resolve()) : resolve(),
      ),
      new Promise<void>((resolve) => this.wss.close(() => resolve())),
      new Promise<void>((resolve) =>
        this.http.listening ? this.http.close(() => resolve()) : resolve(),
      ),
    ]);
  }
}
