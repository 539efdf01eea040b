// sockjet on Bun (sockjet/bun: Bun.serve with native WebSockets), the benchmark contract of
// ../common.ts from ../sockjet-app.ts (the same handlers on every runtime).
// BENCH_NATIVE_PUBLISH=0 turns the native topic publish off (the general per-socket path only).
//
//   bun bench/servers/bun/sockjet.ts --port 0

import process from "node:process";
import { serveBun } from "../../../src/runtime/bun.js";
import { HOST, announce, portFromArgs } from "../common.js";
import { benchServer } from "../sockjet-app.js";

const sio = benchServer();

const server = serveBun(sio, { port: portFromArgs(), hostname: HOST, nativePublish: process.env.BENCH_NATIVE_PUBLISH !== "0" });
announce(server.port);
