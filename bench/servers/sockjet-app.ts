// The benchmark contract (see ./common.ts) as a sockjet user would write it, one definition for
// every runtime's sockjet server (./sockjet.ts on Node and under Deno's node:http, ./bun/sockjet.ts,
// ./deno/sockjet-deno-serve.ts): each of those only starts it on its runtime's HTTP server, so all
// of them measure the same handlers.

import { Server, args } from "../../src/index.js";
import { EIO3_OPTIONS, PARSER_OPTIONS, PING_INTERVAL, PING_TIMEOUT, ROOMS, bcastSpec, payloadOf } from "./common.js";
import { addRoomHandlers } from "./sockjet-rooms.js";

export function benchServer(): Server {
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
  return sio;
}
