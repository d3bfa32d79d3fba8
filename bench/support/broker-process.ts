/**
 * A `BenchBroker` in its own process, driven over IPC by `RemoteBroker`: the
 * clients under test then have a core of their own and the broker's memory
 * and garbage stay out of their measurements.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { BenchBroker } from "./broker.js";

export type BrokerCommand =
  | { cmd: "listen" }
  | { cmd: "restart"; downMs: number }
  | { cmd: "blast"; topic: string; size: number; count: number }
  | { cmd: "accepts"; since: number }
  | { cmd: "connected" }
  | { cmd: "exit" };

const broker = await BenchBroker.start();

async function handle(command: BrokerCommand): Promise<unknown> {
  switch (command.cmd) {
    case "listen":
      return { port: broker.port };
    case "restart": {
      // Times are relative to the moment the broker went down.
      const down = performance.now();
      broker.accepts.length = 0;
      await broker.stop();
      await sleep(Math.max(0, command.downMs - (performance.now() - down)));
      await broker.listen();
      return { down, up: performance.now() - down };
    }
    case "blast":
      await broker.blast(command.topic, Buffer.alloc(command.size, 120), command.count);
      return null;
    case "accepts":
      return broker.accepts.map((at) => at - command.since);
    case "connected":
      return broker.connectedClients;
    case "exit":
      await broker.stop();
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on("message", (message: { id: number; command: BrokerCommand }) => {
  handle(message.command).then(
    (result) => process.send?.({ id: message.id, result }),
    (error: Error) => process.send?.({ id: message.id, error: error.message }),
  );
});
process.send?.({ id: 0, result: { port: broker.port } });
