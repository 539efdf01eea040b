// End-to-end: server options — a custom `json` codec, `logger` objects (and jsonLogger), a custom
// `path`, and heartbeats with small pingInterval/pingTimeout — over every transport mode.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Socket as ClientSocket } from "socket.io-client";
import { MODES, startServer, until, type TestServer } from "../support/harness.js";
import { jsonLogger, type DisconnectReason, type JsonCodec } from "../../src/index.js";
import { captureLogger, emitAck, Inbox } from "./_util.js";

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

for (const mode of MODES) {
  describe(`json option over ${mode}`, () => {
    let ts: TestServer;
    const stringified: unknown[] = [];
    const parsed: string[] = [];
    const seen: Array<{ what: string; value: unknown }> = [];
    // Revives ISO dates on the way in; writes BigInts (which JSON.stringify refuses) on the way out.
    const json: JsonCodec = {
      stringify(value) {
        stringified.push(value);
        return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));
      },
      parse(text) {
        parsed.push(text);
        return JSON.parse(text, (_key, v: unknown) => (typeof v === "string" && ISO_DATE.test(v) ? new Date(v) : v)) as unknown;
      },
    };

    before(async () => {
      ts = await startServer({ json }, (sio) => {
        sio.on("connect", (sid, _environ, auth) => void seen.push({ what: `auth:${sid}`, value: auth }));
        sio.on("when", (_sid: string, payload: { at: unknown }) => {
          seen.push({ what: "when", value: payload.at });
          const at = payload.at as Date;
          return { next: new Date(at.getTime() + 86_400_000), big: 2n ** 70n };
        });
      });
    });

    after(async () => {
      await ts.close();
    });

    test("incoming packets (CONNECT auth, events) are parsed with the custom codec", async () => {
      const since = new Date(Date.UTC(2024, 1, 29, 12, 0, 0));
      const c = await ts.connect(mode, "/", { auth: { since } });
      const auth = seen.find((s) => s.what === `auth:${c.id}`)?.value as { since: unknown };
      assert.ok(auth.since instanceof Date, "the reviver turned the auth date into a Date");
      assert.equal(auth.since.getTime(), since.getTime());

      const at = new Date(Date.UTC(2000, 0, 1));
      const [reply] = await emitAck(c, "when", { at });
      const received = seen.filter((s) => s.what === "when").at(-1)?.value;
      assert.ok(received instanceof Date);
      assert.equal(received.getTime(), at.getTime());
      assert.ok(parsed.some((text) => text.includes('"when"') && text.includes(at.toISOString())), "parse saw the event's JSON");
      // The ack went out through the custom stringify (BigInt would make JSON.stringify throw).
      assert.deepEqual(reply, { next: "2000-01-02T00:00:00.000Z", big: "1180591620717411303424n" });
    });

    test("outgoing packets (events, CONNECT) are written with the custom codec", async () => {
      const c = await ts.connect(mode);
      const inbox = new Inbox(c);
      const count = stringified.length;
      await ts.sio.emit("stamp", { at: new Date(0), big: 12345678901234567890n }, { to: c.id! });
      assert.deepEqual(await inbox.next("stamp"), [{ at: "1970-01-01T00:00:00.000Z", big: "12345678901234567890n" }]);
      assert.ok(stringified.length > count);
      assert.ok(
        stringified.slice(count).some((v) => Array.isArray(v) && v[0] === "stamp"),
        "stringify got the event's data",
      );
      assert.ok(
        stringified.some((v) => typeof v === "object" && v !== null && (v as { sid?: unknown }).sid === c.id),
        "stringify also wrote the CONNECT payload",
      );
    });
  });

  describe(`logger option over ${mode}`, () => {
    let ts: TestServer;
    const log = captureLogger();
    const lines: string[] = [];
    let jsonTs: TestServer;

    before(async () => {
      ts = await startServer({ logger: log.logger }, (sio) => {
        sio.on("fail", () => {
          throw new RangeError("handler failed on purpose");
        });
      });
      jsonTs = await startServer({ logger: jsonLogger((line) => lines.push(line)) }, (sio) => {
        sio.on("fail", () => {
          throw new RangeError("json logged");
        });
      });
    });

    after(async () => {
      await ts.close();
      await jsonTs.close();
    });

    test("a logger object receives structured calls (message, fields)", async () => {
      const c = await ts.connect(mode);
      const engineSid = c.io.engine.id;
      const sid = c.id!;
      c.emit("nobody-handles-this", 1);
      c.emit("fail");
      await until(() => log.entries.some((e) => e.level === "error" && e.fields?.sid === sid), 5000, "error entry");
      c.disconnect();
      await until(() => log.entries.some((e) => e.message === "session closed" && e.fields?.sid === engineSid), 5000, "session closed");

      for (const entry of log.entries) {
        assert.equal(typeof entry.message, "string");
        assert.ok(entry.fields === undefined || (typeof entry.fields === "object" && entry.fields !== null));
      }
      const opened = log.entries.find((e) => e.message === "session opened" && e.fields?.sid === engineSid);
      assert.ok(opened);
      assert.equal(opened.level, "debug");
      assert.deepEqual(opened.fields, { sid: engineSid, transport: mode === "websocket" ? "websocket" : "polling" });

      const unhandled = log.entries.find((e) => e.message === "no handler for event" && e.fields?.sid === sid);
      assert.ok(unhandled);
      assert.equal(unhandled.level, "debug");
      assert.deepEqual(unhandled.fields, { namespace: "/", event: "nobody-handles-this", sid });

      const failed = log.entries.find((e) => e.level === "error" && e.fields?.sid === sid);
      assert.ok(failed);
      assert.equal(failed.message, "event handler failed");
      assert.equal(failed.fields?.event, "fail");
      assert.equal(failed.fields?.namespace, "/");
      assert.ok(failed.fields?.err instanceof RangeError);

      const closed = log.entries.find((e) => e.message === "session closed" && e.fields?.sid === engineSid);
      assert.equal(closed?.level, "debug");
      assert.equal(typeof closed?.fields?.reason, "string");
    });

    test("jsonLogger(write) writes one JSON object per line, errors serialized", async () => {
      const c = await jsonTs.connect(mode);
      c.emit("fail");
      await until(() => lines.some((l) => l.includes('"level":"error"')), 5000, "error line");
      const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const e of entries) {
        assert.equal(e.name, "sockjet");
        assert.equal(typeof e.msg, "string");
        assert.ok(["debug", "info", "warn", "error"].includes(e.level as string));
        assert.ok(!Number.isNaN(Date.parse(e.time as string)));
      }
      const error = entries.find((e) => e.level === "error" && e.sid === c.id);
      assert.ok(error);
      assert.equal(error.msg, "event handler failed");
      assert.equal(error.event, "fail");
      const err = error.err as { name: string; message: string; stack: string };
      assert.equal(err.name, "RangeError");
      assert.equal(err.message, "json logged");
      assert.equal(typeof err.stack, "string");
    });
  });

  describe(`path option over ${mode}`, () => {
    let custom: TestServer;
    let noSlash: TestServer;

    before(async () => {
      const setup = (sio: TestServer["sio"]) => {
        sio.on("where", (sid: string) => sio.getEnviron(sid)?.path);
      };
      custom = await startServer({ path: "/custom/" }, setup);
      noSlash = await startServer({ path: "/other" }, setup);
    });

    after(async () => {
      await custom.close();
      await noSlash.close();
    });

    test('path: "/custom/" serves clients that use the same path', async () => {
      const c = await custom.connect(mode, "/", { path: "/custom/" });
      assert.deepEqual(await emitAck(c, "where"), ["/custom/"]);
      const d = await custom.connect(mode, "/", { path: "/custom" });
      assert.deepEqual(await emitAck(d, "where"), ["/custom/"]);
      const e = await noSlash.connect(mode, "/", { path: "/other" });
      assert.deepEqual(await emitAck(e, "where"), ["/other/"]);
    });

    test("a client on the default path cannot connect", async () => {
      const c: ClientSocket = custom.client(mode);
      const err = await new Promise<Error>((resolve, reject) => {
        c.once("connect_error", resolve);
        c.once("connect", () => reject(new Error("connected on the wrong path")));
      });
      assert.ok(err instanceof Error);
      assert.equal(c.connected, false);
    });
  });

  describe(`heartbeat options over ${mode}`, () => {
    let ts: TestServer;
    const reasons = new Map<string, DisconnectReason>();

    before(async () => {
      ts = await startServer({ pingInterval: 100, pingTimeout: 400 }, (sio) => {
        sio.on("echo", (_sid: string, x: unknown) => x);
        sio.on("disconnect", (sid, reason) => void reasons.set(sid, reason));
      });
    });

    after(async () => {
      await ts.close();
    });

    test("a client that answers pings stays connected across several ping intervals", async () => {
      const c = await ts.connect(mode);
      let pings = 0;
      c.io.engine.on("ping", () => pings++);
      await until(() => pings >= 4, 5000, "four pings");
      assert.equal(c.connected, true);
      assert.equal(reasons.has(c.id!), false);
      assert.deepEqual(await emitAck(c, "echo", "alive"), ["alive"]);
    });

    test('a client that stops answering pings is dropped with "ping timeout"', async () => {
      const c = await ts.connect(mode);
      const sid = c.id!;
      const engine = c.io.engine as unknown as { _sendPacket: (type: string, ...rest: unknown[]) => void };
      assert.equal(typeof engine._sendPacket, "function", "engine.io-client internals changed; update this test");
      const original = engine._sendPacket.bind(engine);
      engine._sendPacket = (type: string, ...rest: unknown[]) => {
        if (type !== "pong") original(type, ...rest);
      };
      await until(() => reasons.has(sid), 5000, "server-side disconnect");
      assert.equal(reasons.get(sid), "ping timeout");
    });
  });
}
