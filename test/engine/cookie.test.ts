// The session cookie (`cookie` option): the exact Set-Cookie header on both handshakes for the
// default, `true` and every attribute of the object form, byte for byte what engine.io 6 (socket.io
// 4.8) sends for the same options; none by default; and options that could not be written in a
// header (CR/LF or `;` injection, SameSite=None without Secure) refused when the server is made.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server as SocketIoServer } from "socket.io";
import { Server, type CookieOptions } from "../../src/index.js";
import { startServer, type TestServer } from "../support/harness.js";
import { POLL, RawWs, WSQ, parseOpen, raw } from "./raw-client.js";

/** The Set-Cookie headers of a polling handshake and of a WebSocket handshake, with the session ids. */
async function handshakeCookies(port: number): Promise<{ polling: { sid: string; cookies: string[] | undefined }; websocket: { sid: string; cookies: string[] | undefined } }> {
  const res = await raw(port, POLL);
  assert.equal(res.status, 200);
  const polling = { sid: parseOpen(res.text).sid, cookies: res.headers["set-cookie"] as string[] | undefined };
  const ws = new RawWs(`ws://127.0.0.1:${port}${WSQ}`);
  try {
    await ws.opened;
    const sid = parseOpen(await ws.nextText()).sid;
    return { polling, websocket: { sid, cookies: ws.responseHeaders["set-cookie"] as string[] | undefined } };
  } finally {
    ws.terminate();
  }
}

const servers: TestServer[] = [];
async function sockjet(cookie: CookieOptions | boolean | undefined): Promise<TestServer> {
  const ts = await startServer(cookie === undefined ? {} : { cookie });
  servers.push(ts);
  return ts;
}
after(async () => {
  for (const ts of servers) await ts.close();
});

/** What engine.io (socket.io 4.8, the `cookie` package's serialize) sends for the same option, with its sid replaced by `sid`. */
async function engineIoCookie(cookie: CookieOptions | boolean, sid: string): Promise<string[]> {
  const http: HttpServer = createServer();
  const io = new SocketIoServer(http, { cookie: cookie as never });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", () => resolve()));
  try {
    const res = await raw((http.address() as AddressInfo).port, POLL);
    const theirs = parseOpen(res.text).sid;
    return (res.headers["set-cookie"] as string[]).map((line) => line.replace(theirs, sid));
  } finally {
    io.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }
}

describe("session cookie", () => {
  test("by default no cookie is set, on either handshake", async () => {
    const ts = await sockjet(undefined);
    const { polling, websocket } = await handshakeCookies(ts.port);
    assert.equal(polling.cookies, undefined);
    assert.equal(websocket.cookies, undefined);
  });

  const cases: Array<[string, CookieOptions | boolean, (sid: string) => string]> = [
    ["true", true, (sid) => `io=${sid}; Path=/; HttpOnly; SameSite=Lax`],
    ["{} (the same defaults)", {}, (sid) => `io=${sid}; Path=/; HttpOnly; SameSite=Lax`],
    [
      "every attribute",
      { name: "sj", path: "/app", httpOnly: true, sameSite: "strict", secure: true, maxAge: 3600, domain: "example.com" },
      (sid) => `sj=${sid}; Max-Age=3600; Domain=example.com; Path=/app; HttpOnly; Secure; SameSite=Strict`,
    ],
    ["httpOnly false, maxAge rounded down", { httpOnly: false, maxAge: 60.9 }, (sid) => `io=${sid}; Max-Age=60; Path=/; SameSite=Lax`],
    ["sameSite none with secure", { sameSite: "none", secure: true }, (sid) => `io=${sid}; Path=/; HttpOnly; Secure; SameSite=None`],
  ];
  for (const [name, option, expected] of cases) {
    test(`cookie: ${name}: the exact Set-Cookie on the polling and the WebSocket handshake, as engine.io sends it`, async () => {
      const ts = await sockjet(option);
      const { polling, websocket } = await handshakeCookies(ts.port);
      assert.deepEqual(polling.cookies, [expected(polling.sid)]);
      assert.deepEqual(websocket.cookies, [expected(websocket.sid)]);
      assert.deepEqual(await engineIoCookie(option, polling.sid), [expected(polling.sid)]);
      // Only the handshake sets it: not a later request of the session.
      const later = await raw(ts.port, `${POLL}&sid=${polling.sid}`, { method: "POST", body: "40" });
      assert.equal(later.text, "ok");
      assert.equal(later.headers["set-cookie"], undefined);
    });
  }

  test('sameSite "none" implies Secure (engine.io would send a SameSite=None cookie that browsers drop)', async () => {
    const ts = await sockjet({ sameSite: "none" });
    const { polling, websocket } = await handshakeCookies(ts.port);
    assert.deepEqual(polling.cookies, [`io=${polling.sid}; Path=/; HttpOnly; Secure; SameSite=None`]);
    assert.deepEqual(websocket.cookies, [`io=${websocket.sid}; Path=/; HttpOnly; Secure; SameSite=None`]);
    assert.deepEqual(await engineIoCookie({ sameSite: "none" }, "x"), ["io=x; Path=/; HttpOnly; SameSite=None"]);
  });

  test('sameSite "none" with secure: false is refused when the server is made (RangeError)', () => {
    assert.throws(() => new Server({ cookie: { sameSite: "none", secure: false } }), RangeError);
  });

  // Each would add a header or an attribute to every handshake response (Node's `ws` writes upgrade
  // headers as given), or make every handshake fail.
  const invalid: Array<[string, CookieOptions]> = [
    ["a CR/LF in the name", { name: "io\r\nX-Injected: 1" }],
    ["a space in the name", { name: "my cookie" }],
    ["a ; in the name", { name: "io;Domain=evil.test" }],
    ["an empty name", { name: "" }],
    ["a CR/LF in the path", { path: "/\r\nX-Injected: 1" }],
    ["a ; in the path", { path: "/; Domain=evil.test" }],
    ["a ; in the domain", { domain: "example.com; SameSite=None" }],
    ["a CR/LF in the domain", { domain: "example.com\r\nX-Injected: 1" }],
    ["a NaN maxAge", { maxAge: Number.NaN }],
    ["an infinite maxAge", { maxAge: Number.POSITIVE_INFINITY }],
    ["an unknown sameSite", { sameSite: "sideways" as "lax" }],
  ];
  for (const [name, option] of invalid) {
    test(`refused when the server is made: ${name} (TypeError)`, () => {
      assert.throws(() => new Server({ cookie: option }), TypeError);
    });
  }
});
