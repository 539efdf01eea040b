// What each runtime's HTTP server does with long request heads in front of sockjet: a header, a
// URL and a WebSocket upgrade header of 8 KB, 20 KB, 70 KB and 1 MB, written on a raw socket to
// the shared scenario fixture (test/integrations/fixtures/app.ts) on node:http, Bun, Deno and
// Deno's node:http. Prints the status line each gets (or how the connection ended).
//
//   node --import tsx bench/tools/head-limits.ts

import { createServer } from "node:http";
import { connect } from "node:net";
import { closeNode, listenNode, nativeFixture, nodeOnDenoFixture, type RunningFixture } from "../../test/support/scenarios.js";
import { createFixtureServer } from "../../test/integrations/fixtures/app.js";

function send(url: string, head: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.write(head));
    let done = false;
    const finish = (how: string) => {
      if (done) return;
      done = true;
      socket.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      resolve(text.length > 0 ? `${text.split("\r\n")[0]}${how === "close" ? "" : ` (then ${how})`}` : `no answer (${how})`);
    };
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (chunk.toString("latin1").startsWith("HTTP/1.1 101")) finish("close");
    });
    socket.on("error", (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    socket.on("close", () => finish("close"));
    setTimeout(() => finish("no close within 15 s"), 15_000);
  });
}

async function nodeFixture(): Promise<RunningFixture> {
  const sio = createFixtureServer("node:http", false);
  const server = createServer((_req, res) => res.writeHead(404).end());
  sio.attach(server);
  const url = await listenNode(server);
  return { url, close: async () => (await sio.close(), await closeNode(server)) };
}

const targets: Array<[string, () => Promise<RunningFixture>]> = [
  ["node:http", nodeFixture],
  ["Bun.serve", () => nativeFixture("bun", true).start({ perMessageDeflate: false })],
  ["Deno.serve", () => nativeFixture("deno", { error: /./ }).start({ perMessageDeflate: false })],
  ["Deno node:http", () => nodeOnDenoFixture().start({ perMessageDeflate: false })],
];

console.log("| server | size | header on a polling handshake | URL of a polling handshake | header on a WebSocket upgrade |");
console.log("|---|---|---|---|---|");
for (const [name, start] of targets) {
  const target = await start();
  const host = new URL(target.url).host;
  for (const size of [8_000, 20_000, 70_000, 1_000_000]) {
    const big = "a".repeat(size);
    const header = await send(target.url, `GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${big}\r\nConnection: close\r\n\r\n`);
    const url = await send(target.url, `GET /socket.io/?EIO=4&transport=polling&x=${big} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    const ws = await send(
      target.url,
      `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Big: ${big}\r\n\r\n`,
    );
    console.log(`| ${name} | ${size / 1000} KB | ${header} | ${url} | ${ws} |`);
  }
  await target.close();
}
process.exit(0);
