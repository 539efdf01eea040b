// What instrument() costs a server (docs/admin-ui.md, "Cost"): one socket.io-client v4 client
// echoing 20,000 acknowledged events (50 in flight) against a server that is not instrumented,
// instrumented in production mode, in development mode, and in development mode with an admin
// client connected and receiving the reports. Prints the process's CPU time per acknowledgement
// (client and server share the process, so only the differences mean something), three rounds.
//
//   node --import tsx bench/tools/admin-ui-overhead.ts

import type { AddressInfo } from "node:net";
import { io } from "socket.io-client";
import { Server } from "../../src/index.js";

type Setup = "not instrumented" | "production" | "development" | "development, UI connected";
const SETUPS: Setup[] = ["not instrumented", "production", "development", "development, UI connected"];
const ACKS = 20_000;
const IN_FLIGHT = 50;

async function measure(setup: Setup): Promise<number> {
  const sio = new Server();
  sio.on("echo", (_sid: string, value: unknown) => value);
  if (setup !== "not instrumented") sio.instrument({ auth: false, mode: setup === "production" ? "production" : "development" });
  const http = await sio.listen(0, "127.0.0.1");
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const client = io(url, { transports: ["websocket"], forceNew: true });
  await new Promise((resolve) => client.once("connect", () => resolve(null)));
  const admin = setup === "development, UI connected" ? io(url + "/admin", { transports: ["websocket"], forceNew: true }) : null;
  if (admin !== null) await new Promise((resolve) => admin.once("connect", () => resolve(null)));
  for (let i = 0; i < 2000; i++) await client.emitWithAck("echo", i); // warm-up
  const start = process.cpuUsage();
  await new Promise<void>((resolve) => {
    let inFlight = 0;
    let sent = 0;
    let done = 0;
    const pump = () => {
      while (inFlight < IN_FLIGHT && sent < ACKS) {
        inFlight++;
        sent++;
        client.emit("echo", { i: sent, text: "hello" }, () => {
          inFlight--;
          if (++done === ACKS) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  const cpu = process.cpuUsage(start);
  client.disconnect();
  admin?.disconnect();
  await sio.close();
  return (cpu.user + cpu.system) / ACKS;
}

for (let round = 1; round <= 3; round++) {
  for (const setup of SETUPS) console.log(`round ${round}  ${setup.padEnd(27)} ${(await measure(setup)).toFixed(2)} µs CPU per acknowledgement`);
}
process.exit(0);
