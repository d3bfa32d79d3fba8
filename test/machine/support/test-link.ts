/**
 * The parts of a machine test that play the connection: the `link` state's
 * actions record what the machine asks of each connection (the test then
 * sends the broker's `MQTT.*` events itself), and a restore that has
 * nothing to restore.
 */

import { fromPromise } from "xstate";
import type {
  OpenLinkParams,
  RestoreResult,
  RestoreSubscriptionsInput,
} from "../../../src/machines/connection.types.js";

/** One entry of the `link` state: the commands it was given, whether it was left, its password. */
export interface TestLink {
  commands: ("force" | "graceful" | "ping")[];
  stopped: boolean;
  password: string | undefined;
}

/** `links` in the order the machine opened them, and the actions that record them. */
export function testLinks() {
  const links: TestLink[] = [];
  const command = (name: TestLink["commands"][number]) => () => {
    links.at(-1)?.commands.push(name);
  };
  return {
    links,
    actions: {
      openLink: (_: unknown, params: OpenLinkParams) => {
        links.push({ commands: [], stopped: false, password: params.endpoint.password?.reveal() });
      },
      closeLink: () => {
        const link = links.at(-1);
        if (link) link.stopped = true;
      },
      forceDisconnect: command("force"),
      closeConnection: command("graceful"),
      pingBroker: command("ping"),
    },
  };
}

/** `restoreSubscriptions` for a client without subscriptions. */
export const restoreNothing = fromPromise<RestoreResult, RestoreSubscriptionsInput>(
  async ({ input }) => ({
    filters: 0,
    packets: 0,
    rejected: [],
    sessionPresent: input.sessionPresent,
  }),
);
