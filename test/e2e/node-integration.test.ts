// The Node integration: attach() beside an existing app, handler() as WSGIApp's counterpart with
// static files, listen(), and the permessage-deflate option reaching the WebSocket server.

import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket } from "ws";
import { io } from "socket.io-client";
import { Server } from "../../src/index.js";
import { MODES, TRANSPORT_MODES, waitConnect } from "../support/harness.js";

function listen(server: HttpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

function close(server: HttpServer): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function echoRoundTrip(url: string, mode: (typeof MODES)[number]): Promise<unknown> {
  const client = io(url, { forceNew: true, reconnection: false, ...TRANSPORT_MODES[mode] });
  try {
    await waitConnect(client);
    return await client.timeout(5000).emitWithAck("echo", { n: 1 });
  } finally {
    client.disconnect();
  }
}

describe("attach() beside an existing app", () => {
  const sio = new Server();
  sio.on("echo", (_sid: string, data: unknown) => data);
  const http = createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain" }).end(`app:${req.url}`);
  });
  sio.attach(http);
  after(async () => {
    await sio.close();
    await close(http);
  });

  for (const mode of MODES) {
    test(`Socket.IO works over ${mode} and the app keeps its routes`, async () => {
      const port = http.listening ? (http.address() as AddressInfo).port : await listen(http);
      const url = `http://127.0.0.1:${port}`;
      assert.deepEqual(await echoRoundTrip(url, mode), { n: 1 });
      const res = await fetch(`${url}/hello?x=1`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "app:/hello?x=1");
    });
  }
});

describe("handler(app, { staticFiles })", () => {
  const dir = mkdtempSync(join(tmpdir(), "sockjet-static-"));
  writeFileSync(join(dir, "index.html"), "<h1>home</h1>");
  mkdirSync(join(dir, "assets"));
  writeFileSync(join(dir, "assets", "app.js"), "console.log(1)");
  writeFileSync(join(dir, "secret.txt"), "do not serve");
  writeFileSync(join(dir, "blob.bin"), "xyz");

  const sio = new Server();
  sio.on("echo", (_sid: string, data: unknown) => data);
  const handler = sio.handler(
    (req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain" }).end("fallback");
    },
    {
      staticFiles: {
        "/": join(dir, "index.html"),
        "/static": join(dir, "assets"),
        "/data": { filename: join(dir, "blob.bin"), contentType: "application/x-test" },
      },
    },
  );
  const http = createServer(handler);
  http.on("upgrade", handler.upgrade);
  let url = "";
  after(async () => {
    await sio.close();
    await close(http);
  });

  test("serves files, directories, explicit content types, then the app", async () => {
    url = `http://127.0.0.1:${await listen(http)}`;
    let res = await fetch(`${url}/`);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(await res.text(), "<h1>home</h1>");
    res = await fetch(`${url}/static/app.js`);
    assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(await res.text(), "console.log(1)");
    res = await fetch(`${url}/data`);
    assert.equal(res.headers.get("content-type"), "application/x-test");
    assert.equal(await res.text(), "xyz");
    res = await fetch(`${url}/elsewhere`);
    assert.equal(await res.text(), "fallback");
  });

  test("a mapped directory cannot be escaped", async () => {
    for (const path of ["/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/..%2fsecret.txt"]) {
      const res = await fetch(`${url}${path}`);
      assert.notEqual(await res.text(), "do not serve", path);
    }
  });

  for (const mode of MODES) {
    test(`Socket.IO over ${mode} through the handler and its upgrade listener`, async () => {
      assert.deepEqual(await echoRoundTrip(url, mode), { n: 1 });
    });
  }
});

describe("perMessageDeflate", () => {
  for (const enabled of [false, true]) {
    test(`perMessageDeflate: ${enabled} is what the WebSocket handshake negotiates`, async () => {
      const sio = new Server({ perMessageDeflate: enabled });
      sio.on("echo", (_sid: string, data: unknown) => data);
      const http = await sio.listen(0, "127.0.0.1");
      const port = (http.address() as AddressInfo).port;
      try {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: true });
        const first = await new Promise<string>((resolve, reject) => {
          ws.once("message", (data) => resolve(String(data)));
          ws.once("error", reject);
        });
        assert.match(first, /^0\{"sid":/);
        assert.equal(ws.extensions.includes("permessage-deflate"), enabled);
        ws.send("40");
        const connect = await new Promise<string>((resolve) => ws.once("message", (data) => resolve(String(data))));
        assert.match(connect, /^40\{"sid":"[\w-]{20}"\}$/);
        const big = "x".repeat(5000);
        ws.send(`421["echo","${big}"]`);
        const ack = await new Promise<string>((resolve) => ws.once("message", (data) => resolve(String(data))));
        assert.equal(ack, `431["${big}"]`);
        ws.close();
      } finally {
        await sio.close();
      }
    });
  }
});
