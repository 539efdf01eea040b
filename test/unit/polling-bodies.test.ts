// Long-polling POST bodies against their limits, in process: the engine behind the fetch adapter
// (src/runtime/fetch.ts readBody, src/engine/transports/polling.ts onPost) fed with Request
// objects, no socket. maxHttpBufferSize is a byte bound (declared by Content-Length or counted
// while streaming), maxPayloadPackets a packet bound; either exceeded closes the session. And the
// body framings (src/engine/transports/polling-framing.ts) chosen per protocol and content type.

import { test } from "node:test";
import assert from "node:assert/strict";
import { EngineServer } from "../../src/engine/index.js";
import { FetchEngineAdapter } from "../../src/runtime/fetch.js";
import { POLLING_V3_BASE64, POLLING_V3_XHR2, POLLING_V4, jsonpFraming } from "../../src/engine/transports/polling-framing.js";
import { OutPacket } from "../../src/engine/out-packet.js";

const LIMIT = 100;

interface Rig {
  handle(request: Request): Promise<Response>;
  url(query: string): string;
  messages: Array<string | Uint8Array>;
  closed: string[];
  close(): void;
}

function rig(options: { maxHttpBufferSize?: number; maxPayloadPackets?: number } = {}): Rig {
  const engine = new EngineServer({ maxHttpBufferSize: LIMIT, pingInterval: 60_000, pingTimeout: 60_000, ...options });
  const handler = new FetchEngineAdapter(engine).handler();
  const messages: Array<string | Uint8Array> = [];
  const closed: string[] = [];
  engine.on("message", (_socket, data) => messages.push(data));
  engine.on("close", (_socket, reason) => closed.push(reason));
  return {
    async handle(request) {
      const response = await handler(request);
      assert.ok(response !== undefined);
      return response;
    },
    url: (query) => `http://sockjet.test${engine.options.path}?EIO=4&transport=polling${query}`,
    messages,
    closed,
    close: () => engine.close(),
  };
}

async function open(r: Rig): Promise<string> {
  const response = await r.handle(new Request(r.url("")));
  assert.equal(response.status, 200);
  const text = await response.text();
  assert.match(text, /^0\{/);
  return (JSON.parse(text.slice(1)) as { sid: string }).sid;
}

function post(r: Rig, sid: string, body: BodyInit | null, headers: Record<string, string> = {}): Promise<Response> {
  const init: RequestInit & { duplex?: "half" } = { method: "POST", body, headers: { "content-type": "text/plain;charset=UTF-8", ...headers } };
  if (body instanceof ReadableStream) init.duplex = "half";
  return r.handle(new Request(r.url(`&sid=${sid}`), init));
}

/** A body that arrives in the given chunks, with no Content-Length. */
function stream(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(encoder.encode(chunks[i++]!));
      else controller.close();
    },
  });
}

/** A closed session's poll is answered at once with 400. */
async function expectGone(r: Rig, sid: string): Promise<void> {
  const response = await r.handle(new Request(r.url(`&sid=${sid}`)));
  assert.equal(response.status, 400);
}

test("a body of exactly maxHttpBufferSize bytes is accepted, with or without Content-Length", async () => {
  const r = rig();
  try {
    const sid = await open(r);
    const message = "4" + "x".repeat(LIMIT - 1);
    const declared = await post(r, sid, message);
    assert.equal(declared.status, 200);
    assert.equal(await declared.text(), "ok");
    const streamed = await post(r, sid, stream([message.slice(0, 30), message.slice(30, 31), message.slice(31)]));
    assert.equal(streamed.status, 200);
    assert.deepEqual(r.messages, [message.slice(1), message.slice(1)], "chunks joined in order");
    const single = await post(r, sid, stream([message]));
    assert.equal(single.status, 200);
    assert.equal(r.messages[2], message.slice(1));
    assert.deepEqual(r.closed, []);
  } finally {
    r.close();
  }
});

test("one byte more is 413 and closes the session: declared by Content-Length, or counted while streaming", async () => {
  for (const body of ["4" + "x".repeat(LIMIT), stream(["4" + "x".repeat(LIMIT - 10), "y".repeat(10)]), stream(["4", "x".repeat(LIMIT)])]) {
    const r = rig();
    try {
      const sid = await open(r);
      const response = await post(r, sid, body);
      assert.equal(response.status, 413);
      assert.deepEqual(await response.json(), { code: 3, message: "Payload too large" });
      assert.deepEqual(r.messages, [], "nothing of it is delivered");
      assert.deepEqual(r.closed, ["transport error"]);
      await expectGone(r, sid);
    } finally {
      r.close();
    }
  }
});

test("a Content-Length above the limit is refused before the body is read", async () => {
  const r = rig();
  try {
    const sid = await open(r);
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new TextEncoder().encode("4x"));
        controller.close();
      },
    });
    const response = await post(r, sid, body, { "content-length": String(LIMIT + 1) });
    assert.equal(response.status, 413);
    assert.ok(pulled <= 1, "at most the stream's own first pull");
    assert.deepEqual(r.messages, []);
  } finally {
    r.close();
  }
});

test("a Content-Length of exactly the limit is read; one more is 413 even without a body", async () => {
  const r = rig();
  try {
    const sid = await open(r);
    const message = "4" + "x".repeat(LIMIT - 1);
    const exact = await post(r, sid, message, { "content-length": String(LIMIT) });
    assert.equal(exact.status, 200);
    assert.deepEqual(r.messages, [message.slice(1)]);
    const bodiless = await r.handle(new Request(r.url(`&sid=${sid}`), { method: "POST", headers: { "content-length": String(LIMIT + 1) } }));
    assert.equal(bodiless.status, 413);
    assert.deepEqual(r.closed, ["transport error"]);
  } finally {
    r.close();
  }
});

test("a second POST while one is being read is refused and closes the session", async () => {
  const r = rig();
  try {
    const sid = await open(r);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let pulls = 0;
    const slow = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (pulls++ === 0) {
          controller.enqueue(new TextEncoder().encode("4first"));
          return;
        }
        await released;
        controller.close();
      },
    });
    const first = post(r, sid, slow);
    const second = await post(r, sid, "4second");
    assert.equal(second.status, 400);
    assert.deepEqual(r.closed, ["transport error"]);
    release();
    await first;
    assert.deepEqual(r.messages, []);
  } finally {
    r.close();
  }
});

test("packets after a close packet in the same body are not delivered", async () => {
  const r = rig();
  try {
    const sid = await open(r);
    const response = await post(r, sid, "4before\x1e1\x1e4after");
    assert.equal(response.status, 200);
    assert.deepEqual(r.messages, ["before"]);
    assert.deepEqual(r.closed, ["transport close"]);
  } finally {
    r.close();
  }
});

test("maxPayloadPackets: that many packets in one body pass, one more closes the session with 400", async () => {
  const r = rig({ maxPayloadPackets: 3, maxHttpBufferSize: 1000 });
  try {
    const sid = await open(r);
    const ok = await post(r, sid, ["4a", "4b", "4c"].join("\x1e"));
    assert.equal(ok.status, 200);
    assert.deepEqual(r.messages, ["a", "b", "c"]);
    const tooMany = await post(r, sid, ["4d", "4e", "4f", "4g"].join("\x1e"));
    assert.equal(tooMany.status, 400);
    assert.deepEqual(r.messages, ["a", "b", "c"], "none of the refused body is delivered");
    assert.deepEqual(r.closed, ["parse error"]);
  } finally {
    r.close();
  }
});

test("an empty POST body and invalid UTF-8 are parse errors", async () => {
  for (const body of [null, new Uint8Array([0x34, 0xff, 0xfe])]) {
    const r = rig();
    try {
      const sid = await open(r);
      const response = await post(r, sid, body);
      assert.equal(response.status, 400);
      assert.deepEqual(r.closed, ["parse error"]);
    } finally {
      r.close();
    }
  }
});

const enc = (text: string) => new TextEncoder().encode(text);

test("v4 framing: UTF-8 text with record separators, binary as b<base64>; the packet bound is passed on", () => {
  assert.deepEqual(POLLING_V4.decode(enc("4é\x1ebAQI="), undefined, 10), {
    ok: true,
    value: [
      { type: 4, data: "é" },
      { type: 4, data: Buffer.from([1, 2]) },
    ],
  });
  assert.deepEqual(POLLING_V4.decode(enc("4a\x1e4b"), "application/octet-stream", 1), { ok: false, code: "TOO_MANY_PACKETS" });
  assert.deepEqual(POLLING_V4.decode(Uint8Array.from([0x34, 0xc3]), undefined, 10), { ok: false, code: "INVALID_UTF8" });
  assert.equal(POLLING_V4.protocol, 4);
  assert.equal(POLLING_V4.contentType("x"), "text/plain; charset=UTF-8");
});

test("v3 framings: binary framing only for application/octet-stream (any case, with parameters), else text", () => {
  const binary = Uint8Array.from([0x00, 0x02, 0xff, 0x34, 0x61, 0x01, 0x02, 0xff, 0x04, 0x07]);
  const expected = { ok: true, value: [{ type: 4, data: "a" }, { type: 4, data: Uint8Array.from([7]) }] };
  for (const framing of [POLLING_V3_XHR2, POLLING_V3_BASE64]) {
    assert.equal(framing.protocol, 3);
    assert.deepEqual(framing.decode(binary, "application/octet-stream", 10), expected);
    assert.deepEqual(framing.decode(binary, "Application/Octet-Stream; x=1", 10), expected);
    assert.deepEqual(framing.decode(binary, "application/octet-stream", 1), { ok: false, code: "TOO_MANY_PACKETS" });
    assert.deepEqual(framing.decode(enc("2:4a2:4b"), "text/plain", 10), { ok: true, value: [{ type: 4, data: "a" }, { type: 4, data: "b" }] });
    assert.deepEqual(framing.decode(enc("2:4a2:4b"), undefined, 1), { ok: false, code: "TOO_MANY_PACKETS" });
    assert.deepEqual(framing.decode(enc("2:4a"), "text/octet-stream", 10), { ok: true, value: [{ type: 4, data: "a" }] });
    assert.deepEqual(framing.decode(Uint8Array.from([0x32, 0x3a, 0x34, 0xff]), "text/plain", 10), { ok: false, code: "INVALID_UTF8" });
  }
  const text = new OutPacket(4, "a");
  const bytes = new OutPacket(4, Uint8Array.from([1]));
  assert.equal(POLLING_V3_XHR2.encode([text]), "2:4a");
  assert.ok(POLLING_V3_XHR2.encode([text, bytes]) instanceof Uint8Array);
  assert.equal(POLLING_V3_XHR2.contentType("2:4a"), "text/plain; charset=UTF-8");
  assert.equal(POLLING_V3_XHR2.contentType(new Uint8Array(1)), "application/octet-stream");
  assert.equal(typeof POLLING_V3_BASE64.encode([text, bytes]), "string");
  assert.equal(POLLING_V3_BASE64.contentType("x"), "text/plain; charset=UTF-8");
});

test("JSONP framing: the form's d field, text framing; no d field or invalid UTF-8 refused", () => {
  const jsonp = jsonpFraming("3");
  assert.equal(jsonp.protocol, 3);
  assert.equal(jsonp.contentType("x"), "text/javascript; charset=UTF-8");
  assert.deepEqual(jsonp.decode(enc("d=2%3A4a"), "application/x-www-form-urlencoded", 10), { ok: true, value: [{ type: 4, data: "a" }] });
  assert.deepEqual(jsonp.decode(enc("d=2%3A4a2%3A4b"), undefined, 1), { ok: false, code: "TOO_MANY_PACKETS" });
  assert.deepEqual(jsonp.decode(enc("e=2%3A4a"), undefined, 10), { ok: false, code: "EMPTY_PACKET" });
  assert.deepEqual(jsonp.decode(Uint8Array.from([0x64, 0x3d, 0xff]), undefined, 10), { ok: false, code: "INVALID_UTF8" });
  assert.match(String(jsonp.encode([new OutPacket(4, "a")])), /^___eio\[3\]\(/);
});
