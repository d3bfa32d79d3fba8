/**
 * The subscription registry: filter → QoS → handlers.
 * It remembers what the broker has granted in the current session, so a
 * restore sends only what the broker lacks, in as few SUBSCRIBE packets as
 * the batch size and the broker's Maximum Packet Size allow, and reports
 * every filter the broker refused.
 *
 * Some brokers refuse a filter by closing the connection instead of
 * answering SUBACK 0x80 (RabbitMQ with topic permissions). A filter the
 * broker never granted whose SUBSCRIBE was in flight when a connection died
 * is suspect: from then on it is sent alone, after the others are granted.
 * When a connection dies again under it alone, `MAX_LONE_DEATHS` times, its
 * `subscribe()` is rejected with `SubscriptionRejectedError` and it is not
 * restored again.
 */

// Longer than 300 lines on purpose: the grant bookkeeping, the batching and
// the pending subscribe() promises are one state that changes together.

import { HandlerError, SubscriptionRejectedError } from "../errors.js";
import type { LiveConnection, Message, Qos } from "./live-connection.js";
import { isFailureCode, reasonName } from "./reason-codes.js";
import { compileFilter, hasWildcard } from "./topics.js";

export type { Message } from "./live-connection.js";

/** Called with every message that matches the subscription's filter. */
export type MessageHandler = (message: Message) => void;

/** A handle on one `subscribe()` call. */
export interface Subscription {
  readonly filter: string;
  /** The QoS this subscription asked for. */
  readonly qos: Qos;
  /** Stops this handler; the filter is unsubscribed at the broker when no handler is left. */
  unsubscribe(): Promise<void>;
}

interface HandlerRecord {
  readonly handler: MessageHandler;
  readonly qos: Qos;
  readonly entry: FilterEntry;
  /** Set until the broker first grants the filter for this record. */
  pending: { resolve(sub: Subscription): void; reject(error: Error): void } | null;
  readonly subscription: Subscription;
}

interface FilterEntry {
  readonly filter: string;
  readonly records: Set<HandlerRecord>;
  /** Matches incoming topics; `null` for plain filters, looked up by exact topic. */
  readonly matches: ((topic: string) => boolean) | null;
  /** QoS the broker holds for this filter in the current session, or null. */
  brokerQos: Qos | null;
  /** The link a SUBSCRIBE for this filter is awaiting SUBACK on. */
  inFlight: LiveConnection | null;
  /** The broker granted it at least once (on any connection). */
  granted: boolean;
  /** Never granted, and a connection died while a SUBSCRIBE carrying it was in flight. */
  suspect: boolean;
  /** Connections that died while a SUBSCRIBE carrying only this filter was in flight. */
  loneDeaths: number;
}

/**
 * Connections that may die under a never-granted filter sent alone before it
 * is taken as refused (a broker that closes instead of SUBACK 0x80).
 */
export const MAX_LONE_DEATHS = 2;

export interface RestoreOutcome {
  readonly filters: number;
  readonly packets: number;
  readonly rejected: { filter: string; reasonCode: number }[];
}

export interface RegistryOptions {
  /** Most filters in one SUBSCRIBE packet. */
  readonly batchSize: number;
  readonly onHandlerError: (error: HandlerError) => void;
  readonly onRejected: (error: SubscriptionRejectedError) => void;
}

/** Bytes a filter adds to a SUBSCRIBE payload: length prefix, UTF-8 text, options byte. */
function filterBytes(filter: string): number {
  return 3 + new TextEncoder().encode(filter).length;
}

/** Fixed header (≤ 5), packet identifier (2) and a property length (1) of an MQTT 5 SUBSCRIBE. */
const SUBSCRIBE_OVERHEAD = 8;

/** What an empty registry reads (never written). */
const NONE: ReadonlyMap<string, FilterEntry> = new Map();
const NONE_SET: ReadonlySet<never> = new Set();

// Longer than 300 lines on purpose: the grant bookkeeping, the batching and
// the pending subscribe() promises are one state that changes together.
export class SubscriptionRegistry {
  readonly #options: RegistryOptions;
  // Created with their first entry: a client without subscriptions holds none of them.
  #filterMap: Map<string, FilterEntry> | undefined;
  #wildcardSet: Set<FilterEntry> | undefined;
  /** Filters unsubscribed while offline that a kept session may still hold. */
  #staleSet: Set<string> | undefined;
  #link: LiveConnection | null = null;
  #syncScheduled = false;

  constructor(options: RegistryOptions) {
    this.#options = options;
  }

  get #filters(): ReadonlyMap<string, FilterEntry> {
    return this.#filterMap ?? NONE;
  }

  get #wildcards(): ReadonlySet<FilterEntry> {
    return this.#wildcardSet ?? NONE_SET;
  }

  get #stale(): ReadonlySet<string> {
    return this.#staleSet ?? NONE_SET;
  }

  #markStale(filter: string): void {
    this.#staleSet ??= new Set();
    this.#staleSet.add(filter);
  }

  /** Number of tracked filters. */
  get size(): number {
    return this.#filters.size;
  }

  /** Tracked filters, in subscription order. */
  filters(): string[] {
    return [...this.#filters.keys()];
  }

  add(filter: string, handler: MessageHandler, qos: Qos): Promise<Subscription> {
    let entry = this.#filters.get(filter);
    if (!entry) {
      const wildcard = hasWildcard(filter) || filter.startsWith("$share/");
      entry = {
        filter,
        records: new Set(),
        matches: wildcard ? compileFilter(filter) : null,
        brokerQos: null,
        inFlight: null,
        granted: false,
        suspect: false,
        loneDeaths: 0,
      };
      this.#filterMap ??= new Map();
      this.#filterMap.set(filter, entry);
      if (wildcard) {
        this.#wildcardSet ??= new Set();
        this.#wildcardSet.add(entry);
      }
    }
    this.#staleSet?.delete(filter);
    return new Promise<Subscription>((resolve, reject) => {
      const target = entry;
      const record: HandlerRecord = {
        handler,
        qos,
        entry: target,
        pending: { resolve, reject },
        subscription: {
          filter,
          qos,
          unsubscribe: () => this.#remove(record),
        },
      };
      target.records.add(record);
      if (target.brokerQos !== null && target.brokerQos >= qos) this.#resolve(target);
      else this.#scheduleSync();
    });
  }

  /**
   * Routes a message to every handler whose filter matches its topic. The
   * handlers are taken before any runs: one added by a handler sees only
   * later messages, one removed by a handler is not called.
   */
  dispatch(message: Message): void {
    const exact = this.#filters.get(message.topic);
    const records: HandlerRecord[] = [];
    if (exact !== undefined && exact.matches === null)
      for (const r of exact.records) records.push(r);
    for (const entry of this.#wildcards) {
      if (entry.matches?.(message.topic)) for (const r of entry.records) records.push(r);
    }
    for (const record of records) {
      if (!record.entry.records.has(record)) continue;
      try {
        record.handler(message);
      } catch (error) {
        this.#options.onHandlerError(new HandlerError(record.entry.filter, error));
      }
    }
  }

  /**
   * Re-subscribes after a (re)connection. With `sessionPresent` the broker
   * kept the session, so only filters it lacks are sent (and filters dropped
   * while offline are unsubscribed); otherwise every tracked filter is.
   * `trustSessionPresent: false`: every tracked filter is sent even when the
   * broker says it kept the session, on MQTT 5 with Retain Handling 1 (no
   * retained messages again for a subscription the broker did keep).
   */
  async restore(
    link: LiveConnection,
    sessionPresent: boolean,
    trustSessionPresent = true,
  ): Promise<RestoreOutcome> {
    if (!sessionPresent || !trustSessionPresent) {
      for (const entry of this.#filters.values()) entry.brokerQos = null;
    }
    if (!sessionPresent) {
      this.#staleSet = undefined;
    } else if (this.#stale.size > 0) {
      const stale = [...this.#stale];
      this.#staleSet = undefined;
      await link.unsubscribe(stale);
    }
    const wanted = [...this.#filters.values()].filter((entry) => this.#needsSubscribe(entry));
    const rh = sessionPresent && link.protocolVersion === 5 ? 1 : 0;
    const rejected: { filter: string; reasonCode: number }[] = [];
    const packets = await this.#send(link, wanted, rh, rejected);
    return { filters: wanted.length, packets, rejected };
  }

  /** From `connected` on: new subscriptions go straight to this link. */
  attach(link: LiveConnection): void {
    this.#link = link;
    this.#scheduleSync();
  }

  detach(): void {
    this.#link = null;
  }

  /** Rejects every `subscribe()` still waiting for the broker, and forgets its handler. */
  rejectPending(error: Error): void {
    for (const entry of [...this.#filters.values()]) {
      for (const record of [...entry.records]) {
        if (!record.pending) continue;
        record.pending.reject(error);
        record.pending = null;
        this.#forget(record);
      }
    }
  }

  /**
   * Takes back the `add()` of `handler` that is still waiting for the broker:
   * its promise rejects with `error`, the handler is forgotten, and the filter
   * is unsubscribed at the broker if nothing else holds it (a SUBSCRIBE in
   * flight is taken back once its SUBACK arrives).
   */
  withdraw(handler: MessageHandler, error: Error): void {
    for (const entry of this.#filters.values()) {
      for (const record of entry.records) {
        if (record.handler !== handler || !record.pending) continue;
        record.pending.reject(error);
        record.pending = null;
        void this.#remove(record);
        return;
      }
    }
  }

  #needsSubscribe(entry: FilterEntry): boolean {
    return entry.records.size > 0 && (entry.brokerQos === null || entry.brokerQos < maxQos(entry));
  }

  #scheduleSync(): void {
    if (this.#syncScheduled || !this.#link) return;
    this.#syncScheduled = true;
    // Subscribes made in the same tick share one SUBSCRIBE packet.
    queueMicrotask(() => {
      this.#syncScheduled = false;
      const link = this.#link;
      if (!link) return;
      const wanted = [...this.#filters.values()].filter(
        (entry) => entry.inFlight !== link && this.#needsSubscribe(entry),
      );
      this.#send(link, wanted, 0, []).catch(() => {
        // The connection failed mid-SUBSCRIBE: the filters stay wanted and the next restore sends them.
      });
    });
  }

  /**
   * Sends `wanted` in batches at once, then each suspect filter alone, one at
   * a time, once the others are answered. Returns the packets sent.
   */
  async #send(
    link: LiveConnection,
    wanted: FilterEntry[],
    rh: 0 | 1,
    rejected: { filter: string; reasonCode: number }[],
  ): Promise<number> {
    const batches = this.#batches(
      wanted.filter((entry) => !entry.suspect),
      link,
    );
    await Promise.all(
      batches.map(async (batch) => {
        for (const r of await this.#subscribe(link, batch, rh)) rejected.push(r);
      }),
    );
    let packets = batches.length;
    for (const entry of wanted) {
      if (!entry.suspect || !this.#needsSubscribe(entry) || entry.inFlight === link) continue;
      packets += 1;
      for (const r of await this.#subscribe(link, [entry], rh)) rejected.push(r);
    }
    return packets;
  }

  /** Sends one SUBSCRIBE; settles its records; returns the refused filters. */
  async #subscribe(
    link: LiveConnection,
    batch: FilterEntry[],
    rh: 0 | 1 = 0,
  ): Promise<{ filter: string; reasonCode: number }[]> {
    const requested = batch.map((entry) =>
      rh
        ? { filter: entry.filter, qos: maxQos(entry), rh }
        : { filter: entry.filter, qos: maxQos(entry) },
    );
    for (const entry of batch) entry.inFlight = link;
    let granted: number[];
    try {
      granted = await link.subscribe(requested);
    } catch (error) {
      this.#diedUnder(batch, link);
      throw error;
    } finally {
      for (const entry of batch) if (entry.inFlight === link) entry.inFlight = null;
    }
    const rejected: { filter: string; reasonCode: number }[] = [];
    batch.forEach((entry, i) => {
      const code = granted[i] ?? 0x80;
      if (isFailureCode(code)) {
        rejected.push({ filter: entry.filter, reasonCode: code });
        entry.brokerQos = null;
        this.#reject(
          entry,
          new SubscriptionRejectedError(entry.filter, code, reasonName(code, link.protocolVersion)),
        );
        return;
      }
      // The QoS asked for, not the one granted: a broker that downgrades must not cause a resubscribe loop.
      entry.brokerQos = requested[i]?.qos ?? 0;
      entry.granted = true;
      entry.suspect = false;
      entry.loneDeaths = 0;
      if (this.#filters.get(entry.filter) === entry) {
        this.#resolve(entry);
      } else if (!this.#filters.has(entry.filter)) {
        // Unsubscribed while the SUBSCRIBE was in flight: take it back.
        link.unsubscribe([entry.filter]).catch(ignore);
      }
    });
    return rejected;
  }

  /**
   * The connection died with this SUBSCRIBE unanswered: its never-granted
   * filters become suspect; one sent alone that has now died under it
   * `MAX_LONE_DEATHS` times is taken as refused and no longer restored.
   */
  #diedUnder(batch: FilterEntry[], link: LiveConnection): void {
    for (const entry of batch) {
      if (entry.granted || entry.inFlight !== link) continue;
      entry.suspect = true;
      if (batch.length > 1) continue;
      entry.loneDeaths += 1;
      if (entry.loneDeaths < MAX_LONE_DEATHS) continue;
      const error = new SubscriptionRejectedError(
        entry.filter,
        0x80,
        `the broker closed the connection on ${entry.loneDeaths} SUBSCRIBEs carrying only this filter (a broker that refuses by closing); it is not subscribed again`,
      );
      for (const record of [...entry.records]) {
        record.pending?.reject(error);
        record.pending = null;
        this.#forget(record);
      }
    }
  }

  /** Resolves the records the broker's grant covers; asks again for any that want more. */
  #resolve(entry: FilterEntry): void {
    const held = entry.brokerQos;
    if (held === null) return;
    for (const record of entry.records) {
      if (record.pending && record.qos <= held) {
        record.pending.resolve(record.subscription);
        record.pending = null;
      }
    }
    if (this.#needsSubscribe(entry)) this.#scheduleSync();
  }

  /** Rejects the records still waiting on `entry`; reports a refusal of a filter that was live. */
  #reject(entry: FilterEntry, error: SubscriptionRejectedError): void {
    let wasLive = false;
    for (const record of [...entry.records]) {
      if (!record.pending) {
        wasLive = true;
        continue;
      }
      record.pending.reject(error);
      record.pending = null;
      this.#forget(record);
    }
    // A filter that was live and is now refused (new credentials grant less, say) stays tracked and is reported.
    if (wasLive) this.#options.onRejected(error);
  }

  async #remove(record: HandlerRecord): Promise<void> {
    const { entry } = record;
    if (!entry.records.has(record)) return;
    this.#forget(record);
    if (entry.records.size > 0 || entry.brokerQos === null) return;
    const link = this.#link;
    if (!link) {
      this.#markStale(entry.filter);
      return;
    }
    try {
      await link.unsubscribe([entry.filter]);
    } catch {
      // Lost with the connection; a kept session may still hold it.
      if (!this.#filters.has(entry.filter)) this.#markStale(entry.filter);
    }
  }

  #forget(record: HandlerRecord): void {
    const { entry } = record;
    entry.records.delete(record);
    if (entry.records.size === 0 && this.#filters.get(entry.filter) === entry) {
      this.#filterMap?.delete(entry.filter);
      this.#wildcardSet?.delete(entry);
    }
  }

  /** Splits entries into SUBSCRIBE packets by count and, when announced, the broker's packet size. */
  #batches(entries: FilterEntry[], link: LiveConnection): FilterEntry[][] {
    const maxBytes = (link.maximumPacketSize ?? Number.POSITIVE_INFINITY) - SUBSCRIBE_OVERHEAD;
    const batches: FilterEntry[][] = [];
    let current: FilterEntry[] = [];
    let bytes = 0;
    for (const entry of entries) {
      const size = maxBytes === Number.POSITIVE_INFINITY ? 0 : filterBytes(entry.filter);
      if (
        current.length > 0 &&
        (current.length >= this.#options.batchSize || bytes + size > maxBytes)
      ) {
        batches.push(current);
        current = [];
        bytes = 0;
      }
      current.push(entry);
      bytes += size;
    }
    if (current.length > 0) batches.push(current);
    return batches;
  }
}

function maxQos(entry: FilterEntry): Qos {
  let qos: Qos = 0;
  for (const record of entry.records) if (record.qos > qos) qos = record.qos;
  return qos;
}

function ignore(): void {}
