// The target of bench/tools/handshake-flood.ts: sockjet (`sio.listen`) or socket.io 4.8 on
// node:http, with default options except `connectTimeout` (FLOOD_CONNECT_TIMEOUT, ms) and the
// per-connection namespace limit under test (FLOOD_NAMESPACES="*" accepts any namespace). Run with
// --expose-gc.
//
// Control channel, as in bench/soak/server.ts: a JSON line per request on stdin, a JSON line per
// answer on stdout; the first stdout line is {"port":N}.
//   {"op":"stats"} -> { heapUsed, rss, external, arrayBuffers, fds, sessions } after forced GC

import process from "node:process";
import { readdirSync } from "node:fs";
import { createServer } from "node:http";
import { Server as SockjetServer } from "../../src/index.js";
import { Server as SocketIoServer } from "socket.io";

const kind = process.argv[2] === "socketio" ? "socketio" : "sockjet";
const connectTimeout = Number(process.env.FLOOD_CONNECT_TIMEOUT ?? 45_000);
const anyNamespace = process.env.FLOOD_NAMESPACES === "*";
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");

let port: number;
let sessions: () => number;
if (kind === "sockjet") {
  const sio = new SockjetServer({ connectTimeout, ...(anyNamespace ? { namespaces: "*" as const } : {}) });
  const http = await sio.listen(0, "127.0.0.1");
  port = (http.address() as { port: number }).port;
  sessions = () => sio.engine.clientsCount;
} else {
  const http = createServer();
  const io = new SocketIoServer(http, { connectTimeout });
  // socket.io's dynamic namespaces: a RegExp parent accepts any name (each creates a Namespace).
  if (anyNamespace) io.of(/.*/);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", () => resolve()));
  port = (http.address() as { port: number }).port;
  sessions = () => io.engine.clientsCount;
}
process.stdout.write(JSON.stringify({ port }) + "\n");

async function stats() {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers, fds: readdirSync("/proc/self/fd").length, sessions: sessions() };
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  input += chunk;
  let nl: number;
  while ((nl = input.indexOf("\n")) >= 0) {
    input = input.slice(nl + 1);
    void stats().then((s) => process.stdout.write(JSON.stringify(s) + "\n"));
  }
});
process.stdin.on("end", () => process.exit(0));
