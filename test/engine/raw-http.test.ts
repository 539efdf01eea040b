// Engine.IO over raw HTTP against a real sockjet server: exact status codes and JSON bodies for
// every protocol error, CORS, compression, cookies, handshake values. After every error case an
// official socket.io-client connected beforehand must still work (echo with ack).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync, inflateSync } from "node:zlib";
import {
  EIO,
  ERR,
  POLL,
  RawWs,
  WSQ,
  errorBody,
  fetchJson,
  fixture,
  get,
  handshake,
  parseOpen,
  pollUrl,
  pollingConnect,
  post,
  raw,
  untilPollWaiting,
  wsRefusal,
  type Fixture,
} from "./raw-client.js";
import { until } from "../support/harness.js";

const SID_RE = /^[A-Za-z0-9_-]{20}$/;

describe("HTTP protocol errors (default options)", () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });
  after(() => f.close());

  const url = (path: string) => f.ts.url + path;

  test("unknown transport: 400 code 0", async () => {
    for (const path of [`${EIO}&transport=carrier-pigeon`, EIO, `${EIO}&transport=`, `${EIO}&transport=POLLING`]) {
      const res = await fetchJson(url(path));
      assert.equal(res.status, 400, path);
      assert.deepEqual(res.body, ERR.transport, path);
      assert.equal(res.headers.get("content-type"), "application/json");
    }
    await f.check();
  });

  test("unknown sid: 400 code 1 for GET and POST", async () => {
    for (const method of ["GET", "POST"]) {
      const res = await fetchJson(url(`${POLL}&sid=does-not-exist`), { method, ...(method === "POST" ? { body: "40" } : {}) });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, ERR.sid);
    }
    await f.check();
  });

  test("bad handshake method: POST (or PUT, DELETE) without sid is 400 code 2, no session created", async () => {
    const before = f.ts.sio.engine.clientsCount;
    for (const method of ["POST", "PUT", "DELETE"]) {
      const res = await fetchJson(url(POLL), { method, ...(method !== "DELETE" ? { body: "40" } : {}) });
      assert.equal(res.status, 400, method);
      assert.deepEqual(res.body, ERR.method, method);
    }
    assert.equal(f.ts.sio.engine.clientsCount, before);
    await f.check();
  });

  test("bad request: transport=websocket as a plain GET is 400 code 3", async () => {
    const res = await fetchJson(url(WSQ));
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, ERR.bad);
    await f.check();
  });

  test("bad request: PUT with a sid is 400 code 3 and the session keeps working", async () => {
    const { sid } = await handshake(f.ts);
    const res = await fetchJson(pollUrl(f.ts, sid), { method: "PUT", body: "40" });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, ERR.bad);
    assert.equal(await post(f.ts, sid, "40"), "ok");
    assert.match(await get(f.ts, sid), /^40\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
    await f.check();
  });

  test("bad request: a polling request for a session that upgraded to WebSocket (transport mismatch)", async () => {
    const { sid } = await handshake(f.ts);
    const ws = new RawWs(`ws://127.0.0.1:${f.ts.port}${WSQ}&sid=${sid}`);
    try {
      await ws.opened;
      ws.send("2probe");
      assert.equal(await ws.nextText(), "3probe");
      ws.send("5");
      await until(() => f.ts.sio.engine.sessions.get(sid)?.transportName === "websocket", 5000, "upgrade");
      for (const method of ["GET", "POST"]) {
        const res = await fetchJson(pollUrl(f.ts, sid), { method, ...(method === "POST" ? { body: "40" } : {}) });
        assert.equal(res.status, 400, method);
        assert.deepEqual(res.body, ERR.bad, method);
      }
      // The session itself is untouched: it joins the namespace over the WebSocket.
      ws.send("40");
      assert.match(await ws.nextText(), /^40\{"sid":/);
    } finally {
      ws.terminate();
    }
    await f.check();
  });

  test("unsupported protocol version (allowEIO3 off, the default): EIO=2, 3, 5, abc and missing EIO are 400 code 5", async () => {
    const versions = ["EIO=2&", "EIO=3&", "EIO=5&", "EIO=abc&", ""].map((eio) => `/socket.io/?${eio}transport=polling`);
    for (const path of [...versions, "/socket.io/"]) {
      const res = await fetchJson(url(path));
      assert.equal(res.status, 400, path);
      assert.deepEqual(res.body, ERR.version, path);
    }
    await f.check();
  });

  test("a cross-origin request is 403 code 4 under the default same-origin policy; same origin passes", async () => {
    const evil = await fetchJson(url(POLL), { headers: { Origin: "http://evil.test" } });
    assert.equal(evil.status, 403);
    assert.deepEqual(evil.body, ERR.forbidden);
    assert.equal(evil.headers.get("access-control-allow-origin"), null);
    const preflight = await raw(f.ts.port, POLL, { method: "OPTIONS", headers: { Origin: "http://evil.test" } });
    assert.equal(preflight.status, 403);
    assert.deepEqual(JSON.parse(preflight.text), ERR.forbidden);
    const same = await fetch(url(POLL), { headers: { Origin: f.ts.url } });
    assert.equal(same.status, 200);
    assert.equal(same.headers.get("access-control-allow-origin"), null, "no CORS headers without a cors option");
    parseOpen(await same.text());
    await f.check();
  });

  test("a second concurrent GET poll: 400 code 3, the first poll gets a close packet, the session is gone", async () => {
    const { sid } = await handshake(f.ts);
    const first = get(f.ts, sid);
    await untilPollWaiting(f.ts, sid);
    const second = await fetchJson(pollUrl(f.ts, sid));
    assert.equal(second.status, 400);
    assert.deepEqual(second.body, ERR.bad);
    assert.equal(await first, "1");
    const later = await fetchJson(pollUrl(f.ts, sid));
    assert.equal(later.status, 400);
    assert.deepEqual(later.body, ERR.sid);
    await f.check();
  });

  test("bad base64 in a POST: 400 code 3, only that session is closed", async () => {
    const victim = await pollingConnect(f.ts);
    const bystander = await pollingConnect(f.ts);
    const res = await fetchJson(pollUrl(f.ts, victim.sid), { method: "POST", body: "b!!!" });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, ERR.bad);
    await until(() => f.disconnects.has(victim.nsSid), 5000, "disconnect handler");
    assert.equal(f.disconnects.get(victim.nsSid), "parse error");
    assert.deepEqual((await fetchJson(pollUrl(f.ts, victim.sid))).body, ERR.sid);
    // The bystander polling session still works both ways.
    assert.equal(await post(f.ts, bystander.sid, '421["echo","bystander"]'), "ok");
    assert.equal(await get(f.ts, bystander.sid), '431["bystander"]');
    await f.check();
  });

  test("an unknown Engine.IO packet type in a POST: 400 code 3 and the session is closed", async () => {
    const victim = await pollingConnect(f.ts);
    const res = await fetchJson(pollUrl(f.ts, victim.sid), { method: "POST", body: "9x" });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, ERR.bad);
    assert.deepEqual((await fetchJson(pollUrl(f.ts, victim.sid))).body, ERR.sid);
    await f.check();
  });

  // Socket.IO packets the parser rejects, each sent as Engine.IO messages over polling.
  const malformed: Array<[string, string[]]> = [
    ["bad JSON", ['42["a",']],
    ["unknown Socket.IO type", ["9"]],
    ["wrong attachment count (none referenced)", ['51-["a"]']],
    ["wrong attachment count (fewer placeholders)", ['52-["a",{"_placeholder":true,"num":0}]']],
    ["binary attachment with no binary packet", ["bAQID"]],
    ["text while an attachment is pending", ['51-["a",{"_placeholder":true,"num":0}]', '42["b"]']],
    ["CONNECT_ERROR from a client", ['4{"message":"x"}']],
  ];
  for (const [name, packets] of malformed) {
    test(`malformed Socket.IO packet over polling (${name}): that session is closed cleanly`, async () => {
      const { sid, nsSid } = await pollingConnect(f.ts);
      const waiting = get(f.ts, sid);
      await untilPollWaiting(f.ts, sid);
      const body = packets.map((p) => (p.startsWith("b") ? p : "4" + p)).join("\x1e");
      assert.equal(await post(f.ts, sid, body), "ok");
      assert.equal(await waiting, "1", "the waiting poll is released with a close packet");
      await until(() => f.disconnects.has(nsSid), 5000, "disconnect handler");
      assert.equal(f.disconnects.get(nsSid), "parse error");
      assert.deepEqual((await fetchJson(pollUrl(f.ts, sid))).body, ERR.sid);
      await f.check();
    });
  }

  test("handshake values are the defaults; sids are 20 url-safe characters and distinct", async () => {
    const sids = new Set<string>();
    for (let i = 0; i < 25; i++) {
      const open = await handshake(f.ts);
      assert.match(open.sid, SID_RE);
      assert.deepEqual(
        { upgrades: open.upgrades, pingInterval: open.pingInterval, pingTimeout: open.pingTimeout, maxPayload: open.maxPayload },
        { upgrades: ["websocket"], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1000000 },
      );
      sids.add(open.sid);
    }
    assert.equal(sids.size, 25);
    assert.ok(!sids.has(f.healthy.io.engine.id));
    await f.check();
  });

  test("no cookie by default", async () => {
    const res = await raw(f.ts.port, POLL);
    assert.equal(res.status, 200);
    assert.equal(res.headers["set-cookie"], undefined);
    assert.equal(res.headers["content-type"], "text/plain; charset=UTF-8");
  });
});

describe("HTTP: handshake options", () => {
  test("the handshake reflects pingInterval, pingTimeout and maxHttpBufferSize, in protocol key order", async () => {
    const f = await fixture({ pingInterval: 12345, pingTimeout: 6789, maxHttpBufferSize: 4321 });
    try {
      const res = await fetch(f.ts.url + POLL);
      const text = await res.text();
      const sid = parseOpen(text).sid;
      assert.equal(text, `0{"sid":"${sid}","upgrades":["websocket"],"pingInterval":12345,"pingTimeout":6789,"maxPayload":4321}`);
      await f.check();
    } finally {
      await f.close();
    }
  });

  test("cookie: true sets io=<sid>; Path=/; HttpOnly; SameSite=Lax on the handshake (polling and WebSocket)", async () => {
    const f = await fixture({ cookie: true });
    try {
      const res = await raw(f.ts.port, POLL);
      const sid = parseOpen(res.text).sid;
      assert.deepEqual(res.headers["set-cookie"], [`io=${sid}; Path=/; HttpOnly; SameSite=Lax`]);
      // Not on later requests of the session.
      const later = await raw(f.ts.port, `${POLL}&sid=${sid}`, { method: "POST", body: "40" });
      assert.equal(later.text, "ok");
      assert.equal(later.headers["set-cookie"], undefined);

      const ws = new RawWs(`ws://127.0.0.1:${f.ts.port}${WSQ}`);
      try {
        await ws.opened;
        const wsSid = parseOpen(await ws.nextText()).sid;
        assert.deepEqual(ws.responseHeaders["set-cookie"], [`io=${wsSid}; Path=/; HttpOnly; SameSite=Lax`]);
      } finally {
        ws.terminate();
      }
      await f.check();
    } finally {
      await f.close();
    }
  });

  test("cookie options: name, path, sameSite, secure, maxAge", async () => {
    const f = await fixture({ cookie: { name: "sj", path: "/app", sameSite: "strict", httpOnly: false, secure: true, maxAge: 60.9 } });
    try {
      const res = await raw(f.ts.port, POLL);
      const sid = parseOpen(res.text).sid;
      assert.deepEqual(res.headers["set-cookie"], [`sj=${sid}; Max-Age=60; Path=/app; Secure; SameSite=Strict`]);
      await f.check();
    } finally {
      await f.close();
    }
  });

  test("transports: ['websocket'] refuses polling with code 0", async () => {
    const f = await fixture({ transports: ["websocket"] }, "websocket");
    try {
      const res = await fetchJson(f.ts.url + POLL);
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, ERR.transport);
      await f.check();
    } finally {
      await f.close();
    }
  });

  test("allowUpgrades: false: the handshake offers no upgrades and an upgrade with sid is 400 code 3", async () => {
    const f = await fixture({ allowUpgrades: false });
    try {
      const open = await handshake(f.ts);
      assert.deepEqual(open.upgrades, []);
      const refused = await wsRefusal(`ws://127.0.0.1:${f.ts.port}${WSQ}&sid=${open.sid}`);
      assert.equal(refused.status, 400);
      assert.deepEqual(refused.body, ERR.bad);
      // The polling session survives the refused upgrade.
      assert.equal(await post(f.ts, open.sid, "40"), "ok");
      assert.match(await get(f.ts, open.sid), /^40\{"sid":/);
      await f.check();
    } finally {
      await f.close();
    }
  });

  test("allowRequest returning false: 403 code 4 for polling handshakes and WebSocket upgrades", async () => {
    const f = await fixture({ allowRequest: async (req) => req.header("x-deny") === undefined });
    try {
      const res = await fetchJson(f.ts.url + POLL, { headers: { "X-Deny": "1" } });
      assert.equal(res.status, 403);
      assert.deepEqual(res.body, ERR.forbidden);
      const ws = await wsRefusal(`ws://127.0.0.1:${f.ts.port}${WSQ}`, { "X-Deny": "1" });
      assert.equal(ws.status, 403);
      assert.deepEqual(ws.body, ERR.forbidden);
      // allowRequest is only about new sessions: an existing one is not asked again.
      const { sid } = await handshake(f.ts);
      const later = await fetchJson(pollUrl(f.ts, sid), { method: "POST", body: "40", headers: { "X-Deny": "1" } });
      assert.equal(later.status, 200);
      await f.check();
    } finally {
      await f.close();
    }
  });

  test("allowRequest throwing: 403 code 4", async () => {
    const f = await fixture({
      allowRequest: (req) => {
        if (req.header("x-boom")) throw new Error("boom");
        return true;
      },
    });
    try {
      const res = await fetchJson(f.ts.url + POLL, { headers: { "X-Boom": "1" } });
      assert.equal(res.status, 403);
      assert.deepEqual(res.body, ERR.forbidden);
      await f.check();
    } finally {
      await f.close();
    }
  });
});

describe("HTTP: maxHttpBufferSize", () => {
  let f: Fixture;
  before(async () => {
    f = await fixture({ maxHttpBufferSize: 1000 });
  });
  after(() => f.close());

  test("a POST bigger than maxHttpBufferSize: 413 and the session is closed", async () => {
    const { sid, nsSid } = await pollingConnect(f.ts);
    const res = await fetchJson(pollUrl(f.ts, sid), { method: "POST", body: "4" + "x".repeat(5000) });
    assert.equal(res.status, 413);
    assert.deepEqual(res.body, errorBody(3, "Payload too large"));
    await until(() => f.disconnects.has(nsSid), 5000, "disconnect handler");
    assert.equal(f.disconnects.get(nsSid), "transport error");
    assert.deepEqual((await fetchJson(pollUrl(f.ts, sid))).body, ERR.sid);
    await f.check();
  });

  test("a chunked POST (no Content-Length) that grows past the limit: 413 and the session is closed", async () => {
    const { sid } = await handshake(f.ts);
    const res = await raw(f.ts.port, `${POLL}&sid=${sid}`, {
      method: "POST",
      headers: { "Transfer-Encoding": "chunked", "Content-Type": "text/plain" },
      body: "4" + "y".repeat(3000),
    });
    assert.equal(res.status, 413);
    assert.deepEqual(JSON.parse(res.text), errorBody(3, "Payload too large"));
    assert.deepEqual((await fetchJson(pollUrl(f.ts, sid))).body, ERR.sid);
    await f.check();
  });

  test("a POST of exactly maxHttpBufferSize bytes is accepted", async () => {
    const { sid } = await pollingConnect(f.ts);
    const event = '42["echo","' ; // no ack id: just delivered
    const body = "4" + event + "z".repeat(1000 - 1 - event.length - 2) + '"]';
    assert.equal(Buffer.byteLength(body), 1000);
    assert.equal(await post(f.ts, sid, body), "ok");
    await f.check();
  });
});

describe("HTTP: CORS", () => {
  let f: Fixture;
  const ALLOWED = "http://allowed.test";
  before(async () => {
    f = await fixture({ cors: { origin: [ALLOWED], credentials: true } });
  });
  after(() => f.close());

  test("an allowed origin gets Access-Control-Allow-Origin (its own), credentials and Vary on every response", async () => {
    const hs = await raw(f.ts.port, POLL, { headers: { Origin: ALLOWED } });
    assert.equal(hs.status, 200);
    assert.equal(hs.headers["access-control-allow-origin"], ALLOWED);
    assert.equal(hs.headers["access-control-allow-credentials"], "true");
    assert.equal(hs.headers["vary"], "Origin");
    const sid = parseOpen(hs.text).sid;
    const postRes = await raw(f.ts.port, `${POLL}&sid=${sid}`, { method: "POST", body: "40", headers: { Origin: ALLOWED } });
    assert.equal(postRes.text, "ok");
    assert.equal(postRes.headers["access-control-allow-origin"], ALLOWED);
    assert.equal(postRes.headers["access-control-allow-credentials"], "true");
    const getRes = await raw(f.ts.port, `${POLL}&sid=${sid}`, { headers: { Origin: ALLOWED } });
    assert.match(getRes.text, /^40\{"sid":/);
    assert.equal(getRes.headers["access-control-allow-origin"], ALLOWED);
    // Error responses for an allowed origin carry the headers too, so the page can read them.
    const error = await raw(f.ts.port, `${POLL}&sid=nope`, { headers: { Origin: ALLOWED } });
    assert.equal(error.status, 400);
    assert.deepEqual(JSON.parse(error.text), ERR.sid);
    assert.equal(error.headers["access-control-allow-origin"], ALLOWED);
    await f.check();
  });

  test("OPTIONS preflight: 204 with methods, echoed request headers, origin and credentials", async () => {
    const res = await raw(f.ts.port, POLL, {
      method: "OPTIONS",
      headers: { Origin: ALLOWED, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, x-custom" },
    });
    assert.equal(res.status, 204);
    assert.equal(res.text, "");
    assert.equal(res.headers["access-control-allow-origin"], ALLOWED);
    assert.equal(res.headers["access-control-allow-credentials"], "true");
    assert.equal(res.headers["access-control-allow-methods"], "GET,HEAD,PUT,PATCH,POST,DELETE");
    assert.equal(res.headers["access-control-allow-headers"], "content-type, x-custom");
    assert.equal(res.headers["vary"], "Origin, Access-Control-Request-Headers", "the echoed header list varies the answer");
    await f.check();
  });

  test("another origin is refused with 403 code 4 and is not told it may read the response", async () => {
    for (const method of ["GET", "OPTIONS"]) {
      const res = await raw(f.ts.port, POLL, { method, headers: { Origin: "http://other.test" } });
      assert.equal(res.status, 403, method);
      assert.deepEqual(JSON.parse(res.text), ERR.forbidden, method);
      assert.equal(res.headers["access-control-allow-origin"], undefined, method);
      assert.equal(res.headers["access-control-allow-credentials"], undefined, method);
    }
    await f.check();
  });

  test("the server's own origin is still allowed alongside the list", async () => {
    const res = await raw(f.ts.port, POLL, { headers: { Origin: f.ts.url } });
    assert.equal(res.status, 200);
    parseOpen(res.text);
    await f.check();
  });

  test("cors origin '*' without credentials answers Access-Control-Allow-Origin: *", async () => {
    const g = await fixture({ cors: { origin: "*" } });
    try {
      const res = await raw(g.ts.port, POLL, { headers: { Origin: "http://anywhere.test" } });
      assert.equal(res.status, 200);
      assert.equal(res.headers["access-control-allow-origin"], "*");
      assert.equal(res.headers["access-control-allow-credentials"], undefined);
      await g.check();
    } finally {
      await g.close();
    }
  });
});

describe("HTTP: compression of long-polling responses", () => {
  const BIG = "x".repeat(10_000);

  async function pollWith(f: Fixture, data: string, acceptEncoding?: string) {
    const { sid } = await handshake(f.ts);
    f.ts.sio.engine.send(sid, data);
    return raw(f.ts.port, `${POLL}&sid=${sid}`, { headers: acceptEncoding ? { "Accept-Encoding": acceptEncoding } : {} });
  }

  test("default: above the threshold with Accept-Encoding gzip the body is gzip and decompresses to the payload", async () => {
    const f = await fixture();
    try {
      const res = await pollWith(f, BIG, "gzip, deflate, br");
      assert.equal(res.status, 200);
      assert.equal(res.headers["content-encoding"], "gzip");
      assert.ok(res.body.length < 1000, `compressed to ${res.body.length} bytes`);
      assert.equal(gunzipSync(res.body).toString("utf8"), "4" + BIG);

      const deflated = await pollWith(f, BIG, "deflate");
      assert.equal(deflated.headers["content-encoding"], "deflate");
      assert.equal(inflateSync(deflated.body).toString("utf8"), "4" + BIG);

      const small = await pollWith(f, "small", "gzip");
      assert.equal(small.headers["content-encoding"], undefined);
      assert.equal(small.text, "4small");

      const unasked = await pollWith(f, BIG);
      assert.equal(unasked.headers["content-encoding"], undefined);
      assert.equal(unasked.text, "4" + BIG);

      const identity = await pollWith(f, BIG, "identity, br");
      assert.equal(identity.headers["content-encoding"], undefined);
      assert.equal(identity.text, "4" + BIG);

      // fetch decompresses transparently.
      const { sid } = await handshake(f.ts);
      f.ts.sio.engine.send(sid, BIG);
      assert.equal(await get(f.ts, sid), "4" + BIG);
      await f.check();
    } finally {
      await f.close();
    }
  });

  test("httpCompression: false never compresses", async () => {
    const f = await fixture({ httpCompression: false });
    try {
      const res = await pollWith(f, BIG, "gzip");
      assert.equal(res.headers["content-encoding"], undefined);
      assert.equal(res.text, "4" + BIG);
      await f.check();
    } finally {
      await f.close();
    }
  });

  test("httpCompression threshold: responses below it are not compressed", async () => {
    const f = await fixture({ httpCompression: { threshold: 50_000 } });
    try {
      const below = await pollWith(f, BIG, "gzip");
      assert.equal(below.headers["content-encoding"], undefined);
      assert.equal(below.text, "4" + BIG);
      const above = await pollWith(f, "y".repeat(60_000), "gzip");
      assert.equal(above.headers["content-encoding"], "gzip");
      assert.equal(gunzipSync(above.body).toString("utf8"), "4" + "y".repeat(60_000));
      await f.check();
    } finally {
      await f.close();
    }
  });

  test("the threshold counts bytes: multi-byte text just over it is compressed", async () => {
    const f = await fixture({ httpCompression: { threshold: 1024 } });
    try {
      const text = "€".repeat(400); // 1200 bytes in UTF-8, 400 characters
      const res = await pollWith(f, text, "gzip");
      assert.equal(res.headers["content-encoding"], "gzip", "a 1201-byte body is above a 1024-byte threshold");
      assert.equal(gunzipSync(res.body).toString("utf8"), "4" + text);
      await f.check();
    } finally {
      await f.close();
    }
  });
});
