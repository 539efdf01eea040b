// sockjet on Deno started the Node way: `sio.listen` (node:http and `ws`) through Deno's Node
// compatibility, the way socket.io runs on Deno (./socketio.ts), and the default on Deno in
// docs/runtimes.md. It is the Node server itself (../sockjet.ts), run by Deno; measured beside
// ./sockjet.ts (Deno.serve, the alternative) because users choose between the two.
//
//   deno run -A --unstable-sloppy-imports --v8-flags=--expose-gc bench/servers/deno/sockjet-node.ts --port 0

import "../sockjet.js";
