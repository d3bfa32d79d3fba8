/** Our client and raw mqtt.js, set up the same way for every benchmark. */

import { RealtimeClient, type RealtimeClientOptions } from "@armaanjain/courier-web-sdk";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { assertSdkFromDist } from "./dist.js";

// As an app gets it: the built package, not src/ (bench/support/dist.ts).
assertSdkFromDist(import.meta.resolve("@armaanjain/courier-web-sdk"));

export const HOST = "127.0.0.1";

/** A raw mqtt.js 5 client, connected; plain MQTT 3.1.1 over TCP like ours. */
export function rawClient(port: number, options: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://${HOST}:${port}`, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    ...options,
  });
}

/** One of ours, not yet connected. Node has no page lifecycle to watch. */
export function ourClient(
  port: number,
  options: Partial<RealtimeClientOptions> = {},
): RealtimeClient {
  return new RealtimeClient({
    endpoint: { host: HOST, port, scheme: "mqtt" },
    environment: false,
    ...options,
  });
}

export function endRaw(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(true, {}, () => resolve()));
}
