/**
 * The first-chunk app, "eager" variant: the transport in the first chunk,
 * as every app had it before mqtt.js was loaded on the first `connect()`
 * (and as an app still can, with one static `import "mqtt"`: the SDK's
 * `import("mqtt")` then finds it loaded). It imports the client from the
 * package's main entry and connects at once; the page records when CONNACK
 * came (the client leaves `connecting`), in `performance.now()` time:
 * milliseconds since the page's navigation began. A variant is any module
 * like this one; bench/first-chunk.ts builds each with Vite and loads it in
 * Chromium. `deferred.ts` is the same app without the static import.
 */

import "mqtt";
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
