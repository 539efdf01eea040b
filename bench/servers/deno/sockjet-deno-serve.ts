// sockjet on Deno.serve (sockjet/deno's serveDeno: Deno.serve with Deno.upgradeWebSocket), kind
// `sockjet-deno-serve`, the benchmark contract of ../common.ts written as a user would write it;
// the same handlers as every sockjet server (../sockjet-app.ts). The alternative to node:http (./sockjet.ts, the
// default on Deno): Deno.serve writes each send as its own frame and syscall, so bursts cost more.
//
//   deno run -A --unstable-sloppy-imports --v8-flags=--expose-gc bench/servers/deno/sockjet-deno-serve.ts --port 0

import { serveDeno } from "../../../src/runtime/deno.js";
import { HOST, announce, portFromArgs } from "../common.js";
import { benchServer } from "../sockjet-app.js";

const sio = benchServer();

const server = serveDeno(sio, { port: portFromArgs(), hostname: HOST, onListen: () => {} });
announce(server.addr.port);
