// The shared scenarios on Koa 3 (sockjet/koa).

import Koa from "koa";
import { attachKoa } from "../../src/integrations/koa.js";
import { runScenarios, listenNode, closeNode } from "../support/scenarios.js";
import { createFixtureServer, HELLO_PATH, helloText } from "./fixtures/app.js";

runScenarios({
  name: "koa",
  perMessageDeflate: true,
  async start({ perMessageDeflate, profile }) {
    const sio = createFixtureServer("koa", perMessageDeflate, profile);
    const app = new Koa();
    app.use(async (ctx, next) => {
      if (ctx.path === HELLO_PATH) {
        ctx.type = "text/plain";
        ctx.body = helloText("koa");
      } else await next();
    });
    const server = attachKoa(sio, app);
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
