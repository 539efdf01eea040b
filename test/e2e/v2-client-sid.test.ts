// End-to-end: the sid of a socket.io-client 2 (Engine.IO v3, Socket.IO protocol v4) client. That
// protocol's CONNECT carries no sid: the client takes the Engine.IO session id as its `socket.id`
// on "/", and `<namespace>#<session id>` elsewhere. socket.io (v4 with allowEIO3, and v2) gives
// such sockets exactly those ids, so what the client knows as its id is what the server uses: an
// application may send its `socket.id` to be addressed (`to: sid`, rooms, another client's
// private message). The server's sid must be the one the client has.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, type TestServer } from "../support/harness.js";
import { ioV2, v2Connected, v2EmitAck, v2Next, type V2Socket } from "../support/v2-client.js";
import { within } from "./_util.js";

const WAIT = 10_000;

describe("socket.io-client 2: the client's socket.id is its server sid", () => {
  let ts: TestServer;
  const sockets: V2Socket[] = [];

  before(async () => {
    ts = await startServer({ allowEIO3: true }, (sio) => {
      sio.on("whoami", (sid: string) => sid);
      sio.on("whoami", (sid: string) => sid, "/chat");
      // A client asks the server to message a sid it names (its own, as the client knows it).
      sio.on("poke", async (_sid: string, target: string) => {
        await sio.emit("poked", target, { to: target });
        return "sent";
      });
    });
  });

  after(async () => {
    for (const s of sockets) s.close();
    await ts.close();
  });

  for (const transports of [["websocket"], ["polling"]] as const) {
    test(`over ${transports[0]}: "/" is the Engine.IO id, "/chat" is "/chat#" + that id; to: socket.id reaches the client`, async () => {
      const root = ioV2(ts.url, { forceNew: true, reconnection: false, transports: [...transports] });
      const chat = root.io.socket("/chat");
      sockets.push(root, chat);
      await within(Promise.all([v2Connected(root), v2Connected(chat)]), WAIT, "connect");
      const engineId = root.io.engine.id;
      const clientIds = { root: (root as unknown as { id: string }).id, chat: (chat as unknown as { id: string }).id };
      // What the client believes (socket.io-client 2's own rule).
      assert.deepEqual(clientIds, { root: engineId, chat: `/chat#${engineId}` });
      const [rootSid] = await within(v2EmitAck(root, "whoami"), WAIT, "whoami");
      const [chatSid] = await within(v2EmitAck(chat, "whoami"), WAIT, "whoami /chat");
      assert.deepEqual({ root: rootSid, chat: chatSid }, clientIds, "the server's sids are the ids the client has");

      const poked = v2Next(root, "poked");
      assert.deepEqual(await within(v2EmitAck(root, "poke", clientIds.root), WAIT, "poke"), ["sent"]);
      assert.deepEqual(await within(poked, WAIT, "an emit to the client's own socket.id"), [clientIds.root]);
    });
  }
});
