/**
 * A fault-injecting MQTT proxy on 127.0.0.1 in front of a real broker, for
 * what the broker cannot be made to do on demand. mosquitto 2.0.11 has no
 * way to answer "server busy", "quota exceeded", "use another server" or
 * "server moved", answers bad credentials with 0x87 only, and closes a
 * taken-over connection without DISCONNECT 0x8E (fixed in mosquitto 2.0.15);
 * and no broker answers at a moment a test chooses.
 *
 * It parses both directions with `mqtt-packet` (the codec mqtt.js itself
 * uses) and forwards whole packets, so a packet it injects is a real MQTT
 * packet on a packet boundary. Two ways to use it:
 *
 * - scripted faults, by client identifier: answer the next CONNECT with a
 *   failure CONNACK (`refuseNextConnect`), write a PUBLISH just before or
 *   right behind the next CONNACK, send a connection a server DISCONNECT with
 *   a reason code and properties (Server Reference) and close it
 *   (`disconnect`), or DISCONNECT 0x8E on a takeover (`sessionTakeover`);
 * - step by step, per connection (`current`, `connections`): hold packets of
 *   chosen types (`holdToBroker`, `holdToClient`: the client's CONNECT, the
 *   broker's SUBACK, PUBACK, PINGRESP) until the test releases them, write
 *   packets of its own to the client (`inject`), drop the connection
 *   (`drop`); `onChange` tells when anything passed. The model-based replay
 *   (test/model/harness.ts) drives it this way.
 */

import { once } from "node:events";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { generate, type IDisconnectPacket, type Packet, parser } from "mqtt-packet";

/** MQTT control packet types (the high nibble of the first byte). */
export const PacketType = {
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  SUBSCRIBE: 8,
  SUBACK: 9,
  PINGREQ: 12,
  PINGRESP: 13,
  DISCONNECT: 14,
} as const;

const TYPE_OF: Record<Packet["cmd"], number> = {
  connect: 1,
  connack: 2,
  publish: 3,
  puback: 4,
  pubrec: 5,
  pubrel: 6,
  pubcomp: 7,
  subscribe: 8,
  suback: 9,
  unsubscribe: 10,
  unsuback: 11,
  pingreq: 12,
  pingresp: 13,
  disconnect: 14,
  auth: 15,
};

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
  /**
   * Removes the Maximum Packet Size property from the broker's MQTT 5
   * CONNACK: the client does not learn the limit the broker enforces (as
   * with a broker that does not announce it). @default false
   */
  readonly hideMaximumPacketSize?: boolean;
}

/** The packet identifier of every PUBLISH the proxy writes itself. */
export const INJECTED_MESSAGE_ID = 4242;

/** One client connection through the proxy. */
export class ProxiedConnection {
  /** The broker side, opened when the client's CONNECT is forwarded. */
  up: Socket | null = null;
  clientId: string | null = null;
  protocolVersion: 3 | 4 | 5 = 4;
  /** The topic filters of each SUBSCRIBE packet the client sent, in order. */
  readonly subscribedFilters: string[][] = [];
  /** Packet types seen, in order: `c:1` from the client, `b:2` from the broker. */
  readonly seen: string[] = [];
  closed = false;
  /** Packet types held on this connection (from the proxy's defaults when it opened). */
  readonly holdToBroker: Set<number>;
  readonly holdToClient: Set<number>;
  /** Held packets, both directions, oldest first. */
  readonly #held: { toBroker: boolean; packet: Packet }[] = [];

  constructor(
    /** The client side. */
    readonly client: Socket,
    defaults: { readonly holdToBroker: Set<number>; readonly holdToClient: Set<number> },
    private readonly forward: (packet: Packet, toBroker: boolean) => void,
    private readonly changed: () => void,
  ) {
    this.holdToBroker = new Set(defaults.holdToBroker);
    this.holdToClient = new Set(defaults.holdToClient);
  }

  /** A packet arrives from one side: forwarded, or held behind what is held already. */
  pass(packet: Packet, toBroker: boolean): void {
    const type = TYPE_OF[packet.cmd];
    this.seen.push(`${toBroker ? "c" : "b"}:${type}`);
    if (toBroker && packet.cmd === "subscribe") {
      this.subscribedFilters.push(packet.subscriptions.map((s) => s.topic));
    }
    const holding = (toBroker ? this.holdToBroker : this.holdToClient).has(type);
    if (holding || this.#held.some((h) => h.toBroker === toBroker)) {
      // Order is kept: once one packet waits, those after it in the same direction wait too.
      this.#held.push({ toBroker, packet });
    } else {
      this.forward(packet, toBroker);
    }
    this.changed();
  }

  /** Types of the held packets, oldest first. */
  heldTypes(): number[] {
    return this.#held.map((h) => TYPE_OF[h.packet.cmd]);
  }

  /**
   * Forwards the first held packet of `type` and, to keep each direction in
   * order, the packets held before it in its direction. Without `type`:
   * everything held. Returns false when nothing of that type is held.
   */
  release(type?: number): boolean {
    const found = this.#held.find((h) => type === undefined || TYPE_OF[h.packet.cmd] === type);
    if (!found) return false;
    const upTo = this.#held.indexOf(found);
    const go = this.#held.filter(
      (h, i) => type === undefined || (i <= upTo && h.toBroker === found.toBroker),
    );
    for (const h of go) {
      this.#held.splice(this.#held.indexOf(h), 1);
      this.forward(h.packet, h.toBroker);
    }
    return true;
  }

  /** Stops holding anything on this connection and forwards what was held. */
  passAll(): void {
    this.holdToBroker.clear();
    this.holdToClient.clear();
    this.release();
  }

  /** Drops a held packet of `type` without forwarding it (the proxy answers it itself). */
  discardHeld(type: number): void {
    const index = this.#held.findIndex((h) => TYPE_OF[h.packet.cmd] === type);
    if (index >= 0) this.#held.splice(index, 1);
  }

  /** Writes packets of the proxy's own to the client, in one TCP write. */
  inject(packets: readonly Packet[], protocolVersion: 4 | 5): void {
    this.client.write(Buffer.concat(packets.map((p) => generate(p, { protocolVersion }))));
  }

  /** The network is gone: both sockets close at once (unless the connection is closed already). */
  drop(): void {
    if (this.closed) return;
    this.closed = true;
    this.up?.destroy();
    this.client.destroy();
    this.changed();
  }
}

export class FaultProxy {
  readonly connects: ProxiedConnect[] = [];
  /**
   * The client's acknowledgements (PUBACK, PUBREC, PUBREL) of the PUBLISHes
   * the proxy wrote itself, in arrival order. They are not forwarded: the
   * broker never sent those messages.
   */
  readonly injectedAcks: { cmd: string; at: number }[] = [];
  /** Every connection, in the order they opened. */
  readonly connections: ProxiedConnection[] = [];
  /** Packet types from the client held until released, on each new connection. */
  readonly holdToBroker = new Set<number>();
  /** Packet types from the broker held until released, on each new connection. */
  readonly holdToClient = new Set<number>();
  /** Every PUBLISH a client sent through the proxy (forwarded to the broker). */
  readonly published: { clientId: string; topic: string; bytes: number; at: number }[] = [];
  readonly #refusals: { reasonCode: number }[] = [];
  readonly #early: { topic: string; payload: string; qos: 1 | 2 }[] = [];
  readonly #late: { topic: string; payload: string; qos: 1 | 2 }[] = [];
  readonly #listeners = new Set<() => void>();

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

  /** The newest connection, if still open. */
  get current(): ProxiedConnection | undefined {
    const last = this.connections.at(-1);
    return last && !last.closed ? last : undefined;
  }

  /** Client identifiers with a live proxied connection. */
  connectedIds(): string[] {
    return this.connections.flatMap((c) => (c.clientId && c.up && !c.closed ? [c.clientId] : []));
  }

  /** Calls `listener` whenever a packet passes or a connection opens or closes. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
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
    const connection = this.connections.find((c) => c.clientId === clientId && c.up && !c.closed);
    if (!connection) throw new Error(`no proxied connection for ${clientId}`);
    await this.#sendDisconnect(connection, reasonCode, properties);
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #changed(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  #accept(client: Socket): void {
    const connection: ProxiedConnection = new ProxiedConnection(
      client,
      this,
      (packet, toBroker) => {
        // A closed connection forwards nothing (a held CONNECT released late opens no broker side).
        if (connection.closed) return;
        if (toBroker) this.#toBroker(connection, packet);
        else this.#toClient(connection, packet);
      },
      () => this.#changed(),
    );
    this.connections.push(connection);
    const fromClient = parser();
    fromClient.on("packet", (packet: Packet) => {
      if (
        (packet.cmd === "puback" || packet.cmd === "pubrec" || packet.cmd === "pubrel") &&
        packet.messageId === INJECTED_MESSAGE_ID
      ) {
        this.injectedAcks.push({ cmd: packet.cmd, at: Date.now() });
        return;
      }
      if (packet.cmd === "connect") connection.protocolVersion = packet.protocolVersion ?? 4;
      connection.pass(packet, true);
    });
    fromClient.on("error", () => connection.drop());
    client.on("data", (chunk) => fromClient.parse(chunk));
    client.on("error", () => connection.drop());
    client.on("close", () => connection.drop());
    this.#changed();
  }

  /** A client packet on its way to the broker; a CONNECT opens the broker side (or is refused). */
  #toBroker(connection: ProxiedConnection, packet: Packet): void {
    const protocolVersion = connection.protocolVersion;
    if (packet.cmd !== "connect") {
      const bytes = generate(packet, { protocolVersion });
      if (packet.cmd === "publish") {
        this.published.push({
          clientId: connection.clientId ?? "",
          topic: packet.topic,
          bytes: bytes.length,
          at: Date.now(),
        });
      }
      connection.up?.write(bytes);
      return;
    }
    connection.clientId = packet.clientId;
    const refusal = this.#refusals.shift();
    this.connects.push({ clientId: packet.clientId, at: Date.now(), forwarded: !refusal });
    if (refusal) {
      const connack: Packet =
        protocolVersion === 5
          ? { cmd: "connack", sessionPresent: false, reasonCode: refusal.reasonCode }
          : { cmd: "connack", sessionPresent: false, returnCode: refusal.reasonCode };
      connection.client.end(generate(connack, { protocolVersion }));
      return;
    }
    if (this.options.sessionTakeover && protocolVersion === 5) {
      for (const other of this.connections) {
        if (
          other !== connection &&
          other.up &&
          !other.closed &&
          other.clientId === packet.clientId
        ) {
          void this.#sendDisconnect(other, 0x8e);
        }
      }
    }
    const up = createConnection(this.target.port, this.target.host);
    connection.up = up;
    const fromBroker = parser({ protocolVersion });
    fromBroker.on("packet", (reply: Packet) => connection.pass(reply, false));
    fromBroker.on("error", () => connection.drop());
    up.on("data", (chunk) => fromBroker.parse(chunk));
    up.on("error", () => connection.drop());
    up.on("close", () => connection.drop());
    up.write(generate(packet, { protocolVersion }));
  }

  /** A broker packet on its way to the client, with the PUBLISHes scripted around a CONNACK. */
  #toClient(connection: ProxiedConnection, reply: Packet): void {
    const protocolVersion = connection.protocolVersion;
    const early = reply.cmd === "connack" ? this.#early.shift() : undefined;
    const late = reply.cmd === "connack" ? this.#late.shift() : undefined;
    const publish = (message: { topic: string; payload: string; qos: 1 | 2 }): Buffer =>
      generate(
        { cmd: "publish", messageId: INJECTED_MESSAGE_ID, dup: false, retain: false, ...message },
        { protocolVersion },
      );
    if (
      reply.cmd === "connack" &&
      this.options.hideMaximumPacketSize &&
      reply.properties?.maximumPacketSize !== undefined
    ) {
      delete reply.properties.maximumPacketSize;
    }
    connection.client.write(
      Buffer.concat([
        ...(early ? [publish(early)] : []),
        generate(reply, { protocolVersion }),
        ...(late ? [publish(late)] : []),
      ]),
    );
  }

  async #sendDisconnect(
    connection: ProxiedConnection,
    reasonCode: number,
    properties?: IDisconnectPacket["properties"],
  ): Promise<void> {
    const packet: IDisconnectPacket = { cmd: "disconnect", reasonCode };
    if (properties) packet.properties = properties;
    // Nothing more from the broker reaches this client: the DISCONNECT is its last packet,
    // and the client's socket is closed only once it has been written.
    connection.closed = true;
    const { client, up } = connection;
    up?.removeAllListeners("data");
    up?.destroy();
    const closed = once(client, "close");
    client.on("error", () => client.destroy());
    client.end(generate(packet, { protocolVersion: connection.protocolVersion }));
    await closed.catch(() => {});
    this.#changed();
  }
}
