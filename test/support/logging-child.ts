// A child process for default-logger.test.ts: a server whose connect handler throws an Error with
// a marker, with the `logger` option named by argv[2] ("default" leaves it unset, "false", "true"),
// one client refused by it, then exit. The parent reads what reached stderr.

import { io } from "socket.io-client";
import { Server, type ServerOptions } from "../../src/index.js";

const mode = process.argv[2];
const options: ServerOptions = mode === "false" ? { logger: false } : mode === "true" ? { logger: true } : {};
const sio = new Server(options);
sio.on("connect", () => {
  throw new Error("connect-handler-marker-5b2e");
});
const http = await sio.listen(0, "127.0.0.1");
const port = (http.address() as { port: number }).port;
const socket = io(`http://127.0.0.1:${port}`, { transports: ["websocket"], reconnection: false, forceNew: true });
const message = await new Promise<string>((resolve) => socket.once("connect_error", (err: Error) => resolve(err.message)));
socket.disconnect();
await sio.close();
process.stdout.write(JSON.stringify({ clientSaw: message }) + "\n");
process.exit(0);
