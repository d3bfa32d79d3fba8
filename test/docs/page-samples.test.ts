/**
 * The published Authentication page (`shared/spec/authentication.txt`) is the
 * contract: every sample on it, copied verbatim into `test/docs/types/page-samples.ts`,
 * must type-check against the package name and run. A negative control
 * (`test/docs/types/negative.ts-fixture`) proves the type check can fail.
 */

import { execFile } from "node:child_process";
import { once } from "node:events";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { RealtimeClient, RemoteCredentials } from "@armaanjain/courier-web-sdk";
import { afterEach, describe, expect, test, vi } from "vitest";
import {
  remoteCredentialsProvider,
  retryBackoff,
  staticCredentials,
  tokenRefreshOnAuthError,
  updatingCredentialsManually,
} from "./types/page-samples.js";

// The samples import the package by name, as users do, and so does this file. At
// run time that name is this repository's own source (vitest.config.ts aliases it:
// there is no dist/ when tests run); the type check below resolves it the same way
// through test/docs/types/tsconfig.json.

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const typesDir = join(root, "test", "docs", "types");
const tsc = join(root, "node_modules", ".bin", "tsc");

interface TscRun {
  readonly code: number;
  readonly output: string;
}

function runTsc(project: string): Promise<TscRun> {
  return new Promise((resolve, reject) => {
    execFile(
      tsc,
      ["--noEmit", "--pretty", "false", "-p", project],
      { cwd: root, timeout: 120_000 },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (!error) resolve({ code: 0, output });
        else if (typeof error.code === "number") resolve({ code: error.code, output });
        else reject(error);
      },
    );
  });
}

describe("the page's samples type-check against the package name", () => {
  test("tsc -p test/docs/types/tsconfig.json exits 0", { timeout: 120_000 }, async () => {
    const run = await runTsc(join("test", "docs", "types", "tsconfig.json"));
    expect(run.output).toBe("");
    expect(run.code).toBe(0);
  });

  test("negative control: tsc fails on the fixture, at exactly the marked lines", {
    timeout: 120_000,
  }, async () => {
    const fixture = await readFile(join(typesDir, "negative.ts-fixture"), "utf8");
    const expectedLines = fixture
      .split("\n")
      .flatMap((line, index) => (/\/\/ @error\s*$/.test(line) ? [index + 1] : []));
    expect(expectedLines.length).toBeGreaterThanOrEqual(4);

    // A dot-directory: the root tsconfig's "test" include does not pick it up.
    const dir = await mkdtemp(join(typesDir, ".negative-"));
    try {
      await copyFile(join(typesDir, "negative.ts-fixture"), join(dir, "negative.ts"));
      // Same compiler options and package-name mapping as the samples' check.
      await writeFile(
        join(dir, "tsconfig.json"),
        JSON.stringify({ extends: "../tsconfig.json", files: ["negative.ts"] }),
      );
      const run = await runTsc(relative(root, join(dir, "tsconfig.json")));
      expect(run.code).not.toBe(0);
      // It failed for the planted errors, not because the package name did not resolve.
      expect(run.output).not.toContain("TS2307");
      const reported = [...run.output.matchAll(/negative\.ts\((\d+),\d+\): error TS\d+/g)].map(
        (match) => Number(match[1]),
      );
      expect([...new Set(reported)].sort((a, b) => a - b)).toEqual(expectedLines);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the page's samples run", () => {
  const servers: ReturnType<typeof createServer>[] = [];
  afterEach(async () => {
    vi.unstubAllGlobals();
    await Promise.all(
      servers.splice(0).map((server) => {
        server.closeAllConnections();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      }),
    );
  });

  test("Static Credentials: constructs without connecting", async () => {
    const client = staticCredentials();
    expect(client).toBeInstanceOf(RealtimeClient);
    expect(client.state).toBe("idle");
    expect(client.error).toBeNull();
    await client.disconnect();
    expect(client.state).toBe("idle");
  });

  test("Token Refresh on Auth Error: constructs without connecting or calling onAuthFailure", async () => {
    const fetchCalls: unknown[] = [];
    vi.stubGlobal("fetch", (...args: unknown[]) => {
      fetchCalls.push(args);
      return Promise.reject(new Error("the sample must not fetch before an auth error"));
    });
    const client = tokenRefreshOnAuthError();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(client.state).toBe("idle");
    expect(client.error).toBeNull();
    expect(fetchCalls).toEqual([]);
  });

  test("Remote Credentials Provider: maps the token endpoint's answer to an endpoint", async () => {
    // The sample hard-codes https://api.example.com; without network, the global
    // fetch it picks up is pointed at a real local HTTP server serving that path.
    const body = {
      broker: { host: "broker.example.com", port: 443 },
      userId: "user-7",
      jwt: "jwt-abc",
    };
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? "");
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    });
    servers.push(server);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as { port: number };
    const realFetch = globalThis.fetch;
    const requested: string[] = [];
    vi.stubGlobal("fetch", (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(String(input));
      requested.push(url.href);
      return realFetch(`http://127.0.0.1:${port}${url.pathname}`, init);
    });

    const creds = remoteCredentialsProvider();
    expect(creds).toBeInstanceOf(RemoteCredentials);
    await expect(creds.getCredentials()).resolves.toStrictEqual({
      host: "broker.example.com",
      port: 443,
      username: "user-7",
      password: "jwt-abc",
      scheme: "wss",
      path: "/mqtt",
    });
    expect(requested).toEqual(["https://api.example.com/mqtt/token"]);
    expect(paths).toEqual(["/mqtt/token"]);

    // The provider is what onAuthFailure accepts.
    const client = new RealtimeClient({
      endpoint: { host: "broker.example.com", port: 443 },
      onAuthFailure: creds,
    });
    expect(client.state).toBe("idle");
  });

  test("Updating Credentials Manually: accepted while idle, and does not connect", () => {
    for (const client of [staticCredentials(), tokenRefreshOnAuthError(), retryBackoff()]) {
      const states: string[] = [];
      client.on("stateChange", (change) => states.push(change.state));
      expect(() => updatingCredentialsManually(client)).not.toThrow();
      expect(client.state).toBe("idle");
      expect(client.error).toBeNull();
      expect(states).toEqual([]);
    }
  });

  test("Retry Backoff: the client constructs with { baseSeconds: 1, ceilSeconds: 60 }", () => {
    const client = retryBackoff();
    expect(client).toBeInstanceOf(RealtimeClient);
    expect(client.state).toBe("idle");
    expect(
      () =>
        new RealtimeClient({
          endpoint: { host: "broker.example.com", port: 443, scheme: "wss", path: "/mqtt" },
          retryBackoff: { baseSeconds: 1, ceilSeconds: 60 },
        }),
    ).not.toThrow();
  });
});
