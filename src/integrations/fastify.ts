// Fastify 5, as a plugin: `await fastify.register(sockjet, { server: sio })`. Fastify owns its
// node:http(s) server, so the plugin attaches the Node runtime to `fastify.server`: Socket.IO
// requests and upgrades are taken there, before Fastify's routing, hooks and content parsers;
// every other request reaches Fastify. `fastify.close()` closes the Socket.IO server first.

import type { FastifyInstance, FastifyPluginCallback } from "fastify";
import type { NodeHttpServer } from "../runtime/node.js";
import type { SockjetServer } from "./shared.js";

export interface SockjetPluginOptions {
  /** The sockjet Server to serve on this Fastify instance. */
  server: SockjetServer;
}

declare module "fastify" {
  interface FastifyInstance {
    /** The sockjet Server registered with the sockjet plugin. */
    sio: SockjetServer;
  }
}

const plugin: FastifyPluginCallback<SockjetPluginOptions> = (fastify: FastifyInstance, options, done) => {
  const sio = options?.server;
  if (sio === undefined || typeof sio.attach !== "function") {
    done(new Error("sockjet/fastify: register the plugin with { server: sio }, sio being a sockjet Server"));
    return;
  }
  if (fastify.initialConfig.http2 === true) {
    // The engine's WebSocket upgrade and long-polling glue are written for HTTP/1.1 servers.
    done(new Error("sockjet/fastify: HTTP/2 Fastify servers are not supported; use http or https (HTTP/1.1)"));
    return;
  }
  sio.attach(fastify.server as NodeHttpServer);
  fastify.decorate("sio", sio);
  // Before Fastify stops listening: pending long-polls are answered and WebSockets closed, so the
  // server's close does not wait on them.
  fastify.addHook("preClose", (hookDone) => {
    sio.close().then(() => hookDone(), hookDone);
  });
  done();
};

// What `fastify-plugin` would set: no encapsulation (the `sio` decoration is visible to the whole
// app), a name for Fastify's plugin tree and errors, and the supported Fastify versions.
Object.assign(plugin, {
  [Symbol.for("skip-override")]: true,
  [Symbol.for("fastify.display-name")]: "sockjet",
  [Symbol.for("plugin-meta")]: { name: "sockjet", fastify: "5.x" },
});

export const sockjetPlugin = plugin;
export default plugin;
