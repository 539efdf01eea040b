// The rooms part of the benchmark contract (BENCH_ROOMS=1, see ROOMS in ./common.ts) for sockjet,
// shared by the Node and Bun servers: the connect handler enters the rooms the client's auth names,
// and `bcastRoom` / `bcastRooms` emit to one room or to each of many rooms, as a user would write it.

import { args, type Server } from "../../src/index.js";
import { payloadOf, roomBcastSpec, roomsBcastSpec, roomsOf } from "./common.js";

export function addRoomHandlers(sio: Server): void {
  sio.on("connect", async (sid: string, _environ: unknown, auth: unknown) => {
    for (const room of roomsOf(auth)) await sio.enterRoom(sid, room);
  });
  sio.on("bcastRoom", async (_sid: string, spec: unknown) => {
    const { room, n, size } = roomBcastSpec(spec);
    const payload = payloadOf(size);
    for (let i = 0; i < n; i++) await sio.emit("msg", args(i, payload), { to: room });
    return n;
  });
  sio.on("bcastRooms", async (_sid: string, spec: unknown) => {
    const { prefix, count, size } = roomsBcastSpec(spec);
    const payload = payloadOf(size);
    for (let r = 0; r < count; r++) await sio.emit("msg", args(0, payload), { to: `${prefix}${r}` });
    return count;
  });
}
