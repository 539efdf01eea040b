// The official server on Deno: socket.io 4.8 on node:http through Deno's Node compatibility (the
// way socket.io documents running on Deno), with its defaults except the shared heartbeat and
// an explicit perMessageDeflate: false, as bench/servers/socketio.ts on Node.
//
//   deno run -A --unstable-sloppy-imports --v8-flags=--expose-gc bench/servers/deno/socketio.ts --port 0

import { createServer } from "node:http";
import { Server } from "socket.io";
import { HOST, PING_INTERVAL, PING_TIMEOUT, announce, bcastSpec, payloadOf, portFromArgs } from "../common.js";

const httpServer = createServer();
const io = new Server(httpServer, { pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT, perMessageDeflate: false });

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
});

httpServer.listen(portFromArgs(), HOST, () => {
  const address = httpServer.address();
  announce(typeof address === "object" && address !== null ? address.port : 0);
});
