// The server side of the churn soak (bench/soak/run.ts, test/soak/churn.test.ts): sockjet with the
// handlers the mixed load uses, on Node (node:http, `sio.listen`), Bun (`serveBun`) or Deno
// (`serveDeno`). It imports only src/ and node:process/node:fs, so the three runtimes run it as is.
//
// Control channel: one JSON line per request on stdin, one JSON line per answer on stdout (no
// socket of its own, so the file descriptors it measures are the server's alone):
//   {"op":"stats","gc":true} -> Stats (after forced collections when gc is true)
//   {"op":"snapshot","file":"/tmp/x.heapsnapshot"} -> {"file":...} (Node and Deno: a V8 heap
//   snapshot after forced collections, for bench/tools/heap-diff.ts when a figure is beyond its margin)
// The first stdout line is {"port":N}. The process exits when stdin closes or on SIGTERM.
// Memory is only comparable after a forced GC: Node needs --expose-gc, Deno
// --v8-flags=--expose-gc, Bun has Bun.gc(true).

import process from "node:process";
import { readdirSync } from "node:fs";
import { args, Server, type Logger } from "../../src/index.js";
import { serveBun } from "../../src/runtime/bun.js";
import { serveDeno } from "../../src/runtime/deno.js";
import { SOAK_NAMESPACES, SOAK_PING_INTERVAL, SOAK_PING_TIMEOUT, type Stats } from "./protocol.js";

type Runtime = Stats["runtime"];
const runtime: Runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

// Every failure the process reports is counted: the soak fails on any of them.
const failures = { unhandledRejection: 0, uncaughtException: 0, messages: [] as string[] };
const note = (kind: string, err: unknown) => {
  if (failures.messages.length < 10) failures.messages.push(`${kind}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
};
process.on("unhandledRejection", (err: unknown) => {
  failures.unhandledRejection++;
  note("unhandledRejection", err);
});
process.on("uncaughtException", (err: unknown) => {
  failures.uncaughtException++;
  note("uncaughtException", err);
});

// The server's own error lines, by message: a handler failing under load is a finding, not noise.
const logged = new Map<string, number>();
const count = (level: string) => (message: string) => {
  const key = `${level}: ${message}`;
  logged.set(key, (logged.get(key) ?? 0) + 1);
};
const logger: Logger = { debug: () => {}, info: () => {}, warn: count("warn"), error: count("error") };

const sio = new Server({ pingInterval: SOAK_PING_INTERVAL, pingTimeout: SOAK_PING_TIMEOUT, logger });
const calls = { answered: 0, timedOut: 0, otherErrors: 0 };
const disconnectReasons: Record<string, number> = {};

for (const namespace of SOAK_NAMESPACES) {
  const ns = sio.of(namespace);
  ns.on("connect", (sid: string) => {
    // Sessions are per sid: every connection leaves one behind unless the server forgets it.
    ns.saveSession(sid, { joined: Date.now() });
  });
  ns.on("disconnect", (_sid: string, reason: string) => {
    disconnectReasons[reason] = (disconnectReasons[reason] ?? 0) + 1;
  });
  ns.on("echo", (_sid: string, ...values: unknown[]) => args(...values));
  ns.on("join", async (sid: string, room: unknown) => {
    await ns.enterRoom(sid, String(room));
    return true;
  });
  ns.on("leave", async (sid: string, room: unknown) => {
    await ns.leaveRoom(sid, String(room));
    return true;
  });
  // To a room, without the sender; with an ack callback on every other emit (acks routed back per recipient).
  ns.on("say", async (sid: string, room: unknown, text: unknown) => {
    const withCallback = typeof text === "string" && text.length % 2 === 0;
    await ns.emit("said", args(room, text), { room: String(room), skipSid: sid, ...(withCallback ? { callback: () => {} } : {}) });
    return true;
  });
  ns.on("bcast", async (_sid: string, text: unknown) => {
    await ns.emit("bcast", text);
    return true;
  });
  // The server asks the client and waits: some clients never answer, so ack timeouts are exercised.
  ns.on("callme", async (sid: string, timeout: unknown) => {
    try {
      await ns.call("question", "ping?", { to: sid, timeout: typeof timeout === "number" ? timeout : 1000 });
      calls.answered++;
      return "answered";
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "ACK_TIMEOUT") calls.timedOut++;
      else if (code !== "DISCONNECTED" && code !== "UNKNOWN_SID") calls.otherErrors++;
      return code ?? "error";
    }
  });
  ns.on("visit", async (sid: string) => {
    let visits = 0;
    await ns.session(sid, (s: Record<string, unknown>) => {
      visits = ((s.visits as number | undefined) ?? 0) + 1;
      s.visits = visits;
    });
    return visits;
  });
  // The server ends the client's namespace (or the whole connection) a turn after acknowledging.
  ns.on("kick", (sid: string, close: unknown) => {
    setTimeout(() => void ns.disconnect(sid, { close: close === true }), 0);
    return true;
  });
}

function fdCount(): number {
  // readdirSync's own directory handle is open while it reads: the same +1 in every sample.
  return readdirSync("/proc/self/fd").length;
}

function activeResources(): Record<string, number> | null {
  const info = (process as { getActiveResourcesInfo?: () => string[] }).getActiveResourcesInfo;
  if (typeof info !== "function") return null;
  const out: Record<string, number> = {};
  for (const kind of info.call(process)) out[kind] = (out[kind] ?? 0) + 1;
  return out;
}

const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
const gc: (() => void) | undefined = bun !== undefined ? () => bun.gc(true) : (globalThis as { gc?: () => void }).gc;

async function collect(): Promise<boolean> {
  if (gc === undefined) return false;
  // Two passes with turns in between: finalizers and weak callbacks of the first free more for the second.
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  return true;
}

async function stats(withGc: boolean): Promise<Stats> {
  const collected = withGc ? await collect() : false;
  const m = process.memoryUsage();
  return {
    runtime,
    gc: collected,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    rss: m.rss,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    fds: fdCount(),
    timers: sio.engine.timers.pending,
    sessions: sio.engine.clientsCount,
    namespaces: sio.manager.getNamespaces().length,
    activeResources: activeResources(),
    unhandledRejection: failures.unhandledRejection,
    uncaughtException: failures.uncaughtException,
    failureMessages: failures.messages,
    logged: Object.fromEntries(logged),
    disconnectReasons: { ...disconnectReasons },
    calls: { ...calls },
  };
}

async function snapshot(file: string): Promise<string> {
  await collect();
  const { writeHeapSnapshot } = await import("node:v8");
  return writeHeapSnapshot(file);
}

let stop: () => Promise<void> | void;
let port: number;
if (runtime === "bun") {
  const server = serveBun(sio, { port: 0, hostname: "127.0.0.1" });
  port = server.port;
  stop = () => server.stop(true);
} else if (runtime === "deno") {
  const server = serveDeno(sio, { port: 0, hostname: "127.0.0.1", onListen: () => {} });
  port = server.addr.port;
  stop = () => server.shutdown();
} else {
  const http = await sio.listen(0, "127.0.0.1");
  port = (http.address() as { port: number }).port;
  stop = () => {};
}
process.stdout.write(JSON.stringify({ port }) + "\n");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  input += chunk;
  let nl: number;
  while ((nl = input.indexOf("\n")) >= 0) {
    const line = input.slice(0, nl);
    input = input.slice(nl + 1);
    const request = JSON.parse(line) as { op: string; gc?: boolean; file?: string };
    if (request.op === "stats") void stats(request.gc === true).then((s) => process.stdout.write(JSON.stringify(s) + "\n"));
    else if (request.op === "snapshot") void snapshot(String(request.file)).then((file) => process.stdout.write(JSON.stringify({ file }) + "\n"));
  }
});

let exiting = false;
async function exit(): Promise<void> {
  if (exiting) return;
  exiting = true;
  await sio.close();
  await stop();
  process.exit(0);
}
process.stdin.on("end", () => void exit());
process.on("SIGTERM", () => void exit());
