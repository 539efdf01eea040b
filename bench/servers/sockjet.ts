// sockjet under test on node:http: the benchmark contract (see ./common.ts) from ./sockjet-app.ts.
// Options: everything default except the shared heartbeat (perMessageDeflate is off and
// httpCompression on by default, as in socket.io); BENCH_ALLOW_EIO3=1 (mixed scenarios) adds
// allowEIO3: true (see ./common.ts).

import { HOST, announce, portFromArgs } from "./common.js";
import { benchServer } from "./sockjet-app.js";

const sio = benchServer();

const server = await sio.listen(portFromArgs(), HOST);
const address = server.address();
announce(typeof address === "object" && address !== null ? address.port : 0);
