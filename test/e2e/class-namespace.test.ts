// End-to-end: class-based namespaces — a Namespace subclass with `@on("event name")` decorated
// methods (standard decorators, names with spaces) and python-style `on_connect`/`on_disconnect`/
// `on_<event>` methods, whose `this.emit`/`this.enterRoom`... are scoped to its namespace.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Socket as ClientSocket } from "socket.io-client";
import { MODES, startServer, until, type TestServer } from "../support/harness.js";
import { Namespace, args, on, type DisconnectReason, type Environ } from "../../src/index.js";
import { emitAck, Inbox } from "./_util.js";

class ChatNamespace extends Namespace {
  readonly joined: Array<{ sid: string; auth: unknown; path: string }> = [];
  readonly left: Array<{ sid: string; reason: DisconnectReason }> = [];

  async on_connect(sid: string, environ: Environ, auth: unknown): Promise<boolean> {
    if ((auth as { deny?: boolean } | null)?.deny === true) return false;
    this.joined.push({ sid, auth, path: environ.path });
    await this.enterRoom(sid, "everyone");
    return true;
  }

  on_disconnect(sid: string, reason: DisconnectReason): void {
    this.left.push({ sid, reason });
  }

  on_ping(_sid: string, n: number) {
    return args("pong", n + 1);
  }

  on_whoami(sid: string) {
    return { sid, namespace: this.namespace, sameServer: this.server === registeredOn };
  }

  @on("chat message")
  async chatMessage(sid: string, text: string): Promise<string> {
    await this.emit("chat message", { from: sid, text }, { room: "everyone", skipSid: sid });
    await this.emit("reply", `got ${text}`, { to: sid });
    return "ok";
  }

  @on("join room")
  async joinRoom(sid: string, room: string): Promise<string[]> {
    await this.enterRoom(sid, room);
    return this.rooms(sid);
  }

  @on("leave room")
  async leaveRoomHandler(sid: string, room: string): Promise<string[]> {
    await this.leaveRoom(sid, room);
    return this.rooms(sid);
  }

  @on("shout")
  async shout(_sid: string, room: string, text: string): Promise<void> {
    await this.emit("shout", text, { room });
  }

  @on("remember me")
  async remember(sid: string, value: string): Promise<unknown> {
    await this.session<{ value?: string }>(sid, (s) => {
      s.value = value;
    });
    return this.getSession(sid);
  }
}

/** A subclass: inherits the decorated handlers, overrides a python-style one. */
class LoudChatNamespace extends ChatNamespace {
  override on_ping(_sid: string, n: number) {
    return args("PONG", n * 10);
  }
}

let registeredOn: unknown = null;

for (const mode of MODES) {
  describe(`class-based namespace over ${mode}`, () => {
    let ts: TestServer;
    let chat: ChatNamespace;
    let loud: LoudChatNamespace;
    let marker = 0;

    async function flush(...inboxes: Array<[Inbox, string]>): Promise<void> {
      const value = ++marker;
      const waits = inboxes.map(([inbox]) => inbox.marker("marker", value));
      for (const nsp of new Set(inboxes.map(([, nsp]) => nsp))) await ts.sio.emit("marker", value, { namespace: nsp });
      await Promise.all(waits);
    }

    before(async () => {
      ts = await startServer({}, (sio) => {
        registeredOn = sio;
        // Registered with server.on before the class: adopted unless the class has its own.
        sio.on("legacy", (sid: string) => `legacy:${sid}`, "/chat");
        sio.on("ping", () => "server.on ping (shadowed)", "/chat");
        chat = new ChatNamespace("/chat");
        loud = new LoudChatNamespace("/loud");
        sio.registerNamespace(chat);
        sio.registerNamespace(loud);
      });
    });

    after(async () => {
      await ts.close();
    });

    test("on_connect receives (sid, environ, auth) and can refuse; on_disconnect receives the reason", async () => {
      const c = await ts.connect(mode, "/chat", { auth: { name: "ann" } });
      const sid = c.id!;
      assert.deepEqual(
        chat.joined.filter((j) => j.sid === sid),
        [{ sid, auth: { name: "ann" }, path: "/socket.io/" }],
      );
      assert.deepEqual(ts.sio.rooms(sid, "/chat"), [sid, "everyone"]);
      assert.deepEqual(chat.rooms(sid), [sid, "everyone"]);

      const refused = ts.client(mode, "/chat", { auth: { deny: true } });
      const err = await new Promise<Error>((resolve) => refused.once("connect_error", resolve));
      assert.equal(err.message, "Connection rejected by server");

      c.disconnect();
      await until(() => chat.left.some((l) => l.sid === sid), 5000, "on_disconnect");
      assert.deepEqual(
        chat.left.filter((l) => l.sid === sid),
        [{ sid, reason: "client disconnect" }],
      );
    });

    test('@on("chat message") handles an event name with a space; this.emit is scoped to the namespace', async () => {
      const a = await ts.connect(mode, "/chat");
      const b = await ts.connect(mode, "/chat");
      const root: ClientSocket = await ts.connect(mode, "/");
      const [ia, ib, ir] = [new Inbox(a), new Inbox(b), new Inbox(root)];
      assert.deepEqual(await emitAck(a, "chat message", "hi all"), ["ok"]);
      await flush([ia, "/chat"], [ib, "/chat"], [ir, "/"]);
      assert.deepEqual(ib.all("chat message"), [[{ from: a.id, text: "hi all" }]]);
      assert.deepEqual(ia.all("chat message"), [], "skipSid: the sender does not get its own message");
      assert.deepEqual(ia.all("reply"), [["got hi all"]]);
      assert.deepEqual(ib.all("reply"), []);
      assert.deepEqual(
        ir.events.map((e) => e.event),
        ["marker"],
        "a client of / receives nothing from /chat",
      );
    });

    test("python-style on_<event> methods; handlers registered with server.on are adopted, the class's win", async () => {
      const c = await ts.connect(mode, "/chat");
      assert.deepEqual(await emitAck(c, "ping", 1), ["pong", 2]);
      assert.deepEqual(await emitAck(c, "whoami"), [{ sid: c.id, namespace: "/chat", sameServer: true }]);
      assert.deepEqual(await emitAck(c, "legacy"), [`legacy:${c.id}`]);
    });

    test("this.enterRoom / leaveRoom / rooms / emit to a room stay in the namespace", async () => {
      const a = await ts.connect(mode, "/chat");
      const b = await ts.connect(mode, "/chat");
      const root = await ts.connect(mode, "/");
      // A client of "/" in a room of the same name must not receive /chat's room emits.
      await ts.sio.enterRoom(root.id!, "room1");
      const [ia, ib, ir] = [new Inbox(a), new Inbox(b), new Inbox(root)];
      assert.deepEqual(await emitAck(a, "join room", "room1"), [[a.id, "everyone", "room1"]]);
      assert.deepEqual(ts.sio.participants("/chat", "room1"), [a.id]);
      await emitAck(b, "shout", "room1", "HELLO");
      await flush([ia, "/chat"], [ib, "/chat"], [ir, "/"]);
      assert.deepEqual(ia.all("shout"), [["HELLO"]]);
      assert.deepEqual(ib.all("shout"), []);
      assert.deepEqual(ir.all("shout"), []);
      assert.deepEqual(await emitAck(a, "leave room", "room1"), [[a.id, "everyone"]]);
      assert.deepEqual(ts.sio.participants("/", "room1"), [root.id]);
    });

    test("this.session / this.getSession use the namespace's sessions", async () => {
      const c = await ts.connect(mode, "/chat");
      assert.deepEqual(await emitAck(c, "remember me", "v1"), [{ value: "v1" }]);
      assert.deepEqual(ts.sio.getSession(c.id!, "/chat"), { value: "v1" });
    });

    test("a subclass inherits decorated handlers and overrides python-style ones", async () => {
      const c = await ts.connect(mode, "/loud");
      const other = await ts.connect(mode, "/loud");
      const io = new Inbox(other);
      assert.deepEqual(await emitAck(c, "ping", 3), ["PONG", 30]);
      assert.deepEqual(await emitAck(c, "chat message", "inherited"), ["ok"]);
      assert.deepEqual(await io.next("chat message"), [{ from: c.id, text: "inherited" }]);
      assert.ok(loud.joined.some((j) => j.sid === c.id));
      assert.ok(!chat.joined.some((j) => j.sid === c.id), "each instance has its own state");
    });
  });
}
