// The rooms part of the benchmark contract (BENCH_ROOMS=1, see ROOMS in ./common.ts) for socket.io,
// shared by the Node and Bun servers: a connecting socket joins the rooms its auth names, and
// `bcastRoom` / `bcastRooms` emit to one room or to each of many rooms, as a user would write it.
// Called only when ROOMS is set, so that the other scenarios' sockets carry no extra listeners.

import type { Server, Socket } from "socket.io";
import { payloadOf, roomBcastSpec, roomsBcastSpec, roomsOf } from "./common.js";

export function addRoomHandlers(io: Server, socket: Socket): void {
  const rooms = roomsOf(socket.handshake.auth);
  if (rooms.length > 0) void socket.join(rooms);
  socket.on("bcastRoom", (spec: unknown, ack: unknown) => {
    const { room, n, size } = roomBcastSpec(spec);
    const payload = payloadOf(size);
    for (let i = 0; i < n; i++) io.to(room).emit("msg", i, payload);
    if (typeof ack === "function") ack(n);
  });
  socket.on("bcastRooms", (spec: unknown, ack: unknown) => {
    const { prefix, count, size } = roomsBcastSpec(spec);
    const payload = payloadOf(size);
    for (let r = 0; r < count; r++) io.to(`${prefix}${r}`).emit("msg", 0, payload);
    if (typeof ack === "function") ack(count);
  });
}
