/**
 * One demo run: start the stack, connect the viewers (sharing one
 * `RemoteCredentials`) and the publisher (with its own), publish until the
 * duration is up or `stop()` is called, then let every queued message drain,
 * disconnect, and summarize. Everything it does is reported to the sink as
 * `DemoEvent`s; the summary is the last one.
 */

import type { InspectionEvent } from "xstate";
import { startStack } from "../stack/index.js";
import { clientFor, credentialsFor, watchClient } from "./clients.js";
import {
  type DemoConfig,
  PUBLISHER_TTL_FACTOR,
  PUBLISHER_USER,
  REFRESH_WAIT_MS,
  TOPICS,
  VIEWER_USER,
} from "./config.js";
import type { DemoSink } from "./events.js";
import { Ledger } from "./ledger.js";
import { Publisher } from "./publisher.js";
import { RecoveryTracker } from "./recovery.js";
import { type Summary, summarize } from "./summary.js";
import { Viewer } from "./viewer.js";

/** Every client must be connected within this, or the run fails. */
const START_TIMEOUT_MS = 20_000;
/**
 * After publishing stops, how long queued messages get to arrive: enough for
 * a client that was just dropped to back off, refresh, wait 2 s and reconnect.
 */
const DRAIN_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 5_000;
/**
 * Every viewer connected and nothing arriving for this long: what is still
 * missing is not coming (a session the broker did not keep).
 */
const QUIET_MS = 1_500;

export interface DemoRun {
  /** The summary, once the run has drained and shut down. */
  readonly finished: Promise<Summary>;
  /** Stops publishing now (Ctrl-C); the run then drains and summarizes as after `--duration`. */
  stop(): void;
}

export class DemoStartError extends Error {
  override readonly name = "DemoStartError";
}

/** A pause that does not by itself keep the process alive once everything else has closed. */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DemoStartError(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Receives every client's inspection events (already redacted by the SDK), by client name. */
export type InspectSink = (client: string, event: InspectionEvent) => void;

export function runDemo(config: DemoConfig, sink: DemoSink, inspect?: InspectSink): DemoRun {
  let requestStop: () => void = () => {};
  const stopRequested = new Promise<"signal">((resolve) => {
    requestStop = () => resolve("signal");
  });
  return { finished: run(config, sink, stopRequested, inspect), stop: () => requestStop() };
}

async function run(
  config: DemoConfig,
  sink: DemoSink,
  stopRequested: Promise<"signal">,
  inspect: InspectSink | undefined,
): Promise<Summary> {
  const inspectOf = (name: string) =>
    inspect ? (event: InspectionEvent) => inspect(name, event) : undefined;
  const stack = await startStack({
    ttlSeconds: config.ttlSeconds,
    ttlSecondsByUser: { [PUBLISHER_USER]: config.ttlSeconds * PUBLISHER_TTL_FACTOR },
    tokenLatencyMs: config.tokenLatencyMs,
  });
  const refusedBy = new Map<string, number>();
  const stopFollowing = stack.on((event) => {
    if (event.type === "broker.refused") {
      refusedBy.set(event.clientId, (refusedBy.get(event.clientId) ?? 0) + 1);
    }
    sink(event);
  });
  const names = Array.from({ length: config.clients }, (_, i) => `viewer-${i + 1}`);
  // Every viewer renews ahead of the expiry but the last (with two or more), which shows the
  // page's flow (`refreshAhead: false`) side by side; the publisher renews ahead.
  const reactive = names.length >= 2 ? names.at(-1) : undefined;
  const refreshAhead = new Set(["publisher", ...names.filter((n) => n !== reactive)]);
  const ledger = new Ledger(names);
  const clients: { disconnect(): Promise<void> }[] = [];
  let meter: NodeJS.Timeout | undefined;
  try {
    // One provider shared by every viewer: their refreshes share its requests.
    const viewerCredentials = credentialsFor(stack, VIEWER_USER, config.transport);
    const publisherCredentials = credentialsFor(stack, PUBLISHER_USER, config.transport);
    sink({
      type: "demo.started",
      at: Date.now(),
      config,
      brokerUrl: config.transport === "ws" ? stack.wsUrl : stack.brokerUrl,
      tokenUrl: stack.tokenUrl,
      viewers: names,
      filters: TOPICS.map((t) => t.filter),
    });
    const [viewerEndpoint, publisherEndpoint] = await Promise.all([
      viewerCredentials.getCredentials(),
      publisherCredentials.getCredentials(),
    ]);

    const trackers = new Map<string, RecoveryTracker>();
    const viewers = names.map((name) => {
      const client = clientFor(
        name,
        viewerEndpoint,
        viewerCredentials,
        config,
        inspectOf(name),
        refreshAhead.has(name),
      );
      clients.push(client);
      const tracker = new RecoveryTracker(REFRESH_WAIT_MS);
      trackers.set(name, tracker);
      watchClient(name, client, tracker, sink);
      return new Viewer(name, client, ledger, sink, config.rate);
    });
    // Every viewer holds its subscriptions before the first message: all of them are owed every message.
    await within(
      Promise.all(viewers.map((v) => v.start())),
      START_TIMEOUT_MS,
      "connecting the viewers",
    );

    const publisherTracker = new RecoveryTracker(REFRESH_WAIT_MS);
    const publisherClient = clientFor(
      "publisher",
      publisherEndpoint,
      publisherCredentials,
      config,
      inspectOf("publisher"),
    );
    clients.push(publisherClient);
    watchClient("publisher", publisherClient, publisherTracker, sink);
    await within(publisherClient.connect(), START_TIMEOUT_MS, "connecting the publisher");
    const publisher = new Publisher("publisher", publisherClient, ledger);

    const startedAt = Date.now();
    publisher.start(config.rate);
    meter = startMeter(ledger, publisher, sink);

    const durationUp =
      config.durationSeconds > 0
        ? sleep(config.durationSeconds * 1000).then(() => "duration" as const)
        : new Promise<never>(() => {});
    const reason = await Promise.race([durationUp, stopRequested]);
    publisher.stopPublishing();
    const stoppedAt = Date.now();
    sink({ type: "demo.stopping", at: Date.now(), reason, lastSeq: ledger.lastSent });

    await drain(publisher, viewers, ledger, stoppedAt);
    clearInterval(meter);

    const summary = summarize({
      config,
      durationMs: stoppedAt - startedAt,
      drainMs: Date.now() - stoppedAt,
      viewers: trackers,
      publisher: { name: "publisher", tracker: publisherTracker },
      viewerUser: VIEWER_USER,
      ledger,
      counters: stack.counters,
      refreshAhead,
      refusedBy,
    });
    await closeAll(clients);
    sink({ type: "demo.summary", at: Date.now(), ...summary });
    return summary;
  } finally {
    clearInterval(meter);
    await closeAll(clients);
    stopFollowing();
    await stack.stop();
  }
}

/** Reports messages per second, once a second. */
function startMeter(ledger: Ledger, publisher: Publisher, sink: DemoSink): NodeJS.Timeout {
  let receivedBefore = 0;
  return setInterval(() => {
    const { received } = ledger.totals();
    sink({
      type: "messages.rate",
      at: Date.now(),
      published: publisher.takeCount(),
      received: received - receivedBefore,
      missing: ledger.totalMissing(),
    });
    receivedBefore = received;
  }, 1000);
}

/**
 * Waits for every publish to be acknowledged and every viewer to have every
 * message; gives up once every viewer is connected and nothing has arrived
 * for a while (the rest is not coming), or after `DRAIN_TIMEOUT_MS`.
 */
async function drain(
  publisher: Publisher,
  viewers: readonly Viewer[],
  ledger: Ledger,
  stoppedAt: number,
): Promise<void> {
  await publisher.settled(DRAIN_TIMEOUT_MS);
  const settled = () => {
    if (ledger.totalMissing() === 0) return true;
    const connected = viewers.every((v) => v.client.state === "connected");
    const last = Math.max(stoppedAt, ...viewers.map((v) => v.lastReceivedAt ?? 0));
    return connected && Date.now() - last > QUIET_MS;
  };
  await until(settled, Math.max(0, DRAIN_TIMEOUT_MS - (Date.now() - stoppedAt)));
}

async function closeAll(clients: readonly { disconnect(): Promise<void> }[]): Promise<void> {
  await Promise.race([
    Promise.allSettled(clients.map((client) => client.disconnect())),
    sleep(CLOSE_TIMEOUT_MS),
  ]);
}
