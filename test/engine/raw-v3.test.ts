// Engine.IO v3 / Socket.IO protocol v4 (socket.io-client 1.x/2.x) over raw HTTP requests and raw
// WebSocket frames against a real sockjet server with allowEIO3: literal wire strings and bytes in
// both directions. Handshakes over polling (text, XHR2 binary, base64 and JSONP framings) and
// WebSocket, the client-driven heartbeat, POST bodies in each framing, binary events, the upgrade,
// namespace connects with a query, refusals, CLOSE from the client, and the versions still refused.
// The reference is engine.io 3.x with engine.io-parser 2.2.1 and engine.io-client 3.5.6.
// No timing assertions: every wait is bounded, nothing asserts how long something took.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { runInNewContext } from "node:vm";
import { gunzipSync } from "node:zlib";
import { ConnectionRefusedError, Server } from "../../src/index.js";
import { RawWs, raw, wsRefusal, type RawResponse } from "./raw-client.js";
import { sleep, until } from "../support/harness.js";

const SID = "[A-Za-z0-9_-]{20}";
const TEXT = "text/plain; charset=UTF-8";
const BINARY = "application/octet-stream";
const JAVASCRIPT = "text/javascript; charset=UTF-8";
const FORM = "application/x-www-form-urlencoded";
const VERSION_ERROR = '{"code":5,"message":"Unsupported protocol version"}';
const UNKNOWN_SID = '{"code":1,"message":"Session ID unknown"}';
const BAD_REQUEST = '{"code":3,"message":"Bad request"}';

/** The open packet of this server (pingInterval 300, pingTimeout 200): no maxPayload in v3. */
const openPacket = (sid: string, upgrades: string) => `0{"sid":"${sid}","upgrades":${upgrades},"pingInterval":300,"pingTimeout":200}`;
/** The binary event header the tests send and expect back (41 characters). */
const BIN_EVENT = '451-["bin",{"_placeholder":true,"num":0}]';
const ascii = (text: string): number[] => Array.from(Buffer.from(text, "utf8"));

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]);
}

describe("Engine.IO v3 over raw HTTP and WebSocket (allowEIO3)", () => {
  let sio: Server;
  let port: number;
  const sockets: RawWs[] = [];
  /** Socket.IO sid → what its connect handler received, per namespace. */
  const connects = new Map<string, { namespace: string; auth: unknown; query: Record<string, string> }>();
  /** Socket.IO sid (main namespace) → disconnect reason. */
  const disconnects = new Map<string, string>();

  before(async () => {
    sio = new Server({ allowEIO3: true, pingInterval: 300, pingTimeout: 200, logger: false });
    sio.on("connect", (sid: string, environ, auth) => {
      const token = (auth as { token?: string }).token;
      if (token === "refuse") throw new ConnectionRefusedError("go away");
      if (token === "refuse-data") throw new ConnectionRefusedError("go away", { code: 42 });
      connects.set(sid, { namespace: "/", auth, query: environ.query });
    });
    sio.on("connect", (sid: string, environ, auth) => {
      if ((auth as { token?: string }).token === "no") return false;
      connects.set(sid, { namespace: "/chat", auth, query: environ.query });
      return true;
    }, "/chat");
    sio.on("disconnect", (sid: string, reason: string) => {
      disconnects.set(sid, reason);
    });
    sio.on("whoami", (sid: string) => sid);
    sio.on("echo", (_sid: string, data: unknown) => data);
    sio.on("bin", async (sid: string, data: unknown) => {
      await sio.emit("bin", data, { to: sid });
    });
    const http = await sio.listen(0, "127.0.0.1");
    port = (http.address() as AddressInfo).port;
  });

  after(async () => {
    for (const s of sockets) s.terminate();
    await sio.close();
  });

  // ---- helpers ------------------------------------------------------------------------------

  const POLL = "/socket.io/?EIO=3&transport=polling";
  const WS = "/socket.io/?EIO=3&transport=websocket";
  const wsUrl = (query = "") => `ws://127.0.0.1:${port}${WS}${query}`;

  /** A polling handshake; the response must be the v3 open packet, text-framed. */
  async function handshake(query = ""): Promise<string> {
    const res = await raw(port, `${POLL}&t=N1a2b3c${query}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers["content-type"], TEXT);
    const match = new RegExp(`^93:0\\{"sid":"(${SID})"`).exec(res.text);
    assert.ok(match, res.text);
    const sid = match[1]!;
    assert.equal(res.text, "93:" + openPacket(sid, '["websocket"]'));
    return sid;
  }

  const get = (sid: string, query = "") => raw(port, `${POLL}&sid=${sid}${query}`);
  const post = (sid: string, body: string | Buffer, contentType: string, query = "") =>
    raw(port, `${POLL}&sid=${sid}${query}`, { method: "POST", body, headers: { "Content-Type": contentType } });

  /** A GET whose response is text: its body, after checking status and content type. */
  async function getText(sid: string, contentType = TEXT, query = ""): Promise<string> {
    const res = await get(sid, query);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers["content-type"], contentType);
    return res.text;
  }

  async function postOk(sid: string, body: string | Buffer, contentType = "text/plain;charset=UTF-8", query = ""): Promise<void> {
    const res = await post(sid, body, contentType, query);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, "ok");
    assert.equal(res.headers["content-type"], "text/html; charset=UTF-8");
  }

  async function untilPollWaiting(sid: string): Promise<void> {
    await until(() => sio.engine.sessions.get(sid)?.transport.writable === true, 5000, "the GET to reach the server");
  }

  /** The Socket.IO sid of the main namespace, asked over polling with an acknowledged event. */
  async function whoamiPolling(sid: string): Promise<string> {
    await postOk(sid, '13:421["whoami"]');
    const reply = await getText(sid);
    const match = new RegExp(`^27:431\\["(${SID})"\\]$`).exec(reply);
    assert.ok(match, reply);
    return match[1]!;
  }

  /** A v3 polling session joined to "/" (implicitly): engine sid and Socket.IO sid. */
  async function pollingSession(query = ""): Promise<{ sid: string; nsSid: string }> {
    const sid = await handshake(query);
    assert.equal(await getText(sid), "2:40");
    return { sid, nsSid: await whoamiPolling(sid) };
  }

  function openWs(query = ""): RawWs {
    const ws = new RawWs(wsUrl(query));
    sockets.push(ws);
    return ws;
  }

  /** The next message, server pings included (a v3 server must never send one). */
  const next = (ws: RawWs) => withTimeout(ws.next(true), 5000, "a WebSocket message");

  async function nextText(ws: RawWs): Promise<string> {
    const m = await next(ws);
    assert.equal(typeof m, "string", `expected a text frame, got bytes ${Buffer.isBuffer(m) ? [...m].join(",") : ""}`);
    return m as string;
  }

  async function nextBinary(ws: RawWs): Promise<number[]> {
    const m = await next(ws);
    assert.ok(Buffer.isBuffer(m), `expected a binary frame, got ${JSON.stringify(m)}`);
    return [...m];
  }

  /** A WebSocket-only v3 session joined to "/": the socket, engine sid and Socket.IO sid. */
  async function wsSession(query = ""): Promise<{ ws: RawWs; sid: string; nsSid: string }> {
    const ws = openWs(query);
    await withTimeout(ws.opened, 5000, "the WebSocket to open");
    const open = await nextText(ws);
    const match = new RegExp(`^0\\{"sid":"(${SID})"`).exec(open);
    assert.ok(match, open);
    const sid = match[1]!;
    assert.equal(open, openPacket(sid, "[]"));
    assert.equal(await nextText(ws), "40");
    ws.send('421["whoami"]');
    const reply = await nextText(ws);
    const who = new RegExp(`^431\\["(${SID})"\\]$`).exec(reply);
    assert.ok(who, reply);
    return { ws, sid, nsSid: who[1]! };
  }

  async function refusedVersion(res: RawResponse, what: string): Promise<void> {
    assert.equal(res.status, 400, what);
    assert.equal(res.headers["content-type"], "application/json", what);
    assert.equal(res.text, VERSION_ERROR, what);
  }

  // ---- handshakes ---------------------------------------------------------------------------

  test("polling handshake: 93:0{sid,upgrades,pingInterval,pingTimeout} (no maxPayload), then 2:40 for the implicit connect of /", async () => {
    const res = await raw(port, `${POLL}&t=N1a2b3c`);
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-type"], TEXT);
    const match = new RegExp(`^93:0\\{"sid":"(${SID})","upgrades":\\["websocket"\\],"pingInterval":300,"pingTimeout":200\\}$`).exec(res.text);
    assert.ok(match, res.text);
    const sid = match[1]!;
    assert.equal(res.text.includes("maxPayload"), false);
    assert.equal(res.text.length, 3 + 93);

    // The main namespace was joined with the session: its CONNECT waits for the next GET.
    const connect = await get(sid);
    assert.equal(connect.status, 200);
    assert.equal(connect.headers["content-type"], TEXT);
    assert.equal(connect.text, "2:40");

    // The connect handler ran for "/", with the handshake's query minus Engine.IO's own keys as auth.
    // Its sid is the Engine.IO session id: what a socket.io 2 client takes as its socket.id.
    const nsSid = await whoamiPolling(sid);
    assert.equal(nsSid, sid);
    assert.deepEqual(connects.get(nsSid), { namespace: "/", auth: {}, query: { EIO: "3", transport: "polling", t: "N1a2b3c" } });
    assert.equal(sio.transport(nsSid), "polling");
  });

  test("the main namespace's auth is the handshake query without EIO, transport, t, sid, b64, j", async () => {
    const { nsSid } = await pollingSession("&token=xyz&b64=1&room=a%20b");
    assert.deepEqual(connects.get(nsSid)?.auth, { token: "xyz", room: "a b" });
  });

  test("WebSocket handshake: 0{sid,upgrades:[],pingInterval,pingTimeout} then 40", async () => {
    const ws = openWs();
    await withTimeout(ws.opened, 5000, "open");
    const open = await nextText(ws);
    const match = new RegExp(`^0\\{"sid":"(${SID})","upgrades":\\[\\],"pingInterval":300,"pingTimeout":200\\}$`).exec(open);
    assert.ok(match, open);
    assert.equal(await nextText(ws), "40");
    ws.send('421["echo","é€😀"]');
    assert.equal(await nextText(ws), '431["é€😀"]');
  });

  test("an Engine.IO v4 client on the same server still gets the v4 handshake", async () => {
    const res = await raw(port, "/socket.io/?EIO=4&transport=polling");
    assert.equal(res.status, 200);
    assert.match(res.text, new RegExp(`^0\\{"sid":"${SID}","upgrades":\\["websocket"\\],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000\\}$`));
  });

  // ---- heartbeat ----------------------------------------------------------------------------

  test("heartbeat over polling: client 2 -> server 3, and never a server-initiated 2", async () => {
    const { sid } = await pollingSession();
    // More than pingInterval in total, well under pingInterval + pingTimeout between pings.
    for (let i = 0; i < 7; i++) {
      await postOk(sid, "1:2");
      assert.equal(await getText(sid), "1:3", `round ${i}`);
      await sleep(100);
    }
    // A ping with data is answered with a bare pong too; a PONG from the client is ignored.
    await postOk(sid, "6:2probe1:3");
    assert.equal(await getText(sid), "1:3");
  });

  test("heartbeat over WebSocket: client 2 -> server 3, and never a server-initiated 2", async () => {
    const { ws } = await wsSession();
    const received: Array<string | Buffer> = [];
    for (let i = 0; i < 7; i++) {
      ws.send("2");
      received.push(await next(ws));
      await sleep(100);
    }
    assert.deepEqual(received, ["3", "3", "3", "3", "3", "3", "3"]);
    // As engine.io 3 does, any ping on the established transport gets a bare pong, and a PONG
    // from the client is ignored.
    ws.send("3");
    ws.send("2probe");
    assert.equal(await nextText(ws), "3");
  });

  test("a polling session whose client stops pinging is closed: the waiting GET gets 1:1, the disconnect handler 'ping timeout'", async () => {
    const { sid, nsSid } = await pollingSession();
    const waiting = withTimeout(get(sid), 5000, "the poll to be answered");
    const res = await waiting;
    assert.equal(res.status, 200);
    assert.equal(res.text, "1:1");
    await until(() => disconnects.has(nsSid), 5000, "the disconnect handler");
    assert.equal(disconnects.get(nsSid), "ping timeout");
    const late = await get(sid);
    assert.equal(late.status, 400);
    assert.equal(late.text, UNKNOWN_SID);
  });

  test("a WebSocket session whose client stops pinging is closed with 'ping timeout'", async () => {
    const { ws, nsSid } = await wsSession();
    await withTimeout(ws.closed, 5000, "the server to close the WebSocket");
    await until(() => disconnects.has(nsSid), 5000, "the disconnect handler");
    assert.equal(disconnects.get(nsSid), "ping timeout");
  });

  // ---- POST bodies and binary ---------------------------------------------------------------

  test("POST in the text framing: several packets, UTF-16 lengths, one GET carries the replies", async () => {
    const { sid } = await pollingSession();
    // Two acknowledged events in one body; 😀 counts 2 in its length.
    await postOk(sid, '18:421["echo","é€😀"]17:422["echo","a:b"]');
    const replies = await getText(sid);
    assert.equal(replies, '11:431["é€😀"]10:432["a:b"]');
  });

  test("XHR2 session: a binary event POSTed in the binary framing is echoed as the binary framing (application/octet-stream)", async () => {
    const { sid, nsSid } = await pollingSession();
    const body = Buffer.from([0, 4, 1, 255, ...ascii(BIN_EVENT), 1, 4, 255, 4, 1, 2, 3]);
    await postOk(sid, body, BINARY);
    const res = await get(sid);
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-type"], BINARY);
    assert.deepEqual([...res.body], [0, 4, 1, 255, ...ascii(BIN_EVENT), 1, 4, 255, 4, 1, 2, 3]);

    // A text-only payload to the same session is the text framing again.
    await sio.emit("plain", "é", { to: nsSid });
    assert.equal(await getText(sid), '15:42["plain","é"]');

    // Multi-digit binary lengths and UTF-8 byte lengths for text entries.
    await sio.emit("bin", Buffer.from([...Array(11).keys()]), { to: nsSid });
    await sio.emit("plain", "€😀", { to: nsSid });
    const mixed = await get(sid);
    assert.equal(mixed.headers["content-type"], BINARY);
    assert.deepEqual([...mixed.body], [
      0, 4, 1, 255, ...ascii(BIN_EVENT),
      1, 1, 2, 255, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
      0, 2, 1, 255, ...ascii('42["plain","€😀"]'), // 17 UTF-16 code units, 21 bytes: the length counts bytes
    ]);
  });

  test("XHR2 session: the binary event may also arrive text-framed with a b4 attachment", async () => {
    const { sid } = await pollingSession();
    await postOk(sid, `41:${BIN_EVENT}6:b4CQgH`);
    // b64 counts only at the handshake (the client sends it there only): a later b64=1 changes nothing.
    const res = await get(sid, "&b64=1");
    assert.equal(res.headers["content-type"], BINARY);
    assert.deepEqual([...res.body], [0, 4, 1, 255, ...ascii(BIN_EVENT), 1, 4, 255, 4, 9, 8, 7]);
  });

  test("base64 session (b64=1 at the handshake): binary travels as b4<base64> in text/plain", async () => {
    const { sid, nsSid } = await pollingSession("&b64=1");
    await postOk(sid, `41:${BIN_EVENT}6:b4AQID`);
    assert.equal(await getText(sid), `41:${BIN_EVENT}6:b4AQID`);
    await sio.emit("bin", Buffer.from([0xff, 0xfe]), { to: nsSid });
    assert.equal(await getText(sid), `41:${BIN_EVENT}6:b4//4=`);
  });

  test("a large binary framing response is compressed like any poll (gzip), its Content-Type unchanged", async () => {
    const { sid, nsSid } = await pollingSession();
    const data = Buffer.alloc(2000, 0xab);
    await sio.emit("bin", data, { to: nsSid });
    const res = await raw(port, `${POLL}&sid=${sid}`, { headers: { "Accept-Encoding": "gzip" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-type"], BINARY);
    assert.equal(res.headers["content-encoding"], "gzip");
    assert.deepEqual([...gunzipSync(res.body)], [0, 4, 1, 255, ...ascii(BIN_EVENT), 1, 2, 0, 0, 1, 255, 4, ...data]);
  });

  test("malformed POST bodies end only that session with 'parse error' (400 code 3)", async () => {
    const cases: Array<[string, string | Buffer, string]> = [
      ["overrunning length", "5:4ab", "text/plain;charset=UTF-8"],
      ["non-digit length", "a:42[]", "text/plain;charset=UTF-8"],
      ["bad base64", "5:b4!!!", "text/plain;charset=UTF-8"],
      ["binary framing, kind byte 2", Buffer.from([2, 1, 255, 0x32]), BINARY],
      ["binary framing, missing 255", Buffer.from([0, 1, 2]), BINARY],
      ["binary framing, invalid UTF-8", Buffer.from([0, 2, 255, 0x34, 0xff]), BINARY],
    ];
    for (const [name, body, contentType] of cases) {
      const { sid, nsSid } = await pollingSession();
      const res = await post(sid, body, contentType);
      assert.equal(res.status, 400, name);
      assert.equal(res.text, BAD_REQUEST, name);
      await until(() => disconnects.has(nsSid), 5000, `the disconnect handler (${name})`);
      assert.equal(disconnects.get(nsSid), "parse error", name);
    }
  });

  // ---- JSONP --------------------------------------------------------------------------------

  test("JSONP: handshake, implicit connect, form POSTs with escaped newlines, U+2028, binary as b4", async () => {
    const hs = await raw(port, `${POLL}&j=0&t=N1a2b3c`);
    assert.equal(hs.status, 200);
    assert.equal(hs.headers["content-type"], JAVASCRIPT);
    const match = new RegExp(`^___eio\\[0\\]\\("93:0\\{\\\\"sid\\\\":\\\\"(${SID})\\\\"`).exec(hs.text);
    assert.ok(match, hs.text);
    const sid = match[1]!;
    assert.equal(
      hs.text,
      `___eio[0]("93:0{\\"sid\\":\\"${sid}\\",\\"upgrades\\":[\\"websocket\\"],\\"pingInterval\\":300,\\"pingTimeout\\":200}");`,
    );
    // As a script, it hands the text payload to the callback.
    const calls: string[] = [];
    runInNewContext(hs.text, { ___eio: [(s: string) => calls.push(s)] });
    assert.deepEqual(calls, ["93:" + openPacket(sid, '["websocket"]')]);

    assert.equal(await getText(sid, JAVASCRIPT, "&j=0"), '___eio[0]("2:40");');

    // The client escapes the payload `23:421["echo",<newline>"a\nb +&é"]` (a real newline as JSON
    // whitespace, and backslash-n inside the JSON string) to `...,\n"a\\nb...` and posts it as a form.
    await postOk(sid, "d=23%3A421%5B%22echo%22%2C%5Cn%22a%5C%5Cnb+%2B%26%C3%A9%22%5D", FORM, "&j=0");
    const reply = await getText(sid, JAVASCRIPT, "&j=0");
    assert.equal(reply, '___eio[0]("15:431[\\"a\\\\nb +&é\\"]");');
    const got: string[] = [];
    runInNewContext(reply, { ___eio: [(s: string) => got.push(s)] });
    assert.deepEqual(got, ['15:431["a\\nb +&é"]']);

    // U+2028 and U+2029 are legal in JSON strings but not in older JavaScript: escaped in the script.
    await postOk(sid, "d=16%3A421%5B%22echo%22%2C%22%E2%80%A8%E2%80%A9%22%5D", FORM, "&j=0");
    assert.equal(await getText(sid, JAVASCRIPT, "&j=0"), '___eio[0]("9:431[\\"\\u2028\\u2029\\"]");');

    // Binary goes both ways as b4<base64>.
    await postOk(sid, "d=" + encodeURIComponent(`41:${BIN_EVENT}6:b4CQgH`), FORM, "&j=0");
    assert.equal(
      await getText(sid, JAVASCRIPT, "&j=0"),
      '___eio[0]("41:451-[\\"bin\\",{\\"_placeholder\\":true,\\"num\\":0}]6:b4CQgH");',
    );

    // The heartbeat goes through the form too.
    await postOk(sid, "d=1%3A2", FORM, "&j=0");
    assert.equal(await getText(sid, JAVASCRIPT, "&j=0"), '___eio[0]("1:3");');
  });

  test("JSONP: the callback index is reduced to its digits (j=1abc -> ___eio[1])", async () => {
    const hs = await raw(port, `${POLL}&j=1abc`);
    assert.equal(hs.status, 200);
    assert.equal(hs.headers["content-type"], JAVASCRIPT);
    assert.match(hs.text, new RegExp(`^___eio\\[1\\]\\("93:0\\{\\\\"sid\\\\":\\\\"${SID}\\\\",`));
    assert.ok(hs.text.endsWith('\\"pingTimeout\\":200}");'), hs.text);
    const hostile = await raw(port, `${POLL}&j=${encodeURIComponent("2);alert(1);//")}`);
    assert.match(hostile.text, /^___eio\[21\]\("93:0\{/);
  });

  test("JSONP: a form without d is refused (400 code 3, parse error)", async () => {
    const hs = await raw(port, `${POLL}&j=0`);
    const sid = new RegExp(`\\\\"sid\\\\":\\\\"(${SID})\\\\"`).exec(hs.text)![1]!;
    assert.equal(await getText(sid, JAVASCRIPT, "&j=0"), '___eio[0]("2:40");');
    const res = await post(sid, "x=1%3A2", FORM, "&j=0");
    assert.equal(res.status, 400);
    assert.equal(res.text, BAD_REQUEST);
    const late = await get(sid, "&j=0");
    assert.equal(late.status, 400);
    assert.equal(late.text, UNKNOWN_SID);
  });

  // ---- upgrade and v3 WebSocket frames ------------------------------------------------------

  test("upgrade: 2probe -> 3probe, the waiting GET released with 1:6, 5 switches; binary frames carry 0x04", async () => {
    const { sid, nsSid } = await pollingSession();
    const waiting = withTimeout(get(sid), 5000, "the poll to be released");
    await untilPollWaiting(sid);
    const ws = openWs(`&sid=${sid}`);
    await withTimeout(ws.opened, 5000, "the probe to open");
    ws.send("2probe");
    assert.equal(await nextText(ws), "3probe");
    const released = await waiting;
    assert.equal(released.status, 200);
    assert.equal(released.headers["content-type"], TEXT);
    assert.equal(released.text, "1:6");
    // Emitted before the switch: queued, then sent over the WebSocket.
    await sio.emit("queued", 1, { to: nsSid });
    ws.send("5");
    assert.equal(await nextText(ws), '42["queued",1]');
    await until(() => sio.transport(nsSid) === "websocket", 5000, "the switch");

    // Server -> client binary: the attachment frame starts with the type byte 0x04.
    await sio.emit("bin", Buffer.from([1, 2, 3]), { to: nsSid });
    assert.equal(await nextText(ws), BIN_EVENT);
    assert.deepEqual(await nextBinary(ws), [4, 1, 2, 3]);
    // Client -> server binary: the client prefixes 0x04 too; echoed back the same way.
    ws.send(BIN_EVENT);
    ws.send(Buffer.from([4, 9, 8, 7]));
    assert.equal(await nextText(ws), BIN_EVENT);
    assert.deepEqual(await nextBinary(ws), [4, 9, 8, 7]);
    // An empty attachment is the single byte 0x04.
    ws.send(BIN_EVENT);
    ws.send(Buffer.from([4]));
    assert.equal(await nextText(ws), BIN_EVENT);
    assert.deepEqual(await nextBinary(ws), [4]);

    ws.send("2");
    assert.equal(await nextText(ws), "3");
    // Polling is over for this session.
    const late = await get(sid);
    assert.equal(late.status, 400);
    assert.equal(late.text, BAD_REQUEST);
  });

  test("v3 WebSocket with b64=1: binary travels as b4<base64> text frames both ways", async () => {
    const { ws, nsSid } = await wsSession("&b64=1");
    ws.send(BIN_EVENT);
    ws.send("b4CQgH");
    assert.equal(await nextText(ws), BIN_EVENT);
    assert.equal(await nextText(ws), "b4CQgH");
    await sio.emit("bin", Buffer.from([0xff, 0xfe]), { to: nsSid });
    assert.equal(await nextText(ws), BIN_EVENT);
    assert.equal(await nextText(ws), "b4//4=");
  });

  test("v3 WebSocket without b64: a b4 text frame from the client is accepted as binary; the reply is a 0x04 binary frame", async () => {
    const { ws } = await wsSession();
    ws.send(BIN_EVENT);
    ws.send("b4AQID");
    assert.equal(await nextText(ws), BIN_EVENT);
    assert.deepEqual(await nextBinary(ws), [4, 1, 2, 3]);
  });

  test("v3 WebSocket: a binary frame without the 0x04 type byte closes the session with 'parse error'", async () => {
    const { ws, nsSid } = await wsSession();
    ws.send(BIN_EVENT);
    ws.send(Buffer.from([1, 2, 3]));
    await withTimeout(ws.closed, 5000, "the server to close the WebSocket");
    await until(() => disconnects.has(nsSid), 5000, "the disconnect handler");
    assert.equal(disconnects.get(nsSid), "parse error");
  });

  // ---- namespaces ---------------------------------------------------------------------------

  test("namespace connect over WebSocket: 40/chat?token=abc, -> 40/chat, with auth {token:'abc'}; 40/nope, -> 44/nope,\"Invalid namespace\"", async () => {
    const { ws } = await wsSession("&lang=fr");
    ws.send("40/chat?token=abc,");
    assert.equal(await nextText(ws), "40/chat,");
    const chat = [...connects.values()].filter((c) => c.namespace === "/chat" && c.query.lang === "fr");
    assert.equal(chat.length, 1);
    assert.deepEqual(chat[0]!.auth, { token: "abc" });
    assert.equal(chat[0]!.query.token, "abc", "the namespace's query joins its environ");

    ws.send("40/nope,");
    assert.equal(await nextText(ws), '44/nope,"Invalid namespace"');
    // The session and its namespaces are unaffected.
    ws.send('42/chat,["nothing"]');
    ws.send("2");
    assert.equal(await nextText(ws), "3");
  });

  test("namespace connect over polling: 18:40/chat?token=abc, -> 8:40/chat,; refused: 27:44/nope,\"Invalid namespace\"", async () => {
    const { sid } = await pollingSession("&lang=de");
    await postOk(sid, "18:40/chat?token=abc,");
    assert.equal(await getText(sid), "8:40/chat,");
    const chat = [...connects.values()].filter((c) => c.namespace === "/chat" && c.query.lang === "de");
    assert.equal(chat.length, 1);
    assert.deepEqual(chat[0]!.auth, { token: "abc" });
    await postOk(sid, "8:40/nope,");
    assert.equal(await getText(sid), '27:44/nope,"Invalid namespace"');
  });

  test("refusals carry one datum (socket.io 2): the data when there is some, else the message", async () => {
    // The main namespace, refused from its implicit connect (the handshake query is its auth).
    const plain = await handshake("&token=refuse");
    assert.equal(await getText(plain), '11:44"go away"');
    const withData = await handshake("&token=refuse-data");
    assert.equal(await getText(withData), '13:44{"code":42}');
    // Another namespace whose connect handler returns false.
    const { ws } = await wsSession();
    ws.send("40/chat?token=no,");
    assert.equal(await nextText(ws), '44/chat,"Connection rejected by server"');
  });

  test("a namespace refused once can be joined by a later CONNECT on the same connection", async () => {
    // socket.io-client 2 keeps its engine open after an `error` packet (the main namespace stays
    // joined), and `socket.open()` sends the namespace's CONNECT again on it: socket.io 2 runs the
    // connect middleware again and answers. The ping after the retry makes a missing answer show
    // up as "3" instead of a timeout.
    const { ws } = await wsSession();
    ws.send("40/chat?token=no,");
    assert.equal(await nextText(ws), '44/chat,"Connection rejected by server"');
    ws.send("40/chat?token=yes,");
    ws.send("2");
    assert.equal(await nextText(ws), "40/chat,");
    assert.equal(await nextText(ws), "3");
  });

  // ---- CLOSE from the client ----------------------------------------------------------------

  test("CLOSE from a polling client: the POST is ok, the waiting GET gets 1:6, the disconnect reason is 'transport close'", async () => {
    const { sid, nsSid } = await pollingSession();
    const waiting = withTimeout(get(sid), 5000, "the poll to be released");
    await untilPollWaiting(sid);
    await postOk(sid, "1:1");
    const released = await waiting;
    assert.equal(released.status, 200);
    assert.equal(released.text, "1:6");
    await until(() => disconnects.has(nsSid), 5000, "the disconnect handler");
    assert.equal(disconnects.get(nsSid), "transport close");
    const late = await get(sid);
    assert.equal(late.status, 400);
    assert.equal(late.text, UNKNOWN_SID);
  });

  test("CLOSE from a WebSocket client: the socket closes, the disconnect reason is 'transport close'", async () => {
    const { ws, nsSid } = await wsSession();
    ws.send("1");
    const closed = await withTimeout(ws.closed, 5000, "the server to close the WebSocket");
    assert.equal(closed.code, 1000);
    await until(() => disconnects.has(nsSid), 5000, "the disconnect handler");
    assert.equal(disconnects.get(nsSid), "transport close");
  });

  // ---- versions still refused ---------------------------------------------------------------

  test("with allowEIO3, EIO=2, 5, abc and a missing EIO are still 400 code 5 (polling and WebSocket)", async () => {
    for (const eio of ["EIO=2&", "EIO=5&", "EIO=abc&", "EIO=&", ""]) {
      await refusedVersion(await raw(port, `/socket.io/?${eio}transport=polling`), `polling ${eio}`);
      const refused = await wsRefusal(`ws://127.0.0.1:${port}/socket.io/?${eio}transport=websocket`);
      assert.equal(refused.status, 400, `websocket ${eio}`);
      assert.equal(refused.text, VERSION_ERROR, `websocket ${eio}`);
    }
    await refusedVersion(await raw(port, "/socket.io/"), "no query");
  });
});
