// The React example's entry: get a first token, then render the app in StrictMode
// (later tokens come from onAuthFailure, as they expire).
// `npm run example -- react` builds and serves it against the demo stack.
import { RemoteCredentials } from "@armaanjain/courier-web-sdk";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App, type TokenResponse } from "./App.js";

// Your app asks its own backend; the example runner passes the demo's token endpoint.
const tokenUrl = new URLSearchParams(location.search).get("token") ?? "/api/mqtt/token";

const credentials = new RemoteCredentials(tokenUrl, (response: TokenResponse) => ({
  host: response.broker.host,
  port: response.broker.port,
  username: response.userId,
  password: response.jwt,
  scheme: location.protocol === "https:" ? "wss" : "ws",
  path: "/mqtt",
}));

const root = document.getElementById("root");
if (!root) throw new Error("no #root element");
try {
  const endpoint = await credentials.getCredentials();
  createRoot(root).render(
    <StrictMode>
      <App endpoint={endpoint} credentials={credentials} />
    </StrictMode>,
  );
} catch (error) {
  root.textContent = `Could not get a token: ${(error as Error).message}`;
}
