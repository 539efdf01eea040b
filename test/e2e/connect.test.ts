// End-to-end: namespace connection — refusals, unknown namespaces, the `namespaces` and
// `alwaysConnect` options, connect handlers that emit and join rooms, several namespaces
// multiplexed on one connection, and `connectTimeout` — over every transport mode.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { io, Manager, type Socket as ClientSocket } from "socket.io-client";
import { MODES, TRANSPORT_MODES, startServer, deferred, until, sleep, waitConnect, waitUpgrade, type TestServer } from "../support/harness.js";
import { ConnectionRefusedError } from "../../src/index.js";
import { captureLogger, emitAck, Inbox, within } from "./_util.js";

type ConnectError = Error & { data?: unknown };

function connectError(socket: ClientSocket): Promise<ConnectError> {
  return new Promise((resolve, reject) => {
    socket.once("connect_error", (err: ConnectError) => resolve(err));
    socket.once("connect", () => reject(new Error("connected, but a connect_error was expected")));
  });
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

for (const mode of MODES) {
  describe(`connect handlers over ${mode}`, () => {
    let ts: TestServer;
    const log = captureLogger();
    const disconnected: string[] = [];
    const welcomeSids: string[] = [];
    const extraClients: ClientSocket[] = [];
    const pendingSids: string[] = [];
    const pendingGate = deferred<void>();

    before(async () => {
      ts = await startServer({ logger: log.logger }, (sio) => {
        sio.on("connect", () => false, "/reject");
        sio.on("disconnect", (sid) => void disconnected.push(sid), "/reject");
        sio.on("connect", async () => (await tick(), false), "/reject-async");
        sio.on(
          "connect",
          () => {
            throw new ConnectionRefusedError("nope", { code: 7 });
          },
          "/refuse",
        );
        sio.on(
          "connect",
          async () => {
            await tick();
            throw new ConnectionRefusedError("later");
          },
          "/refuse-async",
        );
        sio.on(
          "connect",
          () => {
            throw new TypeError("handler bug");
          },
          "/broken",
        );
        sio.on(
          "connect",
          async (sid) => {
            await tick();
            await sio.enterRoom(sid, "lobby", "/welcome");
            await sio.emit("welcome", { sid }, { to: sid, namespace: "/welcome" });
            await sio.emit("lobby-news", "hi lobby", { room: "lobby", namespace: "/welcome" });
            welcomeSids.push(sid);
          },
          "/welcome",
        );
        sio.on(
          "connect",
          async (sid) => {
            pendingSids.push(sid);
            await pendingGate.promise;
          },
          "/pending",
        );
        sio.on("hello", (sid: string) => `a:${sid}`, "/a");
        sio.on("hello", (sid: string) => `b:${sid}`, "/b");
      });
    });

    after(async () => {
      pendingGate.resolve();
      for (const c of extraClients) c.disconnect();
      await ts.close();
    });

    test('a handler returning false refuses: connect_error "Connection rejected by server"', async () => {
      for (const nsp of ["/reject", "/reject-async"]) {
        const c = ts.client(mode, nsp);
        const err = await connectError(c);
        assert.equal(err.message, "Connection rejected by server", nsp);
        assert.equal(err.data, undefined);
        assert.equal(c.connected, false);
        assert.deepEqual(ts.sio.participants(nsp), []);
      }
      assert.deepEqual(disconnected, [], "a refused client never gets a disconnect handler call");
    });

    test("ConnectionRefusedError carries its message and data to the client", async () => {
      const err = await connectError(ts.client(mode, "/refuse"));
      assert.equal(err.message, "nope");
      assert.deepEqual(err.data, { code: 7 });
      const later = await connectError(ts.client(mode, "/refuse-async"));
      assert.equal(later.message, "later");
      assert.equal(later.data, undefined);
    });

    test("a handler that throws another error refuses and is logged", async () => {
      const err = await connectError(ts.client(mode, "/broken"));
      assert.equal(err.message, "Connection rejected by server");
      const entry = log.entries.find((e) => e.level === "error" && e.fields?.namespace === "/broken");
      assert.ok(entry, "the failure is logged");
      assert.equal(entry.message, "connect handler failed; refusing the connection");
      assert.ok(entry.fields?.err instanceof TypeError);
    });

    test('an unknown namespace gets connect_error "Invalid namespace"', async () => {
      const err = await connectError(ts.client(mode, "/nope"));
      assert.equal(err.message, "Invalid namespace");
      assert.deepEqual(ts.sio.participants("/nope"), []);
    });

    test("an async connect handler can emit to the sid and enter a room before it returns", async () => {
      const c = ts.client(mode, "/welcome");
      const seen: Array<{ event: string; data: unknown; connected: boolean; id: string | undefined }> = [];
      c.on("welcome", (data: unknown) => seen.push({ event: "welcome", data, connected: c.connected, id: c.id }));
      c.on("lobby-news", (data: unknown) => seen.push({ event: "lobby-news", data, connected: c.connected, id: c.id }));
      await waitConnect(c);
      if (mode === "polling+upgrade") await waitUpgrade(c);
      const sid = c.id!;
      assert.ok(welcomeSids.includes(sid));
      await until(() => seen.length >= 2, 5000, "both events");
      assert.deepEqual(seen, [
        { event: "welcome", data: { sid }, connected: true, id: sid },
        { event: "lobby-news", data: "hi lobby", connected: true, id: sid },
      ]);
      assert.deepEqual(ts.sio.rooms(sid, "/welcome"), [sid, "lobby"]);
      assert.deepEqual(ts.sio.participants("/welcome", "lobby"), [sid]);
    });

    test('sio.disconnect(sid) while the connect handler is pending: the client gets "io server disconnect"', async () => {
      // python-socketio sends DISCONNECT in this case; the client must not be left waiting (here the
      // connection would otherwise only end with connectTimeout, 45 s by default).
      const c = ts.client(mode, "/pending");
      let connected = false;
      c.on("connect", () => (connected = true));
      await until(() => pendingSids.length === 1, 5000, "connect handler running");
      const sid = pendingSids[0]!;
      const reason = new Promise<string>((resolve) => c.once("disconnect", resolve));
      await ts.sio.disconnect(sid, "/pending");
      assert.equal(await within(reason, 3000, "disconnect"), "io server disconnect");
      assert.deepEqual(ts.sio.participants("/pending"), []);
      // The handler's late verdict changes nothing.
      pendingGate.resolve();
      await pendingGate.promise;
      await tick();
      assert.equal(connected, false);
      assert.equal(c.connected, false);
      assert.deepEqual(ts.sio.participants("/pending"), []);
    });

    test("several namespaces multiplexed on one connection (one Manager)", async () => {
      const opts = { ...TRANSPORT_MODES[mode], reconnection: false };
      const a = io(ts.url + "/a", opts);
      const b = io(ts.url + "/b", opts);
      const refused = io(ts.url + "/reject", opts);
      extraClients.push(a, b, refused);
      assert.equal(a.io, b.io, "io() without forceNew reuses the Manager");
      assert.equal(refused.io, a.io);
      const refusal = connectError(refused);
      await Promise.all([waitConnect(a), waitConnect(b)]);
      if (mode === "polling+upgrade") await waitUpgrade(a);
      assert.equal((await refusal).message, "Connection rejected by server");

      const sidA = a.id!;
      const sidB = b.id!;
      assert.notEqual(sidA, sidB);
      // Same Engine.IO connection on the server: the same environ object and transport.
      const environA = ts.sio.getEnviron(sidA, "/a");
      assert.ok(environA);
      assert.equal(ts.sio.getEnviron(sidB, "/b"), environA);
      const expected = mode === "polling" ? "polling" : "websocket";
      // The client reports the upgrade once it has sent the upgrade packet; the server may not have read it yet.
      await until(() => ts.sio.transport(sidA, "/a") === expected, 5000, `server-side transport ${expected}`);
      assert.equal(ts.sio.transport(sidA, "/a"), expected);
      assert.equal(ts.sio.transport(sidB, "/b"), expected);
      assert.deepEqual(ts.sio.participants("/a"), [sidA]);
      assert.deepEqual(ts.sio.participants("/b"), [sidB]);
      assert.deepEqual(ts.sio.rooms(sidA, "/b"), [], "sid A is unknown in /b");

      // Events stay in their namespace, both ways.
      assert.deepEqual(await emitAck(a, "hello"), [`a:${sidA}`]);
      assert.deepEqual(await emitAck(b, "hello"), [`b:${sidB}`]);
      const inboxA = new Inbox(a);
      const inboxB = new Inbox(b);
      await ts.sio.emit("news", "for a", { namespace: "/a" });
      await ts.sio.emit("news", "for b", { to: sidB, namespace: "/b" });
      await ts.sio.emit("news", "to sid A but in /b", { to: sidA, namespace: "/b" });
      await ts.sio.emit("end", 1, { namespace: "/a" });
      await ts.sio.emit("end", 1, { namespace: "/b" });
      await Promise.all([inboxA.marker("end", 1), inboxB.marker("end", 1)]);
      assert.deepEqual(inboxA.all("news"), [["for a"]]);
      assert.deepEqual(inboxB.all("news"), [["for b"]]);

      // Leaving one namespace keeps the other on the same connection.
      a.disconnect();
      await until(() => ts.sio.participants("/a").length === 0, 5000, "a gone");
      assert.equal(b.connected, true);
      assert.deepEqual(await emitAck(b, "hello"), [`b:${sidB}`]);
      b.disconnect();
    });
  });

  describe(`namespaces option over ${mode}`, () => {
    let any: TestServer;
    let listed: TestServer;

    before(async () => {
      any = await startServer({ namespaces: "*" });
      listed = await startServer({ namespaces: ["/listed"] });
    });

    after(async () => {
      await any.close();
      await listed.close();
    });

    test('namespaces: "*" accepts any namespace without handlers', async () => {
      const c = await any.connect(mode, "/whatever/you/like");
      const d = await any.connect(mode);
      assert.deepEqual(any.sio.participants("/whatever/you/like"), [c.id]);
      assert.deepEqual(any.sio.participants("/"), [d.id]);
      const inbox = new Inbox(c);
      await any.sio.emit("news", "hello", { namespace: "/whatever/you/like" });
      assert.deepEqual(await inbox.next("news"), ["hello"]);
    });

    test("namespaces: [list] accepts those only (python-socketio semantics: not even / without handlers)", async () => {
      const c = await listed.connect(mode, "/listed");
      assert.deepEqual(listed.sio.participants("/listed"), [c.id]);
      assert.equal((await connectError(listed.client(mode, "/other"))).message, "Invalid namespace");
      assert.equal((await connectError(listed.client(mode, "/"))).message, "Invalid namespace");
    });
  });

  describe(`alwaysConnect over ${mode}`, () => {
    let ts: TestServer;
    const gates = new Map<string, ReturnType<typeof deferred<unknown>>>();
    const started: string[] = [];
    const gate = (key: string) => {
      let d = gates.get(key);
      if (d === undefined) gates.set(key, (d = deferred<unknown>()));
      return d;
    };

    before(async () => {
      ts = await startServer({ alwaysConnect: true }, (sio) => {
        sio.on(
          "connect",
          (_sid, _environ, auth) => {
            const key = (auth as { key: string }).key;
            started.push(key);
            return gate(key).promise;
          },
          "/slow",
        );
        sio.on("echo", (_sid: string, x: unknown) => x, "/slow");
      });
    });

    after(async () => {
      for (const d of gates.values()) d.resolve(true);
      await ts.close();
    });

    for (const [verdict, refuse] of [
      ["returns false", (d: ReturnType<typeof deferred<unknown>>) => d.resolve(false)],
      ["throws ConnectionRefusedError", (d: ReturnType<typeof deferred<unknown>>) => d.reject(new ConnectionRefusedError("no", { x: 1 }))],
    ] as const) {
      test(`the client connects while the handler is pending; when it then ${verdict} the client is disconnected`, async () => {
        const key = `refuse-${verdict}`;
        const c = await ts.connect(mode, "/slow", { auth: { key } });
        assert.ok(started.includes(key), "the handler is running");
        const sid = c.id!;
        assert.deepEqual(ts.sio.participants("/slow").includes(sid), true);
        // Events are handled while the verdict is pending.
        assert.deepEqual(await emitAck(c, "echo", "early"), ["early"]);
        const reason = new Promise<string>((resolve) => c.once("disconnect", resolve));
        refuse(gate(key));
        assert.equal(await reason, "io server disconnect");
        assert.equal(c.connected, false);
        await until(() => !ts.sio.participants("/slow").includes(sid), 5000, "forgotten");
      });
    }

    test("when the pending handler accepts, the client stays connected", async () => {
      const c = await ts.connect(mode, "/slow", { auth: { key: "accept" } });
      gate("accept").resolve(undefined);
      await gate("accept").promise;
      await tick();
      assert.deepEqual(await emitAck(c, "echo", "late"), ["late"]);
      assert.equal(c.connected, true);
      assert.ok(ts.sio.participants("/slow").includes(c.id!));
    });
  });

  describe(`connectTimeout over ${mode}`, () => {
    let ts: TestServer;
    const log = captureLogger();
    const managers: Manager[] = [];

    before(async () => {
      ts = await startServer({ connectTimeout: 300, logger: log.logger }, (sio) => {
        sio.on("echo", (_sid: string, x: unknown) => x);
      });
    });

    after(async () => {
      for (const m of managers) m._close();
      await ts.close();
    });

    function bareManager(): Manager {
      const m = new Manager(ts.url, { ...TRANSPORT_MODES[mode], reconnection: false });
      managers.push(m);
      return m;
    }

    test("an Engine.IO connection that never joins a namespace is closed", async () => {
      const m = bareManager();
      await new Promise<void>((resolve) => m.once("open", () => resolve()));
      const engineSid = m.engine.id;
      assert.ok(ts.sio.engine.sessions.get(engineSid), "the server has the session");
      const [reason] = await new Promise<unknown[]>((resolve) => m.engine.once("close", (...a: unknown[]) => resolve(a)));
      assert.equal(reason, "transport close");
      assert.equal(ts.sio.engine.sessions.get(engineSid), undefined);
      const closed = log.entries.find((e) => e.message === "session closed" && e.fields?.sid === engineSid);
      assert.equal(closed?.fields?.reason, "forced close");
    });

    test("a connection whose only namespace was refused is closed too", async () => {
      const m = bareManager();
      const s = m.socket("/unknown");
      const err = await connectError(s);
      assert.equal(err.message, "Invalid namespace");
      const engineSid = m.engine.id;
      await until(() => ts.sio.engine.sessions.get(engineSid) === undefined, 5000, "session closed");
    });

    test("a connection that joined a namespace outlives the timeout", async () => {
      const c = await ts.connect(mode);
      await sleep(500);
      assert.equal(c.connected, true);
      assert.deepEqual(await emitAck(c, "echo", "still here"), ["still here"]);
    });
  });
}
