// The package's dist/index.js loaded by the browser itself (see the import map):
// connect with a token from the endpoint, receive messages, record states.
import { RealtimeClient, RemoteCredentials } from "@armaanjain/courier-web-sdk";

const observed = { states: [], messages: [], tokenRequests: 0, errors: [], lifecycle: [] };
let client;

async function start(config) {
  const credentials = new RemoteCredentials(config.tokenUrl, (response) => ({
    host: response.broker.host,
    port: response.broker.port,
    username: response.userId,
    password: response.jwt,
    scheme: "ws",
    path: "/mqtt",
  }));
  const initial = await credentials.getCredentials();
  client = new RealtimeClient({
    endpoint: { ...initial, clientId: config.clientId },
    onAuthFailure: credentials,
  });
  client.on("stateChange", ({ state, previous, at, durationMs }) =>
    observed.states.push({ state, previous, at, durationMs }),
  );
  const subscribed = client.subscribe(
    config.filter,
    (message) => {
      const { seq } = JSON.parse(new TextDecoder().decode(message.payload));
      observed.messages.push({ seq, at: Date.now() });
    },
    { qos: 1 },
  );
  await client.connect();
  await subscribed;
}

window.e2e = {
  start,
  disconnect: async () => client?.disconnect(),
  observed,
  state: () => client?.state ?? "none",
};
