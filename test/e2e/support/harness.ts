/**
 * What every browser test needs: the demo's real stack (aedes with JWT auth
 * and expiring tokens, WebSocket listener on `/mqtt`, the token endpoint),
 * the page server, Chromium, a publisher in Node, and helpers to drive the
 * test page and read what it observed.
 *
 * The page (http://127.0.0.1:<page port>) asks the token endpoint
 * (http://127.0.0.1:<token port>) cross-origin: the demo's endpoint answers
 * with `access-control-allow-origin: *`, and `RemoteCredentials`' GET with
 * `accept: application/json` is a CORS simple request, so the browser's real
 * cross-origin path runs (Origin header, response check) with no proxy
 * between the page and the endpoint that counts its requests.
 */

import { RealtimeClient, RemoteCredentials } from "@armaanjain/courier-web-sdk";
import type { Page } from "playwright-core";
import { inject } from "vitest";
import {
  type Stack,
  type StackOptions,
  startStack,
  type TokenResponse,
} from "../../../demo/stack/index.js";
import type { Observed, StartConfig } from "../pages/protocol.js";
import { type Chromium, launchChromium } from "./chromium.js";
import { type StaticServer, startStaticServer } from "./static-server.js";

export interface World {
  readonly stack: Stack;
  readonly server: StaticServer;
  readonly chromium: Chromium;
  /** The token endpoint as the pages use it: viewer tokens, WebSocket port. */
  readonly tokenUrl: string;
  close(): Promise<void>;
}

export async function startWorld(stackOptions: StackOptions = {}): Promise<World> {
  const stack = await startStack({
    // The publisher's token outlives the test: only the pages' tokens expire.
    ttlSecondsByUser: { publisher: 3600 },
    ...stackOptions,
  });
  const server = await startStaticServer(inject("bundle").outDir);
  const chromium = await launchChromium();
  const url = new URL(stack.tokenUrl);
  url.searchParams.set("user", "viewer");
  url.searchParams.set("transport", "ws");
  return {
    stack,
    server,
    chromium,
    tokenUrl: String(url),
    async close() {
      await chromium.close();
      await server.close();
      await stack.stop();
    },
  };
}

/** Opens `path` on the page server; resolves once the page's app is ready. */
export async function openPage(world: World, path = "/"): Promise<Page> {
  const page = await world.chromium.newPage();
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  await page.goto(`${world.server.origin}${path}`);
  await page.waitForFunction(() => window.e2e !== undefined, undefined, { polling: 50 });
  return page;
}

/** Starts the page's client; resolves once it is connected and subscribed. */
export function startClient(page: Page, config: StartConfig): Promise<void> {
  return page.evaluate((c) => window.e2e.start(c), config);
}

export function observed(page: Page): Promise<Observed> {
  return page.evaluate(() => window.e2e.observed);
}

/**
 * Waits (in the page, polling every 50 ms — a hidden page has no animation
 * frames) until `predicate` holds for what the page observed. The predicate
 * runs in the page: it sees only its arguments, not the test's variables.
 */
export async function waitForPage<A = undefined>(
  page: Page,
  predicate: (observed: Observed, arg: A) => boolean,
  arg?: A,
  timeoutMs = 60_000,
): Promise<Observed> {
  // An expression Playwright evaluates in the page: the predicate's source, called there.
  const expression = `(${predicate.toString()})(window.e2e.observed, ${JSON.stringify(arg ?? null)})`;
  await page.waitForFunction(expression, undefined, { polling: 50, timeout: timeoutMs });
  return observed(page);
}

/** Every message from 1 to `last` has arrived. */
export const receivedUpTo = (o: Observed, last: number) =>
  new Set(o.messages.map((m) => m.seq).filter((seq) => seq <= last)).size >= last;

/** The states a page went through, in order. */
export const statesOf = (o: Observed) => o.states.map((s) => s.state);

/**
 * A Node client with the publisher's own token sending `{ seq }` with QoS 1
 * to `topic`, `rate` a second: what the pages must all receive.
 */
export class Publisher {
  readonly client: RealtimeClient;
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #pending = new Set<Promise<void>>();

  private constructor(
    client: RealtimeClient,
    readonly topic: string,
  ) {
    this.client = client;
  }

  static async start(stack: Stack, topic: string, clientId = "e2e-publisher"): Promise<Publisher> {
    const url = new URL(stack.tokenUrl);
    url.searchParams.set("user", "publisher");
    const credentials = new RemoteCredentials(url, (r: TokenResponse) => ({
      host: r.broker.host,
      port: r.broker.port,
      username: r.userId,
      password: r.jwt,
      scheme: "mqtt",
    }));
    const client = new RealtimeClient({
      endpoint: { ...(await credentials.getCredentials()), clientId },
      onAuthFailure: credentials,
      environment: false,
    });
    await client.connect();
    return new Publisher(client, topic);
  }

  /** The last sequence number published. */
  get last(): number {
    return this.#seq;
  }

  run(rate: number): void {
    this.#timer = setInterval(() => this.publish(), 1000 / rate);
  }

  publish(): void {
    this.#seq += 1;
    const pending = this.client.publish(this.topic, JSON.stringify({ seq: this.#seq }), {
      qos: 1,
    });
    this.#pending.add(pending);
    pending.finally(() => this.#pending.delete(pending)).catch(() => {});
  }

  /** Stops publishing; resolves once the broker acknowledged every message. */
  async stop(): Promise<number> {
    clearInterval(this.#timer);
    await Promise.all([...this.#pending]);
    return this.#seq;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.client.disconnect();
  }
}

/** Sequence numbers from 1 to `last` the page never received. */
export function missing(o: Observed, last: number): number[] {
  const got = new Set(o.messages.map((m) => m.seq));
  return Array.from({ length: last }, (_, i) => i + 1).filter((seq) => !got.has(seq));
}
