// sockjet on Bun (sockjet/bun: Bun.serve with native WebSockets), the benchmark contract of
// ../common.ts written as a user would write it; the same handlers as bench/servers/sockjet.ts.
// BENCH_NATIVE_PUBLISH=0 turns the native topic publish off (the general per-socket path only).
//
//   bun bench/servers/bun/sockjet.ts --port 0

import process from "node:process";
import { Server, args } from "../../../src/index.js";
import { serveBun } from "../../../src/runtime/bun.js";
import { EIO3_OPTIONS, HOST, PARSER_OPTIONS, PING_INTERVAL, PING_TIMEOUT, ROOMS, announce, bcastSpec, payloadOf, portFromArgs } from "../common.js";
import { addRoomHandlers } from "../sockjet-rooms.js";

const sio = new Server({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT, ...EIO3_OPTIONS, ...PARSER_OPTIONS });

sio.on("echo", (_sid: string, ...values: unknown[]) => args(...values));

sio.on("bcast", async (_sid: string, spec: unknown) => {
  const { n, size } = bcastSpec(spec);
  const payload = payloadOf(size);
  for (let i = 0; i < n; i++) await sio.emit("msg", args(i, payload));
  return n;
});

// BENCH_ROOMS=1 (the scale runner's rooms session): rooms from the auth, bcastRoom, bcastRooms.
if (ROOMS) addRoomHandlers(sio);

const server = serveBun(sio, { port: portFromArgs(), hostname: HOST, nativePublish: process.env.BENCH_NATIVE_PUBLISH !== "0" });
announce(server.port);
