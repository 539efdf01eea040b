// The shared scenarios on Fastify 5 (sockjet/fastify, a plugin), plus what the plugin adds: the
// `sio` decoration and closing Socket.IO with `fastify.close()`.

import { test } from "node:test";
import assert from "node:assert/strict";
import Fastify from "fastify";
import { io } from "socket.io-client";
import { sockjetPlugin } from "../../src/integrations/fastify.js";
import { runScenarios } from "../support/scenarios.js";
import { waitConnect } from "../support/harness.js";
import { within } from "../e2e/_util.js";
import { createFixtureServer, HELLO_PATH, helloText, type FixtureProfile } from "./fixtures/app.js";

async function startFastify(perMessageDeflate: boolean, profile: FixtureProfile = "main") {
  const sio = createFixtureServer("fastify", perMessageDeflate, profile);
  const fastify = Fastify();
  fastify.get(HELLO_PATH, async (_request, reply) => reply.type("text/plain").send(helloText("fastify")));
  await fastify.register(sockjetPlugin, { server: sio });
  const url = await fastify.listen({ port: 0, host: "127.0.0.1" });
  return { sio, fastify, url };
}

runScenarios({
  name: "fastify",
  perMessageDeflate: true,
  async start({ perMessageDeflate, profile }) {
    const { fastify, url } = await startFastify(perMessageDeflate, profile);
    return { url, close: () => fastify.close() };
  },
});

test("fastify: the plugin decorates the instance and fastify.close() disconnects clients", async () => {
  const { sio, fastify, url } = await startFastify(false);
  assert.equal(fastify.sio, sio);
  const socket = io(url, { forceNew: true, reconnection: false, transports: ["websocket"] });
  try {
    await within(waitConnect(socket), 10_000, "connect");
    const gone = new Promise<string>((resolve) => socket.once("disconnect", resolve));
    await within(fastify.close(), 10_000, "fastify.close()");
    assert.equal(await within(gone, 10_000, "disconnect"), "transport close");
  } finally {
    socket.disconnect();
  }
});

test("fastify: registering without a server fails with a clear error", async () => {
  const fastify = Fastify();
  await assert.rejects(async () => {
    await fastify.register(sockjetPlugin, {} as never);
  }, /register the plugin with \{ server: sio \}/);
});
