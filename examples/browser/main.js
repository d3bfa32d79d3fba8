// The plain-page example: no bundler, no framework. Gets a token, connects over WebSocket,
// and reads demo/ticks/# with `for await`, living through every token expiry.
import { AbortError, RealtimeClient, RemoteCredentials } from "@armaanjain/courier-web-sdk";

// Your page asks its own backend; the example runner passes the demo's token endpoint.
const tokenUrl = new URLSearchParams(location.search).get("token") ?? "/api/mqtt/token";
const $ = (id) => document.getElementById(id);

const credentials = new RemoteCredentials(tokenUrl, (response) => ({
  host: response.broker.host,
  port: response.broker.port,
  username: response.userId,
  password: response.jwt,
  scheme: location.protocol === "https:" ? "wss" : "ws",
  path: "/mqtt",
}));

const client = new RealtimeClient({
  endpoint: await credentials.getCredentials(),
  onAuthFailure: credentials,
});
client.on("stateChange", ({ previous, state }) => {
  $("state").textContent = state;
  const item = document.createElement("li");
  item.textContent = `${previous} → ${state}`;
  $("log").append(item);
});

// Leaving the page ends the loop (and its subscription) and disconnects.
const leave = new AbortController();
addEventListener("pagehide", () => {
  leave.abort();
  void client.disconnect();
});

await client.connect();
let count = 0;
try {
  for await (const message of client.messages("demo/ticks/#", { qos: 1, signal: leave.signal })) {
    const { seq } = JSON.parse(new TextDecoder().decode(message.payload));
    count += 1;
    $("seq").textContent = String(seq);
    $("count").textContent = String(count);
  }
} catch (error) {
  if (!(error instanceof AbortError)) throw error;
}
