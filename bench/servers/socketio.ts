// The official server (socket.io 4.8.x) under test, with its defaults except the shared heartbeat
// and an explicit perMessageDeflate: false (its default too, stated so that a change of default
// cannot skew the comparison). httpCompression stays at its default (on, 1 KiB threshold).
// BENCH_ALLOW_EIO3=1 (mixed scenarios) adds allowEIO3: true, as in ./sockjet.ts.

import { createServer } from "node:http";
import { Server } from "socket.io";
import { EIO3_OPTIONS, HOST, MSGPACK, PING_INTERVAL, PING_TIMEOUT, ROOMS, announce, bcastSpec, payloadOf, portFromArgs } from "./common.js";
import { addRoomHandlers } from "./socketio-rooms.js";

const httpServer = createServer();
// BENCH_PARSER=msgpack: the official msgpack parser, loaded only then.
const parserOptions = MSGPACK ? { parser: (await import("socket.io-msgpack-parser")) as unknown } : {};
const io = new Server(httpServer, { pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT, perMessageDeflate: false, ...EIO3_OPTIONS, ...parserOptions });

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

httpServer.listen(portFromArgs(), HOST, () => {
  const address = httpServer.address();
  announce(typeof address === "object" && address !== null ? address.port : 0);
});
