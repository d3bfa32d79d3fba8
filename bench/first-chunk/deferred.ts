/**
 * The first-chunk app, "deferred" variant: what an app writes. It imports
 * the client from the package's main entry and connects at once; the SDK
 * loads mqtt.js on that first `connect()` (a chunk of its own, fetched
 * then), so the first chunk is the SDK and xstate only. The page records
 * when CONNACK came, like `eager.ts` (which also imports mqtt statically,
 * so that it is in the first chunk).
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
