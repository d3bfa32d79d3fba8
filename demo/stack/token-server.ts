/**
 * `GET /api/mqtt/token`: a real HTTP endpoint on 127.0.0.1 that answers with
 * a fresh short-lived token in the shape the page's `RemoteCredentials`
 * sample maps (shared/spec/authentication.txt):
 * `{ broker: { host, port }, userId, jwt }`.
 *
 * Which user asks is `?user=` (a real backend would know it from the
 * session cookie), and `?transport=ws` answers with the WebSocket port.
 */

import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Transport } from "./options.js";

export const TOKEN_PATH = "/api/mqtt/token";

/** The endpoint's answer, as the page's `RemoteCredentials` sample reads it. */
export interface TokenResponse {
  readonly broker: { readonly host: string; readonly port: number };
  readonly userId: string;
  readonly jwt: string;
}

export interface TokenRequest {
  readonly user: string | null;
  readonly transport: Transport | null;
}

/** Issues a token for a request, or answers why not (unknown user, bad transport). */
export type TokenIssuer = (
  request: TokenRequest,
) => Promise<{ ok: true; body: TokenResponse } | { ok: false; status: number; error: string }>;

export interface TokenServer {
  readonly url: string;
  close(): Promise<void>;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, {
    "content-type": "application/json",
    // A token must never be served from a cache.
    "cache-control": "no-store",
    // Browser tests load their page from another port (origin) than this endpoint's.
    "access-control-allow-origin": "*",
  });
  response.end(JSON.stringify(body));
}

function transportOf(value: string | null): Transport | null | "bad" {
  if (value === null) return null;
  return value === "tcp" || value === "ws" ? value : "bad";
}

export async function startTokenServer(
  host: string,
  issue: TokenIssuer,
  latencyMs: number,
): Promise<TokenServer> {
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", `http://${host}`);
    if (url.pathname !== TOKEN_PATH) return send(response, 404, { error: "not found" });
    if (request.method !== "GET") return send(response, 405, { error: "use GET" });
    const transport = transportOf(url.searchParams.get("transport"));
    if (transport === "bad") return send(response, 400, { error: "transport is tcp or ws" });
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    const answer = await issue({ user: url.searchParams.get("user"), transport });
    if (answer.ok) send(response, 200, answer.body);
    else send(response, answer.status, { error: answer.error });
  };
  const server = createServer((request, response) => {
    handle(request, response).catch(() => send(response, 500, { error: "token not issued" }));
  });
  server.listen(0, host);
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `http://${host}:${port}${TOKEN_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
