/**
 * Shared set-up of the MQTT 5 tests on mosquitto: per test, a mosquitto with
 * user `alice` (password `good`) and a `FaultProxy` in front of it; clients
 * of alice's that go through the proxy unless told otherwise; everything
 * closed after the test.
 */

import {
  type CourierError,
  type EndpointUpdate,
  RealtimeClient,
  type RealtimeClientOptions,
} from "@armaanjain/courier-web-sdk";
import { connect, type MqttClient } from "mqtt";
import { afterEach, beforeEach } from "vitest";
import { FaultProxy, type FaultProxyOptions } from "../support/fault-proxy.js";
import { Mosquitto } from "../support/mosquitto.js";

export const V5 = { protocolVersion: 5 } as const;

export class Mqtt5Setup {
  mosquitto!: Mosquitto;
  proxy!: FaultProxy;
  readonly #clients: RealtimeClient[] = [];
  readonly #later: { close(): Promise<void> }[] = [];
  #ids = 0;

  async start(): Promise<void> {
    this.mosquitto = await Mosquitto.start({ alice: "good" });
    this.proxy = await FaultProxy.start({ host: "127.0.0.1", port: this.mosquitto.tcpPort });
  }

  async stop(): Promise<void> {
    await Promise.all(this.#clients.splice(0).map((c) => c.disconnect()));
    await this.proxy?.close();
    await Promise.all(this.#later.splice(0).map((x) => x.close()));
    await this.mosquitto?.close();
  }

  /** Replaces the proxy with one started with `options`. */
  async restartProxy(options: FaultProxyOptions): Promise<void> {
    await this.proxy.close();
    this.proxy = await FaultProxy.start(
      { host: "127.0.0.1", port: this.mosquitto.tcpPort },
      options,
    );
  }

  nextId(prefix: string): string {
    this.#ids += 1;
    return `${prefix}-${this.#ids}`;
  }

  /** Closed after the test, before mosquitto. */
  later(closeable: { close(): Promise<void> }): void {
    this.#later.push(closeable);
  }

  /** A client of alice's (MQTT 5): through the proxy unless `port` says otherwise. */
  client(
    options: Partial<RealtimeClientOptions> & { id: string; port?: number; password?: string },
  ): RealtimeClient {
    const { port, id, password, ...rest } = options;
    const c = new RealtimeClient({
      endpoint: {
        host: "127.0.0.1",
        port: port ?? this.proxy.port,
        username: "alice",
        password: password ?? "good",
        clientId: id,
      },
      environment: false,
      ...rest,
      mqtt: { ...V5, ...rest.mqtt },
    });
    this.#clients.push(c);
    return c;
  }

  /** An `onAuthFailure` that makes `password` alice's at mosquitto and returns it; counts its calls. */
  renewing(password = "renewed"): {
    readonly calls: number;
    onAuthFailure: () => Promise<EndpointUpdate>;
  } {
    let calls = 0;
    return {
      get calls() {
        return calls;
      },
      onAuthFailure: async () => {
        calls += 1;
        await this.mosquitto.setPassword("alice", password);
        return { password };
      },
    };
  }

  /** A plain mqtt.js connection of alice's with client identifier `id` on `port`. */
  secondConnection(port: number, id: string): MqttClient {
    const other = connect(`mqtt://127.0.0.1:${port}`, {
      ...V5,
      clientId: id,
      username: "alice",
      password: "good",
      reconnectPeriod: 0,
    });
    other.on("error", () => {});
    this.later({
      close: () => new Promise<void>((resolve) => other.end(true, {}, () => resolve())),
    });
    return other;
  }
}

/** Registers the per-test start and stop in the calling `describe`. */
export function useMqtt5Setup(): Mqtt5Setup {
  const setup = new Mqtt5Setup();
  beforeEach(() => setup.start());
  afterEach(() => setup.stop());
  return setup;
}

export function errorsOf(client: RealtimeClient): CourierError[] {
  const errors: CourierError[] = [];
  client.on("error", (e) => errors.push(e));
  return errors;
}
