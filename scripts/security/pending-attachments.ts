// Measures what a client that lies about its attachment count can make the server hold: each
// connection announces a binary packet with `maxAttachments` (10) attachments, sends all but one,
// each just under maxHttpBufferSize, then goes quiet (it still answers pings, so nothing times
// out). Prints the server's ArrayBuffer memory and RSS growth per such connection, then, once
// `attachmentTimeout` (here 20 s, default 60 s) has passed, what is left.
// Run: node --expose-gc --import tsx scripts/security/pending-attachments.ts [connections=20]

import { WebSocket } from "ws";
import { Server } from "../../src/index.js";

const connections = Number(process.argv[2] ?? 20);
const size = 1_000_000 - 16;
const attachmentTimeout = 20_000;
const sio = new Server({ attachmentTimeout, logger: false });
const http = await sio.listen(0, "127.0.0.1");
const port = (http.address() as { port: number }).port;

const settle = async () => {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};
await settle();
const before = process.memoryUsage();

const sockets: WebSocket[] = [];
for (let c = 0; c < connections; c++) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
  sockets.push(ws);
  await new Promise<void>((resolve) => ws.once("message", () => resolve()));
  ws.on("message", (data: Buffer) => data.toString() === "2" && ws.send("3"));
  ws.send("40");
  const placeholders = Array.from({ length: 10 }, (_, i) => `{"_placeholder":true,"num":${i}}`).join(",");
  ws.send(`4510-["upload",${placeholders}]`);
  for (let i = 0; i < 8; i++) ws.send(Buffer.alloc(size, i));
  await new Promise<void>((resolve) => ws.send(Buffer.alloc(size, 8), () => resolve()));
}
// Let the server take every frame.
await new Promise((resolve) => setTimeout(resolve, 2000));
await settle();
const after = process.memoryUsage();
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
console.log(
  `${connections} connections, 9 pending attachments of ${size} bytes each: ` +
    `arrayBuffers +${mb(after.arrayBuffers - before.arrayBuffers)} MiB (${mb((after.arrayBuffers - before.arrayBuffers) / connections)} MiB per connection), ` +
    `rss +${mb(after.rss - before.rss)} MiB; sessions open: ${sio.engine.clientsCount}`,
);
await new Promise((resolve) => setTimeout(resolve, attachmentTimeout));
await settle();
const later = process.memoryUsage();
console.log(
  `after attachmentTimeout (${attachmentTimeout} ms): arrayBuffers +${mb(later.arrayBuffers - before.arrayBuffers)} MiB; sessions open: ${sio.engine.clientsCount}`,
);
for (const ws of sockets) ws.terminate();
await sio.close();
