// A flood of Engine.IO sessions that never send a Socket.IO CONNECT (bench/tools/handshake-flood.ts
// measures what each costs): connectTimeout ends every one of them, including long-polling ones
// that never poll again (released once the close grace, pingTimeout, has passed) and WebSockets
// that stay silent, and the server is left with no session and no timer entry.

import { test } from "node:test";
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import { startServer, until } from "../support/harness.js";
import { within } from "./_util.js";

const WAIT = 10_000;

test("sessions that never send CONNECT (200 polling handshakes that never poll, 50 silent WebSockets) are all ended by connectTimeout; no session or timer is left", async () => {
  const server = await startServer({ connectTimeout: 500, pingTimeout: 500, pingInterval: 60_000 });
  const sockets: WebSocket[] = [];
  try {
    const base = `127.0.0.1:${server.port}/socket.io/?EIO=4`;
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`http://${base}&transport=polling`);
      assert.equal(res.status, 200);
      await res.text();
    }
    const closed: Array<Promise<number>> = [];
    for (let i = 0; i < 50; i++) {
      const ws = new WebSocket(`ws://${base}&transport=websocket`);
      sockets.push(ws);
      closed.push(new Promise((resolve) => ws.once("close", (code: number) => resolve(code))));
      await within(new Promise((resolve) => ws.once("message", resolve)), WAIT, "open packet");
    }
    assert.ok(server.sio.engine.clientsCount > 0, "sessions open before the timeout");
    await within(Promise.all(closed), WAIT, "the server closes every silent WebSocket");
    await until(() => server.sio.engine.clientsCount === 0, WAIT, "every session released");
    assert.equal(server.sio.engine.timers.pending, 0);
  } finally {
    for (const ws of sockets) ws.terminate();
    await server.close();
  }
});
