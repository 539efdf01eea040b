// The shared scenarios on Hono 4 on Node (sockjet/hono: @hono/node-server with the fetch handler
// for HTTP and the Node WebSocket glue for upgrades), static files included.

import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Hono } from "hono";
import { serveHono } from "../../src/integrations/hono.js";
import { runScenarios, closeNode } from "../support/scenarios.js";
import { createFixtureServer, HELLO_PATH, helloText } from "./fixtures/app.js";
import type { Server as HttpServer } from "node:http";

runScenarios({
  name: "hono",
  perMessageDeflate: true,
  staticFiles: true,
  async start({ perMessageDeflate, profile }) {
    const sio = createFixtureServer("hono", perMessageDeflate, profile);
    const app = new Hono();
    app.get(HELLO_PATH, (c) => c.text(helloText("hono")));
    const staticFiles = { "/static": fileURLToPath(new URL("./fixtures/static/", import.meta.url)) };
    let server!: HttpServer;
    const port = await new Promise<number>((resolve) => {
      server = serveHono(sio, app, { port: 0, hostname: "127.0.0.1", staticFiles }, (info: AddressInfo) => resolve(info.port)) as HttpServer;
    });
    return {
      url: `http://127.0.0.1:${port}`,
      async close() {
        await sio.close();
        await closeNode(server);
      },
    };
  },
});
