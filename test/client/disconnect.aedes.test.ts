/**
 * DESIGN.md behaviour 10: `disconnect()` in any state leaves no timer,
 * socket, listener or pending promise behind. Each case drives a real
 * client into one state and calls disconnect() the moment it gets there.
 */

import {
  type ConnectionState,
  RealtimeClient,
  type RealtimeClientOptions,
} from "@armaanjain/courier-web-sdk";
import { afterAll, beforeAll, expect, test } from "vitest";
import { TestBroker } from "../support/broker.js";
import { handleCounts, sleep, waitFor } from "../support/wait.js";

let broker: TestBroker;
beforeAll(async () => {
  broker = await TestBroker.start({
    authenticate: (_u, password) => (password === "good" ? true : password === "fatal" ? 2 : 5),
  });
});
afterAll(async () => broker.close());

/**
 * How to make a client pass through each state. The core suite
 * (`test/brokers/core-shutdown.ts`) runs the same check on every broker for
 * connected, refreshing, waiting, authBackoff, reconnecting and backoff;
 * these are the states it does not bring a client into.
 */
const scenarios: Partial<
  Record<ConnectionState, () => { options: Partial<RealtimeClientOptions> }>
> = {
  idle: () => ({ options: {} }),
  connecting: () => ({ options: {} }),
  restoring: () => ({ options: {} }),
  closing: () => ({ options: {} }),
  authFailed: () => ({
    options: {
      endpoint: endpoint("bad"),
      onAuthFailure: async () => ({ password: "good" }),
    },
  }),
  failed: () => ({ options: { endpoint: endpoint("fatal") } }),
};

let n = 0;
function endpoint(password: string) {
  return { host: "127.0.0.1", port: broker.tcpPort, username: "u", password, clientId: `dc-${n}` };
}

const settled = (p: Promise<unknown>) =>
  p.then(
    () => "resolved",
    () => "rejected",
  );

for (const [state, scenarioOf] of Object.entries(scenarios)) {
  test(`disconnect() in ${state} leaves nothing running`, async () => {
    n += 1;
    const before = handleCounts();
    const scenario = scenarioOf();
    const client = new RealtimeClient({ endpoint: endpoint("good"), ...scenario.options });

    const promises: Promise<string>[] = [];
    promises.push(settled(client.subscribe("dc/topic", () => {}, { qos: 1 })));
    promises.push(settled(client.publish("dc/topic", "queued", { qos: 1 })));

    let disconnected: Promise<void> | undefined;
    client.on("stateChange", (change) => {
      if (change.state === "connected" && state === "closing") void client.disconnect();
      if (change.state === state && !disconnected) disconnected = client.disconnect();
    });
    if (state === "idle") disconnected = client.disconnect();
    else promises.push(settled(client.connect()));

    await waitFor(() => disconnected !== undefined, 10_000, `reaching ${state}`);
    await disconnected;
    expect(client.state).toBe("idle");
    // Every promise the client handed out has settled.
    const outcomes = await Promise.race([Promise.all(promises), sleep(1000).then(() => "pending")]);
    expect(outcomes).not.toBe("pending");
    // No socket (ours, or the broker's end of it) and no timer is left.
    await waitFor(() => broker.clientIds().length === 0, 2000, "broker side closed");
    await waitFor(
      () => {
        const after = handleCounts();
        return ["TCPSocketWrap", "Timeout", "Immediate"].every(
          (k) => (after[k] ?? 0) <= (before[k] ?? 0),
        );
      },
      2000,
      `no handles left (before ${JSON.stringify(before)}, now ${JSON.stringify(handleCounts())})`,
    );
    // Nothing happens afterwards either.
    const changes: string[] = [];
    client.on("stateChange", (c) => changes.push(c.state));
    await sleep(300);
    expect(changes).toEqual([]);
  });
}

test("disconnect() with a publish the broker never acknowledges: the socket is gone after closeSeconds", async () => {
  // Found by the model-based replay (closing → after CLOSE_TIMEOUT → idle): mqtt.js ignores
  // end(true) while a graceful end(false) still waits for acknowledgements.
  const silent = await TestBroker.start();
  silent.aedes.authorizePublish = () => {}; // never answers: no PUBACK
  try {
    const client = new RealtimeClient({
      endpoint: { host: "127.0.0.1", port: silent.tcpPort, clientId: "unacked" },
      timeouts: { closeSeconds: 0.2 },
    });
    await client.connect();
    client.publish("t/unacked", "x", { qos: 1 }).catch(() => {});
    await waitFor(() => silent.published.length > 0 || client.pendingPublishes === 1, 2000);
    await client.disconnect();
    expect(client.state).toBe("idle");
    await waitFor(() => !silent.clientIds().includes("unacked"), 2000, "the socket to close");
  } finally {
    await silent.close();
  }
});
