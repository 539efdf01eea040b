// End-to-end: events, arguments, acknowledgements, call(), binary data, catch-all handlers,
// handler failures and reserved names — with the official socket.io-client, over every transport mode.
//
// The seed is python-socketio's "Getting Started" server translated to sockjet: a `/chat`
// namespace whose connect handler receives (sid, environ, auth), an async `chat message` handler
// that emits `reply` to the sender's sid, and a disconnect handler that receives (sid, reason).

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { IncomingMessage } from "node:http";
import { MODES, startServer, deferred, until, type TestServer } from "../support/harness.js";
import { Args, args, RESERVED_EVENTS, SockjetError, TimeoutError, type Environ } from "../../src/index.js";
import { bytesOf, captureLogger, emitAck, float32Of, Inbox, type LogEntry } from "./_util.js";

const CHAT = "/chat";

function isCode(code: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof SockjetError, `expected a SockjetError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}

for (const mode of MODES) {
  describe(`events over ${mode}`, () => {
    let ts: TestServer;
    const log = captureLogger();
    const connects: Array<{ sid: string; environ: Environ; auth: unknown }> = [];
    const disconnects: Array<{ sid: string; reason: string }> = [];
    const argLists: Array<{ sid: string; args: unknown[] }> = [];
    const binaries: unknown[][] = [];
    let marker = 0;

    /** Emits a unique marker to every client of /chat and waits until each given inbox has it. */
    async function flush(...inboxes: Inbox[]): Promise<void> {
      const value = `m${++marker}`;
      const waits = inboxes.map((inbox) => inbox.marker("marker", value));
      await ts.sio.emit("marker", value, { namespace: CHAT });
      await Promise.all(waits);
    }

    before(async () => {
      ts = await startServer({ logger: log.logger }, (sio) => {
        sio.on(
          "connect",
          (sid, environ, auth) => {
            connects.push({ sid, environ, auth });
          },
          CHAT,
        );
        sio.on(
          "chat message",
          async (sid: string, text: string) => {
            await new Promise((resolve) => setImmediate(resolve));
            await sio.emit("reply", { text: `you said: ${text}` }, { to: sid, namespace: CHAT });
          },
          CHAT,
        );
        sio.on("disconnect", (sid, reason) => void disconnects.push({ sid, reason }), CHAT);
        sio.on(
          "args",
          (sid: string, ...rest: unknown[]) => {
            argLists.push({ sid, args: rest });
            return rest.length;
          },
          CHAT,
        );
        sio.on("ack-sync", (_sid: string, x: number) => ({ doubled: x * 2 }), CHAT);
        sio.on(
          "ack-async-many",
          async (_sid: string, a: number, b: number) => {
            await new Promise((resolve) => setImmediate(resolve));
            return args(a + b, "sum", [a, b]);
          },
          CHAT,
        );
        sio.on("ack-none", () => undefined, CHAT);
        sio.on("ack-async-none", async () => {}, CHAT);
        sio.on("ack-array", () => [1, 2, 3], CHAT);
        sio.on("ack-null", () => null, CHAT);
        sio.on("echo", (_sid: string, x: unknown) => x, CHAT);
        sio.on(
          "bin",
          (_sid: string, ...rest: unknown[]) => {
            binaries.push(rest);
            return args(Buffer.from([0xff, 0]), new Float32Array([3.25]), { inner: [new Uint8Array([1]).buffer], label: "x" }, "plain");
          },
          CHAT,
        );
        sio.on(
          "boom-sync",
          () => {
            throw new Error("sync boom");
          },
          CHAT,
        );
        sio.on(
          "boom-async",
          async () => {
            await new Promise((resolve) => setImmediate(resolve));
            throw new Error("async boom");
          },
          CHAT,
        );
      });
    });

    after(async () => {
      await ts.close();
    });

    const errors = (): LogEntry[] => log.entries.filter((e) => e.level === "error");

    test("the connect handler receives the sid, the environ and the auth payload", async () => {
      const c = await ts.connect(mode, CHAT, {
        query: { a: "1" },
        extraHeaders: { "x-sockjet-test": "hello" },
        auth: { token: "abc", n: 1 },
      });
      const record = connects.find((r) => r.sid === c.id);
      assert.ok(record, "connect handler saw the client's sid");
      const { environ, auth } = record;
      assert.deepEqual(auth, { token: "abc", n: 1 });
      assert.equal(environ.method, "GET");
      assert.equal(environ.path, "/socket.io/");
      assert.ok(environ.url.startsWith("/socket.io/?"), environ.url);
      assert.match(environ.url, /[?&]a=1(&|$)/);
      assert.equal(environ.query.a, "1");
      assert.equal(environ.query.EIO, "4");
      const firstTransport = mode === "websocket" ? "websocket" : "polling";
      assert.equal(environ.query.transport, firstTransport);
      assert.equal(environ.transport, firstTransport);
      assert.equal(environ.headers["x-sockjet-test"], "hello");
      assert.equal(environ.headers.host, `127.0.0.1:${ts.port}`);
      assert.match(environ.remoteAddress, /^(::ffff:)?127\.0\.0\.1$/);
      assert.equal(environ.secure, false);
      assert.ok(environ.raw instanceof IncomingMessage, "raw is Node's IncomingMessage");
      assert.equal((environ.raw as IncomingMessage).url, environ.url);
      // After the connect handler, the connection keeps the environ's data but not Node's request object.
      assert.deepEqual(ts.sio.getEnviron(c.id!, CHAT), { ...environ, raw: undefined });
      assert.equal(ts.sio.getEnviron(c.id!, "/"), undefined, "the sid belongs to /chat only");
    });

    test("an async handler emits a reply to the sender's sid only", async () => {
      const a = await ts.connect(mode, CHAT);
      const b = await ts.connect(mode, CHAT);
      const inboxA = new Inbox(a);
      const inboxB = new Inbox(b);
      a.emit("chat message", "hello there");
      const [reply] = await inboxA.next("reply");
      assert.deepEqual(reply, { text: "you said: hello there" });
      await flush(inboxA, inboxB);
      assert.equal(inboxA.count("reply"), 1);
      assert.equal(inboxB.count("reply"), 0, "the other client gets no reply");
    });

    test('the disconnect handler gets "client disconnect" when the client leaves', async () => {
      const c = await ts.connect(mode, CHAT);
      const sid = c.id!;
      c.disconnect();
      await until(() => disconnects.some((d) => d.sid === sid), 5000, "disconnect handler");
      assert.deepEqual(
        disconnects.filter((d) => d.sid === sid),
        [{ sid, reason: "client disconnect" }],
      );
      assert.ok(!ts.sio.participants(CHAT).includes(sid));
    });

    test('sio.disconnect(sid) gives "server disconnect" and the client sees "io server disconnect"', async () => {
      const c = await ts.connect(mode, CHAT);
      const sid = c.id!;
      const clientReason = deferred<string>();
      c.on("disconnect", (reason) => clientReason.resolve(reason));
      await ts.sio.disconnect(sid, CHAT);
      assert.equal(await clientReason.promise, "io server disconnect");
      await until(() => disconnects.some((d) => d.sid === sid), 5000, "disconnect handler");
      assert.deepEqual(
        disconnects.filter((d) => d.sid === sid),
        [{ sid, reason: "server disconnect" }],
      );
      assert.equal(c.connected, false);
    });

    test("client → server events carry 0, 1 or 3 arguments", async () => {
      const c = await ts.connect(mode, CHAT);
      assert.deepEqual(await emitAck(c, "args"), [0]);
      assert.deepEqual(await emitAck(c, "args", "a"), [1]);
      assert.deepEqual(await emitAck(c, "args", 1, { b: 2 }, [3, "x"]), [3]);
      // Plain emits (no ack), then one acknowledged emit to know they all arrived.
      c.emit("args", null);
      c.emit("args", true, false);
      await emitAck(c, "echo", "sync");
      assert.deepEqual(
        argLists.filter((r) => r.sid === c.id).map((r) => r.args),
        [[], ["a"], [1, { b: 2 }, [3, "x"]], [null], [true, false]],
      );
    });

    test("server → client events carry 0, 1 or several arguments (args(...))", async () => {
      const c = await ts.connect(mode, CHAT);
      const inbox = new Inbox(c);
      const to = { to: c.id!, namespace: CHAT };
      await ts.sio.emit("many", undefined, to);
      await ts.sio.emit("many", "one", to);
      await ts.sio.emit("many", args(1, "two", { three: 3 }), to);
      await ts.sio.emit("many", [1, 2], to);
      await ts.sio.emit("many", null, to);
      await ts.sio.emit("many", args(), to);
      await flush(inbox);
      assert.deepEqual(inbox.all("many"), [[], ["one"], [1, "two", { three: 3 }], [[1, 2]], [null], []]);
    });

    test("a handler's return value becomes the acknowledgement", async () => {
      const c = await ts.connect(mode, CHAT);
      assert.deepEqual(await emitAck(c, "ack-sync", 21), [{ doubled: 42 }]);
      assert.deepEqual(await emitAck(c, "ack-async-many", 2, 3), [5, "sum", [2, 3]]);
      assert.deepEqual(await emitAck(c, "ack-none"), []);
      assert.deepEqual(await emitAck(c, "ack-async-none"), []);
      assert.deepEqual(await emitAck(c, "ack-array"), [[1, 2, 3]]);
      assert.deepEqual(await emitAck(c, "ack-null"), [null]);
      assert.equal(await c.emitWithAck("echo", { deep: ["x"] }).then((v: unknown) => JSON.stringify(v)), '{"deep":["x"]}');
    });

    test("server → client emit with a callback receives the client's ack arguments", async () => {
      const c = await ts.connect(mode, CHAT);
      c.on("ask", (x: number, y: number, cb: (...a: unknown[]) => void) => cb(x + y, "sum"));
      const got = deferred<unknown[]>();
      await ts.sio.emit("ask", args(2, 3), { to: c.id!, namespace: CHAT, callback: (...a: unknown[]) => got.resolve(a) });
      assert.deepEqual(await got.promise, [5, "sum"]);
    });

    test("a callback on an emit to several clients is called once per answering client", async () => {
      const a = await ts.connect(mode, CHAT);
      const b = await ts.connect(mode, CHAT);
      for (const s of [a, b]) s.on("who", (cb: (id: string) => void) => cb(s.id!));
      const answers: unknown[][] = [];
      await ts.sio.emit("who", undefined, { to: [a.id!, b.id!], namespace: CHAT, callback: (...x: unknown[]) => void answers.push(x) });
      await until(() => answers.length >= 2, 5000, "two acks");
      assert.deepEqual(answers.map((x) => x[0]).sort(), [a.id!, b.id!].sort());
      assert.ok(answers.every((x) => x.length === 1));
      // No third answer arrives (each client answers once): flush and recheck.
      const inbox = new Inbox(a);
      await flush(inbox);
      assert.equal(answers.length, 2);
    });

    test("sio.call resolves with one value, Args for several, undefined for none", async () => {
      const c = await ts.connect(mode, CHAT);
      c.on("double", (x: number, cb: (v: number) => void) => cb(x * 2));
      c.on("pair", (cb: (...a: unknown[]) => void) => cb("a", { b: 1 }));
      c.on("nothing", (cb: () => void) => cb());
      c.on("sum3", (x: number, y: number, z: number, cb: (v: number) => void) => cb(x + y + z));
      const opts = { to: c.id!, namespace: CHAT, timeout: 5000 };
      assert.equal(await ts.sio.call("double", 21, opts), 42);
      const pair = await ts.sio.call("pair", undefined, opts);
      assert.ok(pair instanceof Args, "several ack values come back as Args");
      assert.deepEqual(pair.values, ["a", { b: 1 }]);
      assert.equal(await ts.sio.call("nothing", undefined, opts), undefined);
      assert.equal(await ts.sio.call("sum3", args(1, 2, 3), opts), 6);
      assert.equal(await ts.sio.of(CHAT).call("double", 5, { to: c.id! }), 10);
    });

    test('sio.call rejects with "ACK_TIMEOUT" when the client does not answer', async () => {
      const c = await ts.connect(mode, CHAT);
      const inbox = new Inbox(c);
      await assert.rejects(ts.sio.call("unanswered", 1, { to: c.id!, namespace: CHAT, timeout: 150 }), (err: unknown) => {
        assert.ok(err instanceof TimeoutError);
        return isCode("ACK_TIMEOUT")(err);
      });
      // The client did get the event (it just had no ack to give), and it is still connected.
      const [value, ack, ...extra] = await inbox.next("unanswered");
      assert.equal(value, 1);
      assert.equal(typeof ack, "function", "the event asked for an acknowledgement");
      assert.deepEqual(extra, []);
      c.on("double", (x: number, cb: (v: number) => void) => cb(x * 2));
      assert.equal(await ts.sio.call("double", 4, { to: c.id!, namespace: CHAT, timeout: 5000 }), 8);
    });

    test('sio.call rejects with "UNKNOWN_SID" for a sid that is not connected to the namespace', async () => {
      const c = await ts.connect(mode, CHAT);
      await assert.rejects(ts.sio.call("x", 1, { to: "no-such-sid", namespace: CHAT }), isCode("UNKNOWN_SID"));
      // A real sid, but of another namespace.
      await assert.rejects(ts.sio.call("x", 1, { to: c.id!, namespace: "/", timeout: 1000 }), isCode("UNKNOWN_SID"));
    });

    test('sio.call rejects with "DISCONNECTED" when the client leaves before answering', async () => {
      const c = await ts.connect(mode, CHAT);
      c.on("leave", () => c.disconnect());
      await assert.rejects(ts.sio.call("leave", undefined, { to: c.id!, namespace: CHAT, timeout: 10_000 }), isCode("DISCONNECTED"));

      // Same when the server disconnects it while the call is pending.
      const d = await ts.connect(mode, CHAT);
      const inbox = new Inbox(d);
      const pending = ts.sio.call("hold", undefined, { to: d.id!, namespace: CHAT, timeout: 10_000 });
      await inbox.next("hold");
      await ts.sio.disconnect(d.id!, CHAT);
      await assert.rejects(pending, isCode("DISCONNECTED"));
    });

    test("binary data client → server (nested anywhere) and back in the ack", async () => {
      const c = await ts.connect(mode, CHAT);
      const pooled = Buffer.from([0, 1, 2, 3, 4]).subarray(1, 3);
      const reply = await emitAck(
        c,
        "bin",
        Buffer.from([1, 2, 3]),
        new Uint8Array([4, 5]).buffer,
        new Uint8Array([6, 7]),
        new Float32Array([1.5, -2]),
        { nested: { deep: [Buffer.from([8]), "text", 9] }, list: [new Uint8Array([10])] },
        pooled,
      );
      const got = binaries.at(-1)!;
      assert.equal(got.length, 6);
      assert.deepEqual(bytesOf(got[0]), [1, 2, 3]);
      assert.deepEqual(bytesOf(got[1]), [4, 5]);
      assert.deepEqual(bytesOf(got[2]), [6, 7]);
      assert.deepEqual(float32Of(got[3]), [1.5, -2]);
      const obj = got[4] as { nested: { deep: unknown[] }; list: unknown[] };
      assert.deepEqual(bytesOf(obj.nested.deep[0]), [8]);
      assert.equal(obj.nested.deep[1], "text");
      assert.equal(obj.nested.deep[2], 9);
      assert.deepEqual(bytesOf(obj.list[0]), [10]);
      assert.deepEqual(bytesOf(got[5]), [1, 2]);

      assert.equal(reply.length, 4);
      assert.deepEqual(bytesOf(reply[0]), [0xff, 0]);
      assert.deepEqual(float32Of(reply[1]), [3.25]);
      const inner = reply[2] as { inner: unknown[]; label: string };
      assert.deepEqual(bytesOf(inner.inner[0]), [1]);
      assert.equal(inner.label, "x");
      assert.equal(reply[3], "plain");
    });

    test("binary data server → client (nested, typed arrays with offsets) and in call acks", async () => {
      const c = await ts.connect(mode, CHAT);
      const inbox = new Inbox(c);
      const offsetFloats = new Float32Array(new ArrayBuffer(16), 4, 2);
      offsetFloats.set([0.5, -8]);
      await ts.sio.emit(
        "bin-down",
        args(Buffer.from([1]), offsetFloats, { a: { b: [new Uint8Array([2, 3]).buffer, "s"] } }, Buffer.from("abcdef").subarray(2, 4), 7),
        { to: c.id!, namespace: CHAT },
      );
      const got = await inbox.next("bin-down");
      assert.equal(got.length, 5);
      assert.deepEqual(bytesOf(got[0]), [1]);
      assert.deepEqual(float32Of(got[1]), [0.5, -8]);
      const nested = got[2] as { a: { b: unknown[] } };
      assert.deepEqual(bytesOf(nested.a.b[0]), [2, 3]);
      assert.equal(nested.a.b[1], "s");
      assert.deepEqual(bytesOf(got[3]), [...Buffer.from("cd")]);
      assert.equal(got[4], 7);

      c.on("give-bin", (req: { want: number }, cb: (...a: unknown[]) => void) => cb(Buffer.alloc(req.want, 7), { x: new Uint8Array([9]) }));
      const answer = await ts.sio.call("give-bin", { want: 2 }, { to: c.id!, namespace: CHAT, timeout: 5000 });
      assert.ok(answer instanceof Args);
      assert.deepEqual(bytesOf(answer.values[0]), [7, 7]);
      assert.deepEqual(bytesOf((answer.values[1] as { x: unknown }).x), [9]);
    });

    test("handler exceptions (sync and async) are logged and do not affect other clients", async () => {
      const a = await ts.connect(mode, CHAT);
      const b = await ts.connect(mode, CHAT);
      const baseline = errors().length;
      a.emit("boom-sync", 1);
      a.emit("boom-async", 2);
      await until(() => errors().length >= baseline + 2, 5000, "two logged errors");
      const logged = errors().slice(baseline);
      const byEvent = new Map(logged.map((e) => [e.fields?.event, e]));
      for (const [event, text] of [
        ["boom-sync", "sync boom"],
        ["boom-async", "async boom"],
      ] as const) {
        const entry = byEvent.get(event);
        assert.ok(entry, `error logged for ${event}`);
        assert.equal(entry.message, "event handler failed");
        assert.equal(entry.fields?.namespace, CHAT);
        assert.equal(entry.fields?.sid, a.id);
        assert.ok(entry.fields?.err instanceof Error);
        assert.equal((entry.fields.err as Error).message, text);
      }
      // Both clients keep working.
      assert.deepEqual(await emitAck(b, "echo", "b ok"), ["b ok"]);
      assert.deepEqual(await emitAck(a, "echo", "a ok"), ["a ok"]);
      assert.equal(a.connected, true);
    });

    test("reserved event names are refused with INVALID_ARGUMENT and nothing is sent", async () => {
      const c = await ts.connect(mode, CHAT);
      const inbox = new Inbox(c);
      assert.deepEqual([...RESERVED_EVENTS].sort(), ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]);
      for (const name of RESERVED_EVENTS) {
        await assert.rejects(ts.sio.emit(name, "x", { to: c.id!, namespace: CHAT }), isCode("INVALID_ARGUMENT"));
        await assert.rejects(ts.sio.of(CHAT).emit(name, "x"), isCode("INVALID_ARGUMENT"));
        await assert.rejects(ts.sio.call(name, "x", { to: c.id!, namespace: CHAT, timeout: 1000 }), isCode("INVALID_ARGUMENT"));
      }
      await assert.rejects(ts.sio.emit("", "x", { to: c.id!, namespace: CHAT }), isCode("INVALID_ARGUMENT"));
      await flush(inbox);
      assert.deepEqual(
        inbox.events.map((e) => e.event),
        ["marker"],
      );
      assert.equal(c.connected, true);
    });
  });

  describe(`catch-all handlers over ${mode}`, () => {
    let ts: TestServer;
    const catchCalls: Array<{ event: string; sid: string; rest: unknown[] }> = [];
    const anyConnects: Array<{ namespace: string; sid: string; environ: Environ; auth: unknown }> = [];
    const anyDisconnects: Array<{ namespace: string; sid: string; reason: string }> = [];
    const anyCalls: Array<{ kind: string; args: unknown[] }> = [];

    before(async () => {
      ts = await startServer({}, (sio) => {
        // Main namespace: one own handler and a catch-all.
        sio.on("known", (_sid: string, x: unknown) => `known:${String(x)}`);
        sio.on("*", (event: string, sid: string, ...rest: unknown[]) => {
          catchCalls.push({ event, sid, rest });
          return args("caught", event);
        });
        // Any namespace.
        sio.on(
          "connect",
          (namespace: unknown, sid: unknown, environ: unknown, auth: unknown) => {
            if ((auth as { deny?: boolean } | null)?.deny === true) return false;
            anyConnects.push({ namespace: namespace as string, sid: sid as string, environ: environ as Environ, auth });
            return true;
          },
          "*",
        );
        sio.on(
          "disconnect",
          (namespace: unknown, sid: unknown, reason: unknown) => void anyDisconnects.push({ namespace: namespace as string, sid: sid as string, reason: reason as string }),
          "*",
        );
        sio.on(
          "x",
          (...a: unknown[]) => {
            anyCalls.push({ kind: "x", args: a });
            return args("any-x", a[0], ...a.slice(2));
          },
          "*",
        );
        sio.on(
          "*",
          (...a: unknown[]) => {
            anyCalls.push({ kind: "*", args: a });
            return args("any-star", a[0], a[1], ...a.slice(3));
          },
          "*",
        );
        // A namespace with its own handlers takes precedence over the "*" namespace's.
        sio.on("x", (_sid: string, ...rest: unknown[]) => args("own-x", ...rest), "/own");
        sio.on("*", (event: string) => args("own-star", event), "/own");
      });
    });

    after(async () => {
      await ts.close();
    });

    test('sio.on("*") receives (event, sid, ...args) for events without a handler, and its return acks', async () => {
      const c = await ts.connect(mode);
      assert.deepEqual(await emitAck(c, "whatever", 1, "two"), ["caught", "whatever"]);
      assert.deepEqual(catchCalls.at(-1), { event: "whatever", sid: c.id, rest: [1, "two"] });
      const count = catchCalls.length;
      assert.deepEqual(await emitAck(c, "known", 5), ["known:5"]);
      assert.equal(catchCalls.length, count, "an event with its own handler does not reach the catch-all");
      c.emit("no-ack-event");
      assert.deepEqual(await emitAck(c, "another", { k: true }), ["caught", "another"]);
      assert.deepEqual(
        catchCalls.slice(count).map((call) => [call.event, call.rest]),
        [
          ["no-ack-event", []],
          ["another", [{ k: true }]],
        ],
      );
    });

    test('connect and disconnect handlers on namespace "*" receive the namespace first', async () => {
      const c = await ts.connect(mode, "/anything", { auth: { k: 1 } });
      const record = anyConnects.find((r) => r.sid === c.id);
      assert.ok(record);
      assert.equal(record.namespace, "/anything");
      assert.deepEqual(record.auth, { k: 1 });
      assert.equal(record.environ.method, "GET");
      const sid = c.id!;
      c.disconnect();
      await until(() => anyDisconnects.some((d) => d.sid === sid), 5000, "disconnect");
      assert.deepEqual(
        anyDisconnects.filter((d) => d.sid === sid),
        [{ namespace: "/anything", sid, reason: "client disconnect" }],
      );
    });

    test('the "*" namespace connect handler can refuse', async () => {
      const c = ts.client(mode, "/refused", { auth: { deny: true } });
      const err = await new Promise<Error>((resolve) => c.once("connect_error", resolve));
      assert.equal(err.message, "Connection rejected by server");
      assert.equal(c.connected, false);
    });

    test('event handlers on namespace "*": (namespace, sid, ...args) and the catch-all (event, namespace, sid, ...args)', async () => {
      const c = await ts.connect(mode, "/elsewhere");
      assert.deepEqual(await emitAck(c, "x", 1, [2]), ["any-x", "/elsewhere", 1, [2]]);
      assert.deepEqual(anyCalls.at(-1), { kind: "x", args: ["/elsewhere", c.id, 1, [2]] });
      assert.deepEqual(await emitAck(c, "y", "z"), ["any-star", "y", "/elsewhere", "z"]);
      assert.deepEqual(anyCalls.at(-1), { kind: "*", args: ["y", "/elsewhere", c.id, "z"] });
    });

    test("a namespace's own handler and own catch-all come before the \"*\" namespace's", async () => {
      const c = await ts.connect(mode, "/own");
      const count = anyCalls.length;
      assert.deepEqual(await emitAck(c, "x", 1), ["own-x", 1]);
      assert.deepEqual(await emitAck(c, "y"), ["own-star", "y"]);
      assert.equal(anyCalls.length, count);
      // The "/" catch-all only serves "/".
      assert.ok(!catchCalls.some((call) => call.sid === c.id));
    });
  });

  describe(`failing disconnect handler over ${mode}`, () => {
    let ts: TestServer;
    const { logger, entries } = captureLogger();

    before(async () => {
      ts = await startServer({ logger }, (sio) => {
        sio.on(
          "disconnect",
          () => {
            throw new Error("disconnect boom");
          },
          "/fragile",
        );
        sio.on(
          "disconnect",
          async () => {
            await new Promise((resolve) => setImmediate(resolve));
            throw new Error("async disconnect boom");
          },
          "/fragile-async",
        );
      });
    });

    after(async () => {
      await ts.close();
    });

    test("a throwing disconnect handler is logged and the client is still forgotten", async () => {
      for (const [nsp, text] of [
        ["/fragile", "disconnect boom"],
        ["/fragile-async", "async disconnect boom"],
      ] as const) {
        const c = await ts.connect(mode, nsp);
        const sid = c.id!;
        assert.deepEqual(ts.sio.participants(nsp), [sid]);
        c.disconnect();
        await until(() => entries.some((e) => e.level === "error" && e.fields?.sid === sid), 5000, "logged error");
        const entry = entries.find((e) => e.level === "error" && e.fields?.sid === sid)!;
        assert.equal(entry.message, "disconnect handler failed");
        assert.equal((entry.fields?.err as Error).message, text);
        await until(() => ts.sio.participants(nsp).length === 0, 5000, "forgotten");
        const again = await ts.connect(mode, nsp);
        assert.deepEqual(ts.sio.participants(nsp), [again.id]);
      }
    });
  });
}
