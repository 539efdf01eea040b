// Long-polling POST bodies against maxHttpBufferSize on Node (src/runtime/node.ts readBody): the
// engine behind NodeEngineAdapter on an http server in this process, fed over raw TCP so that the
// test decides the framing (Content-Length or chunked, one chunk or several) and can walk away
// mid-body. The counterpart of polling-bodies.test.ts (the fetch adapter); small and fast enough
// for the mutation run, which leaves the engine suites out.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { EngineServer, NodeEngineAdapter } from "../../src/engine/index.js";
import { until } from "../support/harness.js";

const LIMIT = 100;
const PATH = "/socket.io/?EIO=4&transport=polling";

let engine: EngineServer;
let http: Server;
let port: number;
const messages: Array<string | Uint8Array> = [];
const closed = new Map<string, string>();

before(async () => {
  engine = new EngineServer({ maxHttpBufferSize: LIMIT, pingInterval: 60_000, pingTimeout: 60_000 });
  engine.on("message", (_socket, data) => messages.push(data));
  engine.on("close", (socket, reason) => closed.set(socket.id, reason));
  http = createServer();
  new NodeEngineAdapter(engine).attach(http);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  port = (http.address() as AddressInfo).port;
});

after(async () => {
  engine.close();
  await new Promise<void>((resolve) => http.close(() => resolve()));
});

interface Reply {
  status: number;
  head: string;
  body: string;
}

/**
 * Writes `request` (raw bytes, the whole request or its start) on a new connection and reads one
 * response, then closes the connection. `abandon`: the client closes the connection right after
 * writing, reading nothing.
 */
function exchange(request: string, abandon = false): Promise<Reply | null> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = Buffer.alloc(0);
    socket.on("connect", () => {
      socket.write(request);
      if (abandon) {
        socket.destroy();
        resolve(null);
      }
    });
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const reply = complete(received.toString("utf8"));
      if (reply === null) return;
      socket.destroy();
      resolve(reply);
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error(`connection closed before a complete response: ${received.toString("utf8")}`)));
  });
}

/** The response in `text`, or null while it is incomplete. */
function complete(text: string): Reply | null {
  const split = text.indexOf("\r\n\r\n");
  if (split === -1) return null;
  const head = text.slice(0, split).toLowerCase();
  const raw = text.slice(split + 4);
  const status = Number(/^http\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  if (head.includes("\r\ntransfer-encoding: chunked")) return raw.endsWith("0\r\n\r\n") ? { status, head, body: dechunk(raw) } : null;
  const length = Number(/\r\ncontent-length: (\d+)/.exec(head)?.[1] ?? 0);
  return Buffer.byteLength(raw) >= length ? { status, head, body: raw } : null;
}

/** The data of a chunked response body. */
function dechunk(raw: string): string {
  let out = "";
  let i = 0;
  for (;;) {
    const eol = raw.indexOf("\r\n", i);
    const size = parseInt(raw.slice(i, eol), 16);
    if (!(size > 0)) return out;
    out += raw.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
}

async function open(): Promise<string> {
  const reply = await exchange(`GET ${PATH} HTTP/1.1\r\nHost: t\r\n\r\n`);
  assert.ok(reply !== null);
  assert.equal(reply.status, 200);
  const text = /0\{.*\}/.exec(reply.body)?.[0];
  assert.ok(text !== undefined, reply.body);
  return (JSON.parse(text.slice(1)) as { sid: string }).sid;
}

const postHead = (sid: string, framing: string) =>
  `POST ${PATH}&sid=${sid} HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain;charset=UTF-8\r\n${framing}\r\n`;

/** A POST with a Content-Length header and the given body. */
const withLength = (sid: string, body: string, declared = Buffer.byteLength(body)) => postHead(sid, `Content-Length: ${declared}\r\n`) + body;

/** A chunked POST (no Content-Length): each string is one chunk of the transfer encoding. */
const chunked = (sid: string, chunks: string[]) =>
  postHead(sid, "Transfer-Encoding: chunked\r\n") + chunks.map((c) => `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`).join("") + "0\r\n\r\n";

/** A message packet ("4" + text) of exactly `size` bytes. */
const messageOf = (size: number) => "4" + "m".repeat(size - 1);

async function expectAccepted(request: string, sid: string, expected: string): Promise<void> {
  const before = messages.length;
  const reply = await exchange(request);
  assert.ok(reply !== null);
  assert.equal(reply.status, 200, reply.body);
  assert.equal(reply.body, "ok");
  assert.deepEqual(messages.slice(before), [expected]);
  assert.equal(closed.has(sid), false);
}

async function expectTooLarge(request: string, sid: string): Promise<void> {
  const before = messages.length;
  const reply = await exchange(request);
  assert.ok(reply !== null);
  assert.equal(reply.status, 413);
  assert.match(reply.body, /"Payload too large"/);
  // The rest of the upload is not read: the server says it closes the connection.
  assert.match(reply.head, /\r\nconnection: close/);
  assert.equal(closed.get(sid), "transport error");
  assert.equal(messages.length, before);
}

test("a body of exactly maxHttpBufferSize bytes is accepted: declared, in one chunk, in several", async () => {
  const sid = await open();
  const body = messageOf(LIMIT);
  await expectAccepted(withLength(sid, body), sid, body.slice(1));
  await expectAccepted(chunked(sid, [body]), sid, body.slice(1));
  // Several chunks are joined in order, none lost or repeated.
  const parts = ["4abc", "d".repeat(40), "e".repeat(LIMIT - 44)];
  await expectAccepted(chunked(sid, parts), sid, parts.join("").slice(1));
  const small = ["4x", "y", "z"];
  await expectAccepted(chunked(sid, small), sid, "xyz");
});

test("a declared Content-Length one byte over the limit: 413 before any byte is read", async () => {
  const sid = await open();
  // Only the headers are sent: the answer cannot wait for a body.
  await expectTooLarge(withLength(sid, "", LIMIT + 1), sid);
});

test("a chunked body that grows one byte past the limit: 413, whether the last chunk or the only one", async () => {
  const a = await open();
  await expectTooLarge(chunked(a, ["4" + "a".repeat(59), "b".repeat(LIMIT - 60 + 1)]), a);
  const b = await open();
  await expectTooLarge(chunked(b, [messageOf(LIMIT + 1)]), b);
});

test("an empty body is read as empty (a malformed payload), not as too large", async () => {
  const sid = await open();
  const reply = await exchange(withLength(sid, ""));
  assert.ok(reply !== null);
  assert.equal(reply.status, 400);
  assert.equal(closed.get(sid), "parse error");
});

test("a client that walks away mid-body closes the session, with no message delivered", async () => {
  const sid = await open();
  const before = messages.length;
  await exchange(withLength(sid, "4abc", 50), true);
  await until(() => closed.has(sid), 20_000, "the session to close");
  assert.equal(closed.get(sid), "transport error");
  assert.equal(messages.length, before);
});
