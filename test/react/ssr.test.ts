/**
 * Server rendering (react-dom/server, in Node): a StrictMode tree with a
 * provider and every hook renders the initial state, throws nothing and
 * connects nothing — with a provider that makes its client and with one
 * given a client. And the main entry does not pull React in.
 */

import { readFile } from "node:fs/promises";
import { build } from "esbuild";
import { createElement, StrictMode } from "react";
import { renderToString } from "react-dom/server";
import { afterAll, beforeAll, expect, test } from "vitest";
import { RealtimeClient } from "../../src/index.js";
import {
  CourierProvider,
  useConnectionState,
  useMessages,
  usePublish,
  useRealtimeClient,
  useSubscription,
} from "../../src/react/index.js";
import { TestBroker } from "../support/broker.js";
import { sleep } from "../support/wait.js";

let broker: TestBroker;
beforeAll(async () => {
  broker = await TestBroker.start();
});
afterAll(async () => broker.close());

function Status() {
  const state = useConnectionState();
  const { status, messages } = useMessages("ssr/#", { qos: 1 });
  const alerts = useSubscription("ssr/alerts", () => {}, { enabled: true });
  const publish = usePublish();
  const client = useRealtimeClient();
  return createElement(
    "p",
    null,
    `state=${state} messages=${status}/${messages.length} alerts=${alerts.status} publish=${typeof publish} client=${client.state}`,
  );
}

test("a provider that makes its client renders on a server, connects nothing", async () => {
  const html = renderToString(
    createElement(
      StrictMode,
      null,
      createElement(
        CourierProvider,
        {
          options: {
            endpoint: { host: "127.0.0.1", port: broker.tcpPort, clientId: "ssr-owned" },
          },
        },
        createElement(Status),
      ),
    ),
  );
  expect(html).toBe(
    "<p>state=idle messages=inactive/0 alerts=inactive publish=function client=idle</p>",
  );
  await sleep(200);
  expect(broker.connects).toEqual([]);
  expect(broker.subscribePackets).toEqual([]);
});

test("a provider given a client renders on a server and leaves it idle", async () => {
  const client = new RealtimeClient({
    endpoint: { host: "127.0.0.1", port: broker.tcpPort, clientId: "ssr-given" },
  });
  const html = renderToString(createElement(CourierProvider, { client }, createElement(Status)));
  expect(html).toContain("state=idle");
  await sleep(200);
  expect(client.state).toBe("idle");
  expect(client.subscriptions).toEqual([]);
  expect(broker.connects).toEqual([]);
});

test("a hook outside a provider says what is missing", () => {
  expect(() => renderToString(createElement(Status))).toThrow(/inside a <CourierProvider>/);
});

test("the main entry does not import react; the react entry does, as an optional peer", async () => {
  const graph = await build({
    entryPoints: ["src/index.ts"],
    bundle: true,
    write: false,
    metafile: true,
    platform: "neutral",
    format: "esm",
    external: ["mqtt", "xstate", "react", "react-dom"],
    logLevel: "silent",
  });
  const imported = Object.values(graph.metafile.outputs).flatMap((o) =>
    o.imports.map((i) => i.path),
  );
  expect(imported.filter((path) => path.startsWith("react"))).toEqual([]);
  expect(Object.keys(graph.metafile.inputs).some((input) => input.includes("src/react/"))).toBe(
    false,
  );
  const pkg = JSON.parse(await readFile("package.json", "utf8"));
  expect(pkg.dependencies.react).toBeUndefined();
  expect(pkg.peerDependencies.react).toBeDefined();
  expect(pkg.peerDependenciesMeta.react.optional).toBe(true);
  expect(pkg.exports["./react"].import.types).toBe("./dist/react.d.ts");
});
