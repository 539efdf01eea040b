// sockjet on Deno started the Node way: `sio.listen` (node:http and `ws`) through Deno's Node
// compatibility, exactly as bench/servers/sockjet.ts on Node, and the way socket.io runs on Deno
// (./socketio.ts). Measured beside ./sockjet.ts (Deno.serve) because the two paths trade memory
// differently on Deno, and users choose between them.
//
//   deno run -A --unstable-sloppy-imports --v8-flags=--expose-gc bench/servers/deno/sockjet-node.ts --port 0

import { Server, args } from "../../../src/index.js";
import { HOST, PING_INTERVAL, PING_TIMEOUT, announce, bcastSpec, payloadOf, portFromArgs } from "../common.js";

const sio = new Server({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });

sio.on("echo", (_sid: string, ...values: unknown[]) => args(...values));

sio.on("bcast", async (_sid: string, spec: unknown) => {
  const { n, size } = bcastSpec(spec);
  const payload = payloadOf(size);
  for (let i = 0; i < n; i++) await sio.emit("msg", args(i, payload));
  return n;
});

const server = await sio.listen(portFromArgs(), HOST);
const address = server.address();
announce(typeof address === "object" && address !== null ? address.port : 0);
