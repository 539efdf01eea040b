// End-to-end: `sio.disconnect(sid, namespace, { close: true })` closes a client's whole connection
// (socket.io's `socket.disconnect(true)`): every namespace of the connection receives DISCONNECT
// ("io server disconnect", so the client does not reconnect), the server's disconnect handlers run
// for each, then the Engine.IO session ends. Without `close`, only the one namespace leaves.
// Official client v4 with reconnection on, over every transport mode. The same across servers of a
// cluster and through the emitter: test/support/cluster-scenarios.ts.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { io, Manager, type Socket as ClientSocket } from "socket.io-client";
import { MODES, TRANSPORT_MODES, sleep, startServer, waitConnect, waitUpgrade, type TestServer, type TransportMode } from "../support/harness.js";
import { Inbox, within } from "./_util.js";

const WAIT = 10_000;
const RECONNECTION_DELAY = 50;

interface Connection {
  root: ClientSocket;
  chat: ClientSocket;
  /** The Engine.IO session id. */
  engineId: string;
  /** The manager's reconnection attempts (none expected). */
  attempts: number[];
  /** Each socket's disconnect reasons. */
  reasons: { root: string[]; chat: string[] };
}

for (const mode of MODES) {
  describe(`disconnect(sid, namespace, { close }) over ${mode}`, () => {
    let ts: TestServer;
    const disconnects: Array<{ namespace: string; sid: string; reason: string }> = [];
    /** Every client socket opened, closed with the suite (a failed close may leave one reconnecting). */
    const opened: ClientSocket[] = [];

    before(async () => {
      // A short heartbeat bounds how long a session whose close went wrong lingers (on either side).
      ts = await startServer({ pingInterval: 2000, pingTimeout: 2000 }, (sio) => {
        sio.on("disconnect", (sid: string, reason: string) => void disconnects.push({ namespace: "/", sid, reason }));
        sio.on("disconnect", (sid: string, reason: string) => void disconnects.push({ namespace: "/chat", sid, reason }), "/chat");
      });
    });

    after(async () => {
      for (const socket of opened) socket.disconnect();
      await ts.close();
    });

    /** One connection (one Manager, reconnection on) on "/" and "/chat". */
    async function open(transportMode: TransportMode): Promise<Connection> {
      const root = io(ts.url, { ...TRANSPORT_MODES[transportMode], forceNew: true, reconnection: true, reconnectionDelay: RECONNECTION_DELAY, reconnectionDelayMax: RECONNECTION_DELAY });
      const chat = root.io.socket("/chat");
      opened.push(root, chat);
      const attempts: number[] = [];
      root.io.on("reconnect_attempt", (n: number) => void attempts.push(n));
      const reasons = { root: [] as string[], chat: [] as string[] };
      root.on("disconnect", (reason) => void reasons.root.push(reason));
      chat.on("disconnect", (reason) => void reasons.chat.push(reason));
      await within(Promise.all([waitConnect(root), waitConnect(chat)]), WAIT, "connect");
      if (transportMode === "polling+upgrade") {
        await within(waitUpgrade(root), WAIT, "upgrade");
        // The client reports the upgrade once it has sent the upgrade packet; wait until the server has read it.
        await until(() => ts.sio.transport(root.id!) === "websocket", "the server-side upgrade");
      }
      const connection = { root, chat, engineId: root.io.engine.id, attempts, reasons };
      return connection;
    }

    async function until(check: () => boolean, what: string): Promise<void> {
      const start = Date.now();
      while (!check()) {
        if (Date.now() - start > WAIT) throw new Error(`timed out waiting for ${what}`);
        await sleep(5);
      }
    }

    const hasSession = (engineId: string) => ts.sio.engine.sessions.get(engineId) !== undefined;
    const handlerCalls = (sid: string) => disconnects.filter((d) => d.sid === sid);

    for (const via of ["/", "/chat"] as const) {
      test(`{ close: true } given the ${via} sid: DISCONNECT on both namespaces, both handlers, the session ends, no reconnection`, async () => {
        const c = await open(mode);
        const [rootSid, chatSid] = [c.root.id!, c.chat.id!];
        assert.ok(hasSession(c.engineId));
        const closed = new Promise<string>((resolve) => c.root.io.engine.once("close", (reason: string) => resolve(reason)));

        await ts.sio.disconnect(via === "/" ? rootSid : chatSid, via, { close: true });

        await within(closed, WAIT, "the client's Engine.IO close");
        await until(() => c.reasons.root.length > 0 && c.reasons.chat.length > 0, "both disconnect events");
        // Both namespaces heard the server's DISCONNECT before the transport went: a transport
        // close first would read "transport close" and make the manager reconnect.
        assert.deepEqual(c.reasons, { root: ["io server disconnect"], chat: ["io server disconnect"] });
        assert.deepEqual(handlerCalls(rootSid), [{ namespace: "/", sid: rootSid, reason: "server disconnect" }]);
        assert.deepEqual(handlerCalls(chatSid), [{ namespace: "/chat", sid: chatSid, reason: "server disconnect" }]);
        await until(() => !hasSession(c.engineId), "the server's session to end");
        assert.ok(!ts.sio.participants("/").includes(rootSid));
        assert.ok(!ts.sio.participants("/chat").includes(chatSid));

        // Longer than the reconnection delay: no attempt, so no new session either.
        await sleep(RECONNECTION_DELAY * 6);
        assert.deepEqual(c.attempts, []);
        assert.equal(c.root.connected || c.chat.connected, false);
      });
    }

    if (mode === "polling+upgrade") {
      test("{ close: true } while the upgrade is in flight (probe answered, UPGRADE not yet read): the DISCONNECTs still arrive, no reconnection", async () => {
        // The client probes only once both namespaces are connected; the close is issued when the
        // probe has been answered ("upgrading"), before the client sends UPGRADE (it first waits for
        // its paused poll to return). The reference server completes such an upgrade, sends what is
        // queued over it, then closes.
        const manager = new Manager(ts.url, { ...TRANSPORT_MODES[mode], autoConnect: false, reconnection: true, reconnectionDelay: RECONNECTION_DELAY, reconnectionDelayMax: RECONNECTION_DELAY });
        manager.open();
        const engine = manager.engine as unknown as { _probe(name: string): void; once(event: string, fn: (...args: unknown[]) => void): void; id: string };
        const probe = engine._probe;
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        engine._probe = function (this: unknown, name: string) {
          void gate.then(() => probe.call(this, name));
        };
        const root = manager.socket("/");
        const chat = manager.socket("/chat");
        const attempts: number[] = [];
        manager.on("reconnect_attempt", (n: number) => void attempts.push(n));
        const reasons = { root: [] as string[], chat: [] as string[] };
        root.on("disconnect", (reason) => void reasons.root.push(reason));
        chat.on("disconnect", (reason) => void reasons.chat.push(reason));
        root.connect();
        chat.connect();
        opened.push(root, chat);
        await within(Promise.all([waitConnect(root), waitConnect(chat)]), WAIT, "connect");
        const [rootSid, chatSid, engineId] = [root.id!, chat.id!, engine.id];
        let disconnecting: Promise<void> | undefined;
        const upgrading = new Promise<void>((resolve) =>
          engine.once("upgrading", () => {
            disconnecting = ts.sio.disconnect(rootSid, "/", { close: true });
            resolve();
          }),
        );
        release();
        await within(upgrading, WAIT, "the probe's answer");
        await within(disconnecting!, WAIT, "the disconnect");

        await until(() => reasons.root.length > 0 && reasons.chat.length > 0, "both disconnect events");
        assert.deepEqual(reasons, { root: ["io server disconnect"], chat: ["io server disconnect"] });
        assert.deepEqual(handlerCalls(rootSid), [{ namespace: "/", sid: rootSid, reason: "server disconnect" }]);
        assert.deepEqual(handlerCalls(chatSid), [{ namespace: "/chat", sid: chatSid, reason: "server disconnect" }]);
        await until(() => !hasSession(engineId), "the server's session to end");
        await sleep(RECONNECTION_DELAY * 6);
        assert.deepEqual(attempts, []);
      });
    }

    test("without close only that namespace leaves: the other keeps the connection and receives", async () => {
      const c = await open(mode);
      const [rootSid, chatSid] = [c.root.id!, c.chat.id!];
      const inbox = new Inbox(c.chat);

      await ts.sio.disconnect(rootSid, "/");

      await until(() => c.reasons.root.length > 0, "the / disconnect");
      assert.deepEqual(c.reasons.root, ["io server disconnect"]);
      assert.deepEqual(handlerCalls(rootSid), [{ namespace: "/", sid: rootSid, reason: "server disconnect" }]);
      await ts.sio.emit("still-here", chatSid, { to: chatSid, namespace: "/chat" });
      assert.deepEqual(await within(inbox.next("still-here"), WAIT, "an event on /chat"), [chatSid]);
      assert.equal(c.chat.connected, true);
      assert.deepEqual(c.reasons.chat, []);
      assert.deepEqual(handlerCalls(chatSid), []);
      assert.ok(hasSession(c.engineId), "the session stays");
      assert.ok(ts.sio.participants("/chat").includes(chatSid));
      assert.ok(!ts.sio.participants("/").includes(rootSid));
      assert.deepEqual(c.attempts, []);

      // Then close given a namespace the sid has already left: nothing happens (the sid is gone there).
      await ts.sio.disconnect(rootSid, "/", { close: true });
      await ts.sio.emit("still-here", "again", { to: chatSid, namespace: "/chat" });
      assert.deepEqual(await within(inbox.next("still-here"), WAIT, "an event on /chat"), ["again"]);
      assert.ok(hasSession(c.engineId));
      assert.deepEqual(c.reasons.chat, []);
    });
  });
}
