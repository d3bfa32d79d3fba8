/**
 * A broker stand-in, in a process of its own, for measuring a client where
 * the client is the bottleneck: a plain TCP server on 127.0.0.1 that answers
 * CONNECT with CONNACK, SUBSCRIBE with SUBACK and PINGREQ with PINGRESP, and
 * on command writes pre-encoded QoS 0 PUBLISH packets to the subscriber of a
 * topic as fast as its socket takes them (write until the kernel buffer is
 * full, then wait for `drain`). No routing, no per-message allocation: a
 * real broker (aedes) delivers ~3× fewer messages per second than a client
 * can take, which hides the client's cost. Driven over IPC like
 * broker-process.ts (the same `RemoteBroker`).
 */

import { createServer, type Socket } from "node:net";
import mqttPacket from "mqtt-packet";

export type StandinCommand =
  | { cmd: "blast"; topic: string; size: number; count: number }
  | { cmd: "exit" };

/** Packets per write: one write of ~64 KB instead of 64 of 1 KB. */
const PER_WRITE = 64;

const subscribers = new Map<string, Socket>();
const sockets = new Set<Socket>();

const server = createServer((socket) => {
  socket.setNoDelay(true);
  sockets.add(socket);
  socket.on("error", () => {});
  socket.on("close", () => {
    sockets.delete(socket);
    for (const [topic, s] of subscribers) if (s === socket) subscribers.delete(topic);
  });
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on("packet", (packet: mqttPacket.Packet) => {
    switch (packet.cmd) {
      case "connect":
        socket.write(mqttPacket.generate({ cmd: "connack", returnCode: 0, sessionPresent: false }));
        break;
      case "subscribe":
        for (const { topic } of packet.subscriptions) subscribers.set(topic, socket);
        socket.write(
          mqttPacket.generate({
            cmd: "suback",
            messageId: packet.messageId,
            granted: packet.subscriptions.map(() => 0),
          }),
        );
        break;
      case "pingreq":
        socket.write(mqttPacket.generate({ cmd: "pingresp" }));
        break;
      case "disconnect":
        socket.end();
        break;
      default:
        break;
    }
  });
  socket.on("data", (chunk) => parser.parse(chunk));
});

function blast(topic: string, size: number, count: number): Promise<void> {
  const socket = subscribers.get(topic);
  if (!socket) return Promise.reject(new Error(`nobody subscribed to ${topic}`));
  const one = mqttPacket.generate({
    cmd: "publish",
    topic,
    payload: Buffer.alloc(size, 120),
    qos: 0,
    retain: false,
    dup: false,
  });
  const batch = Buffer.concat(Array.from({ length: PER_WRITE }, () => one));
  return new Promise((resolve, reject) => {
    let left = count;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(PER_WRITE, left);
        left -= n;
        const chunk = n === PER_WRITE ? batch : batch.subarray(0, n * one.length);
        if (!socket.write(chunk)) {
          socket.once("drain", pump);
          return;
        }
      }
      resolve();
    };
    socket.once("close", () => left > 0 && reject(new Error("subscriber went away")));
    pump();
  });
}

server.listen({ port: 0, host: "127.0.0.1" }, () => {
  const { port } = server.address() as { port: number };
  process.send?.({ id: 0, result: { port } });
});

process.on("message", (message: { id: number; command: StandinCommand }) => {
  const { command } = message;
  const done =
    command.cmd === "blast"
      ? blast(command.topic, command.size, command.count)
      : new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
          setImmediate(() => process.exit(0));
        });
  done.then(
    () => process.send?.({ id: message.id, result: null }),
    (error: Error) => process.send?.({ id: message.id, error: error.message }),
  );
});
