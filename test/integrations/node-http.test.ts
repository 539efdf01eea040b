// The shared scenarios on node:http with the core's `attach` (the reference the integrations match).

import { createServer } from "node:http";
import { runScenarios, listenNode, closeNode } from "../support/scenarios.js";
import { createFixtureServer, HELLO_PATH, helloText } from "./fixtures/app.js";

runScenarios({
  name: "node:http",
  perMessageDeflate: true,
  async start({ perMessageDeflate, profile }) {
    const sio = createFixtureServer("node:http", perMessageDeflate, profile);
    const server = createServer((req, res) => {
      if (req.url === HELLO_PATH) res.writeHead(200, { "Content-Type": "text/plain" }).end(helloText("node:http"));
      else res.writeHead(404).end();
    });
    sio.attach(server);
    const url = await listenNode(server);
    return {
      url,
      async close() {
        await sio.close();
        await closeNode(server);
      },
    };
  },
});
