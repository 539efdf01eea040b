// The receiving side of a mixed cluster: CPU per delivered message of a sockjet server with
// SocketIORedisManager against a socket.io 4.8 server with @socket.io/redis-adapter (classic), each
// alone in a child process with 50 WebSocket clients (socket.io-client v4, in this process), while
// @socket.io/redis-emitter publishes 2000 broadcasts to the namespace on the local Redis. The child
// measures its own CPU (user + system) from the first to the last broadcast; 3 rounds each.
//
//   node --import tsx bench/tools/socketio-compat.ts

import { fork } from "node:child_process";
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";

const CLIENTS = 50;
const BROADCASTS = 2000;
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

async function serve(kind: string, key: string): Promise<void> {
  let port: number;
  if (kind === "sockjet") {
    const { Server } = await import("../../src/index.js");
    const { SocketIORedisManager } = await import("../../src/manager/pubsub/redis.js");
    const manager = new SocketIORedisManager({ url: REDIS_URL, key, logger: false });
    const http = await new Server({ clientManager: manager }).listen(0, "127.0.0.1");
    await manager.ready;
    port = (http.address() as AddressInfo).port;
  } else {
    const { Server } = await import("socket.io");
    const { createAdapter } = await import("@socket.io/redis-adapter");
    const pub = new Redis(REDIS_URL);
    const http = createServer();
    new Server(http).adapter(createAdapter(pub, pub.duplicate(), { key }));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    port = (http.address() as AddressInfo).port;
  }
  let start = process.cpuUsage();
  process.on("message", (message: string) => {
    if (message === "start") start = process.cpuUsage();
    if (message === "end") {
      const used = process.cpuUsage(start);
      process.send!({ cpu: used.user + used.system });
    }
  });
  process.send!({ port });
}

async function measure(kind: string): Promise<number> {
  const { io } = await import("socket.io-client");
  const { Emitter } = await import("@socket.io/redis-emitter");
  const key = `bench-${randomUUID()}`;
  const child = fork(fileURLToPath(import.meta.url), ["serve", kind, key], { execArgv: ["--import", "tsx"] });
  const port = await new Promise<number>((resolve) => child.once("message", (m: { port: number }) => resolve(m.port)));
  let received = 0;
  const clients = await Promise.all(
    Array.from(
      { length: CLIENTS },
      () =>
        new Promise<ReturnType<typeof io>>((resolve) => {
          const socket = io(`http://127.0.0.1:${port}`, { transports: ["websocket"], forceNew: true });
          socket.on("tick", () => void received++);
          socket.once("connect", () => resolve(socket));
        }),
    ),
  );
  const redis = new Redis(REDIS_URL);
  const emitter = new Emitter(redis, { key });
  const until = async (n: number) => {
    while (received < n) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  const burst = async (count: number) => {
    for (let i = 0; i < count; i++) {
      emitter.emit("tick", i, { payload: "x".repeat(50) });
      if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await burst(200); // warm-up
  await until(200 * CLIENTS);
  received = 0;
  child.send("start");
  await burst(BROADCASTS);
  await until(BROADCASTS * CLIENTS);
  const cpu = await new Promise<number>((resolve) => {
    child.once("message", (m: { cpu: number }) => resolve(m.cpu));
    child.send("end");
  });
  for (const socket of clients) socket.disconnect();
  redis.disconnect();
  child.kill();
  return cpu / (BROADCASTS * CLIENTS);
}

if (process.argv[2] === "serve") {
  await serve(process.argv[3]!, process.argv[4]!);
} else {
  for (let round = 1; round <= 3; round++) {
    for (const kind of ["sockjet", "socket.io"]) console.log(`round ${round}  ${kind.padEnd(9)} ${(await measure(kind)).toFixed(2)} µs CPU per delivery`);
  }
  process.exit(0);
}
