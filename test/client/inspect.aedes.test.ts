/**
 * Devtools never see a secret (docs/browser.md, "Devtools"): a known token
 * goes through a real refresh cycle (aedes refuses the stale password,
 * `RemoteCredentials` gets a token from an HTTP endpoint, the client
 * reconnects with it, the broker kicks it, it reconnects again), and every
 * inspection event the client forwards is scanned for it:
 *
 * - as the `inspect` observer receives it, every value it can reach
 *   (including `actorRef.getSnapshot()`, read later by inspectors);
 * - as `@statelyai/inspect`'s browser inspector posts it to the inspector
 *   window: its own conversion, its JSON serialization, then a real
 *   structured clone (what `postMessage` does);
 * - as its WebSocket inspector sends it to a listener on 127.0.0.1.
 *
 * The provider answers with the token as password and another as user name
 * (some brokers take the token as the user name), plus a refresh token the
 * mapper drops. 0 hits for each, in every form.
 */

import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { RealtimeClient, RemoteCredentials } from "@armaanjain/courier-web-sdk";
import { createBrowserInspector, createWebSocketInspector } from "@statelyai/inspect";
import { afterEach, describe, expect, test } from "vitest";
import { WebSocketServer } from "ws";
import { createActor, createMachine, type InspectionEvent } from "xstate";
import { TestBroker } from "../support/broker.js";
import { findSecrets } from "../support/scan.js";
import { reach, sleep, waitFor } from "../support/wait.js";

const PASSWORD_TOKEN = "eyJhbGciOiJIUzI1NiJ9.KNOWN_PASSWORD_TOKEN.c2ln";
const USERNAME_TOKEN = "KNOWN_USERNAME_TOKEN_7f3a";
const REFRESH_TOKEN = "KNOWN_REFRESH_TOKEN_91c2";
const STALE_PASSWORD = "KNOWN_STALE_PASSWORD_0b1e";
const NEEDLES = [PASSWORD_TOKEN, USERNAME_TOKEN, REFRESH_TOKEN, STALE_PASSWORD];

let broker: TestBroker | undefined;
let tokenServer: Server | undefined;
let listener: WebSocketServer | undefined;
const cleanups: (() => void | Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await broker?.close();
  broker = undefined;
  if (tokenServer) {
    tokenServer.closeAllConnections();
    await new Promise((resolve) => tokenServer?.close(resolve));
    tokenServer = undefined;
  }
  if (listener) {
    for (const ws of listener.clients) ws.terminate();
    await new Promise((resolve) => listener?.close(resolve));
    listener = undefined;
  }
});

/** A token endpoint answering as the page's sample expects, plus a refresh token. */
async function startTokenEndpoint(port: number): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  tokenServer = createServer((_req, res) => {
    requests += 1;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        broker: { host: "127.0.0.1", port },
        userId: USERNAME_TOKEN,
        jwt: PASSWORD_TOKEN,
        refresh_token: REFRESH_TOKEN,
      }),
    );
  });
  tokenServer.listen(0, "127.0.0.1");
  await once(tokenServer, "listening");
  const { port: httpPort } = tokenServer.address() as { port: number };
  return { url: `http://127.0.0.1:${httpPort}/api/mqtt/token`, requests: () => requests };
}

/** The browser inspector, with a window whose inspector tab structured-clones what it is sent. */
function browserInspectorWindow() {
  const posted: unknown[] = [];
  const listeners: ((event: { data: unknown }) => void)[] = [];
  const window = {
    open: () => ({ postMessage: (message: unknown) => posted.push(structuredClone(message)) }),
    addEventListener: (_type: string, fn: (event: { data: unknown }) => void) => listeners.push(fn),
    // The inspector window says it is ready (as stately.ai/inspect does).
    connect: () => {
      for (const fn of listeners) fn({ data: { type: "@statelyai.connected" } });
    },
  };
  return { posted, window };
}

describe("inspection events through a refresh cycle", () => {
  test("carry none of the tokens: raw, as the browser inspector posts them, as the WebSocket inspector sends them", async () => {
    broker = await TestBroker.start({
      authenticate: (username, password) =>
        username === USERNAME_TOKEN && password === PASSWORD_TOKEN ? true : 5,
    });
    const endpoint = await startTokenEndpoint(broker.tcpPort);

    const raw: InspectionEvent[] = [];
    const browser = browserInspectorWindow();
    const browserInspector = createBrowserInspector({
      window: browser.window as unknown as Window,
      url: "http://127.0.0.1/inspector-never-opened",
    });
    cleanups.push(() => browserInspector.stop());
    browser.window.connect();

    listener = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(listener, "listening");
    const received: string[] = [];
    listener.on("connection", (ws) => ws.on("message", (data) => received.push(String(data))));
    const { port: wsPort } = listener.address() as { port: number };
    const wsInspector = createWebSocketInspector({ url: `ws://127.0.0.1:${wsPort}` });
    cleanups.push(() => wsInspector.stop());

    const client = new RealtimeClient({
      endpoint: {
        host: "127.0.0.1",
        port: broker.tcpPort,
        username: "stale-user",
        password: STALE_PASSWORD,
        clientId: "inspected",
      },
      onAuthFailure: new RemoteCredentials(endpoint.url, (r) => ({
        host: r.broker.host,
        port: r.broker.port,
        username: r.userId,
        password: r.jwt,
        scheme: "mqtt",
      })),
      refreshWaitSeconds: 0.2,
      retryBackoff: { baseSeconds: 0.1, ceilSeconds: 0.1 },
      inspect: (event) => {
        raw.push(event);
        browserInspector.inspect.next?.(event);
        wsInspector.inspect.next?.(event);
      },
    });
    cleanups.push(() => client.disconnect());
    const states: string[] = [];
    client.on("stateChange", (change) => states.push(change.state));

    await client.connect();
    expect(endpoint.requests()).toBe(1);
    // The broker drops the connection: the client reconnects with the refreshed token.
    broker.kick("inspected");
    await reach(client, "backoff");
    await reach(client, "connected");
    expect(states).toEqual([
      "connecting",
      "authFailed",
      "refreshing",
      "waiting",
      "reconnecting",
      "restoring",
      "connected",
      "backoff",
      "reconnecting",
      "restoring",
      "connected",
    ]);
    // The token really went over the wire, so there was something to leak.
    expect(broker.connects.filter((c) => c.accepted).map((c) => c.password)).toEqual([
      PASSWORD_TOKEN,
      PASSWORD_TOKEN,
    ]);

    // Inspectors convert and send on an idle callback: let them catch up. They
    // post actor, event and snapshot events (not actions or microsteps).
    const posted = raw.filter((e) => /^@xstate\.(actor|event|snapshot)$/.test(e.type)).length;
    await waitFor(() => browser.posted.length >= posted, 5000, "the browser inspector");
    await waitFor(() => received.length >= posted, 5000, "the WebSocket inspector");
    await sleep(200);

    const types = new Set(raw.map((event) => event.type));
    expect([...types].sort()).toEqual([
      "@xstate.action",
      "@xstate.actor",
      "@xstate.event",
      "@xstate.microstep",
      "@xstate.snapshot",
    ]);
    // The provider's done event was among them, redacted.
    const done = raw.find(
      (e) =>
        e.type === "@xstate.event" &&
        e.event.type.startsWith("xstate.done.actor") &&
        "output" in e.event &&
        (e.event.output as { host?: string })?.host === "127.0.0.1",
    );
    expect(done && "event" in done ? done.event : undefined).toMatchObject({
      output: { host: "127.0.0.1", username: "[redacted]", password: "[redacted]" },
    });

    const seen = new WeakSet<object>();
    expect(findSecrets(raw, NEEDLES, seen), "raw inspection events").toEqual([]);
    for (const event of raw) {
      expect(
        findSecrets(JSON.parse(JSON.stringify(event)), NEEDLES),
        `JSON of ${event.type}`,
      ).toEqual([]);
    }
    // A real stream (two connections, a refresh; the connection is no child actor, so it adds
    // no actor events of its own), and each inspector got every event it posts.
    expect(posted).toBeGreaterThan(30);
    expect(browser.posted.length).toBeGreaterThanOrEqual(posted);
    expect(findSecrets(browser.posted, NEEDLES), "posted to the inspector window").toEqual([]);
    expect(received.length).toBeGreaterThanOrEqual(posted);
    expect(received.filter((text) => NEEDLES.some((n) => text.includes(n)))).toEqual([]);
  });

  test("control: without the SDK's redaction the same inspector would post a context's user name", async () => {
    const machine = createMachine({
      context: { username: USERNAME_TOKEN },
      initial: "a",
      states: { a: {} },
    });
    const browser = browserInspectorWindow();
    const inspector = createBrowserInspector({
      window: browser.window as unknown as Window,
      url: "http://127.0.0.1/inspector-never-opened",
    });
    browser.window.connect();
    const actor = createActor(machine, { inspect: inspector.inspect }).start();
    await waitFor(() => browser.posted.length > 0, 5000, "a posted event");
    await sleep(50);
    expect(findSecrets(browser.posted, NEEDLES).length).toBeGreaterThan(0);
    actor.stop();
    inspector.stop();
  });
});
