/**
 * The behaviour suite's driver for RabbitMQ 3.10 (`rabbitmq_mqtt`,
 * `rabbitmq_web_mqtt`; MQTT 3.1.1 only), through a `WireTap`. Passwords are
 * checked by RabbitMQ's HTTP auth backend against the test (instant
 * changes; `rabbitmq-broker.test.ts` measures the internal user database);
 * RabbitMQ keeps a connection
 * open when its user's password changes, so the driver closes it with the
 * plugin's own close (`rabbitmqctl eval`), as a token service that revokes a
 * token would.
 */

import { RabbitMq, rabbitmqInstalled } from "../support/rabbitmq.js";
import { canRun, hasBinary } from "../support/requirements.js";
import { WireTap } from "../support/wire-tap.js";
import type { BrokerDriver, BrokerKind } from "./driver.js";
import { TappedDriver } from "./tapped-driver.js";

class RabbitMqDriver extends TappedDriver {
  readonly mqtt = { protocolVersion: 4 as const };
  readonly persistentSession = { clean: false };

  constructor(
    tap: WireTap,
    private readonly rabbit: RabbitMq,
  ) {
    super(tap, rabbit);
  }

  async kick(username: string): Promise<void> {
    await this.rabbit.closeConnections(this.liveIdsOf(username));
  }
}

/**
 * RabbitMQ for every suite of one test file: started by the first
 * `start()`, stopped by `close()` (call it in the file's `afterAll`).
 */
export function sharedRabbitMq(): { kind: BrokerKind; close(): Promise<void> } {
  let broker: Promise<RabbitMq> | null = null;
  return {
    kind: {
      name: "RabbitMQ 3.10 (MQTT 3.1.1)",
      available:
        hasBinary("rabbitmq-server") &&
        canRun(
          "rabbitmq-server",
          rabbitmqInstalled() ? null : "no /usr/lib/rabbitmq/bin/rabbitmq-server",
        ),
      scope: "file",
      lacks: {
        refusalOverWebSocket:
          "RabbitMQ's Web MQTT closes the WebSocket without a CONNACK when it refuses credentials " +
          "(the client sees a network loss, not a refusal, so the refresh cannot follow that flow step by step)",
      },
      start: async (): Promise<BrokerDriver> => {
        broker ??= RabbitMq.start({ httpAuth: true });
        const rabbit = await broker;
        const tap = await WireTap.start({
          host: "127.0.0.1",
          tcpPort: rabbit.tcpPort,
          wsPort: rabbit.wsPort,
          wsPath: rabbit.wsPath,
        });
        return new RabbitMqDriver(tap, rabbit);
      },
    },
    async close() {
      const started = broker;
      broker = null;
      if (started) await (await started).close();
    },
  };
}
