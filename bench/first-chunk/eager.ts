/**
 * The first-chunk app, "eager" variant: what an app writes today. It
 * imports the client from the package's main entry and connects at once;
 * the page records when CONNACK came (the client leaves `connecting`), in
 * `performance.now()` time: milliseconds since the page's navigation began.
 * A variant is any module like this one; bench/first-chunk.ts builds each
 * with Vite and loads it in Chromium.
 */

import { RealtimeClient } from "@armaanjain/courier-web-sdk";

declare global {
  interface Window {
    firstChunkResult?: { connackMs: number } | { error: string };
  }
}

const port = Number(new URLSearchParams(location.search).get("port"));
const client = new RealtimeClient({
  endpoint: { host: "127.0.0.1", port, scheme: "ws", path: "/mqtt" },
});
const off = client.on("stateChange", ({ previous }) => {
  if (previous === "connecting") {
    off();
    window.firstChunkResult = { connackMs: performance.now() };
  }
});
client.connect().catch((error: Error) => {
  window.firstChunkResult = { error: error.message };
});
