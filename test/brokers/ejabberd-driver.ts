/**
 * The behaviour suite's driver for ejabberd 23.01 (`mod_mqtt`), once per
 * protocol version the client speaks to it (MQTT 3.1.1 and 5), through a
 * `WireTap`. Passwords are ejabberd's internal accounts (`ejabberdctl`).
 * ejabberd has no command that ends an MQTT session, and keeps a connection
 * open when its account's password changes: the driver cuts the TCP
 * connection at the tap, which is what the client sees of a broker that
 * drops it.
 */

import { EJABBERD_HOST, Ejabberd, ejabberdUnavailable } from "../support/ejabberd.js";
import { canRun, hasBinary } from "../support/requirements.js";
import type { TappedConnect } from "../support/wire-tap.js";
import { WireTap } from "../support/wire-tap.js";
import type { BrokerDriver, BrokerKind } from "./driver.js";
import { TappedDriver } from "./tapped-driver.js";

class EjabberdDriver extends TappedDriver {
  readonly mqtt: BrokerDriver["mqtt"];
  readonly persistentSession: BrokerDriver["persistentSession"];

  constructor(tap: WireTap, ejabberd: Ejabberd, protocolVersion: 4 | 5) {
    super(tap, ejabberd);
    this.mqtt = { protocolVersion };
    this.persistentSession =
      protocolVersion === 5
        ? { clean: false, properties: { sessionExpiryInterval: 300 } }
        : { clean: false };
  }

  protected override isUser(connect: TappedConnect, username: string): boolean {
    return connect.username === username || connect.username === `${username}@${EJABBERD_HOST}`;
  }

  async kick(username: string): Promise<void> {
    this.tap.cut((c) => this.isUser(c, username));
  }
}

/**
 * ejabberd for every suite of one test file (both protocol versions share
 * the node): started by the first `start()`, stopped by `close()` (call it
 * in the file's `afterAll`).
 */
export function sharedEjabberd(): {
  kind(protocolVersion: 4 | 5): BrokerKind;
  close(): Promise<void>;
} {
  let broker: Promise<Ejabberd> | null = null;
  const available = hasBinary("ejabberdctl") && canRun("ejabberdctl", ejabberdUnavailable());
  return {
    kind: (protocolVersion) => ({
      name: `ejabberd 23.01 (MQTT ${protocolVersion === 5 ? "5" : "3.1.1"})`,
      available,
      scope: "file",
      start: async (): Promise<BrokerDriver> => {
        broker ??= Ejabberd.start();
        const ejabberd = await broker;
        const tap = await WireTap.start({
          host: "127.0.0.1",
          tcpPort: ejabberd.tcpPort,
          wsPort: ejabberd.wsPort,
          wsPath: ejabberd.wsPath,
        });
        return new EjabberdDriver(tap, ejabberd, protocolVersion);
      },
    }),
    async close() {
      const started = broker;
      broker = null;
      if (started) await (await started).close();
    },
  };
}
