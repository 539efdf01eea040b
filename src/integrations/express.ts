// Express 5. An Express app is a node:http request listener, so the integration is the Node
// runtime's `attach`: Socket.IO requests and upgrades are taken at the server, before any Express
// middleware (body parsers, compression, CORS) can touch them; every other request reaches the app.

import { createServer } from "node:http";
import type { NodeHttpServer, NodeRequestListener } from "../runtime/node.js";
import type { SockjetServer } from "./shared.js";

export interface AttachExpressOptions {
  /** An existing node:http or node:https server that already serves `app`; by default one is created. */
  server?: NodeHttpServer;
}

/**
 * Serves Socket.IO beside an Express app and returns the node:http server, not yet listening:
 * `attachExpress(sio, app).listen(3000)`.
 */
export function attachExpress(sio: SockjetServer, app: NodeRequestListener, options: AttachExpressOptions = {}): NodeHttpServer {
  const server = options.server ?? createServer(app);
  sio.attach(server);
  return server;
}
