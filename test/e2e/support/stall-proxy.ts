/**
 * A TCP proxy on 127.0.0.1 in front of the broker's WebSocket listener that
 * can make the connections through it die silently: `stall()` stops
 * forwarding bytes both ways but closes nothing, so neither end sees a FIN
 * or an RST — what a phone leaving Wi-Fi, a NAT dropping its mapping or a
 * suspended laptop does to a socket. Only a ping that gets no answer (or a
 * keepalive timeout, much later) can tell. Connections opened after
 * `stall()` are forwarded normally.
 */

import { once } from "node:events";
import { connect, createServer, type Socket } from "node:net";

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

export class StallProxy {
  readonly #pairs = new Set<Pair>();
  readonly #server = createServer((client) => this.#accept(client));
  #port = 0;
  /** Connections the proxy has accepted so far. */
  accepted = 0;

  private constructor(readonly targetPort: number) {}

  static async start(targetPort: number): Promise<StallProxy> {
    const proxy = new StallProxy(targetPort);
    proxy.#server.listen(0, "127.0.0.1");
    await once(proxy.#server, "listening");
    proxy.#port = (proxy.#server.address() as { port: number }).port;
    return proxy;
  }

  get port(): number {
    return this.#port;
  }

  /** Connections open through the proxy now. */
  get open(): number {
    return this.#pairs.size;
  }

  /** Stops forwarding on every open connection, without closing any. Returns how many. */
  stall(): number {
    for (const { client, upstream } of this.#pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
    return this.#pairs.size;
  }

  async close(): Promise<void> {
    for (const { client, upstream } of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.accepted += 1;
    const upstream = connect(this.targetPort, "127.0.0.1");
    const pair = { client, upstream };
    this.#pairs.add(pair);
    const drop = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
