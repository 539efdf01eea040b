// End-to-end with socket.io-client 1.7 (devDependency alias socket.io-client-v1): the oldest
// client generation the seed names ("socket.io-client versions 1.3.5 or newer"). It speaks
// Engine.IO v3 and Socket.IO protocol v4 through engine.io-client 1.8, whose code differs from the
// 2.x client's (has-binary, its own parser copies). The v2 client has the full scenario set in
// test/integrations; this file checks that the 1.x client connects and exchanges everything it
// can send, over websocket, polling and polling with upgrade, and that a default server refuses it.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { args, ConnectionRefusedError } from "../../src/index.js";
import { startServer, until, type TestServer } from "../support/harness.js";
import { within } from "./_util.js";

/** The part of socket.io-client 1.x's socket that these tests use (the package has no types). */
interface V1Socket {
  id: string;
  on(event: string, listener: (...args: never[]) => void): V1Socket;
  once(event: string, listener: (...args: never[]) => void): V1Socket;
  emit(event: string, ...args: unknown[]): V1Socket;
  close(): void;
  io: { engine: { transport: { name: string } } };
}
type V1Connect = (url: string, options: Record<string, unknown>) => V1Socket;
const ioV1 = createRequire(import.meta.url)("socket.io-client-v1") as V1Connect;

const MODES = {
  websocket: { transports: ["websocket"] },
  polling: { transports: ["polling"] },
  "polling+upgrade": { transports: ["polling", "websocket"] },
} as const;

const WAIT = 10_000;

function next<T extends unknown[]>(socket: V1Socket, event: string): Promise<T> {
  return within(new Promise<T>((resolve) => socket.once(event, (...values: never[]) => resolve(values as unknown as T))), WAIT, event);
}

function emitAck(socket: V1Socket, event: string, ...values: unknown[]): Promise<unknown[]> {
  return within(new Promise<unknown[]>((resolve) => socket.emit(event, ...values, (...reply: unknown[]) => resolve(reply))), WAIT, `ack of ${event}`);
}

describe("socket.io-client 1.7 against allowEIO3", () => {
  let ts: TestServer;
  const sockets: V1Socket[] = [];
  const auths: Record<string, unknown[]> = { "/": [], "/chat": [] };
  const disconnects: string[] = [];

  const open = (namespace: string, mode: keyof typeof MODES, query = "token=abc") => {
    const socket = ioV1(ts.url + namespace, { ...MODES[mode], query, forceNew: true, reconnection: false });
    sockets.push(socket);
    return socket;
  };

  before(async () => {
    ts = await startServer({ allowEIO3: true }, (sio) => {
      sio.on("connect", async (sid, _environ, auth) => {
        auths["/"]!.push(auth);
        // Awaited before the connect is accepted: it must still reach the client after CONNECT.
        await sio.emit("welcome", { sid }, { to: sid });
      });
      sio.on("echo", (_sid, ...values: unknown[]) => args(...values));
      sio.on("ask", async (sid: string) => sio.call("question", Buffer.from([5, 6]), { to: sid, timeout: WAIT }));
      sio.on("join", async (sid: string, room: string) => sio.enterRoom(sid, room));
      sio.on("shout", async (sid: string, room: string, text: string) => sio.emit("shout", text, { room, skipSid: sid }));
      sio.on("kick", (sid: string) => void sio.disconnect(sid));
      sio.on("disconnect", (_sid, reason) => void disconnects.push(reason));
      sio.on("connect", (_sid, environ, auth) => {
        auths["/chat"]!.push([auth, environ.query.token]);
        if ((auth as { token?: string }).token === "refuse") throw new ConnectionRefusedError("no entry", { code: 42 });
      }, "/chat");
      sio.on("where", (sid: string) => sio.rooms(sid, "/chat").length, "/chat");
    });
  });

  after(async () => {
    for (const socket of sockets) socket.close();
    await ts.close();
  });

  for (const mode of Object.keys(MODES) as (keyof typeof MODES)[]) {
    test(`${mode}: connect with a query, a welcome after CONNECT, events, acks and binary both ways, rooms, a namespace, a refusal, a server disconnect`, async () => {
      const a = open("/", mode);
      const [welcome] = await next<[{ sid: string }]>(a, "welcome");
      assert.equal(typeof welcome.sid, "string");
      assert.deepEqual(auths["/"]!.at(-1), { token: "abc" });
      if (mode === "polling+upgrade") await until(() => a.io.engine.transport.name === "websocket", WAIT, "the upgrade to WebSocket");
      else assert.equal(a.io.engine.transport.name, mode);

      assert.deepEqual(await emitAck(a, "echo", 1, "two", { three: [3] }), [1, "two", { three: [3] }]);
      const [bytes] = await emitAck(a, "echo", Buffer.from([1, 2, 3]));
      assert.deepEqual([...(bytes as Uint8Array)], [1, 2, 3]);

      // A server call to the client, answered by the client's ack with binary.
      a.on("question", ((data: Uint8Array, ack: (reply: unknown) => void) => ack({ got: [...data], back: Buffer.from([7]) })) as never);
      const [answer] = await emitAck(a, "ask");
      const reply = answer as { got: number[]; back: Uint8Array };
      assert.deepEqual(reply.got, [5, 6]);
      assert.deepEqual([...reply.back], [7]);

      // A room broadcast skipping the sender reaches another 1.x client.
      const b = open("/", mode);
      await next(b, "welcome");
      await emitAck(a, "join", "r");
      await emitAck(b, "join", "r");
      const heard = next<[string]>(b, "shout");
      await emitAck(a, "shout", "r", "hi room");
      assert.deepEqual(await heard, ["hi room"]);

      // A second namespace on the same connection as `a`'s manager would be: the query is its auth.
      const chat = open("/chat", mode, "token=abc");
      await next(chat, "connect");
      assert.deepEqual(auths["/chat"]!.at(-1), [{ token: "abc" }, "abc"]);
      assert.deepEqual(await emitAck(chat, "where"), [1]);

      // A refusal with data arrives as the error event's one datum.
      const refused = open("/chat", mode, "token=refuse");
      const [error] = await next<[unknown]>(refused, "error");
      assert.deepEqual(error, { code: 42 });

      // A server disconnect.
      const gone = next<[string]>(b, "disconnect");
      b.emit("kick");
      assert.equal((await gone)[0], "io server disconnect");
    });
  }

  test("a default server (allowEIO3 off) refuses the 1.x client", async () => {
    const strict = await startServer();
    try {
      const socket = ioV1(strict.url, { transports: ["polling"], forceNew: true, reconnection: false });
      sockets.push(socket);
      const [err] = await next<[unknown]>(socket, "connect_error");
      assert.ok(err instanceof Error);
    } finally {
      await strict.close();
    }
  });
});
