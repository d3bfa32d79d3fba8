/**
 * What the examples receive: a publisher in Node, with its own long-lived
 * token from the demo's endpoint, sending `{ seq }` ticks to demo/ticks/eu
 * and, now and then, an alert to demo/alerts (QoS 1).
 */

import { RealtimeClient, RemoteCredentials } from "@armaanjain/courier-web-sdk";
import type { Stack, TokenResponse } from "../../demo/stack/index.js";

export interface ExamplePublisher {
  /** The last tick's sequence number. */
  readonly last: number;
  /** Publishes one alert now. */
  alert(text: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startPublisher(
  stack: Stack,
  { ticksPerSecond = 5, alertEverySeconds = 5 } = {},
): Promise<ExamplePublisher> {
  const url = new URL(stack.tokenUrl);
  url.searchParams.set("user", "publisher");
  const credentials = new RemoteCredentials(url, (r: TokenResponse) => ({
    host: r.broker.host,
    port: r.broker.port,
    username: r.userId,
    password: r.jwt,
    scheme: "mqtt",
  }));
  const client = new RealtimeClient({
    endpoint: { ...(await credentials.getCredentials()), clientId: "example-publisher" },
    onAuthFailure: credentials,
    environment: false,
  });
  await client.connect();
  let seq = 0;
  let alerts = 0;
  const pending = new Set<Promise<void>>();
  const send = (topic: string, payload: string) => {
    const p = client.publish(topic, payload, { qos: 1 }).catch(() => {});
    pending.add(p);
    p.finally(() => pending.delete(p));
    return p;
  };
  const ticks = setInterval(() => {
    seq += 1;
    void send("demo/ticks/eu", JSON.stringify({ seq }));
  }, 1000 / ticksPerSecond);
  const alertTimer =
    alertEverySeconds > 0
      ? setInterval(() => {
          alerts += 1;
          void send("demo/alerts", `alert #${alerts}`);
        }, alertEverySeconds * 1000)
      : undefined;
  return {
    get last() {
      return seq;
    },
    alert: (text) => send("demo/alerts", text),
    async stop() {
      clearInterval(ticks);
      clearInterval(alertTimer);
      await Promise.all([...pending]);
      await client.disconnect();
    },
  };
}
