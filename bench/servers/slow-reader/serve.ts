// Starts ./app.ts on the runtime running it: Node (`sio.listen`: node:http + ws), Bun (`serveBun`),
// Deno (`serveDeno`), or Deno through node:http when SLOW_READER_HTTP=node. Prints `ready <port>`
// (the bench runner's convention) and exits on SIGTERM or when stdin closes (test runs).
//
//   node --expose-gc --import tsx bench/servers/slow-reader/serve.ts --port 0
//   bun bench/servers/slow-reader/serve.ts --port 0
//   deno run -A --unstable-sloppy-imports --v8-flags=--expose-gc bench/servers/slow-reader/serve.ts --port 0

import process from "node:process";
import { createSlowReaderServer } from "./app.js";
import { portFromArgs } from "../common.js";

const sio = createSlowReaderServer();
const port = portFromArgs();
const host = "127.0.0.1";
let bound: number;
let stop: () => unknown;
if ("Bun" in globalThis) {
  const { serveBun } = await import("../../../src/runtime/bun.js");
  const server = serveBun(sio, { port, hostname: host });
  bound = server.port;
  stop = () => server.stop(true);
} else if ("Deno" in globalThis && process.env.SLOW_READER_HTTP !== "node") {
  const { serveDeno } = await import("../../../src/runtime/deno.js");
  const server = serveDeno(sio, { port, hostname: host, onListen: () => {} });
  bound = server.addr.port;
  stop = () => server.shutdown();
} else {
  const server = await sio.listen(port, host);
  const address = server.address();
  bound = typeof address === "object" && address !== null ? address.port : 0;
  stop = () => undefined;
}
process.stdout.write(`ready ${bound}\n`);

let exiting = false;
const exit = async () => {
  if (exiting) return;
  exiting = true;
  await sio.close();
  await stop();
  process.exit(0);
};
process.on("SIGTERM", () => void exit());
process.on("SIGINT", () => void exit());
if (process.env.SLOW_READER_STDIN === "1") {
  process.stdin.on("data", () => {});
  process.stdin.on("end", () => void exit());
}
