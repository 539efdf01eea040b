// sockjet under test: the benchmark contract (see ./common.ts) written as a user would write it.
// Options: everything default except the shared heartbeat (perMessageDeflate is off and
// httpCompression on by default, as in socket.io); BENCH_ALLOW_EIO3=1 (mixed scenarios) adds
// allowEIO3: true (see ./common.ts).

import { Server, args } from "../../src/index.js";
import { EIO3_OPTIONS, HOST, PARSER_OPTIONS, PING_INTERVAL, PING_TIMEOUT, ROOMS, announce, bcastSpec, payloadOf, portFromArgs } from "./common.js";
import { addRoomHandlers } from "./sockjet-rooms.js";

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

const server = await sio.listen(portFromArgs(), HOST);
const address = server.address();
announce(typeof address === "object" && address !== null ? address.port : 0);
