/**
 * A fault-injecting MQTT proxy on 127.0.0.1 in front of a real broker, for
 * the MQTT 5 reason codes the broker cannot be made to send (mosquitto
 * 2.0.11 has no way to answer "server busy", "quota exceeded", "use another
 * server" or "server moved", answers bad credentials with 0x87 only, and
 * closes a taken-over connection without DISCONNECT 0x8E — that last one was
 * fixed in mosquitto 2.0.15).
 *
 * It parses both directions with `mqtt-packet` (the codec mqtt.js itself
 * uses) and forwards whole packets, so a packet it injects is a real MQTT
 * packet on a packet boundary: a CONNACK with a failure code instead of
 * forwarding a CONNECT, or a server DISCONNECT with a reason code and
 * properties (Server Reference) before closing the connection.
 */

import { once } from "node:events";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { generate, type IDisconnectPacket, type Packet, parser } from "mqtt-packet";

export interface ProxiedConnect {
  readonly clientId: string;
  readonly at: number;
  /** False when the proxy answered it (a refused CONNACK) instead of the broker. */
  readonly forwarded: boolean;
}

export interface FaultProxyOptions {
  /**
   * Sends DISCONNECT 0x8E (session taken over) to an MQTT 5 connection
   * whose client identifier connects again, as MQTT 5 §3.1.4 requires
   * [MQTT-3.1.4-3] and as mosquitto ≥ 2.0.15 does. @default false
   */
  readonly sessionTakeover?: boolean;
}

interface Pipe {
  readonly down: Socket;
  up: Socket | null;
  clientId: string | null;
  protocolVersion: number;
}

/** The packet identifier of every PUBLISH the proxy writes itself. */
export const INJECTED_MESSAGE_ID = 4242;

export class FaultProxy {
  readonly connects: ProxiedConnect[] = [];
  /**
   * The client's acknowledgements (PUBACK, PUBREC, PUBREL) of the PUBLISHes
   * the proxy wrote itself, in arrival order. They are not forwarded: the
   * broker never sent those messages.
   */
  readonly injectedAcks: { cmd: string; at: number }[] = [];
  readonly #pipes = new Set<Pipe>();
  readonly #refusals: { reasonCode: number }[] = [];
  readonly #early: { topic: string; payload: string; qos: 1 | 2 }[] = [];
  readonly #late: { topic: string; payload: string; qos: 1 | 2 }[] = [];

  private constructor(
    private readonly server: Server,
    private readonly target: { host: string; port: number },
    private readonly options: FaultProxyOptions,
  ) {}

  static async start(
    target: { host: string; port: number },
    options: FaultProxyOptions = {},
  ): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, target, options);
    server.on("connection", (socket) => proxy.#accept(socket));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return proxy;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Client identifiers with a live proxied connection. */
  connectedIds(): string[] {
    return [...this.#pipes].flatMap((p) => (p.clientId && p.up ? [p.clientId] : []));
  }

  /** The next CONNECT is answered by the proxy with CONNACK `reasonCode`, and closed. */
  refuseNextConnect(reasonCode: number): void {
    this.#refusals.push({ reasonCode });
  }

  /**
   * On the next connection the broker accepts, writes a PUBLISH to the client
   * just before the broker's CONNACK — what aedes does when a live message
   * reaches a persistent session it is still restoring ([MQTT-3.2.0-1] says
   * CONNACK comes first).
   */
  publishBeforeNextConnack(topic: string, payload: string, qos: 1 | 2 = 1): void {
    this.#early.push({ topic, payload, qos });
  }

  /**
   * On the next connection the broker accepts, writes a PUBLISH right behind
   * the broker's CONNACK, in the same TCP write — legal, and what a broker
   * with queued messages for a kept session does.
   */
  publishAfterNextConnack(topic: string, payload: string, qos: 1 | 2 = 1): void {
    this.#late.push({ topic, payload, qos });
  }

  /**
   * Sends `clientId`'s connection a server DISCONNECT with `reasonCode`
   * (and `properties`, e.g. `serverReference`), then closes it and its
   * upstream connection. Resolves once the client's socket is closed.
   */
  async disconnect(
    clientId: string,
    reasonCode: number,
    properties?: IDisconnectPacket["properties"],
  ): Promise<void> {
    const pipe = [...this.#pipes].find((p) => p.clientId === clientId && p.up);
    if (!pipe) throw new Error(`no proxied connection for ${clientId}`);
    await this.#sendDisconnect(pipe, reasonCode, properties);
  }

  async close(): Promise<void> {
    for (const pipe of this.#pipes) this.#drop(pipe);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #accept(down: Socket): void {
    const pipe: Pipe = { down, up: null, clientId: null, protocolVersion: 4 };
    this.#pipes.add(pipe);
    const fromClient = parser();
    fromClient.on("packet", (packet: Packet) => this.#fromClient(pipe, packet));
    fromClient.on("error", () => this.#drop(pipe));
    down.on("data", (chunk) => fromClient.parse(chunk));
    down.on("error", () => this.#drop(pipe));
    down.on("close", () => this.#drop(pipe));
  }

  #fromClient(pipe: Pipe, packet: Packet): void {
    if (
      (packet.cmd === "puback" || packet.cmd === "pubrec" || packet.cmd === "pubrel") &&
      packet.messageId === INJECTED_MESSAGE_ID
    ) {
      this.injectedAcks.push({ cmd: packet.cmd, at: Date.now() });
      return;
    }
    if (packet.cmd !== "connect") {
      pipe.up?.write(generate(packet, { protocolVersion: pipe.protocolVersion }));
      return;
    }
    pipe.protocolVersion = packet.protocolVersion ?? 4;
    pipe.clientId = packet.clientId;
    const refusal = this.#refusals.shift();
    this.connects.push({ clientId: packet.clientId, at: Date.now(), forwarded: !refusal });
    if (refusal) {
      const connack: Packet =
        pipe.protocolVersion === 5
          ? { cmd: "connack", sessionPresent: false, reasonCode: refusal.reasonCode }
          : { cmd: "connack", sessionPresent: false, returnCode: refusal.reasonCode };
      pipe.down.end(generate(connack, { protocolVersion: pipe.protocolVersion }));
      return;
    }
    if (this.options.sessionTakeover && pipe.protocolVersion === 5) {
      for (const other of this.#pipes) {
        if (other !== pipe && other.up && other.clientId === packet.clientId) {
          void this.#sendDisconnect(other, 0x8e);
        }
      }
    }
    const up = createConnection(this.target.port, this.target.host);
    pipe.up = up;
    const fromBroker = parser({ protocolVersion: pipe.protocolVersion });
    fromBroker.on("packet", (reply: Packet) => {
      const early = reply.cmd === "connack" ? this.#early.shift() : undefined;
      const late = reply.cmd === "connack" ? this.#late.shift() : undefined;
      const publish = (message: { topic: string; payload: string; qos: 1 | 2 }): Buffer =>
        generate(
          { cmd: "publish", messageId: INJECTED_MESSAGE_ID, dup: false, retain: false, ...message },
          { protocolVersion: pipe.protocolVersion },
        );
      const connack = generate(reply, { protocolVersion: pipe.protocolVersion });
      pipe.down.write(
        Buffer.concat([
          ...(early ? [publish(early)] : []),
          connack,
          ...(late ? [publish(late)] : []),
        ]),
      );
    });
    fromBroker.on("error", () => this.#drop(pipe));
    up.on("data", (chunk) => fromBroker.parse(chunk));
    up.on("error", () => this.#drop(pipe));
    up.on("close", () => this.#drop(pipe));
    up.write(generate(packet, { protocolVersion: pipe.protocolVersion }));
  }

  async #sendDisconnect(
    pipe: Pipe,
    reasonCode: number,
    properties?: IDisconnectPacket["properties"],
  ): Promise<void> {
    const packet: IDisconnectPacket = { cmd: "disconnect", reasonCode };
    if (properties) packet.properties = properties;
    // Nothing more from the broker reaches this client: the DISCONNECT is its last packet,
    // and the client's socket is closed only once it has been written.
    this.#pipes.delete(pipe);
    pipe.up?.removeAllListeners("data");
    pipe.up?.destroy();
    const closed = once(pipe.down, "close");
    pipe.down.on("error", () => pipe.down.destroy());
    pipe.down.end(generate(packet, { protocolVersion: pipe.protocolVersion }));
    await closed.catch(() => {});
  }

  #drop(pipe: Pipe): void {
    if (!this.#pipes.delete(pipe)) return;
    pipe.up?.destroy();
    pipe.down.destroy();
  }
}
