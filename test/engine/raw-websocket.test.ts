// Engine.IO and Socket.IO over raw WebSocket frames (the `ws` package as a bare client) against a
// real sockjet server: WebSocket-only sessions, the polling → WebSocket upgrade on real sockets,
// upgrade refusals with exact bodies, origin policy, oversized and malformed frames. After every
// error case an official socket.io-client connected beforehand must still work.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ERR,
  RawWs,
  WSQ,
  fetchJson,
  fixture,
  get,
  parseOpen,
  pollUrl,
  pollingConnect,
  untilPollWaiting,
  wsConnect,
  wsRefusal,
  type Fixture,
} from "./raw-client.js";
import { until } from "../support/harness.js";

const SID_RE = /^[A-Za-z0-9_-]{20}$/;

describe("WebSocket: raw client against the default server", () => {
  let f: Fixture;
  const sockets: RawWs[] = [];
  before(async () => {
    f = await fixture();
  });
  after(async () => {
    for (const s of sockets) s.terminate();
    await f.close();
  });
  const wsUrl = (query = "") => `ws://127.0.0.1:${f.ts.port}${WSQ}${query}`;
  const track = <T extends { raw: RawWs }>(c: T): T => (sockets.push(c.raw), c);

  test("WebSocket-only: handshake, 40 connect, events, acks and binary acks with raw frames", async () => {
    const ws = new RawWs(wsUrl());
    sockets.push(ws);
    await ws.opened;
    const open = parseOpen(await ws.nextText());
    assert.match(open.sid, SID_RE);
    assert.deepEqual(open.upgrades, []);
    assert.equal(open.pingInterval, 25000);
    assert.equal(open.pingTimeout, 20000);
    assert.equal(open.maxPayload, 1000000);

    ws.send("40");
    const connect = await ws.nextText();
    const match = /^40\{"sid":"([A-Za-z0-9_-]{20})"\}$/.exec(connect);
    assert.ok(match, connect);
    const nsSid = match[1]!;
    assert.notEqual(nsSid, open.sid, "the Socket.IO sid is not the Engine.IO sid");

    ws.send('42["ping-me","x"]');
    assert.equal(await ws.nextText(), '42["pong-you","x"]');

    ws.send('4217["echo",{"a":[1,2,"é"]}]');
    assert.equal(await ws.nextText(), '4317[{"a":[1,2,"é"]}]');

    // A binary event with one attachment, acknowledged with the same bytes as a binary ack.
    ws.send('451-3["echo",{"_placeholder":true,"num":0}]');
    ws.send(Buffer.from([1, 2, 3]));
    assert.equal(await ws.nextText(), '461-3[{"_placeholder":true,"num":0}]');
    const attachment = await ws.next();
    assert.ok(Buffer.isBuffer(attachment), "the attachment is a binary frame");
    assert.deepEqual([...attachment], [1, 2, 3]);

    // The server addresses it by its Socket.IO sid.
    await f.ts.sio.emit("direct", "to you", { to: nsSid });
    assert.equal(await ws.nextText(), '42["direct","to you"]');
    assert.equal(f.ts.sio.transport(nsSid), "websocket");

    // A clean client close.
    ws.send("41");
    await until(() => f.disconnects.has(nsSid), 5000, "disconnect handler");
    assert.equal(f.disconnects.get(nsSid), "client disconnect");
    await f.check();
  });

  test("the client closing its WebSocket ends the session with 'transport close'", async () => {
    const { raw, nsSid } = track(await wsConnect(f.ts));
    raw.ws.close(1000);
    await raw.closed;
    await until(() => f.disconnects.has(nsSid), 5000, "disconnect handler");
    assert.equal(f.disconnects.get(nsSid), "transport close");
    await f.check();
  });

  test("upgrade over real sockets: 2probe -> 3probe, pending GET released with 6, 5 switches, nothing lost", async () => {
    const { sid, nsSid } = await pollingConnect(f.ts);
    const waiting = get(f.ts, sid);
    await untilPollWaiting(f.ts, sid);
    const ws = new RawWs(wsUrl(`&sid=${sid}`));
    sockets.push(ws);
    await ws.opened;
    ws.send("2probe");
    assert.equal(await ws.nextText(), "3probe");
    assert.equal(await waiting, "6");
    // Emitted after the poll was released and before the upgrade: queued, then sent over the WebSocket.
    await f.ts.sio.emit("queued", 1, { to: nsSid });
    await f.ts.sio.emit("queued", 2, { to: nsSid });
    assert.equal(f.ts.sio.transport(nsSid), "polling");
    ws.send("5");
    assert.equal(await ws.nextText(), '42["queued",1]');
    assert.equal(await ws.nextText(), '42["queued",2]');
    assert.equal(f.ts.sio.transport(nsSid), "websocket");
    await f.ts.sio.emit("queued", 3, { to: nsSid });
    assert.equal(await ws.nextText(), '42["queued",3]');
    ws.send('421["echo","after upgrade"]');
    assert.equal(await ws.nextText(), '431["after upgrade"]');
    // Polling is over for this session.
    const late = await fetchJson(pollUrl(f.ts, sid));
    assert.equal(late.status, 400);
    assert.deepEqual(late.body, ERR.bad);
    await f.check();
  });

  test("upgrade: a probe that sends anything but 2probe/5 is dropped; the session stays on polling", async () => {
    const { sid, nsSid } = await pollingConnect(f.ts);
    const ws = new RawWs(wsUrl(`&sid=${sid}`));
    sockets.push(ws);
    await ws.opened;
    ws.send('42["echo","too early"]');
    const closed = await ws.closed;
    assert.equal(closed.code, 1000);
    assert.equal(f.ts.sio.transport(nsSid), "polling");
    assert.equal(f.disconnects.has(nsSid), false);
    // Still a working polling session.
    await f.ts.sio.emit("still", "polling", { to: nsSid });
    assert.equal(await get(f.ts, sid), '42["still","polling"]');
    await f.check();
  });

  test("upgrade refusals: unknown sid (1), EIO=2/3/5/abc / missing EIO (5, allowEIO3 off), transport=polling (0); a second probe opens and is closed", async () => {
    const { sid } = await pollingConnect(f.ts);
    const probe = new RawWs(wsUrl(`&sid=${sid}`));
    sockets.push(probe);
    await probe.opened;
    // A second WebSocket for a session that is already upgrading completes its handshake and is
    // closed at once, as the reference server does (not an HTTP 400).
    const second = new RawWs(wsUrl(`&sid=${sid}`));
    sockets.push(second);
    await second.opened;
    await second.closed;
    const cases: Array<[string, number, unknown]> = [
      [wsUrl("&sid=does-not-exist"), 400, ERR.sid],
      ...["EIO=2&", "EIO=3&", "EIO=5&", "EIO=abc&", ""].map((eio): [string, number, unknown] => [`ws://127.0.0.1:${f.ts.port}/socket.io/?${eio}transport=websocket`, 400, ERR.version]),
      [`ws://127.0.0.1:${f.ts.port}/socket.io/?EIO=4&transport=polling`, 400, ERR.transport],
      [`ws://127.0.0.1:${f.ts.port}/socket.io/?EIO=4`, 400, ERR.transport],
    ];
    for (const [url, status, body] of cases) {
      const refused = await wsRefusal(url);
      assert.equal(refused.status, status, url);
      assert.deepEqual(refused.body, body, url);
    }
    // The first probe is unaffected and completes.
    probe.send("2probe");
    assert.equal(await probe.nextText(), "3probe");
    probe.send("5");
    probe.send('421["echo","upgraded"]');
    assert.equal(await probe.nextText(), '431["upgraded"]');
    await f.check();
  });

  test("cross-origin upgrades are refused with 403 code 4 under the default same-origin policy", async () => {
    const refused = await wsRefusal(wsUrl(), { Origin: "http://evil.test" });
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.body, ERR.forbidden);
    // An upgrade of an existing polling session from another origin is refused too.
    const { sid } = await pollingConnect(f.ts);
    const probe = await wsRefusal(wsUrl(`&sid=${sid}`), { Origin: "http://evil.test" });
    assert.equal(probe.status, 403);
    assert.deepEqual(probe.body, ERR.forbidden);
    // Same origin is fine.
    const same = new RawWs(wsUrl(), { Origin: f.ts.url });
    sockets.push(same);
    await same.opened;
    parseOpen(await same.nextText());
    await f.check();
  });

  for (const [name, frame] of [
    ["unknown type 9x", "9x"],
    ["empty text frame", ""],
    ["OPEN from the client", "0{}"],
    ["UPGRADE on an established WebSocket", "5"],
  ] as const) {
    test(`malformed Engine.IO frame (${name}) closes only that session`, async () => {
      const victim = track(await wsConnect(f.ts));
      const bystander = track(await wsConnect(f.ts));
      victim.raw.send(frame);
      const closed = await victim.raw.closed;
      assert.equal(closed.code, 1000);
      await until(() => f.disconnects.has(victim.nsSid), 5000, "disconnect handler");
      assert.equal(f.disconnects.get(victim.nsSid), "parse error");
      assert.equal(f.ts.sio.engine.sessions.get(victim.sid), undefined);
      bystander.raw.send('421["echo","bystander"]');
      assert.equal(await bystander.raw.nextText(), '431["bystander"]');
      await f.check();
    });
  }

  const malformed: Array<[string, Array<string | Buffer>]> = [
    ["bad JSON", ['42["a",']],
    ["unknown Socket.IO type", ["49"]],
    ["wrong attachment count (none referenced)", ['451-["a"]']],
    ["wrong attachment count (fewer placeholders)", ['452-["a",{"_placeholder":true,"num":0}]']],
    ["binary frame with no binary packet", [Buffer.from([1, 2, 3])]],
    ["text while an attachment is pending", ['451-["a",{"_placeholder":true,"num":0}]', '42["b"]']],
    ["reserved event name", ['42["disconnect"]']],
    ["ack without id", ['43["x"]']],
  ];
  for (const [name, frames] of malformed) {
    test(`malformed Socket.IO packet over WebSocket (${name}) closes that session cleanly`, async () => {
      const { raw, sid, nsSid } = track(await wsConnect(f.ts));
      for (const frame of frames) raw.send(frame);
      const closed = await raw.closed;
      assert.equal(closed.code, 1000, "a normal close, not a crash");
      await until(() => f.disconnects.has(nsSid), 5000, "disconnect handler");
      assert.equal(f.disconnects.get(nsSid), "parse error");
      assert.equal(f.ts.sio.engine.sessions.get(sid), undefined);
      await f.check();
    });
  }
});

describe("WebSocket: a refused namespace can be joined later on the same connection", () => {
  test("40/guarded,{token:no} → 44, then 40/guarded,{token:yes} → 40 with a sid", async () => {
    const f = await fixture({}, "websocket", (sio) => {
      sio.on("connect", (_sid: string, _environ: unknown, auth: { token?: string }) => auth?.token === "yes", "/guarded");
    });
    const sockets: RawWs[] = [];
    try {
      const { raw } = await wsConnect(f.ts);
      sockets.push(raw);
      raw.send('40/guarded,{"token":"no"}');
      assert.equal(await raw.nextText(), '44/guarded,{"message":"Connection rejected by server"}');
      raw.send('40/guarded,{"token":"yes"}');
      assert.match(await raw.nextText(), /^40\/guarded,\{"sid":"[^"]+"\}$/);
      await f.check();
    } finally {
      for (const s of sockets) s.terminate();
      await f.close();
    }
  });
});

describe("WebSocket: options", () => {
  test("a message bigger than maxHttpBufferSize closes the socket with 1009", async () => {
    const f = await fixture({ maxHttpBufferSize: 1000 });
    const sockets: RawWs[] = [];
    try {
      const { raw, nsSid } = await wsConnect(f.ts);
      sockets.push(raw);
      const bystander = await wsConnect(f.ts);
      sockets.push(bystander.raw);
      raw.send('42["echo","' + "x".repeat(2000) + '"]');
      const closed = await raw.closed;
      assert.equal(closed.code, 1009);
      await until(() => f.disconnects.has(nsSid), 5000, "disconnect handler");
      assert.equal(f.disconnects.get(nsSid), "transport error", "docs/server-api.md: an oversized WebSocket message is a transport error");
      // Binary frames are bounded too.
      const second = await wsConnect(f.ts);
      sockets.push(second.raw);
      second.raw.send(Buffer.alloc(1001));
      assert.equal((await second.raw.closed).code, 1009);
      // A message of exactly the limit is fine.
      const prefix = '421["echo","';
      const msg = prefix + "y".repeat(1000 - prefix.length - 2) + '"]';
      assert.equal(Buffer.byteLength(msg), 1000);
      bystander.raw.send(msg);
      assert.match(await bystander.raw.nextText(), /^431\["y+"\]$/);
      await f.check();
    } finally {
      for (const s of sockets) s.terminate();
      await f.close();
    }
  });

  test("cors origin list: an allowed cross-origin upgrade passes, another is refused with 403 code 4", async () => {
    const f = await fixture({ cors: { origin: ["http://allowed.test"] } });
    const sockets: RawWs[] = [];
    try {
      const allowed = new RawWs(`ws://127.0.0.1:${f.ts.port}${WSQ}`, { Origin: "http://allowed.test" });
      sockets.push(allowed);
      await allowed.opened;
      parseOpen(await allowed.nextText());
      allowed.send("40");
      assert.match(await allowed.nextText(), /^40\{"sid":/);
      const refused = await wsRefusal(`ws://127.0.0.1:${f.ts.port}${WSQ}`, { Origin: "http://other.test" });
      assert.equal(refused.status, 403);
      assert.deepEqual(refused.body, ERR.forbidden);
      // Non-browser clients send no Origin and are accepted.
      const noOrigin = new RawWs(`ws://127.0.0.1:${f.ts.port}${WSQ}`);
      sockets.push(noOrigin);
      await noOrigin.opened;
      parseOpen(await noOrigin.nextText());
      await f.check();
    } finally {
      for (const s of sockets) s.terminate();
      await f.close();
    }
  });

  test("transports: ['polling'] refuses WebSocket upgrades with code 0", async () => {
    const f = await fixture({ transports: ["polling"] }, "polling");
    try {
      const direct = await wsRefusal(`ws://127.0.0.1:${f.ts.port}${WSQ}`);
      assert.equal(direct.status, 400);
      assert.deepEqual(direct.body, ERR.transport);
      const { sid, open } = await (async () => {
        const res = await fetch(`${f.ts.url}/socket.io/?EIO=4&transport=polling`);
        const o = parseOpen(await res.text());
        return { sid: o.sid, open: o };
      })();
      assert.deepEqual(open.upgrades, []);
      const upgrade = await wsRefusal(`ws://127.0.0.1:${f.ts.port}${WSQ}&sid=${sid}`);
      assert.equal(upgrade.status, 400);
      assert.deepEqual(upgrade.body, ERR.transport);
      await f.check();
    } finally {
      await f.close();
    }
  });

  test("heartbeat over a raw WebSocket: pings are answered; a client that stops answering is dropped ('ping timeout')", async () => {
    const f = await fixture({ pingInterval: 80, pingTimeout: 150 });
    const sockets: RawWs[] = [];
    try {
      const { raw, nsSid } = await wsConnect(f.ts);
      sockets.push(raw);
      for (let i = 0; i < 3; i++) {
        assert.equal(await raw.next(true), "2");
        raw.send("3");
      }
      // Stop answering: the server gives up and closes the WebSocket.
      assert.equal(await raw.next(true), "2");
      const closed = await raw.closed;
      assert.equal(closed.code, 1000);
      await until(() => f.disconnects.has(nsSid), 5000, "disconnect handler");
      assert.equal(f.disconnects.get(nsSid), "ping timeout");
      await f.check(); // the official client answers its pings and stays connected
    } finally {
      for (const s of sockets) s.terminate();
      await f.close();
    }
  });
});
