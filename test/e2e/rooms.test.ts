// End-to-end: who receives an emit — everyone, one sid, rooms (union without duplicates), skipSid,
// the `room` alias, namespaces — and room management (enterRoom/leaveRoom/closeRoom, rooms(),
// participants(), sio.of() scoped operations, send()). Every receiving client must get exactly
// one copy: counts are taken after a final marker event has reached every client.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Socket as ClientSocket } from "socket.io-client";
import { MODES, startServer, until, type TestServer } from "../support/harness.js";
import { args, type EmitOptions } from "../../src/index.js";
import { Inbox } from "./_util.js";

interface Peer {
  socket: ClientSocket;
  sid: string;
  inbox: Inbox;
}

for (const mode of MODES) {
  describe(`rooms over ${mode}`, () => {
    let ts: TestServer;
    let markers = 0;
    /** Four clients on "/" and two on "/ns", fresh for each test. */
    let p1: Peer, p2: Peer, p3: Peer, p4: Peer, n1: Peer, n2: Peer;
    let all: Peer[] = [];

    async function peer(namespace = "/"): Promise<Peer> {
      const socket = await ts.connect(mode, namespace);
      return { socket, sid: socket.id!, inbox: new Inbox(socket) };
    }

    /** Sends a marker to every peer (in both namespaces) and waits until all have it. */
    async function flush(): Promise<void> {
      const value = ++markers;
      const waits = all.map((p) => p.inbox.marker("marker", value));
      await ts.sio.emit("marker", value);
      await ts.sio.emit("marker", value, { namespace: "/ns" });
      await Promise.all(waits);
    }

    /** Emits `event` with options, flushes, and returns how many copies each peer got. */
    async function deliver(options: EmitOptions, event = "ev"): Promise<Map<Peer, number>> {
      for (const p of all) p.inbox.clear();
      await ts.sio.emit(event, "payload", options);
      await flush();
      return new Map(all.map((p) => [p, p.inbox.count(event)]));
    }

    /** Asserts that exactly `receivers` got one copy each and nobody else got any. */
    function expectReceivers(counts: Map<Peer, number>, receivers: Peer[]): void {
      const names = new Map<Peer, string>([
        [p1, "p1"],
        [p2, "p2"],
        [p3, "p3"],
        [p4, "p4"],
        [n1, "n1"],
        [n2, "n2"],
      ]);
      const actual = Object.fromEntries(all.map((p) => [names.get(p), counts.get(p)]));
      const expected = Object.fromEntries(all.map((p) => [names.get(p), receivers.includes(p) ? 1 : 0]));
      assert.deepEqual(actual, expected);
    }

    before(async () => {
      ts = await startServer({}, (sio) => {
        sio.on("join", (sid: string, room: string) => sio.enterRoom(sid, room).then(() => sio.rooms(sid)));
        sio.on("connect", () => {}, "/ns");
      });
    });

    after(async () => {
      await ts.close();
    });

    async function freshPeers(): Promise<void> {
      for (const p of all) p.socket.disconnect();
      [p1, p2, p3, p4, n1, n2] = await Promise.all([peer(), peer(), peer(), peer(), peer("/ns"), peer("/ns")]);
      all = [p1, p2, p3, p4, n1, n2];
      await until(() => ts.sio.participants("/").length === 4 && ts.sio.participants("/ns").length === 2, 5000, "only fresh peers");
    }

    test("emit without a target reaches everyone in the namespace, once", async () => {
      await freshPeers();
      expectReceivers(await deliver({}), [p1, p2, p3, p4]);
      expectReceivers(await deliver({ namespace: "/ns" }), [n1, n2]);
    });

    test("emit to one sid", async () => {
      await freshPeers();
      expectReceivers(await deliver({ to: p2.sid }), [p2]);
      expectReceivers(await deliver({ to: [p3.sid] }), [p3]);
      expectReceivers(await deliver({ to: n1.sid, namespace: "/ns" }), [n1]);
      // A sid of another namespace reaches nobody.
      expectReceivers(await deliver({ to: n1.sid }), []);
      expectReceivers(await deliver({ to: p1.sid, namespace: "/ns" }), []);
    });

    test("emit to a room, to several rooms (union, no duplicates) and with the room alias", async () => {
      await freshPeers();
      await ts.sio.enterRoom(p1.sid, "r1");
      await ts.sio.enterRoom(p2.sid, "r1");
      await ts.sio.enterRoom(p2.sid, "r2");
      await ts.sio.enterRoom(p3.sid, "r2");
      expectReceivers(await deliver({ to: "r1" }), [p1, p2]);
      expectReceivers(await deliver({ room: "r2" }), [p2, p3]);
      expectReceivers(await deliver({ to: ["r1", "r2"] }), [p1, p2, p3]);
      expectReceivers(await deliver({ room: ["r1", "r2", "r1"] }), [p1, p2, p3]);
      expectReceivers(await deliver({ to: "r1", room: "r2" }), [p1, p2, p3]);
      // Rooms and sids mixed; a sid that is also in a listed room gets one copy.
      expectReceivers(await deliver({ to: ["r1", p4.sid, p1.sid] }), [p1, p2, p4]);
      expectReceivers(await deliver({ to: "no-such-room" }), []);
    });

    test("skipSid: one and several, with and without targets", async () => {
      await freshPeers();
      await ts.sio.enterRoom(p1.sid, "r1");
      await ts.sio.enterRoom(p2.sid, "r1");
      await ts.sio.enterRoom(p3.sid, "r2");
      expectReceivers(await deliver({ skipSid: p1.sid }), [p2, p3, p4]);
      expectReceivers(await deliver({ skipSid: [p1.sid, p4.sid] }), [p2, p3]);
      expectReceivers(await deliver({ to: "r1", skipSid: p1.sid }), [p2]);
      expectReceivers(await deliver({ to: ["r1", "r2"], skipSid: [p2.sid, p3.sid] }), [p1]);
      expectReceivers(await deliver({ room: "r1", skipSid: [p1.sid, p2.sid] }), []);
      expectReceivers(await deliver({ namespace: "/ns", skipSid: n2.sid }), [n1]);
    });

    test("rooms are per namespace", async () => {
      await freshPeers();
      await ts.sio.enterRoom(p1.sid, "shared");
      await ts.sio.enterRoom(n2.sid, "shared", "/ns");
      expectReceivers(await deliver({ to: "shared" }), [p1]);
      expectReceivers(await deliver({ to: "shared", namespace: "/ns" }), [n2]);
      // Entering a room of another namespace's sid does nothing.
      await ts.sio.enterRoom(n1.sid, "shared");
      expectReceivers(await deliver({ to: "shared" }), [p1]);
      assert.deepEqual(ts.sio.participants("/", "shared"), [p1.sid]);
      assert.deepEqual(ts.sio.participants("/ns", "shared"), [n2.sid]);
    });

    test("enterRoom, leaveRoom, closeRoom, and rooms() listing the sid first", async () => {
      await freshPeers();
      assert.deepEqual(ts.sio.rooms(p1.sid), [p1.sid]);
      await ts.sio.enterRoom(p1.sid, "b");
      await ts.sio.enterRoom(p1.sid, "a");
      await ts.sio.enterRoom(p1.sid, "a"); // twice: no duplicate
      await ts.sio.enterRoom(p2.sid, "a");
      assert.deepEqual(ts.sio.rooms(p1.sid), [p1.sid, "b", "a"]);
      assert.deepEqual(ts.sio.rooms(p2.sid), [p2.sid, "a"]);
      assert.deepEqual(ts.sio.participants("/", "a").sort(), [p1.sid, p2.sid].sort());
      expectReceivers(await deliver({ to: "a" }), [p1, p2]);

      await ts.sio.leaveRoom(p1.sid, "a");
      assert.deepEqual(ts.sio.rooms(p1.sid), [p1.sid, "b"]);
      expectReceivers(await deliver({ to: "a" }), [p2]);
      await ts.sio.leaveRoom(p1.sid, "not-in-it");
      assert.deepEqual(ts.sio.rooms(p1.sid), [p1.sid, "b"]);

      await ts.sio.enterRoom(p3.sid, "b");
      await ts.sio.closeRoom("b");
      assert.deepEqual(ts.sio.rooms(p1.sid), [p1.sid]);
      assert.deepEqual(ts.sio.rooms(p3.sid), [p3.sid]);
      assert.deepEqual(ts.sio.participants("/", "b"), []);
      expectReceivers(await deliver({ to: "b" }), []);
      // The sid's own room survives everything.
      expectReceivers(await deliver({ to: p1.sid }), [p1]);
      assert.deepEqual(ts.sio.rooms("unknown-sid"), []);
    });

    test("a client entering a room from its own event handler; leaving on disconnect", async () => {
      await freshPeers();
      const ack = await p4.socket.emitWithAck("join", "club");
      assert.deepEqual(ack, [p4.sid, "club"]);
      expectReceivers(await deliver({ to: "club" }), [p4]);
      p4.socket.disconnect();
      all = [p1, p2, p3, n1, n2];
      await until(() => !ts.sio.participants("/").includes(p4.sid), 5000, "p4 gone");
      assert.deepEqual(ts.sio.participants("/", "club"), []);
      assert.deepEqual(ts.sio.rooms(p4.sid), []);
      expectReceivers(await deliver({ to: "club" }), []);
      all = [p1, p2, p3, p4, n1, n2];
    });

    test("sio.of(namespace) scopes emit, send, rooms and participants", async () => {
      await freshPeers();
      const ns = ts.sio.of("/ns");
      await ns.enterRoom(n1.sid, "x");
      assert.deepEqual(ns.rooms(n1.sid), [n1.sid, "x"]);
      assert.deepEqual(ts.sio.rooms(n1.sid, "/ns"), [n1.sid, "x"]);
      assert.deepEqual(ns.participants("x"), [n1.sid]);
      assert.deepEqual(ns.participants().sort(), [n1.sid, n2.sid].sort());

      for (const p of all) p.inbox.clear();
      await ns.emit("scoped", "to x", { to: "x" });
      await ns.emit("scoped", "to all but n1", { skipSid: n1.sid });
      await ns.emit("scoped", args("several", 2), { room: [n1.sid, n2.sid] });
      await ns.send({ text: "a message" });
      await ns.send("to n2", { to: n2.sid });
      await flush();
      assert.deepEqual(n1.inbox.all("scoped"), [["to x"], ["several", 2]]);
      assert.deepEqual(n2.inbox.all("scoped"), [["to all but n1"], ["several", 2]]);
      assert.deepEqual(n1.inbox.all("message"), [[{ text: "a message" }]]);
      assert.deepEqual(n2.inbox.all("message"), [[{ text: "a message" }], ["to n2"]]);
      for (const p of [p1, p2, p3, p4]) assert.deepEqual(p.inbox.events.map((e) => e.event), ["marker"]);

      await ns.leaveRoom(n1.sid, "x");
      assert.deepEqual(ns.rooms(n1.sid), [n1.sid]);
      await ns.enterRoom(n2.sid, "y");
      await ns.closeRoom("y");
      assert.deepEqual(ns.participants("y"), []);

      const reason = new Promise<string>((resolve) => n2.socket.once("disconnect", resolve));
      await ns.disconnect(n2.sid);
      assert.equal(await reason, "io server disconnect");
      assert.deepEqual(ns.participants(), [n1.sid]);
      all = [p1, p2, p3, p4, n1];
      for (const p of all) p.inbox.clear();
      await ns.emit("scoped", "after");
      await flush();
      assert.deepEqual(n1.inbox.all("scoped"), [["after"]]);
      all = [p1, p2, p3, p4, n1, n2];
    });

    test('send() delivers a "message" event with the same addressing as emit', async () => {
      await freshPeers();
      await ts.sio.enterRoom(p2.sid, "r");
      for (const p of all) p.inbox.clear();
      await ts.sio.send("hello all");
      await ts.sio.send({ n: 1 }, { to: "r" });
      await ts.sio.send(args("two", "args"), { to: p3.sid });
      await ts.sio.send("ns only", { namespace: "/ns", skipSid: n1.sid });
      await flush();
      assert.deepEqual(p1.inbox.all("message"), [["hello all"]]);
      assert.deepEqual(p2.inbox.all("message"), [["hello all"], [{ n: 1 }]]);
      assert.deepEqual(p3.inbox.all("message"), [["hello all"], ["two", "args"]]);
      assert.deepEqual(p4.inbox.all("message"), [["hello all"]]);
      assert.deepEqual(n1.inbox.all("message"), []);
      assert.deepEqual(n2.inbox.all("message"), [["ns only"]]);
    });

    test("a room emit with a callback collects one ack per member", async () => {
      await freshPeers();
      for (const p of all) p.socket.on("poll", (q: string, cb: (a: string) => void) => cb(`${q}:${p.sid}`));
      await ts.sio.enterRoom(p1.sid, "voters");
      await ts.sio.enterRoom(p3.sid, "voters");
      const answers: unknown[][] = [];
      await ts.sio.emit("poll", "q1", { to: "voters", callback: (...a: unknown[]) => void answers.push(a) });
      await until(() => answers.length >= 2, 5000, "two answers");
      await flush();
      assert.deepEqual(answers.map((a) => a[0]).sort(), [`q1:${p1.sid}`, `q1:${p3.sid}`].sort());
      assert.equal(answers.length, 2);
    });
  });
}
