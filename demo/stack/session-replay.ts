/**
 * A fix for how aedes 1.2 resumes a persistent session (`clean: false`).
 * It starts live delivery when it restores the session's subscriptions and
 * only after CONNACK replays the queue of messages kept while the client was
 * away. A QoS 1 message published in between is in both paths: it was sent
 * twice, and when the client acknowledged the live copy before the replay
 * reached it, the replay failed with "no such packet" and aedes closed the
 * connection. With a steady stream of messages, a client that reconnects
 * after its token expired hit this on most reconnections.
 *
 * The patch wraps the broker's persistence: the replay skips what the live
 * path already sent on the same connection, and a queued message that was
 * acknowledged just before the replay got to it is sent once more rather
 * than closing the connection (QoS 1 allows a duplicate; nothing is dropped).
 */

import { Readable } from "node:stream";
import type { Aedes, AedesPublishPacket, Client } from "aedes";

/** The part of aedes' persistence this patch wraps. */
interface OutgoingStore {
  outgoingUpdate(client: Client, packet: AedesPublishPacket): Promise<void>;
  outgoingStream(client: Client): Readable;
}

const keyOf = (packet: AedesPublishPacket) => `${packet.brokerId}:${packet.brokerCounter}`;

export function patchSessionReplay(aedes: Aedes): void {
  const store = (aedes as unknown as { persistence: OutgoingStore }).persistence;
  const update = store.outgoingUpdate.bind(store);
  const stream = store.outgoingStream.bind(store);
  /** Messages given a packet identifier on each connection (a new Client per connection). */
  const sentOn = new WeakMap<Client, Set<string>>();
  const sent = (client: Client) => {
    let keys = sentOn.get(client);
    if (!keys) {
      keys = new Set();
      sentOn.set(client, keys);
    }
    return keys;
  };

  store.outgoingUpdate = async (client, packet) => {
    try {
      await update(client, packet);
    } catch (error) {
      if ((error as Error).message !== "no such packet") throw error;
      // Acknowledged in the meantime: sending it again is a duplicate, closing the connection was worse.
      return;
    }
    sent(client).add(keyOf(packet));
  };

  store.outgoingStream = (client) => {
    async function* unsent() {
      for await (const packet of stream(client) as AsyncIterable<AedesPublishPacket>) {
        if (!sent(client).has(keyOf(packet))) yield packet;
      }
    }
    // One packet at a time, so each is checked just before the replay sends it.
    return Readable.from(unsent(), { objectMode: true, highWaterMark: 1 });
  };
}
