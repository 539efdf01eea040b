// What the three servers under test share: how they are told where to listen, the heartbeat they
// all use, whether they accept Engine.IO v3 clients, the `bcast` argument check, and the
// out-of-band hooks the load generator relies on.
//
// Contract (namespace "/"):
//   echo(...args)      -> acknowledged with the same arguments
//   bcast({n, size})   -> n events `msg(i, "x".repeat(size))` to every client of "/", then ack(n)
// Hooks:
//   SIGUSR2 -> two full garbage collections (needs --expose-gc), so RSS can be read after a settle
//   SIGTERM / SIGINT -> process.exit(0), so that --cpu-prof profiles get written
// The process prints "ready <port>" on stdout once it listens (port 0 picks a free one).
// The same module serves the servers on Node, Bun and Deno (bench/servers/bun, bench/servers/deno):
// it only uses `node:process`, which all three provide.

import process from "node:process";

/** Heartbeat used by every server, so that no server pings more often than another. */
export const PING_INTERVAL = Number(process.env.BENCH_PING_INTERVAL ?? 25_000);
export const PING_TIMEOUT = Number(process.env.BENCH_PING_TIMEOUT ?? 20_000);
export const HOST = process.env.BENCH_HOST ?? "127.0.0.1";

/**
 * BENCH_ALLOW_EIO3=1 (set by the runner for the mixed scenarios only, see MIXED_SERVER_ENV in
 * bench/load/scenarios.ts): accept Engine.IO v3 clients too. Spread into the options only when set,
 * so that every other scenario starts its server with exactly the options it always had.
 */
export const EIO3_OPTIONS: { allowEIO3?: true } = process.env.BENCH_ALLOW_EIO3 === "1" ? { allowEIO3: true } : {};

/**
 * BENCH_PARSER=msgpack (set by the runner for the msgpack scenarios only, see MSGPACK_SERVER_ENV in
 * bench/load/scenarios.ts): the server speaks socket.io-msgpack-parser's format (sockjet
 * `parser: "msgpack"`, socket.io `parser: require("socket.io-msgpack-parser")`).
 */
export const MSGPACK = process.env.BENCH_PARSER === "msgpack";

/** sockjet's option for BENCH_PARSER, spread into its options only when set (as EIO3_OPTIONS). */
export const PARSER_OPTIONS: { parser?: "msgpack" } = MSGPACK ? { parser: "msgpack" } : {};

/**
 * BENCH_ROOMS=1 (set by the scale runner's rooms session only, bench/scale/): each client joins the
 * rooms its CONNECT auth names (`{"r": ["a", "b"]}`), and two more events exist:
 *   bcastRoom({room, n, size})        -> n events `msg(i, "x".repeat(size))` to the room, then ack(n)
 *   bcastRooms({prefix, count, size}) -> one `msg(0, "x".repeat(size))` to each room prefix0..prefix<count-1>, then ack(count)
 * Off by default, so that no other scenario's server carries a connect handler or extra listeners.
 */
export const ROOMS = process.env.BENCH_ROOMS === "1";

/** The rooms a CONNECT auth asks for (`{"r": [...]}`); whatever else is none. */
export function roomsOf(auth: unknown): string[] {
  const list = typeof auth === "object" && auth !== null ? (auth as { r?: unknown }).r : undefined;
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === "string").slice(0, 64) : [];
}

export interface RoomBcastSpec extends BcastSpec {
  room: string;
}

/** Validates the `bcastRoom` argument; a malformed one broadcasts nothing. */
export function roomBcastSpec(value: unknown): RoomBcastSpec {
  const room = typeof value === "object" && value !== null ? (value as { room?: unknown }).room : undefined;
  return { ...bcastSpec(value), room: typeof room === "string" ? room : "" };
}

export interface RoomsBcastSpec {
  prefix: string;
  count: number;
  size: number;
}

/** Validates the `bcastRooms` argument; a malformed one broadcasts nothing. */
export function roomsBcastSpec(value: unknown): RoomsBcastSpec {
  if (typeof value !== "object" || value === null) return { prefix: "", count: 0, size: 0 };
  const { prefix, count } = value as { prefix?: unknown; count?: unknown };
  const rooms = typeof count === "number" && Number.isInteger(count) && count >= 0 && count <= 1_000_000 ? count : 0;
  return { prefix: typeof prefix === "string" ? prefix : "", count: rooms, size: bcastSpec(value).size };
}

/** The port from `--port N`, the first bare argument, or $PORT; 0 (any free port) otherwise. */
export function portFromArgs(argv: readonly string[] = process.argv.slice(2)): number {
  const i = argv.indexOf("--port");
  const raw = i >= 0 ? argv[i + 1] : (argv.find((a) => /^\d+$/.test(a)) ?? process.env.PORT);
  const port = Number(raw ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`bad port ${String(raw)}`);
  return port;
}

export interface BcastSpec {
  n: number;
  size: number;
}

/** Validates the `bcast` argument; a malformed one broadcasts nothing. */
export function bcastSpec(value: unknown): BcastSpec {
  if (typeof value !== "object" || value === null) return { n: 0, size: 0 };
  const { n, size } = value as { n?: unknown; size?: unknown };
  const count = typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 100_000 ? n : 0;
  const bytes = typeof size === "number" && Number.isInteger(size) && size >= 0 && size <= 1_000_000 ? size : 0;
  return { n: count, size: bytes };
}

/** The payload string of a broadcast (`size` ASCII bytes, so bytes and characters agree). */
export function payloadOf(size: number): string {
  return "x".repeat(size);
}

/** Installs the hooks and prints the ready line. */
export function announce(port: number): void {
  // Node and Deno expose V8's gc() with --expose-gc (Deno: --v8-flags=--expose-gc); Bun has Bun.gc(true).
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  const gc = bun !== undefined ? () => bun.gc(true) : (globalThis as { gc?: () => void }).gc;
  // Diagnostics only (bench/tools/heap-diff.ts): with BENCH_HEAPSNAPSHOT_DIR set, every SIGUSR2 also
  // writes a heap snapshot there after the collections. Benchmark runs never set it.
  const snapshotDir = process.env.BENCH_HEAPSNAPSHOT_DIR;
  let snapshots = 0;
  process.on("SIGUSR2", () => {
    if (gc === undefined) return;
    gc();
    setTimeout(() => {
      gc();
      if (snapshotDir !== undefined) {
        const file = `${snapshotDir}/heap-${process.pid}-${++snapshots}.heapsnapshot`;
        void import("node:v8").then(({ writeHeapSnapshot }) => process.stderr.write(`heap snapshot ${writeHeapSnapshot(file)}\n`));
      }
    }, 20);
  });
  const exit = () => process.exit(0);
  process.on("SIGTERM", exit);
  process.on("SIGINT", exit);
  process.stdout.write(`ready ${port}\n`);
}
