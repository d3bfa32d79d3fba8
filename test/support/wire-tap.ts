/**
 * An observing proxy on 127.0.0.1 in front of a broker that cannot tell a
 * test what it saw (ejabberd and RabbitMQ log too little, and neither can
 * list or drop MQTT connections cheaply): TCP and WebSocket listeners that
 * forward every byte (every WebSocket message) unchanged, in both
 * directions, and parse a copy with `mqtt-packet` to record CONNECTs and
 * their outcome, SUBSCRIBE packets and which connections are live.
 *
 * Unlike `FaultProxy` it never regenerates or holds a packet: what the client
 * gets is what the broker sent, closes included (a WebSocket close code is
 * passed on). `cut()` ends connections at the proxy, for a broker that has
 * no way to end an MQTT session itself (ejabberd).
 */

import { once } from "node:events";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { type Packet, parser } from "mqtt-packet";
import { type RawData, WebSocket, WebSocketServer } from "ws";

export type TapTransport = "tcp" | "ws";

export interface TappedConnect {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly protocolVersion: number;
  readonly clean: boolean;
  readonly transport: TapTransport;
  /** When the CONNECT passed the proxy. */
  readonly at: number;
  /**
   * "pending" until the broker answers; "closed" when the connection ended
   * before any CONNACK.
   */
  outcome: "pending" | "accepted" | "refused" | "closed";
  /** The CONNACK's return code (3.1.1) or reason code (5). */
  code?: number;
  sessionPresent?: boolean;
  /** When the connection ended, if it has. */
  closedAt?: number;
}

export interface TapTarget {
  readonly host: string;
  readonly tcpPort: number;
  readonly wsPort: number;
  /** The WebSocket path on the broker. @default "/mqtt" */
  readonly wsPath?: string;
}

interface Connection {
  readonly transport: TapTransport;
  connect: TappedConnect | null;
  end(): void;
}

type ParsedPacket = Packet & { protocolVersion?: number };

export class WireTap {
  readonly connects: TappedConnect[] = [];
  /** One entry per SUBSCRIBE packet: the client's identifier and the filters it carried. */
  readonly subscribePackets: { clientId: string; filters: string[]; at: number }[] = [];
  readonly #connections = new Set<Connection>();

  private constructor(
    private readonly tcp: Server,
    private readonly http: HttpServer,
    private readonly wss: WebSocketServer,
    private readonly target: TapTarget,
  ) {}

  static async start(target: TapTarget): Promise<WireTap> {
    const tcp = createServer();
    const http = createHttpServer();
    const wss = new WebSocketServer({
      server: http,
      handleProtocols: (protocols) => [...protocols][0] ?? false,
    });
    const tap = new WireTap(tcp, http, wss, target);
    tcp.on("connection", (socket) => tap.#acceptTcp(socket));
    wss.on("connection", (ws, request) => tap.#acceptWs(ws, request.url ?? "/"));
    tcp.listen(0, "127.0.0.1");
    http.listen(0, "127.0.0.1");
    await Promise.all([once(tcp, "listening"), once(http, "listening")]);
    return tap;
  }

  get tcpPort(): number {
    return (this.tcp.address() as { port: number }).port;
  }

  get wsPort(): number {
    return (this.http.address() as { port: number }).port;
  }

  /** Client identifiers with a live connection the broker accepted. */
  connectedIds(): string[] {
    return [...this.#connections].flatMap((c) =>
      c.connect?.outcome === "accepted" ? [c.connect.clientId] : [],
    );
  }

  /** The CONNECTs of the connections open now (whatever the broker answered). */
  live(): TappedConnect[] {
    return [...this.#connections].flatMap((c) => (c.connect ? [c.connect] : []));
  }

  /** Ends, at the proxy, every live connection whose CONNECT matches; returns how many. */
  cut(matches: (connect: TappedConnect) => boolean): number {
    let n = 0;
    for (const connection of [...this.#connections]) {
      if (connection.connect && matches(connection.connect)) {
        connection.end();
        n += 1;
      }
    }
    return n;
  }

  async close(): Promise<void> {
    for (const connection of [...this.#connections]) connection.end();
    for (const ws of this.wss.clients) ws.terminate();
    await Promise.all([
      new Promise<void>((resolve) => this.tcp.close(() => resolve())),
      new Promise<void>((resolve) => this.wss.close(() => resolve())),
      new Promise<void>((resolve) => this.http.close(() => resolve())),
    ]);
  }

  /** Two parsers (client → broker, broker → client) that record what passes. */
  #observe(connection: Connection): {
    fromClient(chunk: Buffer): void;
    fromBroker(chunk: Buffer): void;
  } {
    const up = parser();
    const down = parser();
    up.on("packet", (packet: ParsedPacket) => {
      if (packet.cmd === "connect") {
        const version = packet.protocolVersion ?? 4;
        (down as unknown as { settings: { protocolVersion: number } }).settings.protocolVersion =
          version;
        connection.connect = {
          clientId: packet.clientId,
          username: packet.username,
          protocolVersion: version,
          clean: packet.clean !== false,
          transport: connection.transport,
          at: Date.now(),
          outcome: "pending",
        };
        this.connects.push(connection.connect);
      } else if (packet.cmd === "subscribe") {
        this.subscribePackets.push({
          clientId: connection.connect?.clientId ?? "",
          filters: packet.subscriptions.map((s) => s.topic),
          at: Date.now(),
        });
      }
    });
    down.on("packet", (packet: ParsedPacket) => {
      const connect = connection.connect;
      if (packet.cmd !== "connack" || !connect || connect.outcome !== "pending") return;
      const code = packet.reasonCode ?? packet.returnCode ?? 0;
      connect.code = code;
      connect.sessionPresent = packet.sessionPresent;
      connect.outcome = code === 0 ? "accepted" : "refused";
    });
    // A packet the codec cannot read is still forwarded; only the record stops.
    up.on("error", () => {});
    down.on("error", () => {});
    return { fromClient: (chunk) => up.parse(chunk), fromBroker: (chunk) => down.parse(chunk) };
  }

  #closed(connection: Connection): void {
    if (!this.#connections.delete(connection)) return;
    const connect = connection.connect;
    if (!connect) return;
    connect.closedAt = Date.now();
    if (connect.outcome === "pending") connect.outcome = "closed";
  }

  #acceptTcp(client: Socket): void {
    const broker = createConnection(this.target.tcpPort, this.target.host);
    const connection: Connection = {
      transport: "tcp",
      connect: null,
      end: () => {
        client.destroy();
        broker.destroy();
      },
    };
    this.#connections.add(connection);
    const observe = this.#observe(connection);
    client.on("data", (chunk: Buffer) => {
      observe.fromClient(chunk);
      broker.write(chunk);
    });
    broker.on("data", (chunk: Buffer) => {
      observe.fromBroker(chunk);
      client.write(chunk);
    });
    // A half-close is passed on as one; an error or a close ends both sides.
    client.on("end", () => broker.end());
    broker.on("end", () => client.end());
    for (const socket of [client, broker]) {
      socket.on("error", () => connection.end());
      socket.on("close", () => {
        connection.end();
        this.#closed(connection);
      });
    }
  }

  #acceptWs(client: WebSocket, path: string): void {
    const url = `ws://${this.target.host}:${this.target.wsPort}${this.target.wsPath ?? path}`;
    const broker = new WebSocket(url, client.protocol ? [client.protocol] : []);
    const connection: Connection = {
      transport: "ws",
      connect: null,
      end: () => {
        client.terminate();
        broker.terminate();
      },
    };
    this.#connections.add(connection);
    const observe = this.#observe(connection);
    const early: RawData[] = [];
    const toBuffer = (data: RawData): Buffer =>
      Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data as ArrayBuffer);
    client.on("message", (data) => {
      observe.fromClient(toBuffer(data));
      if (broker.readyState === WebSocket.OPEN) broker.send(data);
      else early.push(data);
    });
    broker.on("open", () => {
      for (const data of early.splice(0)) broker.send(data);
    });
    broker.on("message", (data) => {
      observe.fromBroker(toBuffer(data));
      if (client.readyState === WebSocket.OPEN) client.send(data);
    });
    // Close codes 1005/1006 cannot be sent; anything else is passed on as the peer sent it.
    const passClose = (to: WebSocket, code: number, reason: Buffer) => {
      if (to.readyState !== WebSocket.OPEN && to.readyState !== WebSocket.CONNECTING) return;
      if (to.readyState === WebSocket.OPEN && code >= 1000 && code !== 1005 && code !== 1006) {
        to.close(code, reason);
      } else {
        to.terminate();
      }
    };
    client.on("close", (code, reason) => {
      passClose(broker, code, reason);
      this.#closed(connection);
    });
    broker.on("close", (code, reason) => {
      passClose(client, code, reason);
      this.#closed(connection);
    });
    client.on("error", () => connection.end());
    broker.on("error", () => connection.end());
  }
}
