/**
 * The clients a test file makes, so each test can leave nothing running:
 * call `closeAll()` in `afterEach`, before the brokers are closed.
 */

import { RealtimeClient, type RealtimeClientOptions } from "@armaanjain/courier-web-sdk";

export class ClientPool {
  readonly #clients: RealtimeClient[] = [];

  /** A new client, disconnected by the next `closeAll()`. */
  readonly make = (options: RealtimeClientOptions): RealtimeClient =>
    this.track(new RealtimeClient(options));

  /** Adds a client made elsewhere. */
  readonly track = (client: RealtimeClient): RealtimeClient => {
    this.#clients.push(client);
    return client;
  };

  async closeAll(): Promise<void> {
    await Promise.all(this.#clients.splice(0).map((c) => c.disconnect()));
  }
}
