// attachmentTimeout: a binary packet whose attachments do not all arrive in time closes that
// connection with "parse error", over WebSocket and long-polling, so that a client announcing more
// attachments than it sends cannot make the server hold the ones it did send for as long as the
// connection lasts (scripts/security/pending-attachments.ts measured 8.6 MiB per such connection).
// A packet whose attachments arrive leaves no timer behind, and other clients are unaffected.
// No timing assertions: the tests wait for the close (bounded) and count scheduled timers.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { args, Server } from "../../src/index.js";
import { startServer, deferred, type TestServer } from "../support/harness.js";
import { joinMain, openRawSession, type RawSession } from "../support/raw-session.js";
import { bytesOf, emitAck, within } from "./_util.js";

const WAIT = 10_000;
const placeholder = (num: number) => `{"_placeholder":true,"num":${num}}`;

describe("attachmentTimeout", () => {
  let ts: TestServer;
  const reasons = new Map<string, ReturnType<typeof deferred<string>>>();
  const reasonOf = (sid: string) => {
    if (!reasons.has(sid)) reasons.set(sid, deferred<string>());
    return reasons.get(sid)!;
  };
  const sessions: RawSession[] = [];

  before(async () => {
    ts = await startServer({ attachmentTimeout: 300, logger: false }, (sio) => {
      sio.on("echo", (_sid: string, ...values: unknown[]) => args(...values));
      sio.on("disconnect", (sid: string, reason: string) => reasonOf(sid).resolve(reason));
    });
  });
  after(async () => {
    for (const session of sessions) session.end();
    await ts.close();
  });

  for (const transport of ["websocket", "polling"] as const) {
    test(`over ${transport}: attachments that never all arrive close the connection ("parse error"); others go on`, async () => {
      const bystander = await ts.connect("websocket");
      const session = await within(openRawSession(ts.url, transport), WAIT, "raw session");
      sessions.push(session);
      const nsSid = await within(joinMain(session), WAIT, "join /");
      // Two announced, one sent, then nothing: the connection still answers pings.
      await session.send(`52-["echo",${placeholder(0)},${placeholder(1)}]`, new Uint8Array([1]));
      await within(session.closed, WAIT, "the connection to close");
      assert.equal(await within(reasonOf(nsSid).promise, WAIT, "disconnect reason"), "parse error");
      assert.deepEqual(await within(emitAck(bystander, "echo", "still here"), WAIT, "bystander echo"), ["still here"]);
    });
  }

  test("a binary packet whose attachments arrive leaves no timer scheduled, and is delivered", async () => {
    const socket = await ts.connect("websocket");
    const timers = ts.sio.engine.timers;
    const baseline = timers.pending;
    const reply = await within(emitAck(socket, "echo", Buffer.from([1, 2]), { nested: Buffer.from([3]) }), WAIT, "echo");
    assert.deepEqual(bytesOf(reply[0]), [1, 2]);
    assert.deepEqual(bytesOf((reply[1] as { nested: unknown }).nested), [3]);
    assert.equal(timers.pending, baseline);
    assert.equal(socket.connected, true);
  });

  test("must be a positive number", () => {
    for (const value of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new Server({ attachmentTimeout: value }), RangeError, String(value));
    }
  });
});
