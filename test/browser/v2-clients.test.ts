// Headless-browser test of Engine.IO v3 clients (socket.io-client 2.x, `allowEIO3: true`): real
// Chromium runs socket.io-client 2.5's browser bundle beside one page with the v4 bundle, all in
// one room of a test-local server, over each way a v2 browser client reaches a server:
//
// - JSONP polling (`forceJSONP`): GETs are <script> loads that call `___eio[j](...)`, POSTs are
//   hidden forms whose field `d` holds the payload with its newlines escaped, binary is base64;
// - XHR2 polling: binary travels in the binary payload framing (application/octet-stream), both ways;
// - base64 polling (`forceBase64`, `b64=1`): binary as base64 text, both ways;
// - polling, then an upgrade to WebSocket (binary frames with a type byte).
//
// Chat messages carry a newline, quotes, a backslash-n sequence, a backslash before a newline,
// U+2028/U+2029 and non-ASCII text, which stress the JSONP escaping in both directions (all of
// them over JSONP; one over each other transport).
//
// Needs Chromium (Debian's /usr/bin/chromium, or $CHROMIUM_PATH). When it is missing the test
// fails; it never skips.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import { Server, args, type Environ } from "../../src/index.js";
import { launchChromium, requireChromium } from "../support/chromium.js";

const WAIT = { timeout: 10_000 };

const require = createRequire(import.meta.url);
const bundles: Record<string, string> = {
  "/v2.js": join(dirname(require.resolve("socket.io-client-v2/package.json")), "dist", "socket.io.js"),
  "/v4.js": join(dirname(require.resolve("socket.io-client/package.json")), "dist", "socket.io.min.js"),
};

/**
 * The page: loads one bundle, connects with the options in `?opts=` (JSON) and the room and name
 * as the handshake query, and records what it receives in `window.t`.
 */
const PAGE = (bundle: string) => `<!doctype html>
<html><head><meta charset="utf-8"><title>${bundle} client</title></head>
<body>
<script src="/${bundle}.js"></script>
<script>
  const params = new URLSearchParams(location.search);
  const opts = JSON.parse(params.get("opts") || "{}");
  const t = (window.t = { state: "connecting", chats: [], bins: [], errors: [] });
  const socket = (window.socket = io(Object.assign({ forceNew: true, reconnection: false, query: { room: params.get("room"), name: params.get("name") } }, opts)));
  socket.on("connect", () => (t.state = "connected"));
  socket.on("connect_error", (err) => t.errors.push(String(err && err.message || err)));
  socket.on("error", (err) => t.errors.push(String(err && err.message || err)));
  socket.on("disconnect", (reason) => (t.state = "disconnected: " + reason));
  socket.on("chat", (message) => t.chats.push(message));
  socket.on("bin", (label, data) => t.bins.push({ label, type: Object.prototype.toString.call(data), bytes: Array.from(new Uint8Array(data)) }));
</script>
</body></html>`;

/** Every character class that JSONP must carry intact: both ways, GET (script) and POST (form). */
const TRICKY = [
  'line one\nline two, "double" and \'single\' quotes',
  "a backslash-n sequence: \\n, a double one: \\\\n, a backslash before a newline: \\\n, a lone backslash: \\",
  "tab\tcarriage return\r\nnon-ASCII: é ü ß 中文 日本語 😀, separators: \u2028 \u2029, markup: </script><b>&amp;",
];

interface Seen {
  name: string;
  query: Record<string, string>;
  transport: Environ["transport"];
}

interface PageState {
  state: string;
  chats: Array<{ from: string; text: string }>;
  bins: Array<{ label: string; type: string; bytes: number[] }>;
  errors: string[];
}

describe("socket.io-client 2.x in a headless browser (allowEIO3)", () => {
  let sio: Server;
  let httpServer: http.Server;
  let browser: Browser | undefined;
  let baseUrl = "";
  const pageErrors: string[] = [];
  /** Connected sids by the name the page gave. */
  const sids = new Map<string, string>();
  const seen = new Map<string, Seen>();
  const uploads: Array<{ name: string; label: string; bytes: number[] | null }> = [];

  before(async () => {
    requireChromium();
    sio = new Server({ allowEIO3: true });
    sio.on("connect", async (sid: string, environ: Environ) => {
      const name = environ.query.name ?? "?";
      sids.set(name, sid);
      seen.set(sid, { name, query: { ...environ.query }, transport: environ.transport });
      await sio.enterRoom(sid, environ.query.room ?? "lobby");
    });
    sio.on("chat", async (sid: string, text: unknown) => {
      const from = seen.get(sid)!;
      await sio.emit("chat", { from: from.name, text }, { room: from.query.room ?? "lobby" });
      return "ok";
    });
    sio.on("bin-up", (sid: string, label: string, data: unknown) => {
      uploads.push({ name: seen.get(sid)!.name, label, bytes: Buffer.isBuffer(data) ? [...data] : null });
      return "got " + label;
    });

    const handler = sio.handler((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      const bundle = bundles[url.pathname];
      if (bundle !== undefined) {
        res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" });
        res.end(readFileSync(bundle));
      } else if (url.pathname === "/v2.html" || url.pathname === "/v4.html") {
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
        res.end(PAGE(url.pathname.slice(1, 3)));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    httpServer = http.createServer(handler);
    httpServer.on("upgrade", handler.upgrade);
    await new Promise<void>((resolve, reject) => {
      httpServer.once("error", reject);
      httpServer.listen(0, "127.0.0.1", () => resolve());
    });
    baseUrl = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
    browser = await launchChromium();
    ({ page: v4 } = await open("v4", ROOM, V4_NAME));
  });

  after(async () => {
    try {
      await browser?.close();
    } finally {
      try {
        await sio?.close();
      } finally {
        if (httpServer?.listening) {
          httpServer.closeAllConnections();
          await new Promise<void>((resolve) => httpServer.close(() => resolve()));
        }
      }
    }
  });

  /** Engine.IO requests the page made: method, query and Content-Type of request and response. */
  interface Exchange {
    method: string;
    query: URLSearchParams;
    requestType: string | undefined;
    responseType: string | undefined;
  }

  async function open(bundle: "v2" | "v4", room: string, name: string, opts: object = {}): Promise<{ page: Page; exchanges: Exchange[] }> {
    assert.ok(browser, "browser not started");
    const page = await browser.newPage();
    const exchanges: Exchange[] = [];
    page.on("pageerror", (err) => pageErrors.push(`${name}: ${err.message}`));
    page.on("response", (response) => {
      const url = new URL(response.url());
      if (!url.pathname.startsWith("/socket.io/")) return;
      const request = response.request();
      exchanges.push({
        method: request.method(),
        query: url.searchParams,
        requestType: request.headers()["content-type"],
        responseType: response.headers()["content-type"],
      });
    });
    const query = new URLSearchParams({ room, name, opts: JSON.stringify(opts) });
    // JSONP polls are <script> loads: the page's load event may wait for a poll, DOMContentLoaded does not.
    const response = await page.goto(`${baseUrl}/${bundle}.html?${query}`, { ...WAIT, waitUntil: "domcontentloaded" });
    assert.equal(response?.status(), 200);
    await page.waitForFunction(() => (window as unknown as { t: PageState }).t.state === "connected", null, WAIT).catch(async (err: unknown) => {
      throw new Error(`${name} did not connect: ${JSON.stringify(await state(page))}`, { cause: err });
    });
    return { page, exchanges };
  }

  const state = (page: Page): Promise<PageState> => page.evaluate(() => (window as unknown as { t: PageState }).t);

  /** Emits from a page and resolves with the first acknowledgement argument (rejects without one in time). */
  const emitAck = (page: Page, args: unknown[]): Promise<unknown> =>
    page.evaluate(
      ({ args, timeout }) =>
        new Promise((resolve, reject) => {
          const [event, ...rest] = args as [string, ...unknown[]];
          const values = rest.map((v) => (v !== null && typeof v === "object" && "bytes" in v ? new Uint8Array((v as { bytes: number[] }).bytes).buffer : v));
          setTimeout(() => reject(new Error(`no acknowledgement of ${event}`)), timeout);
          (window as unknown as { socket: { emit: (...a: unknown[]) => void } }).socket.emit(event, ...values, resolve);
        }),
      { args, timeout: WAIT.timeout },
    );

  /** Sends a chat message from a page and resolves with the server's acknowledgement. */
  const chat = (page: Page, text: string): Promise<unknown> => emitAck(page, ["chat", text]);

  /** Waits until a page has received `n` chat messages, and returns all it has. */
  async function chatsOf(page: Page, n: number): Promise<PageState["chats"]> {
    await page
      .waitForFunction((n) => (window as unknown as { t: PageState }).t.chats.length >= n, n, WAIT)
      .catch(async (err: unknown) => {
        throw new Error(`expected ${n} chats, page has ${JSON.stringify(await state(page))}`, { cause: err });
      });
    return (await state(page)).chats;
  }

  /** The server sends binary to a page; resolves with what the page recorded. */
  async function binaryToPage(page: Page, name: string, label: string, bytes: number[]): Promise<PageState["bins"][number]> {
    await sio.emit("bin", args(label, Buffer.from(bytes)), { to: sids.get(name)! });
    await page.waitForFunction((label) => (window as unknown as { t: PageState }).t.bins.some((b) => b.label === label), label, WAIT);
    return (await state(page)).bins.find((b) => b.label === label)!;
  }

  /** A page sends binary (an ArrayBuffer) to the server; resolves with the acknowledgement. */
  const binaryFromPage = (page: Page, label: string, bytes: number[]): Promise<unknown> => emitAck(page, ["bin-up", label, { bytes }]);

  const ALL_BYTES = Array.from({ length: 256 }, (_, i) => i);

  /** The page with the v4 bundle, in the room of every v2 page (opened before the first test). */
  let v4: Page;
  const V4_NAME = "v4";
  const ROOM = "v2-and-v4";

  /**
   * The v4 page and a v2 page chat, both ways, with these messages. Each page receives the room's
   * messages in the order the server handled them; the v4 page has those of earlier tests first.
   */
  async function chatBothWays(v2: Page, v2Name: string, texts: readonly string[]): Promise<void> {
    const before = (await state(v4)).chats.length;
    const expected: Array<{ from: string; text: string }> = [];
    for (const text of texts) {
      assert.equal(await chat(v2, text), "ok");
      expected.push({ from: v2Name, text });
      assert.equal(await chat(v4, text + " (v4)"), "ok");
      expected.push({ from: V4_NAME, text: text + " (v4)" });
    }
    const v4Chats = await chatsOf(v4, before + expected.length);
    assert.deepEqual(v4Chats.slice(before), expected);
    assert.deepEqual(await chatsOf(v2, expected.length), expected);
  }

  it("JSONP polling (forceJSONP): chats with a v4 page both ways, receives binary as base64", async () => {
    const { page: v2, exchanges } = await open("v2", ROOM, "v2-jsonp", { transports: ["polling"], forceJSONP: true });

    // The session really is JSONP, on both ends.
    const sid = sids.get("v2-jsonp")!;
    assert.equal(seen.get(sid)!.query.EIO, "3");
    assert.match(seen.get(sid)!.query.j ?? "", /^\d+$/, "the handshake carried j=<index>");
    assert.equal(sio.transport(sid), "polling");
    const transportName = await v2.evaluate(() => {
      const engine = (window as unknown as { socket: { io: { engine: { transport: { name: string; query: Record<string, unknown> } } } } }).socket.io.engine;
      return { name: engine.transport.name, j: engine.transport.query.j };
    });
    assert.equal(transportName.name, "polling");
    assert.equal(typeof transportName.j, "number");

    await chatBothWays(v2, "v2-jsonp", TRICKY);

    // Binary to a JSONP client goes as base64 text; the client hands the handler an ArrayBuffer.
    const bin = await binaryToPage(v2, "v2-jsonp", "jsonp", ALL_BYTES);
    assert.deepEqual(bin, { label: "jsonp", type: "[object ArrayBuffer]", bytes: ALL_BYTES });
    // And the v4 page receives binary in the same room through its own framing.
    const bin4 = await binaryToPage(v4, V4_NAME, "v4", [1, 2, 3]);
    assert.deepEqual(bin4, { label: "v4", type: "[object ArrayBuffer]", bytes: [1, 2, 3] });

    // Every exchange of the session was JSONP: script responses calling ___eio, form POSTs.
    const polls = exchanges.filter((e) => e.query.get("EIO") === "3");
    assert.ok(polls.some((e) => e.method === "GET") && polls.some((e) => e.method === "POST"), "both GETs and POSTs were made");
    for (const e of polls) {
      assert.ok(e.query.has("j"), `${e.method} without j`);
      if (e.method === "GET") assert.match(e.responseType ?? "", /^text\/javascript/);
      else assert.match(e.requestType ?? "", /^application\/x-www-form-urlencoded/);
    }
    assert.deepEqual((await state(v2)).errors, []);
    assert.deepEqual(pageErrors, []);
    await v2.close();
  });

  it("XHR2 polling only: binary both ways in the binary framing (application/octet-stream)", async () => {
    const { page: v2, exchanges } = await open("v2", ROOM, "v2-xhr", { transports: ["polling"] });
    const sid = sids.get("v2-xhr")!;
    assert.equal(seen.get(sid)!.query.EIO, "3");
    assert.equal(seen.get(sid)!.query.j, undefined, "not JSONP");
    assert.equal(seen.get(sid)!.query.b64, undefined, "an XHR2 client does not ask for base64");
    assert.equal(sio.transport(sid), "polling");

    await chatBothWays(v2, "v2-xhr", TRICKY.slice(0, 1));

    const bin = await binaryToPage(v2, "v2-xhr", "xhr2", ALL_BYTES);
    assert.deepEqual(bin, { label: "xhr2", type: "[object ArrayBuffer]", bytes: ALL_BYTES });
    const binaryResponses = exchanges.filter((e) => e.method === "GET" && e.responseType === "application/octet-stream");
    assert.ok(binaryResponses.length >= 1, `a poll answered with the binary framing: ${JSON.stringify(exchanges.map((e) => [e.method, e.responseType]))}`);

    assert.equal(await binaryFromPage(v2, "up-xhr2", [255, 0, 1, 254, 128, 127]), "got up-xhr2");
    assert.deepEqual(uploads.find((u) => u.label === "up-xhr2"), { name: "v2-xhr", label: "up-xhr2", bytes: [255, 0, 1, 254, 128, 127] });
    assert.ok(
      exchanges.some((e) => e.method === "POST" && e.requestType === "application/octet-stream"),
      `the page POSTed the binary framing: ${JSON.stringify(exchanges.map((e) => [e.method, e.requestType]))}`,
    );
    // Every poll of the session stayed polling (no upgrade was offered to a polling-only client).
    assert.equal(sio.transport(sid), "polling");
    assert.deepEqual((await state(v2)).errors, []);
    assert.deepEqual(pageErrors, []);
    await v2.close();
  });

  it("base64 polling (forceBase64): binary both ways as base64 text, never the binary framing", async () => {
    const { page: v2, exchanges } = await open("v2", ROOM, "v2-b64", { transports: ["polling"], forceBase64: true });
    const sid = sids.get("v2-b64")!;
    assert.equal(seen.get(sid)!.query.EIO, "3");
    assert.equal(seen.get(sid)!.query.b64, "1");
    assert.equal(seen.get(sid)!.query.j, undefined, "not JSONP");

    await chatBothWays(v2, "v2-b64", TRICKY.slice(2, 3));
    const bin = await binaryToPage(v2, "v2-b64", "b64", ALL_BYTES);
    assert.deepEqual(bin, { label: "b64", type: "[object ArrayBuffer]", bytes: ALL_BYTES });
    assert.equal(await binaryFromPage(v2, "up-b64", [0, 128, 255]), "got up-b64");
    assert.deepEqual(uploads.find((u) => u.label === "up-b64"), { name: "v2-b64", label: "up-b64", bytes: [0, 128, 255] });

    const polls = exchanges.filter((e) => e.query.get("EIO") === "3");
    for (const e of polls) {
      if (e.method === "GET") assert.match(e.responseType ?? "", /^text\/plain/, "a base64 session is answered with the text framing");
      else assert.doesNotMatch(e.requestType ?? "", /octet-stream/, "a base64 client POSTs text");
    }
    assert.equal(sio.transport(sid), "polling");
    assert.deepEqual((await state(v2)).errors, []);
    assert.deepEqual(pageErrors, []);
    await v2.close();
  });

  it("polling, then an upgrade to WebSocket: chat and binary both ways", async () => {
    const { page: v2 } = await open("v2", ROOM, "v2-ws");
    await v2.waitForFunction(
      () => (window as unknown as { socket: { io: { engine: { transport: { name: string } } } } }).socket.io.engine.transport.name === "websocket",
      null,
      WAIT,
    );
    const sid = sids.get("v2-ws")!;
    assert.equal(seen.get(sid)!.query.EIO, "3");
    assert.equal(seen.get(sid)!.transport, "polling", "the session opened on polling");
    assert.equal(sio.transport(sid), "websocket");

    await chatBothWays(v2, "v2-ws", TRICKY.slice(1, 2));
    const bin = await binaryToPage(v2, "v2-ws", "ws", ALL_BYTES);
    assert.deepEqual(bin, { label: "ws", type: "[object ArrayBuffer]", bytes: ALL_BYTES });
    assert.equal(await binaryFromPage(v2, "up-ws", [9, 8, 7, 0, 255]), "got up-ws");
    assert.deepEqual(uploads.find((u) => u.label === "up-ws"), { name: "v2-ws", label: "up-ws", bytes: [9, 8, 7, 0, 255] });

    assert.equal(sio.transport(sid), "websocket");
    assert.deepEqual((await state(v2)).errors, []);
    assert.deepEqual(pageErrors, []);
    await v2.close();
  });
});
