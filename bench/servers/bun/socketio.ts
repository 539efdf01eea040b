// The official server on Bun: socket.io 4.8 bound to @socket.io/bun-engine (its engine on Bun's
// native HTTP and WebSocket server), with its defaults except the shared heartbeat. The bun-engine
// has no permessage-deflate and no HTTP compression. It refuses every Engine.IO v3 handshake (400,
// "Unsupported protocol version", whatever the options), so it has no mixed-room figure and ignores
// BENCH_ALLOW_EIO3.
//
//   bun bench/servers/bun/socketio.ts --port 0

import { Server as Engine } from "@socket.io/bun-engine";
import { Server } from "socket.io";
import { HOST, MSGPACK, PING_INTERVAL, PING_TIMEOUT, ROOMS, announce, bcastSpec, payloadOf, portFromArgs } from "../common.js";
import { addRoomHandlers } from "../socketio-rooms.js";

interface BunGlobal {
  serve(options: Record<string, unknown>): { readonly port: number };
}

// BENCH_PARSER=msgpack: the official msgpack parser, loaded only then.
const io = new Server(MSGPACK ? { parser: (await import("socket.io-msgpack-parser")) as unknown } : {});
const engine = new Engine({ path: "/socket.io/", pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
(io as unknown as { bind(engine: unknown): void }).bind(engine);

io.on("connection", (socket) => {
  socket.on("echo", (...values: unknown[]) => {
    const ack = values.pop();
    if (typeof ack === "function") ack(...values);
  });
  socket.on("bcast", (spec: unknown, ack: unknown) => {
    const { n, size } = bcastSpec(spec);
    const payload = payloadOf(size);
    for (let i = 0; i < n; i++) io.emit("msg", i, payload);
    if (typeof ack === "function") ack(n);
  });
  // BENCH_ROOMS=1 (the scale runner's rooms session): rooms from the auth, bcastRoom, bcastRooms.
  if (ROOMS) addRoomHandlers(io, socket);
});

const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
const server = bun.serve({ port: portFromArgs(), hostname: HOST, ...(engine.handler() as object) });
announce(server.port);
