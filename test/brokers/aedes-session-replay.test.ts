/**
 * Why aedes 1.2 sometimes ends a persistent session it has just restored
 * with `clientError: no such packet` — and that the client's
 * acknowledgements are not the cause. Raw MQTT 3.1.1 connections
 * (`mqtt-packet` over a socket), so every PUBACK is exactly one, with the
 * identifier of the PUBLISH it answers, as MQTT-3.3.4 asks.
 *
 * The mechanism (aedes 1.2.0 with aedes-persistence 11, its default
 * in-memory store):
 * 1. A QoS 1 message sent on one connection keeps, in the session's outgoing
 *    queue, the packet identifier it was sent with until its PUBACK arrives.
 * 2. The next connection is a new aedes `Client`, whose identifier counter
 *    starts at a random value (`_nextId = ceil(random·65535)`). A live
 *    message gets the next value from it (`QoSPacket`), without a check
 *    against the identifiers the restored queue still holds, so it can take
 *    the identifier of a queued, unacknowledged message (against
 *    [MQTT-2.3.1-4]: the server must use a currently unused identifier).
 * 3. aedes replays the queue (`emptyQueue`, a snapshot of it) after CONNACK
 *    while live messages flow. The PUBACK for the live message goes to
 *    `outgoingClearMessageId`, which removes the FIRST queued entry with that
 *    identifier: the older, not-yet-replayed one.
 * 4. When the replay reaches that entry, `outgoingUpdate` does not find it
 *    and throws `no such packet`; `emptyQueueFilter` emits it as a client
 *    error and aedes closes the connection. The removed message is never
 *    delivered again (at-least-once is broken); the live one, still queued,
 *    comes again on the next connection.
 *
 * The more unacknowledged messages a connection leaves behind (QoS 1 load,
 * reconnections 100–200 ms apart rather than 5 ms), the likelier a collision.
 * Here the first connection leaves 8,000 messages unacknowledged and the
 * second connects again until the collision happens (about 1 in 9 attempts).
 */

import { once } from "node:events";
import { createConnection, type Socket } from "node:net";
import { generate, type Packet, parser } from "mqtt-packet";
import { afterEach, describe, expect, test } from "vitest";
import { TestBroker } from "../support/broker.js";
import { sleep, waitFor } from "../support/wait.js";

/** Messages connection 1 leaves unacknowledged (aedes' in-memory queue is scanned per packet). */
const STALE = 8000;
const MAX_ATTEMPTS = 200;

/** A bare MQTT 3.1.1 connection: sends what it is told, records what it gets. */
class RawClient {
  readonly packets: Packet[] = [];
  closed = false;
  onPacket: (packet: Packet) => void = () => {};

  private constructor(private readonly socket: Socket) {
    const p = parser();
    p.on("packet", (packet: Packet) => {
      this.packets.push(packet);
      this.onPacket(packet);
    });
    socket.on("data", (chunk) => p.parse(chunk));
    socket.on("close", () => {
      this.closed = true;
    });
    socket.on("error", () => {});
  }

  static async connect(port: number, clientId: string): Promise<RawClient> {
    const socket = createConnection(port, "127.0.0.1");
    await once(socket, "connect");
    const client = new RawClient(socket);
    client.send({
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 4,
      clean: false,
      clientId,
      keepalive: 0,
    });
    await waitFor(() => client.packets.some((p) => p.cmd === "connack"), 5000, "CONNACK");
    return client;
  }

  send(packet: Packet): void {
    this.socket.write(generate(packet));
  }

  publishes(topic: string): (Packet & { cmd: "publish" })[] {
    return this.packets.filter(
      (p): p is Packet & { cmd: "publish" } => p.cmd === "publish" && p.topic === topic,
    );
  }

  close(): void {
    this.socket.destroy();
  }
}

interface Outcome {
  /** Connection attempts until the collision. */
  attempts: number;
  /** The live message's identifier, held by a queued unacknowledged message. */
  liveId: number | undefined;
  /** `no such packet` client errors aedes emitted (and then closed the connection). */
  noSuchPacket: number;
  /** Whether the connection of the collision was closed by aedes within 3 s. */
  closedByBroker: boolean;
  /** Sequence numbers no longer queued although never acknowledged. */
  lost: string[];
  /** Times the acknowledged live message came again. */
  liveAgain: number;
}

/**
 * Connection 1 receives STALE messages and acknowledges none; connection 2 is
 * opened again and again (each a new aedes identifier counter) until a live
 * message takes an identifier a queued message still holds and its PUBACK
 * arrives before the replay has reached that message (each attempt hits with
 * p ≈ STALE / 65535); connection 3 then acknowledges everything.
 */
async function collide(broker: TestBroker, raw: RawClient[]): Promise<Outcome> {
  const errors: string[] = [];
  broker.aedes.on("clientError", (_client, error) => errors.push(error.message));
  const noSuchPacket = () => errors.filter((m) => m === "no such packet").length;
  const port = broker.tcpPort;

  const first = await RawClient.connect(port, "victim");
  raw.push(first);
  first.send({
    cmd: "subscribe",
    messageId: 1,
    subscriptions: [
      { topic: "seq", qos: 1 },
      { topic: "live", qos: 1 },
    ],
  });
  await waitFor(() => first.packets.some((p) => p.cmd === "suback"), 5000, "SUBACK");
  for (let i = 0; i < STALE; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, STALE - i) }, (_, j) =>
        broker.publish("seq", String(i + j), 1),
      ),
    );
  }
  await waitFor(() => first.publishes("seq").length === STALE, 60_000, "every message sent");
  const staleIds = new Set(first.publishes("seq").map((p) => p.messageId));
  expect(staleIds.size).toBe(STALE);
  first.close();
  await waitFor(() => broker.client("victim") === undefined, 5000, "connection 1 gone");

  let liveId: number | undefined;
  let replayedBeforeAck = new Set<number | undefined>();
  let second: RawClient | undefined;
  let attempts = 0;
  let collided = false;
  while (!collided && attempts < MAX_ATTEMPTS) {
    attempts += 1;
    liveId = undefined;
    second = await RawClient.connect(port, "victim");
    raw.push(second);
    const conn = second;
    conn.onPacket = (packet) => {
      if (packet.cmd === "publish" && packet.topic === "live" && liveId === undefined) {
        liveId = packet.messageId;
        replayedBeforeAck = new Set(conn.publishes("seq").map((p) => p.messageId));
        conn.send({ cmd: "puback", messageId: packet.messageId });
      }
    };
    await broker.publish("live", "now", 1);
    await waitFor(() => liveId !== undefined, 5000, "the live message");
    collided = staleIds.has(liveId) && !replayedBeforeAck.has(liveId);
    if (!collided) {
      conn.close();
      await waitFor(() => broker.client("victim") === undefined, 5000, "connection 2 gone");
    }
  }
  expect(collided, `no collision in ${attempts} attempts`).toBe(true);
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && !second?.closed) await sleep(20);
  const closedByBroker = second?.closed === true;
  second?.close();
  await waitFor(() => broker.client("victim") === undefined, 5000, "connection 2 gone");

  const third = await RawClient.connect(port, "victim");
  raw.push(third);
  third.onPacket = (packet) => {
    if (packet.cmd === "publish") third.send({ cmd: "puback", messageId: packet.messageId });
  };
  // Until the replay has been quiet for 1.5 s.
  for (let count = -1, deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    const now = third.packets.length;
    if (now === count) break;
    count = now;
    await sleep(1500);
  }
  const seen = new Set(third.publishes("seq").map((p) => String(p.payload)));
  // A message connection 2 received (and did not acknowledge) is still owed.
  const lost = Array.from({ length: STALE }, (_, i) => String(i)).filter((seq) => !seen.has(seq));
  return {
    attempts,
    liveId,
    noSuchPacket: noSuchPacket(),
    closedByBroker,
    lost,
    liveAgain: third.publishes("live").length,
  };
}

describe("aedes 1.2: a restored persistent session and a live message", () => {
  const raw: RawClient[] = [];
  const stop: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const r of raw.splice(0)) r.close();
    for (const s of stop.splice(0).reverse()) await s();
  });

  test("with the default in-memory persistence: the live message's PUBACK removes the queued one with its identifier, aedes ends the session with `no such packet`, and that message is lost", async () => {
    const broker = await TestBroker.start();
    stop.push(() => broker.close());
    const outcome = await collide(broker, raw);
    console.log(
      `in-memory persistence: ${JSON.stringify({ ...outcome, lost: outcome.lost.length })}`,
    );
    expect(outcome.noSuchPacket).toBe(1);
    expect(outcome.closedByBroker).toBe(true);
    // Never acknowledged, yet no longer queued: at-least-once is broken.
    expect(outcome.lost.length).toBeGreaterThanOrEqual(1);
    // The live one, acknowledged, comes again.
    expect(outcome.liveAgain).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
