/**
 * An aedes cluster for tests: nodes that share one Redis — messages through
 * `mqemitter-redis`, sessions (subscriptions, queued QoS 1/2 messages) in
 * `aedes-persistence-redis` — each node a `TestBroker` with its own TCP and
 * WebSocket listeners on 127.0.0.1. A client with a persistent session can
 * leave one node and find its session on another.
 */

import persistenceRedis from "aedes-persistence-redis";
import mqemitterRedis from "mqemitter-redis";
import { TestBroker, type TestBrokerOptions } from "./broker.js";

export interface ClusterNode {
  readonly name: string;
  readonly broker: TestBroker;
  /** Stops the node: its clients' sockets are dropped, its Redis connections closed. */
  stop(): Promise<void>;
}

export async function startClusterNode(
  name: string,
  redisPort: number,
  options: Omit<TestBrokerOptions, "aedes"> = {},
): Promise<ClusterNode> {
  const redis = { host: "127.0.0.1", port: redisPort };
  const mq = mqemitterRedis(redis);
  const persistence = persistenceRedis(redis);
  const broker = await TestBroker.start({ ...options, aedes: { id: name, mq, persistence } });
  let stopped = false;
  return {
    name,
    broker,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Closes every client socket, then the broker and its mqemitter-redis connections.
      await broker.close();
      await persistence.destroy();
    },
  };
}
