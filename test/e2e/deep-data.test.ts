// Deeply nested data, both ways, against a real server (node:http): a client that sends an array
// nested 100,000 levels is closed with "parse error" (the others go on); data nested as deep as
// the limit (MAX_DEPTH) travels both ways; the server emitting, calling or acknowledging with data
// it cannot encode gets a SockjetError ENCODE_FAILED (emit/call reject) or a logged error (acks),
// never a stack overflow, a crash or an unhandled rejection. test/support/scenarios.ts runs the
// same exchanges on every runtime.
// No timing assertions: every wait is bounded, nothing asserts how long something took.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ConnectionRefusedError, SockjetError, type Server } from "../../src/index.js";
import { MAX_DEPTH } from "../../src/socket/protocol/packet.js";
import { MODES, startServer, until, type TestServer } from "../support/harness.js";
import { RawWs, WSQ, fetchJson, get, handshake, pollUrl, post } from "../engine/raw-client.js";
import { captureLogger, emitAck, Inbox, within } from "./_util.js";

/** `[[...]]`, `depth` arrays deep, built without recursion. */
function nest(depth: number): unknown[] {
  let value: unknown[] = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}
const nestedText = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
/** How deep `value` nests arrays (following the first element). */
function depthOf(value: unknown): number {
  let depth = 0;
  while (Array.isArray(value)) {
    depth++;
    value = value[0];
  }
  return depth;
}

const WAIT = 10_000;

describe("deeply nested data", () => {
  let ts: TestServer;
  const log = captureLogger();
  const disconnects = new Map<string, string>();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(async () => {
    process.on("unhandledRejection", onUnhandled);
    ts = await startServer({ logger: log.logger }, (sio: Server) => {
      sio.on("connect", (_sid: string, _environ, auth) => {
        const depth = (auth as { refuseDeep?: number } | undefined)?.refuseDeep;
        if (depth !== undefined) throw new ConnectionRefusedError("refused, with data too deep to send", nest(depth));
      });
      sio.on("echo", async (sid: string, data: unknown) => {
        await sio.emit("echo", data, { to: sid });
        return data;
      });
      // The server builds the data: the client could not send it (the decoder would refuse it).
      sio.on("deep", async (sid: string, depth: number, how: string) => {
        const data = nest(depth);
        // A handler that does not catch: its rejection is the handler's failure (logged), not an unhandled one.
        if (how === "unhandled") return sio.emit("deep", data, { to: sid });
        try {
          if (how === "emit") await sio.emit("deep", data, { to: sid });
          else if (how === "broadcast") await sio.emit("deep", data);
          else if (how === "callback") await sio.emit("deep", data, { to: sid, callback: () => {} });
          else if (how === "call") await sio.call("deep", data, { to: sid, timeout: 5000 });
          else if (how === "ack") return data;
          return "sent";
        } catch (err) {
          return { name: (err as Error).name, code: (err as SockjetError).code, isSockjetError: err instanceof SockjetError, message: (err as Error).message };
        }
      });
      sio.on("disconnect", (sid: string, reason: string) => {
        disconnects.set(sid, reason);
      });
    });
  });

  after(async () => {
    await ts.close();
    process.off("unhandledRejection", onUnhandled);
  });

  test("a raw WebSocket client sending a 100,000-deep array is closed with 'parse error'; others are unaffected", async () => {
    const bystander = await ts.connect("websocket");
    const ws = new RawWs(`ws://127.0.0.1:${ts.port}${WSQ}`);
    await ws.opened;
    await ws.nextText();
    ws.send("40");
    const nsSid = (JSON.parse((await ws.nextText()).slice(2)) as { sid: string }).sid;
    ws.send(`421["echo",${nestedText(100_000)}]`);
    await within(ws.closed, WAIT, "the socket to close");
    await until(() => disconnects.has(nsSid), WAIT, "the disconnect handler");
    assert.equal(disconnects.get(nsSid), "parse error");
    assert.deepEqual(await within(emitAck(bystander, "echo", "still here"), WAIT, "bystander echo"), ["still here"]);
  });

  test("the same over long-polling: the POST is taken, the session closes with 'parse error'", async () => {
    const { sid } = await handshake(ts);
    assert.equal(await post(ts, sid, "40"), "ok");
    const nsSid = (JSON.parse((await get(ts, sid)).slice(2)) as { sid: string }).sid;
    assert.equal(await post(ts, sid, `421["echo",${nestedText(100_000)}]`), "ok");
    await until(() => disconnects.has(nsSid), WAIT, "the disconnect handler");
    assert.equal(disconnects.get(nsSid), "parse error");
    assert.equal((await fetchJson(pollUrl(ts, sid))).status, 400);
  });

  test("one level more than the limit is refused the same way", async () => {
    const ws = new RawWs(`ws://127.0.0.1:${ts.port}${WSQ}`);
    await ws.opened;
    await ws.nextText();
    ws.send("40");
    const nsSid = (JSON.parse((await ws.nextText()).slice(2)) as { sid: string }).sid;
    // The event array is a level of its own: MAX_DEPTH nested arrays inside it are one too many.
    ws.send(`42["echo",${nestedText(MAX_DEPTH)}]`);
    await within(ws.closed, WAIT, "the socket to close");
    await until(() => disconnects.has(nsSid), WAIT, "the disconnect handler");
    assert.equal(disconnects.get(nsSid), "parse error");
  });

  for (const mode of MODES) {
    test(`over ${mode}: data as deep as the limit travels both ways (socket.io-client)`, async () => {
      const client = await ts.connect(mode);
      const inbox = new Inbox(client);
      const [acked] = await within(emitAck(client, "echo", nest(MAX_DEPTH - 1)), WAIT, "echo ack");
      assert.equal(depthOf(acked), MAX_DEPTH - 1);
      const [echoed] = await within(inbox.next("echo"), WAIT, "echo event");
      assert.equal(depthOf(echoed), MAX_DEPTH - 1);
      // The server's own emit at the limit.
      assert.deepEqual(await within(emitAck(client, "deep", MAX_DEPTH - 1, "emit"), WAIT, "deep emit"), ["sent"]);
      const [deep] = await within(inbox.next("deep"), WAIT, "deep event");
      assert.equal(depthOf(deep), MAX_DEPTH - 1);
    });
  }

  for (const how of ["emit", "broadcast", "callback", "call"]) {
    test(`the server's ${how} of a 100,000-deep array rejects with SockjetError ENCODE_FAILED; nothing is sent, the connection goes on`, async () => {
      const client = await ts.connect("websocket");
      const inbox = new Inbox(client);
      client.on("deep", (...args: unknown[]) => {
        const reply = args.at(-1);
        if (typeof reply === "function") (reply as (value: string) => void)("answered");
      });
      const [outcome] = (await within(emitAck(client, "deep", 100_000, how), WAIT, `${how} outcome`)) as [Record<string, unknown>];
      assert.equal(outcome.isSockjetError, true, JSON.stringify(outcome));
      assert.equal(outcome.code, "ENCODE_FAILED");
      assert.match(String(outcome.message), /cannot encode the event "deep" for namespace \/: data nested deeper than 1000/);
      // Same connection, same order: anything "deep" would have arrived before this ack.
      assert.deepEqual(await within(emitAck(client, "echo", "after"), WAIT, "echo after"), ["after"]);
      assert.equal(inbox.count("deep"), 0);
      assert.equal(client.connected, true);
    });
  }

  test("a call() that could not be encoded leaves no pending acknowledgement: the next call works", async () => {
    const client = await ts.connect("websocket");
    client.on("deep", (_data: unknown, reply: (value: string) => void) => reply("answered"));
    const [failed] = (await within(emitAck(client, "deep", 100_000, "call"), WAIT, "failed call")) as [Record<string, unknown>];
    assert.equal(failed.code, "ENCODE_FAILED");
    assert.deepEqual(await within(emitAck(client, "deep", 3, "call"), WAIT, "second call"), ["sent"]);
  });

  test("an acknowledgement that cannot be encoded is logged (ENCODE_FAILED) and not sent; the connection goes on", async () => {
    const client = await ts.connect("websocket");
    const sid = client.id!;
    let acked = false;
    client.emit("deep", 100_000, "ack", () => (acked = true));
    await until(() => log.entries.some((e) => e.message === "acknowledgement could not be encoded; none sent" && e.fields?.sid === sid), WAIT, "the logged error");
    const entry = log.entries.find((e) => e.message === "acknowledgement could not be encoded; none sent" && e.fields?.sid === sid)!;
    assert.equal(entry.level, "error");
    const err = entry.fields?.err as SockjetError;
    assert.ok(err instanceof SockjetError);
    assert.equal(err.code, "ENCODE_FAILED");
    assert.match(err.message, /cannot encode the acknowledgement/);
    assert.deepEqual(await within(emitAck(client, "echo", "after"), WAIT, "echo after"), ["after"]);
    assert.equal(acked, false);
  });

  test("a handler that lets ENCODE_FAILED escape is logged as a failed handler, not an unhandled rejection", async () => {
    const client = await ts.connect("websocket");
    const sid = client.id!;
    client.emit("deep", 100_000, "unhandled");
    await until(() => log.entries.some((e) => e.message === "event handler failed" && e.fields?.sid === sid), WAIT, "the logged failure");
    const entry = log.entries.find((e) => e.message === "event handler failed" && e.fields?.sid === sid)!;
    assert.equal((entry.fields?.err as SockjetError).code, "ENCODE_FAILED");
    assert.deepEqual(await within(emitAck(client, "echo", "after"), WAIT, "echo after"), ["after"]);
  });

  test("a cyclic value is ENCODE_FAILED too, with the codec's TypeError as its cause", async () => {
    const client = await ts.connect("websocket");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await assert.rejects(ts.sio.emit("x", cyclic, { to: client.id! }), (err: unknown) => {
      assert.ok(err instanceof SockjetError);
      assert.equal(err.code, "ENCODE_FAILED");
      assert.ok(err.cause instanceof TypeError);
      return true;
    });
  });

  test("a refusal whose data cannot be encoded still refuses, with its message alone (the failure is logged)", async () => {
    const client = ts.client("websocket", "/", { auth: { refuseDeep: 100_000 } });
    const err = await within(
      new Promise<Error & { data?: unknown }>((resolve, reject) => {
        client.once("connect_error", resolve);
        client.once("connect", () => reject(new Error("connected")));
      }),
      WAIT,
      "connect_error",
    );
    assert.equal(err.message, "refused, with data too deep to send");
    assert.equal(err.data, undefined);
    assert.ok(log.entries.some((e) => e.message === "packet could not be encoded; not sent" && (e.fields?.err as SockjetError).code === "ENCODE_FAILED"));
  });

  test("no unhandled rejection happened in any of the above", () => {
    assert.deepEqual(unhandled, []);
  });
});
