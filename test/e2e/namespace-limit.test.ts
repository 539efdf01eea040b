// maxNamespacesPerConnection: a server that accepts any namespace (`namespaces: "*"`) still bounds
// how many one Engine.IO connection may be in at once. Past the limit the CONNECT is refused with a
// CONNECT_ERROR naming the reason; the connection and its namespaces stay usable, and a namespace
// left frees its place.

import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import type { Socket as ClientSocket } from "socket.io-client";
import { Server } from "../../src/index.js";
import { TOO_MANY_NAMESPACES } from "../../src/socket/server.js";
import { startServer, waitConnect, type TestServer, type TransportMode } from "../support/harness.js";
import { emitAck, within } from "./_util.js";

const WAIT = 10_000;

function connectError(socket: ClientSocket): Promise<Error> {
  return new Promise((resolve, reject) => {
    socket.once("connect", () => reject(new Error("connected past the limit")));
    socket.once("connect_error", (err: Error) => resolve(err));
  });
}

describe("maxNamespacesPerConnection", () => {
  const servers: TestServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  for (const mode of ["websocket", "polling"] as TransportMode[]) {
    test(`over ${mode}: the limit's worth of namespaces join, the next is refused with CONNECT_ERROR; the others keep working and a left place can be taken`, async () => {
      const server = await startServer({ namespaces: "*", maxNamespacesPerConnection: 4 }, (sio) => {
        sio.on("echo", (_namespace: string, _sid: string, value: unknown) => value, "*");
      });
      servers.push(server);
      const main = await within(server.connect(mode, "/"), WAIT, "connect /");
      const manager = main.io;
      const joined: Array<[string, ClientSocket]> = [["/", main]];
      for (const nsp of ["/a", "/b", "/c"]) {
        const socket = manager.socket(nsp);
        socket.connect();
        await within(waitConnect(socket), WAIT, `connect ${nsp}`);
        joined.push([nsp, socket]);
      }
      const fifth = manager.socket("/d");
      fifth.connect();
      const refused = await within(connectError(fifth), WAIT, "connect_error for /d");
      assert.equal(refused.message, TOO_MANY_NAMESPACES);
      // The connection and its four namespaces are untouched.
      for (const [nsp, socket] of joined) {
        assert.ok(socket.connected, `${nsp} still connected`);
        assert.deepEqual(await within(emitAck(socket, "echo", nsp), WAIT, `echo on ${nsp}`), [nsp]);
      }
      // Leaving one namespace frees its place (the limit is on namespaces held at once).
      joined.pop()![1].disconnect();
      const again = manager.socket("/e");
      again.connect();
      await within(waitConnect(again), WAIT, "connect /e after leaving /c");
      assert.deepEqual(await within(emitAck(again, "echo", "e"), WAIT, "echo on /e"), ["e"]);
    });
  }

  test("the default is 100: the 101st namespace on one raw WebSocket connection is refused, the 100 joined stay", async () => {
    const server = await startServer({ namespaces: "*" });
    servers.push(server);
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
    const messages: string[] = [];
    const waiters: Array<(m: string) => void> = [];
    ws.on("message", (data) => {
      const text = String(data);
      const w = waiters.shift();
      if (w) w(text);
      else messages.push(text);
    });
    const next = () => within(messages.length > 0 ? Promise.resolve(messages.shift()!) : new Promise<string>((resolve) => waiters.push(resolve)), WAIT, "next message");
    try {
      assert.match(await next(), /^0\{"sid"/);
      for (let i = 0; i < 100; i++) {
        ws.send(`40/n${i},`);
        assert.match(await next(), new RegExp(`^40/n${i},\\{"sid":`));
      }
      ws.send("40/n100,");
      assert.equal(await next(), `44/n100,${JSON.stringify({ message: TOO_MANY_NAMESPACES })}`);
      assert.equal(server.sio.participants("/n0").length, 1);
      assert.equal(server.sio.participants("/n100").length, 0);
      assert.equal(ws.readyState, WebSocket.OPEN);
    } finally {
      ws.terminate();
    }
  });

  test("a limit that is not a positive integer is refused at construction", () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => new Server({ maxNamespacesPerConnection: bad }), RangeError);
    }
  });
});
