// sockjet on Deno as a Deno user gets it by default (docs/runtimes.md): `sio.listen`, node:http and
// `ws` through Deno's Node compatibility, the way socket.io runs on Deno (./socketio.ts). It is the
// Node server itself (../sockjet.ts), run by Deno; ./sockjet-deno-serve.ts (kind
// `sockjet-deno-serve`, Deno.serve) is measured beside it because users can choose either.
//
//   deno run -A --unstable-sloppy-imports --v8-flags=--expose-gc bench/servers/deno/sockjet.ts --port 0

import "../sockjet.js";
