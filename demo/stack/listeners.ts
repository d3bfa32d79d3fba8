/**
 * The broker's listeners on 127.0.0.1, random ports: MQTT over TCP for
 * Node.js clients and MQTT over WebSocket (path `/mqtt`, as the page's
 * samples use) for browsers. `close()` drops every open connection.
 */

import { once } from "node:events";
import { createServer as createHttpServer } from "node:http";
import { createServer as createNetServer, type Socket } from "node:net";
import type { Aedes } from "aedes";
import { createWebSocketStream, WebSocketServer } from "ws";

export const WS_PATH = "/mqtt";

export interface Listening {
  readonly tcpPort: number;
  readonly wsPort: number;
  close(): Promise<void>;
}

function portOf(server: { address(): unknown }): number {
  return (server.address() as { port: number }).port;
}

export async function listen(aedes: Aedes, host: string): Promise<Listening> {
  const sockets = new Set<Socket>();
  const tcp = createNetServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    aedes.handle(socket);
  });
  const http = createHttpServer();
  const wss = new WebSocketServer({ server: http, path: WS_PATH });
  wss.on("connection", (ws, request) => aedes.handle(createWebSocketStream(ws), request));

  tcp.listen(0, host);
  http.listen(0, host);
  await Promise.all([once(tcp, "listening"), once(http, "listening")]);

  return {
    tcpPort: portOf(tcp),
    wsPort: portOf(http),
    async close() {
      for (const ws of wss.clients) ws.terminate();
      for (const socket of sockets) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => tcp.close(() => resolve())),
        new Promise<void>((resolve) => wss.close(() => resolve())),
        new Promise<void>((resolve) => {
          http.closeAllConnections();
          http.close(() => resolve());
        }),
      ]);
    },
  };
}
