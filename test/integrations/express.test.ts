// The shared scenarios on Express 5 (sockjet/express), with body parsers that would consume
// Socket.IO's POST bodies if its requests went through Express.

import express from "express";
import { attachExpress } from "../../src/integrations/express.js";
import { runScenarios, listenNode, closeNode } from "../support/scenarios.js";
import { createFixtureServer, HELLO_PATH, helloText } from "./fixtures/app.js";

runScenarios({
  name: "express",
  perMessageDeflate: true,
  async start({ perMessageDeflate, profile }) {
    const sio = createFixtureServer("express", perMessageDeflate, profile);
    const app = express();
    app.use(express.text({ type: "*/*" }));
    app.get(HELLO_PATH, (_req, res) => {
      res.type("text/plain").send(helloText("express"));
    });
    const server = attachExpress(sio, app);
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
