/**
 * The mqtt.js adapter (`BrokerLink`) on its own, on the wire: its liveness
 * ping against a real broker (aedes on 127.0.0.1), and what it reports of a
 * refused MQTT 5 CONNACK from a real socket.
 */

import { afterEach, expect, test } from "vitest";
import { BrokerLink, loadTransport } from "../../src/services/broker-link.js";
import { resolveEndpoint } from "../../src/services/endpoint.js";
import { TestBroker } from "../support/broker.js";
import { waitFor } from "../support/wait.js";

const brokers: TestBroker[] = [];
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

test("the adapter's ping gets the broker's PINGRESP", async () => {
  const broker = await TestBroker.start();
  brokers.push(broker);
  let pongs = 0;
  let accepted = false;
  const link = new BrokerLink(
    await loadTransport(),
    resolveEndpoint({ host: "127.0.0.1", port: broker.tcpPort }, "endpoint", "pinger"),
    {},
    5000,
    {
      accepted: () => {
        accepted = true;
      },
      refused: () => {},
      serverDisconnect: () => {},
      closed: () => {},
      pong: () => {
        pongs += 1;
      },
      message: () => {},
    },
  );
  link.open();
  await waitFor(() => accepted, 2000, "CONNACK");
  link.ping();
  await waitFor(() => pongs === 1, 2000, "PINGRESP");
  link.ping();
  await waitFor(() => pongs === 2, 2000, "second PINGRESP");
  link.dispose();
});

test("an MQTT 5 CONNACK 'use another server' reports its Server Reference (MQTT 5 §3.2.2.3.16)", async () => {
  // Found by the model-based replay: the machine follows a Server Reference on MQTT.REFUSED,
  // but the adapter dropped the property from refused CONNACKs. A server that answers every
  // CONNECT with a real CONNACK 0x9C carrying one:
  const { createServer } = await import("node:net");
  const mqttPacket = (await import("mqtt-packet")).default;
  const server = createServer((socket) => {
    socket.once("data", () => {
      socket.end(
        mqttPacket.generate(
          {
            cmd: "connack",
            sessionPresent: false,
            reasonCode: 0x9c,
            properties: { serverReference: "other.example.com:1884" },
          },
          { protocolVersion: 5 },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const refusals: { reasonCode: number; category: string; serverReference?: string }[] = [];
  const link = new BrokerLink(
    await loadTransport(),
    resolveEndpoint({ host: "127.0.0.1", port }, "endpoint", "redirected"),
    { protocolVersion: 5 },
    5000,
    {
      accepted: () => {},
      refused: (refusal) => refusals.push(refusal),
      serverDisconnect: () => {},
      closed: () => {},
      pong: () => {},
      message: () => {},
    },
  );
  try {
    link.open();
    await waitFor(() => refusals.length === 1, 2000, "the refusal");
    expect(refusals[0]).toMatchObject({
      reasonCode: 0x9c,
      category: "redirect",
      serverReference: "other.example.com:1884",
    });
  } finally {
    link.dispose();
    await new Promise((resolve) => server.close(resolve));
  }
});
