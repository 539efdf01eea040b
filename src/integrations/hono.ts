// Hono 4 on Node (@hono/node-server). HTTP goes through sockjet's fetch handler, which serves
// Socket.IO on its path, then `staticFiles`, then the Hono app (python-socketio's ASGIApp);
// WebSocket upgrades on the engine's path go to the Node runtime's `ws` glue on the server's
// `upgrade` event. On Bun and Deno, pass `app.fetch` to serveBun/serveDeno instead.

import type { createServer as createHttpServer, IncomingMessage, Server as HttpServer, ServerOptions as HttpServerOptions } from "node:http";
import type { createServer as createHttpsServer, ServerOptions as HttpsServerOptions } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { createAdaptorServer } from "@hono/node-server";
import type { FetchApp, FetchHandlerOptions } from "../runtime/fetch.js";
import type { NodeHttpServer } from "../runtime/node.js";
import { pathOf } from "../engine/http.js";
import type { SockjetServer } from "./shared.js";

type AdaptorOptions = Parameters<typeof createAdaptorServer>[0];

/** @hono/node-server's options for HTTP/1.1 servers (the engine's upgrade glue is HTTP/1.1), plus `staticFiles`. */
export interface ServeHonoOptions extends Pick<FetchHandlerOptions, "staticFiles"> {
  port?: number;
  hostname?: string;
  serverOptions?: HttpServerOptions | HttpsServerOptions;
  createServer?: typeof createHttpServer | typeof createHttpsServer;
  overrideGlobalObjects?: boolean;
  autoCleanupIncoming?: boolean;
}

/** What sockjet needs from the Server for upgrades (its Node request handler). */
interface UpgradingServer extends SockjetServer {
  handler(): { upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void };
}

/**
 * Starts @hono/node-server with Socket.IO beside a Hono app (anything with a fetch-style `fetch`)
 * and returns the node server: `serveHono(sio, app, { port: 3000 })`. `options` are
 * @hono/node-server's (port, hostname, serverOptions, createServer...) plus `staticFiles`.
 */
export function serveHono(
  sio: UpgradingServer,
  app: { fetch: FetchApp },
  options: ServeHonoOptions = {},
  listeningListener?: (info: AddressInfo) => void,
): NodeHttpServer {
  const { staticFiles, port = 3000, ...rest } = options;
  const fetch = sio.fetchHandler({ app: app.fetch, staticFiles });
  const server = createAdaptorServer({ ...rest, port, fetch } as AdaptorOptions) as HttpServer;
  const upgrade = sio.handler().upgrade;
  const path = sio.engine.options.path;
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (pathOf(req.url ?? "/").startsWith(path)) upgrade(req, socket, head);
    // Another listener (node-server's own `websocket` option) handles the rest; alone, refuse it.
    else if (server.listenerCount("upgrade") === 1) socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
  server.listen(port, options.hostname, () => listeningListener?.(server.address() as AddressInfo));
  return server;
}
