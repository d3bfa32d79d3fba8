/**
 * `RemoteCredentials` (the page's "Remote Credentials Provider") against a
 * real HTTP server on 127.0.0.1 and Node's own fetch: no mocked fetch. Every
 * response body carries the token `tok_SECRET_123`, and every failure must be
 * a typed `CredentialsFetchError` that shows that token nowhere (STYLE.md §8).
 */

import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { inspect } from "node:util";
import { afterEach, describe, expect, test } from "vitest";
import {
  CourierError,
  CredentialsFetchError,
  type Endpoint,
  InvalidOptionsError,
  RemoteCredentials,
} from "../../src/index.js";

const TOKEN = "tok_SECRET_123";

/** The page's mapper, verbatim. */
// biome-ignore lint/suspicious/noExplicitAny: the page maps an untyped JSON answer.
const pageMapper = (response: any): Endpoint => ({
  host: response.broker.host,
  port: response.broker.port,
  username: response.userId,
  password: response.jwt,
  scheme: "wss",
  path: "/mqtt",
});

const TOKEN_BODY = {
  broker: { host: "broker.example.com", port: 443 },
  userId: "user-7",
  jwt: TOKEN,
};

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface TokenServer {
  readonly url: string;
  /** Requests the server has received so far. */
  readonly requests: IncomingMessage[];
  /** Resolves on the next request the server receives. */
  nextRequest(): Promise<IncomingMessage>;
}

const servers: Server[] = [];
/** Timers the handlers started (slow answers); cleared by the tests and again in afterEach. */
const serverTimers = new Set<NodeJS.Timeout>();

afterEach(async () => {
  for (const timer of serverTimers) clearTimeout(timer);
  serverTimers.clear();
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    }),
  );
});

async function startServer(handler: Handler): Promise<TokenServer> {
  const requests: IncomingMessage[] = [];
  let waiting: ((req: IncomingMessage) => void)[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    for (const notify of waiting) notify(req);
    waiting = [];
    handler(req, res);
  });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/mqtt/token`,
    requests,
    nextRequest: () => new Promise((resolve) => waiting.push(resolve)),
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** A handler that answers only when `release()` is called (so callers can pile up meanwhile). */
function gatedHandler(): { handler: Handler; release: () => void } {
  const held: ServerResponse[] = [];
  let open = false;
  return {
    handler: (_req, res) => {
      if (open) sendJson(res, 200, TOKEN_BODY);
      else held.push(res);
    },
    release: () => {
      open = true;
      for (const res of held.splice(0)) sendJson(res, 200, TOKEN_BODY);
    },
  };
}

async function rejectionOf(promise: Promise<unknown>): Promise<CredentialsFetchError> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error("expected getCredentials() to reject, it resolved");
  expect(outcome.error).toBeInstanceOf(CredentialsFetchError);
  return outcome.error as CredentialsFetchError;
}

/** The token shows in none of the ways an app might print or ship the error. */
function expectNoToken(error: CredentialsFetchError): void {
  const views = {
    message: error.message,
    string: String(error),
    json: JSON.stringify(error),
    inspect: inspect(error, { depth: 10 }),
  };
  for (const [view, text] of Object.entries(views)) {
    expect(text, `${view} of the error`).not.toContain(TOKEN);
  }
}

function timeoutCount(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length;
}

describe("RemoteCredentials, success", () => {
  test("the page's mapper turns { broker, userId, jwt } into exactly the endpoint", async () => {
    const server = await startServer((_req, res) => sendJson(res, 200, TOKEN_BODY));
    const creds = new RemoteCredentials(server.url, pageMapper);
    await expect(creds.getCredentials()).resolves.toStrictEqual({
      host: "broker.example.com",
      port: 443,
      username: "user-7",
      password: TOKEN,
      scheme: "wss",
      path: "/mqtt",
    });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.method).toBe("GET");
    expect(server.requests[0]?.url).toBe("/mqtt/token");
    expect(server.requests[0]?.headers.accept).toBe("application/json");
  });

  test("accepts a URL object", async () => {
    const server = await startServer((_req, res) => sendJson(res, 200, TOKEN_BODY));
    const creds = new RemoteCredentials(new URL(server.url), pageMapper);
    await expect(creds.getCredentials()).resolves.toMatchObject({ password: TOKEN });
    expect(server.requests).toHaveLength(1);
  });
});

describe("RemoteCredentials, request sharing", () => {
  test("10 concurrent callers share one request; a call after it settled makes a 2nd", async () => {
    const gate = gatedHandler();
    const server = await startServer(gate.handler);
    const creds = new RemoteCredentials(server.url, pageMapper);

    const arrived = server.nextRequest();
    const calls = Array.from({ length: 10 }, () => creds.getCredentials());
    await arrived;
    // Give any (wrong) extra requests time to reach the server before answering.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.requests).toHaveLength(1);
    gate.release();

    const results = await Promise.all(calls);
    expect(server.requests).toHaveLength(1);
    for (const result of results) expect(result).toStrictEqual(pageMapper(TOKEN_BODY));

    await expect(creds.getCredentials()).resolves.toStrictEqual(pageMapper(TOKEN_BODY));
    expect(server.requests).toHaveLength(2);
  });

  test("two independent callers (separate async contexts) sharing one instance make 1 request", async () => {
    const gate = gatedHandler();
    const server = await startServer(gate.handler);
    const creds = new RemoteCredentials(server.url, pageMapper);

    // Caller A: its own async function, starts the request.
    const arrived = server.nextRequest();
    const callerA = (async () => {
      await Promise.resolve();
      return creds.getCredentials();
    })();
    await arrived;
    // Caller B: a later macrotask, while A's request is held open by the server.
    const callerB = new Promise<Endpoint>((resolve, reject) => {
      setTimeout(() => {
        creds.getCredentials().then(resolve, reject);
      }, 20);
    });
    await new Promise((resolve) => setTimeout(resolve, 80));
    gate.release();

    const [a, b] = await Promise.all([callerA, callerB]);
    expect(server.requests).toHaveLength(1);
    expect(a).toStrictEqual(pageMapper(TOKEN_BODY));
    expect(b).toStrictEqual(a);
  });

  test("separate instances do not share (each makes its own request)", async () => {
    const server = await startServer((_req, res) => sendJson(res, 200, TOKEN_BODY));
    const one = new RemoteCredentials(server.url, pageMapper);
    const two = new RemoteCredentials(server.url, pageMapper);
    await Promise.all([one.getCredentials(), two.getCredentials()]);
    expect(server.requests).toHaveLength(2);
  });
});

describe("RemoteCredentials, failures are typed and never show the token", () => {
  test("HTTP 500 → reason http, status 500", async () => {
    const server = await startServer((_req, res) =>
      sendJson(res, 500, { error: "internal", jwt: TOKEN, detail: `stale ${TOKEN}` }),
    );
    const creds = new RemoteCredentials(server.url, pageMapper);
    const error = await rejectionOf(creds.getCredentials());
    expect(error.reason).toBe("http");
    expect(error.status).toBe(500);
    expect(error.code).toBe("CREDENTIALS_FETCH_FAILED");
    expect(error.message).toContain("500");
    expectNoToken(error);
  });

  test("HTTP 401 → reason http, status 401", async () => {
    const server = await startServer((_req, res) =>
      sendJson(res, 401, { error: "unauthorized", jwt: TOKEN }),
    );
    const creds = new RemoteCredentials(server.url, pageMapper);
    const error = await rejectionOf(creds.getCredentials());
    expect(error.reason).toBe("http");
    expect(error.status).toBe(401);
    expectNoToken(error);
  });

  test("a body that is not JSON → reason json", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(`{"jwt": "${TOKEN}", "broker": `);
    });
    const creds = new RemoteCredentials(server.url, pageMapper);
    const error = await rejectionOf(creds.getCredentials());
    expect(error.reason).toBe("json");
    expectNoToken(error);
  });

  test("a server slower than timeoutMs → reason timeout within ~1 s, and no timer left", async () => {
    const timersBefore = timeoutCount();
    const server = await startServer((_req, res) => {
      const timer = setTimeout(() => sendJson(res, 200, TOKEN_BODY), 5_000);
      serverTimers.add(timer);
    });
    const creds = new RemoteCredentials(server.url, pageMapper, { timeoutMs: 200 });

    const started = performance.now();
    const error = await rejectionOf(creds.getCredentials());
    const elapsed = performance.now() - started;
    expect(error.reason).toBe("timeout");
    expect(error.message).toContain("200 ms");
    expectNoToken(error);
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1_000);

    // The server's own 5 s answer timer is the test's, not the SDK's: clear it first.
    expect(server.requests).toHaveLength(1);
    for (const timer of serverTimers) clearTimeout(timer);
    serverTimers.clear();
    expect(timeoutCount()).toBeLessThanOrEqual(timersBefore);
  });

  test("a body that stalls past timeoutMs → reason timeout (the timer covers reading the body)", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      // Half the token JSON now, the rest never.
      res.write(`{"jwt": "${TOKEN}", `);
    });
    const creds = new RemoteCredentials(server.url, pageMapper, { timeoutMs: 200 });
    const started = performance.now();
    const error = await rejectionOf(creds.getCredentials());
    expect(error.reason).toBe("timeout");
    expect(performance.now() - started).toBeLessThan(1_000);
    expectNoToken(error);
  });

  test("a settled request leaves no timeout timer behind (success and HTTP error alike)", async () => {
    let status = 200;
    const server = await startServer((_req, res) =>
      sendJson(res, status, status === 200 ? TOKEN_BODY : { jwt: TOKEN }),
    );
    // The default timeoutMs (10 s) would still be pending if the SDK did not clear it.
    const creds = new RemoteCredentials(server.url, pageMapper);
    const timersBefore = timeoutCount();
    await creds.getCredentials();
    expect(timeoutCount()).toBeLessThanOrEqual(timersBefore);
    status = 503;
    expect((await rejectionOf(creds.getCredentials())).status).toBe(503);
    expect(timeoutCount()).toBeLessThanOrEqual(timersBefore);
  });

  test("a mapper that throws (with the token in its message) → reason mapper", async () => {
    const server = await startServer((_req, res) => sendJson(res, 200, TOKEN_BODY));
    // biome-ignore lint/suspicious/noExplicitAny: the JSON answer is untyped, as on the page.
    const creds = new RemoteCredentials(server.url, (response: any): Endpoint => {
      throw new Error(`cannot map the answer with jwt ${response.jwt}`);
    });
    const error = await rejectionOf(creds.getCredentials());
    expect(error.reason).toBe("mapper");
    expect(error.message).toContain("Error");
    expectNoToken(error);
    // The mapper's error is kept as the cause, its message without the token.
    expect(error.cause).toBeInstanceOf(Error);
    expect((error.cause as Error).message).toBe("cannot map the answer with jwt [redacted]");
    expect((error.cause as Error).stack).toContain("remote-credentials.test.ts");
  });

  test("a mapper's TypeError stays a TypeError as the cause", async () => {
    const server = await startServer((_req, res) => sendJson(res, 200, TOKEN_BODY));
    // biome-ignore lint/suspicious/noExplicitAny: the JSON answer is untyped, as on the page.
    const creds = new RemoteCredentials(server.url, (response: any): Endpoint => response.x.y);
    const error = await rejectionOf(creds.getCredentials());
    expect(error.message).toContain("TypeError");
    expect(error.cause).toBeInstanceOf(TypeError);
    expectNoToken(error);
  });

  test("a mapper that returns no object → reason mapper", async () => {
    const server = await startServer((_req, res) => sendJson(res, 200, TOKEN_BODY));
    const creds = new RemoteCredentials(server.url, () => null as unknown as Endpoint);
    const error = await rejectionOf(creds.getCredentials());
    expect(error.reason).toBe("mapper");
    expectNoToken(error);
  });

  test("nothing listening → reason network", async () => {
    const server = await startServer((_req, res) => sendJson(res, 200, TOKEN_BODY));
    const url = server.url;
    const closing = servers.splice(0);
    for (const s of closing) await new Promise<void>((resolve) => s.close(() => resolve()));
    const creds = new RemoteCredentials(url, pageMapper);
    const error = await rejectionOf(creds.getCredentials());
    expect(error.reason).toBe("network");
    expectNoToken(error);
  });

  test("the caller aborting via getCredentials({ signal }) → reason aborted, request cancelled", async () => {
    let responseClosed: Promise<unknown> = Promise.resolve();
    const server = await startServer((_req, res) => {
      // Never answers: only the caller's abort can end this.
      responseClosed = once(res, "close");
    });
    const creds = new RemoteCredentials(server.url, pageMapper);
    const controller = new AbortController();
    const arrived = server.nextRequest();
    const pending = creds.getCredentials({ signal: controller.signal });
    await arrived;
    controller.abort();
    const error = await rejectionOf(pending);
    expect(error.reason).toBe("aborted");
    expectNoToken(error);
    // The only waiter left, so the HTTP request itself was cancelled.
    await responseClosed;
  });

  test("a caller arriving after every earlier caller aborted gets a fresh request, not their abort", async () => {
    const gate = gatedHandler();
    const server = await startServer(gate.handler);
    const creds = new RemoteCredentials(server.url, pageMapper);
    const controller = new AbortController();
    const arrived = server.nextRequest();
    const leaving = creds.getCredentials({ signal: controller.signal });
    await arrived;
    controller.abort();
    // Another caller (say a second client sharing this provider) asks right now,
    // before the cancelled request has finished tearing down. It never aborted.
    const late = creds.getCredentials();
    expect((await rejectionOf(leaving)).reason).toBe("aborted");
    gate.release();
    await expect(late).resolves.toStrictEqual(pageMapper(TOKEN_BODY));
    expect(server.requests).toHaveLength(2);
  });

  test("an already-aborted signal → reason aborted", async () => {
    const server = await startServer((_req, res) => sendJson(res, 200, TOKEN_BODY));
    const creds = new RemoteCredentials(server.url, pageMapper);
    const error = await rejectionOf(creds.getCredentials({ signal: AbortSignal.abort() }));
    expect(error.reason).toBe("aborted");
  });

  test("one caller aborting does not cancel the request others still wait for", async () => {
    const gate = gatedHandler();
    const server = await startServer(gate.handler);
    const creds = new RemoteCredentials(server.url, pageMapper);
    const controller = new AbortController();
    const arrived = server.nextRequest();
    const leaving = creds.getCredentials({ signal: controller.signal });
    const staying = creds.getCredentials();
    await arrived;
    controller.abort();
    expect((await rejectionOf(leaving)).reason).toBe("aborted");
    gate.release();
    await expect(staying).resolves.toStrictEqual(pageMapper(TOKEN_BODY));
    expect(server.requests).toHaveLength(1);
  });
});

describe("RemoteCredentials, options", () => {
  test("init headers are sent (the server requires an Authorization header)", async () => {
    const server = await startServer((req, res) => {
      if (req.headers.authorization !== "Bearer app-session-key") {
        sendJson(res, 401, { error: "unauthorized" });
        return;
      }
      sendJson(res, 200, TOKEN_BODY);
    });
    const withHeader = new RemoteCredentials(server.url, pageMapper, {
      init: { headers: { Authorization: "Bearer app-session-key" } },
    });
    await expect(withHeader.getCredentials()).resolves.toMatchObject({ password: TOKEN });
    expect(server.requests[0]?.headers.accept).toBe("application/json");

    const without = new RemoteCredentials(server.url, pageMapper);
    const error = await rejectionOf(without.getCredentials());
    expect(error.status).toBe(401);
  });

  test("init method and Headers objects are honoured", async () => {
    const server = await startServer((req, res) => {
      if (req.method !== "POST" || req.headers["x-app"] !== "demo") {
        sendJson(res, 400, { error: "bad request" });
        return;
      }
      sendJson(res, 200, TOKEN_BODY);
    });
    const creds = new RemoteCredentials(server.url, pageMapper, {
      init: { method: "POST", headers: new Headers({ "x-app": "demo" }) },
    });
    await expect(creds.getCredentials()).resolves.toMatchObject({ username: "user-7" });
  });

  test("a custom fetch option is used", async () => {
    const server = await startServer((_req, res) => sendJson(res, 200, TOKEN_BODY));
    const seen: string[] = [];
    const countingFetch: typeof fetch = (input, init) => {
      seen.push(String(input));
      return fetch(input, init);
    };
    const creds = new RemoteCredentials(server.url, pageMapper, { fetch: countingFetch });
    await expect(creds.getCredentials()).resolves.toStrictEqual(pageMapper(TOKEN_BODY));
    await creds.getCredentials();
    expect(seen).toEqual([server.url, server.url]);
    expect(server.requests).toHaveLength(2);
  });

  test("fetch is called detached, as a browser's window.fetch requires (else: Illegal invocation)", async () => {
    const server = await startServer((_req, res) => sendJson(res, 200, TOKEN_BODY));
    // Strict-mode function: `this` is what the caller passed. window.fetch throws unless it is
    // undefined or the window; the E2E page without a fetch option caught this in Chromium.
    const strictFetch = function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
      if (this !== undefined) throw new TypeError("Illegal invocation");
      return fetch(input, init);
    } as typeof fetch;
    const creds = new RemoteCredentials(server.url, pageMapper, { fetch: strictFetch });
    await expect(creds.getCredentials()).resolves.toStrictEqual(pageMapper(TOKEN_BODY));
  });
});

describe("RemoteCredentials, constructor validation", () => {
  /** `fn` throws an `InvalidOptionsError` (a `CourierError`) naming `field`; returns its message. */
  const refused = (fn: () => unknown, field: string): string => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect(error).toBeInstanceOf(CourierError);
      expect((error as InvalidOptionsError).field).toBe(field);
      return (error as Error).message;
    }
    throw new Error("nothing was thrown");
  };

  test("a url that is neither a string nor a URL → InvalidOptionsError", () => {
    refused(
      () => new RemoteCredentials(42 as unknown as string, pageMapper),
      "RemoteCredentials url",
    );
    refused(
      () => new RemoteCredentials(undefined as unknown as string, pageMapper),
      "RemoteCredentials url",
    );
  });

  test("a mapper that is not a function → InvalidOptionsError", () => {
    const message = refused(
      () =>
        new RemoteCredentials(
          "http://127.0.0.1/token",
          "response.jwt" as unknown as (response: unknown) => Endpoint,
        ),
      "RemoteCredentials map",
    );
    expect(message).toContain('got the string "response.jwt"');
  });

  test("timeoutMs that is not a positive number a timer can hold → InvalidOptionsError", () => {
    for (const timeoutMs of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, 3e9, "100"]) {
      refused(
        () =>
          new RemoteCredentials("http://127.0.0.1/token", pageMapper, {
            timeoutMs: timeoutMs as number,
          }),
        "RemoteCredentials options.timeoutMs",
      );
    }
    expect(
      () =>
        new RemoteCredentials("http://127.0.0.1/token", pageMapper, { timeoutMs: 2_147_483_647 }),
    ).not.toThrow();
  });

  test("no fetch in this environment, none passed → InvalidOptionsError", () => {
    const original = globalThis.fetch;
    (globalThis as { fetch?: unknown }).fetch = undefined;
    try {
      refused(
        () => new RemoteCredentials("http://127.0.0.1/token", pageMapper),
        "RemoteCredentials options.fetch",
      );
    } finally {
      globalThis.fetch = original;
    }
  });
});
