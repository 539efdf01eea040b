// The official server on Deno: socket.io 4.8 on node:http through Deno's Node compatibility (the
// way socket.io documents running on Deno). It is the Node server itself (../socketio.ts: its
// defaults except the shared heartbeat and an explicit perMessageDeflate: false), run by Deno.
//
//   deno run -A --unstable-sloppy-imports --v8-flags=--expose-gc bench/servers/deno/socketio.ts --port 0

import "../socketio.js";
