// Koa 3. Koa serves node:http through `app.callback()`, so the integration is the Node runtime's
// `attach`: Socket.IO requests and upgrades are taken at the server, before any Koa middleware;
// every other request reaches the app.

import { createServer } from "node:http";
import type { NodeHttpServer, NodeRequestListener } from "../runtime/node.js";
import type { SockjetServer } from "./shared.js";

/** The part of a Koa application sockjet uses. */
export interface KoaLike {
  callback(): NodeRequestListener;
}

export interface AttachKoaOptions {
  /** An existing node:http or node:https server that already serves `app.callback()`; by default one is created. */
  server?: NodeHttpServer;
}

/**
 * Serves Socket.IO beside a Koa app and returns the node:http server, not yet listening:
 * `attachKoa(sio, app).listen(3000)`.
 */
export function attachKoa(sio: SockjetServer, app: KoaLike, options: AttachKoaOptions = {}): NodeHttpServer {
  const server = options.server ?? createServer(app.callback());
  sio.attach(server);
  return server;
}
