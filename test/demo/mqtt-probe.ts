/**
 * Raw mqtt.js connections for the stack's tests: what a broker does to a
 * CONNECT, a SUBSCRIBE or a PUBLISH is checked on the wire, without the SDK
 * in between (no retry, no refresh).
 */

import { connect, type IClientOptions, type MqttClient } from "mqtt";

export interface Outcome {
  /** The CONNACK return code: 0 accepted, 4 / 5 refused. */
  readonly code: number;
  readonly client: MqttClient;
}

/** Connects once; resolves with the CONNACK's return code (the client stays open when accepted). */
export function connectOnce(url: string, options: IClientOptions): Promise<Outcome> {
  const client = connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  return new Promise((resolve, reject) => {
    client.once("connect", () => resolve({ code: 0, client }));
    client.once("error", (error) => {
      const code = (error as { code?: unknown }).code;
      client.end(true);
      if (typeof code === "number") resolve({ code, client });
      else reject(error);
    });
  });
}

/** Resolves when the broker closes `client`'s connection. */
export function closed(client: MqttClient): Promise<number> {
  return new Promise((resolve) => client.once("close", () => resolve(Date.now())));
}

/** Subscribes; resolves with the SUBACK's granted codes, one per filter (128 = refused). */
export function subscribe(client: MqttClient, filters: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    client.subscribe(
      Object.fromEntries(filters.map((f) => [f, { qos: 1 as const }])),
      (error, granted) => {
        const suback = (error as { packet?: { granted?: number[] } } | null)?.packet?.granted;
        if (suback) resolve(suback);
        else if (error) reject(error);
        else resolve((granted ?? []).map((g) => g.qos));
      },
    );
  });
}
