// Cross-site WebSocket hijacking, in a real browser. A sockjet server with the default origin
// policy (no `cors` option: same-origin only) serves a page that connects to it with the official
// browser client (socket.io-client 4's bundle from node_modules). Headless Chromium loads that page
// from the server's own origin, which connects over WebSocket and over long-polling; and from two
// foreign origins, a second HTTP server on another port and the same server under another host
// name (localhost instead of 127.0.0.1), whose connections must be refused: the WebSocket
// handshake with 403 (browsers send the page's Origin on a WebSocket handshake but apply no CORS
// to it, so only the server can refuse), the polling handshake with 403 `{"code":4,...}`. The
// server records what it answered to each Socket.IO request; the connect handler must never run
// for a foreign page. Each foreign-origin test fails if the same-origin check is dropped.
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
import type { Duplex } from "node:stream";
import type { Browser } from "playwright-core";
import { Server } from "../../src/index.js";
import { launchChromium, requireChromium } from "../support/chromium.js";

const WAIT = 15_000;
const BUNDLE = readFileSync(join(dirname(createRequire(import.meta.url).resolve("socket.io-client/package.json")), "dist", "socket.io.min.js"), "utf8");
const FORBIDDEN = '{"code":4,"message":"Forbidden"}';

/** Connects to `?server=` over `?transport=` and settles `window.outcome` with what happened. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>client</title></head>
<body>
<script src="/socket.io.min.js"></script>
<script>
  const params = new URLSearchParams(location.search);
  window.outcome = new Promise((resolve) => {
    const socket = io(params.get("server"), { transports: [params.get("transport")], forceNew: true, reconnection: false, timeout: 8000 });
    socket.on("connect", () =>
      socket.emit("echo", "hello", (reply) => resolve({ connected: true, transport: socket.io.engine.transport.name, reply })),
    );
    socket.on("connect_error", (err) => resolve({ connected: false, error: String(err && err.message) }));
  });
</script>
</body></html>`;

/** The page and the client bundle, for both servers. */
function servePage(req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = (req.url ?? "/").split("?")[0];
  if (path === "/page.html") res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(PAGE);
  else if (path === "/socket.io.min.js") res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" }).end(BUNDLE);
  else res.writeHead(404).end();
}

/** What the sockjet server answered to one Socket.IO request. */
interface Answer {
  kind: "http" | "upgrade";
  origin: string | undefined;
  url: string;
  status: number;
  body: string;
}

interface Outcome {
  connected: boolean;
  transport?: string;
  reply?: string;
  error?: string;
}

describe("cross-site WebSocket hijacking: the default origin policy in a real browser", () => {
  let sio: Server;
  let server: http.Server;
  let foreign: http.Server;
  let browser: Browser;
  let port = 0;
  let foreignPort = 0;
  const answers: Answer[] = [];
  /** The Origin header of each connection the connect handler saw. */
  const connected: Array<string | undefined> = [];

  const listen = (s: http.Server) =>
    new Promise<number>((resolve, reject) => {
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => resolve((s.address() as AddressInfo).port));
    });

  before(async () => {
    requireChromium();
    // Default options: no `cors`, so only same-origin pages (and clients that send no Origin).
    sio = new Server();
    sio.on("connect", (_sid, environ) => {
      connected.push(environ.headers.origin);
    });
    sio.on("echo", (_sid: string, value: unknown) => value);
    const handler = sio.handler(servePage);
    server = http.createServer((req, res) => {
      if ((req.url ?? "").startsWith("/socket.io/")) recordHttp(req, res);
      handler(req, res);
    });
    server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      recordUpgrade(req, socket);
      handler.upgrade(req, socket, head);
    });
    foreign = http.createServer(servePage);
    [port, foreignPort] = await Promise.all([listen(server), listen(foreign)]);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await sio?.close();
    for (const s of [server, foreign]) {
      s?.closeAllConnections();
      await new Promise<void>((resolve) => (s?.listening ? s.close(() => resolve()) : resolve()));
    }
  });

  /** Keeps the status and body of an HTTP answer. */
  function recordHttp(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    const end = res.end.bind(res) as (...args: unknown[]) => http.ServerResponse;
    (res as unknown as { end: (...args: unknown[]) => http.ServerResponse }).end = (...args: unknown[]) => {
      if (typeof args[0] === "string" || args[0] instanceof Uint8Array) chunks.push(Buffer.from(args[0] as string));
      return end(...args);
    };
    res.once("finish", () =>
      answers.push({ kind: "http", origin: req.headers.origin, url: req.url ?? "", status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }),
    );
  }

  /** Keeps the status line and body of the first thing written on an upgrade's socket (the 101, or a refusal). */
  function recordUpgrade(req: http.IncomingMessage, socket: Duplex): void {
    let recorded = false;
    const capture = (chunk: unknown) => {
      if (recorded || (typeof chunk !== "string" && !(chunk instanceof Uint8Array))) return;
      recorded = true;
      const text = Buffer.from(chunk as string).toString("latin1");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const split = text.indexOf("\r\n\r\n");
      answers.push({ kind: "upgrade", origin: req.headers.origin, url: req.url ?? "", status, body: split === -1 ? "" : text.slice(split + 4) });
    };
    const loose = socket as unknown as Record<"write" | "end", (...args: unknown[]) => unknown>;
    for (const method of ["write", "end"] as const) {
      const original = loose[method].bind(socket);
      loose[method] = (...args: unknown[]) => {
        capture(args[0]);
        return original(...args);
      };
    }
  }

  /** Loads the page from `pageOrigin` and waits for its outcome. */
  async function run(pageOrigin: string, transport: "websocket" | "polling"): Promise<Outcome> {
    const page = await browser.newPage();
    try {
      const target = `http://127.0.0.1:${port}`;
      const response = await page.goto(`${pageOrigin}/page.html?server=${encodeURIComponent(target)}&transport=${transport}`, { timeout: WAIT });
      assert.equal(response?.status(), 200);
      return (await page.evaluate(() => (window as unknown as { outcome: Promise<Outcome> }).outcome)) as Outcome;
    } finally {
      await page.close();
    }
  }

  const answersFrom = (origin: string) => answers.filter((a) => a.origin === origin);

  for (const transport of ["websocket", "polling"] as const) {
    it(`a page from the server's own origin connects over ${transport}`, async () => {
      const origin = `http://127.0.0.1:${port}`;
      const before = connected.length;
      const outcome = await run(origin, transport);
      assert.deepEqual(outcome, { connected: true, transport, reply: "hello" });
      // The browser sends its Origin on the WebSocket handshake, and none on a same-origin GET.
      assert.deepEqual(connected.slice(before), [transport === "websocket" ? origin : undefined]);
    });
  }

  const foreignOrigins = [
    ["another port", () => `http://127.0.0.1:${foreignPort}`],
    ["another host name for the same server (localhost for 127.0.0.1)", () => `http://localhost:${port}`],
  ] as const;

  for (const [what, originOf] of foreignOrigins) {
    it(`a page from ${what} is refused over WebSocket: the handshake gets 403 code 4, the connect handler never runs`, async () => {
      const origin = originOf();
      const outcome = await run(origin, "websocket");
      assert.equal(outcome.connected, false, JSON.stringify(outcome));
      const seen = answersFrom(origin);
      assert.ok(seen.length > 0, `the server saw no request from ${origin}`);
      for (const answer of seen) {
        assert.equal(answer.kind, "upgrade", JSON.stringify(answer));
        assert.equal(answer.status, 403, JSON.stringify(answer));
        assert.equal(answer.body, FORBIDDEN);
      }
      assert.ok(!connected.includes(origin), "the connect handler ran for a foreign page");
    });

    it(`a page from ${what} is refused over long-polling: the handshake gets 403 code 4, the connect handler never runs`, async () => {
      const origin = originOf();
      const already = answersFrom(origin).length;
      const outcome = await run(origin, "polling");
      assert.equal(outcome.connected, false, JSON.stringify(outcome));
      // socket.io-client reports a request the browser would not let it read as "xhr poll error".
      assert.equal(outcome.error, "xhr poll error");
      const seen = answersFrom(origin).slice(already);
      assert.ok(seen.length > 0, `the server saw no request from ${origin}`);
      for (const answer of seen) {
        assert.equal(answer.kind, "http", JSON.stringify(answer));
        assert.equal(answer.status, 403, JSON.stringify(answer));
        assert.equal(answer.body, FORBIDDEN);
        assert.match(answer.url, /transport=polling/);
      }
      assert.ok(!connected.includes(origin), "the connect handler ran for a foreign page");
    });
  }
});
