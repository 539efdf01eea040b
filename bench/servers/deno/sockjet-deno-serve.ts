// sockjet on Deno.serve (sockjet/deno's serveDeno: Deno.serve with Deno.upgradeWebSocket), kind
// `sockjet-deno-serve`, the benchmark contract of ../common.ts written as a user would write it;
// the same handlers as bench/servers/sockjet.ts. The alternative to node:http (./sockjet.ts, the
// default on Deno): Deno.serve writes each send as its own frame and syscall, so bursts cost more.
//
//   deno run -A --unstable-sloppy-imports --v8-flags=--expose-gc bench/servers/deno/sockjet-deno-serve.ts --port 0

import { Server, args } from "../../../src/index.js";
import { serveDeno } from "../../../src/runtime/deno.js";
import { EIO3_OPTIONS, HOST, PARSER_OPTIONS, PING_INTERVAL, PING_TIMEOUT, announce, bcastSpec, payloadOf, portFromArgs } from "../common.js";

const sio = new Server({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT, ...EIO3_OPTIONS, ...PARSER_OPTIONS });

sio.on("echo", (_sid: string, ...values: unknown[]) => args(...values));

sio.on("bcast", async (_sid: string, spec: unknown) => {
  const { n, size } = bcastSpec(spec);
  const payload = payloadOf(size);
  for (let i = 0; i < n; i++) await sio.emit("msg", args(i, payload));
  return n;
});

const server = serveDeno(sio, { port: portFromArgs(), hostname: HOST, onListen: () => {} });
announce(server.addr.port);
