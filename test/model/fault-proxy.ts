/**
 * A fault-injecting TCP proxy between the client and a real broker
 * (127.0.0.1, random port). It cuts the byte streams into MQTT packets by
 * their fixed header (MQTT 3.1.1 §2.2 / MQTT 5 §2.1: type nibble, then the
 * Remaining Length varint) and forwards them unchanged, except that it can:
 *
 * - hold packets of chosen types (the client's CONNECT; the broker's SUBACK,
 *   PUBACK, PINGRESP) until the test releases them — a broker that is slow to
 *   answer, which is what lets a test choose the moment an answer arrives;
 * - write real packets of its own to the client (built with mqtt-packet): an
 *   MQTT 5 DISCONNECT with a reason code and Server Reference, or a CONNACK
 *   refusing with an MQTT 5 reason code — what a broker says, which mosquitto
 *   cannot be made to say on demand;
 * - drop a connection (the network is gone).
 *
 * It never rewrites a packet it forwards.
 */

import { once } from "node:events";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import mqttPacket from "mqtt-packet";

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

/** Splits a byte stream into whole MQTT packets. */
class Framer {
  #buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const packets: Buffer[] = [];
    for (;;) {
      let length = 0;
      let multiplier = 1;
      let i = 1;
      for (; i < this.#buffer.length && i <= 4; i++) {
        const byte = this.#buffer[i] as number;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) break;
      }
      if (i >= this.#buffer.length || i > 4) break; // header not complete yet
      const total = i + 1 + length;
      if (this.#buffer.length < total) break;
      packets.push(this.#buffer.subarray(0, total));
      this.#buffer = this.#buffer.subarray(total);
    }
    return packets;
  }
}

const typeOf = (packet: Buffer) => (packet[0] as number) >> 4;

/** One client connection through the proxy. */
export class ProxiedConnection {
  /** Types held per direction; a held packet waits in `#held` until released. */
  readonly #held: { toBroker: boolean; packet: Buffer }[] = [];
  /** The topic filters of each SUBSCRIBE packet the client sent, in order. */
  readonly subscribedFilters: string[][] = [];
  /** Packet types seen, in order: `c:1` from the client, `b:2` from the broker. */
  readonly seen: string[] = [];
  closed = false;
  /** Packet types held on this connection (from the proxy's defaults when it opened). */
  readonly holdToBroker: Set<number>;
  readonly holdToClient: Set<number>;

  constructor(
    readonly client: Socket,
    readonly broker: Socket,
    private readonly proxy: FaultProxy,
  ) {
    this.holdToBroker = new Set(proxy.holdToBroker);
    this.holdToClient = new Set(proxy.holdToClient);
    const fromClient = new Framer();
    const fromBroker = new Framer();
    // Reads what the client sends (the CONNECT sets the protocol version for the rest).
    const parser = mqttPacket.parser();
    parser.on("packet", (packet) => {
      if (packet.cmd === "subscribe") {
        this.subscribedFilters.push(packet.subscriptions.map((s) => s.topic));
      }
    });
    client.on("data", (chunk: Buffer) => {
      for (const p of fromClient.push(chunk)) {
        parser.parse(p);
        this.#pass(p, true);
      }
    });
    broker.on("data", (chunk: Buffer) => {
      for (const p of fromBroker.push(chunk)) this.#pass(p, false);
    });
    const close = () => {
      if (this.closed) return;
      this.closed = true;
      client.destroy();
      broker.destroy();
      proxy.changed();
    };
    client.on("close", close);
    broker.on("close", close);
    client.on("error", close);
    broker.on("error", close);
  }

  #pass(packet: Buffer, toBroker: boolean): void {
    const type = typeOf(packet);
    this.seen.push(`${toBroker ? "c" : "b"}:${type}`);
    const holding = (toBroker ? this.holdToBroker : this.holdToClient).has(type);
    if (holding || this.#held.some((h) => h.toBroker === toBroker)) {
      // Order is kept: once one packet waits, those after it in the same direction wait too.
      this.#held.push({ toBroker, packet });
    } else {
      (toBroker ? this.broker : this.client).write(packet);
    }
    this.proxy.changed();
  }

  /** Held packets of `type` (or all), oldest first. */
  heldTypes(): number[] {
    return this.#held.map((h) => typeOf(h.packet));
  }

  /**
   * Forwards the first held packet of `type` and, to keep each direction in
   * order, the packets held before it in its direction. Without `type`:
   * everything held. Returns false when nothing of that type is held.
   */
  release(type?: number): boolean {
    const found = this.#held.find((h) => type === undefined || typeOf(h.packet) === type);
    if (!found) return false;
    const upTo = this.#held.indexOf(found);
    const go = this.#held.filter(
      (h, i) => type === undefined || (i <= upTo && h.toBroker === found.toBroker),
    );
    for (const h of go) {
      this.#held.splice(this.#held.indexOf(h), 1);
      (h.toBroker ? this.broker : this.client).write(h.packet);
    }
    return true;
  }

  /** Stops holding anything on this connection and forwards what was held. */
  passAll(): void {
    this.holdToBroker.clear();
    this.holdToClient.clear();
    this.release();
  }

  /** Drops a held CONNECT without forwarding it (the proxy answers it itself). */
  discardHeld(type: number): void {
    const index = this.#held.findIndex((h) => typeOf(h.packet) === type);
    if (index >= 0) this.#held.splice(index, 1);
  }

  /** Writes packets of the proxy's own to the client, in one TCP write. */
  inject(packets: readonly mqttPacket.Packet[], protocolVersion: 4 | 5): void {
    const bytes = packets.map((p) => mqttPacket.generate(p, { protocolVersion }));
    this.client.write(Buffer.concat(bytes));
  }

  /** The network is gone: both sockets close at once. */
  drop(): void {
    this.client.destroy();
    this.broker.destroy();
  }
}

export class FaultProxy {
  readonly connections: ProxiedConnection[] = [];
  /** Packet types from the client held until released, on each new connection. */
  readonly holdToBroker = new Set<number>();
  /** Packet types from the broker held until released, on each new connection. */
  readonly holdToClient = new Set<number>();
  port = 0;
  #listeners = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    private readonly brokerPort: number,
  ) {}

  static async start(brokerPort: number): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, brokerPort);
    server.on("connection", (client) => proxy.#accept(client));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    proxy.port = (server.address() as { port: number }).port;
    return proxy;
  }

  #accept(client: Socket): void {
    client.pause();
    const broker = createConnection({ host: "127.0.0.1", port: this.brokerPort });
    const connection = new ProxiedConnection(client, broker, this);
    this.connections.push(connection);
    broker.once("connect", () => client.resume());
    this.changed();
  }

  /** The newest connection, if still open. */
  get current(): ProxiedConnection | undefined {
    const last = this.connections.at(-1);
    return last && !last.closed ? last : undefined;
  }

  /** Calls `listener` whenever a packet passes or a connection opens or closes. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  changed(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
