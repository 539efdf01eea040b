// End-to-end: the msgpack parser (`parser: "msgpack"`) with the official socket.io-client v4
// configured with socket.io-msgpack-parser, over every transport mode: events, acknowledgements
// both ways, binary both ways (native, no placeholders), rooms, namespaces, auth, refusal with
// data, server disconnect, one encode per broadcast, and malformed input.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { MODES, startServer, until, type TestServer } from "../support/harness.js";
import { ConnectionRefusedError, Server } from "../../src/index.js";
import type { MsgpackCodec } from "../../src/socket/protocol/msgpack.js";
import { bytesOf, emitAck, Inbox } from "./_util.js";

const require = createRequire(import.meta.url);
const parser: unknown = require("socket.io-msgpack-parser");

/** How many packets the server's msgpack codec encoded so far. */
function encodedCount(sio: Server): number {
  return (sio as unknown as { msgpack: MsgpackCodec }).msgpack.encoded;
}

for (const mode of MODES) {
  describe(`msgpack parser over ${mode}`, () => {
    let ts: TestServer;
    const auths: unknown[] = [];
    const reasons = new Map<string, string>();
    const received: unknown[][] = [];

    before(async () => {
      ts = await startServer({ parser: "msgpack", namespaces: ["/", "/admin"] }, (sio) => {
        sio.on("connect", (sid, _environ, auth) => {
          auths.push(auth);
          if ((auth as { token?: string } | undefined)?.token === "bad") throw new ConnectionRefusedError("not allowed", { code: 42, bytes: Buffer.from([9, 8]) });
          void sid;
        });
        sio.on("disconnect", (sid, reason) => void reasons.set(sid, reason));
        sio.on("echo", (_sid: string, ...rest: unknown[]) => {
          received.push(rest);
          return rest.length === 1 ? rest[0] : rest;
        });
        sio.on("join", async (sid: string, room: string) => {
          await sio.enterRoom(sid, room);
          return "joined";
        });
        sio.on("shout", async (_sid: string, room: string, value: unknown) => {
          await sio.emit("news", value, { room });
        });
        sio.on("ask", async (sid: string) => {
          return await sio.call("question", { n: 1, bin: Buffer.from([1, 2, 3]) }, { to: sid, timeout: 10_000 });
        });
        sio.on("kick", async (sid: string) => void (await sio.disconnect(sid)));
        sio.on("connect", () => undefined, "/admin");
        sio.on("where", (sid: string) => ({ ns: "/admin", sid }), "/admin");
      });
    });

    after(async () => {
      await ts.close();
    });

    const open = (namespace = "/", auth?: object) => ts.connect(mode, namespace, { parser, ...(auth ? { auth } : {}) } as object);

    test("events and acks both ways, auth, binary both ways with no placeholders", async () => {
      const client = await open("/", { token: "good", n: 7 });
      assert.deepEqual(auths.at(-1), { token: "good", n: 7 });
      assert.deepEqual(await emitAck(client, "echo", "hello"), ["hello"]);
      assert.deepEqual(await emitAck(client, "echo", { a: [1, { b: null }], c: true, d: 1.5, e: 2 ** 40 }), [{ a: [1, { b: null }], c: true, d: 1.5, e: 2 ** 40 }]);
      const [back] = await emitAck(client, "echo", { file: Buffer.from([0, 1, 255]), list: [Buffer.from("ab")] });
      const sent = received.at(-1)![0] as { file: unknown; list: unknown[] };
      assert.ok(sent.file instanceof Uint8Array, "the handler receives the binary as bytes");
      assert.deepEqual(bytesOf(sent.file), [0, 1, 255]);
      const echoed = back as { file: unknown; list: unknown[] };
      assert.deepEqual(bytesOf(echoed.file), [0, 1, 255]);
      assert.deepEqual(bytesOf(echoed.list[0]), [97, 98]);
      // The server calls the client and gets its acknowledgement (with binary) back.
      client.on("question", (q: { n: number; bin: unknown }, reply: (answer: unknown) => void) => reply({ got: q.n, bin: q.bin }));
      const [answer] = await emitAck(client, "ask");
      const a = answer as { got: number; bin: unknown };
      assert.equal(a.got, 1);
      assert.deepEqual(bytesOf(a.bin), [1, 2, 3]);
      client.disconnect();
    });

    test("namespaces, rooms and a broadcast encoded once for three clients", async () => {
      const admin = await open("/admin");
      assert.deepEqual(await emitAck(admin, "where"), [{ ns: "/admin", sid: admin.id }]);
      const clients = await Promise.all([open(), open(), open()]);
      const inboxes = clients.map((c) => new Inbox(c));
      for (const c of clients) assert.deepEqual(await emitAck(c, "join", "room1"), ["joined"]);
      const outsider = new Inbox(admin);
      const before = encodedCount(ts.sio);
      await ts.sio.emit("news", { big: Buffer.alloc(1000, 5) }, { room: "room1" });
      assert.equal(encodedCount(ts.sio), before + 1, "one encode for the three recipients");
      for (const inbox of inboxes) {
        const [value] = await inbox.next("news");
        assert.equal(bytesOf((value as { big: unknown }).big).length, 1000);
      }
      await emitAck(clients[0]!, "shout", "room1", "from a client");
      for (const inbox of inboxes) assert.deepEqual(await inbox.next("news"), ["from a client"]);
      assert.equal(outsider.count("news"), 0);
      for (const c of [admin, ...clients]) c.disconnect();
    });

    test("a refused connect gets CONNECT_ERROR with its data", async () => {
      const client = ts.client(mode, "/", { parser, auth: { token: "bad" } } as object);
      const err = await new Promise<Error & { data?: unknown }>((resolve) => client.once("connect_error", resolve));
      assert.equal(err.message, "not allowed");
      const data = err.data as { code: number; bytes: unknown };
      assert.equal(data.code, 42);
      assert.deepEqual(bytesOf(data.bytes), [9, 8]);
      client.disconnect();
    });

    test("server disconnect reaches the client", async () => {
      const client = await open();
      const reason = new Promise<string>((resolve) => client.once("disconnect", resolve));
      client.emit("kick");
      assert.equal(await reason, "io server disconnect");
    });

    test("malformed msgpack closes that client with parse error; others are unaffected", async () => {
      const bad = await open();
      const good = await open();
      const sid = bad.id!;
      const engine = (bad.io as unknown as { engine: { write(data: unknown): void } }).engine;
      engine.write(Buffer.from([0x92, 0xc1])); // truncated array with a never-used byte
      await until(() => reasons.get(sid) !== undefined, 10_000, "the malformed client's disconnect");
      assert.equal(reasons.get(sid), "parse error");
      assert.deepEqual(await emitAck(good, "echo", "still here"), ["still here"]);
      good.disconnect();
    });
  });
}

test("parser takes a name; socket.io's habit of passing the parser module is refused clearly", () => {
  assert.throws(() => new Server({ parser: parser as "msgpack" }), /parser must be "json" or "msgpack" \(a name, not a parser module\), got an object/);
});
