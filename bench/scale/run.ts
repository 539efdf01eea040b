// The scale run (`npm run bench -- --scale`, dispatched from bench/run.ts): for each runtime, each
// session (ws, polling, rooms; see ./sessions.ts) and each server (order rotated from one session to
// the next), a fresh server pinned to core 0 and a fresh load generator (./load.ts) pinned to core 1,
// both under the highest open-file limit allowed; the server is stopped first. Writes
// bench/results/scale/<date>.json, latest.md and one SVG per curve (quick: bench/results/tmp/scale-quick/).
//
//   npm run bench -- --scale [--quick] [--scale-sizes 1000,5000,15000] [--scale-room-sizes 100,1000,10000,15000]
//                    [--runtimes node,bun] [--servers sockjet,socketio,control-ws] [--sessions ws,polling,rooms]
//                    [--idle-intervals 3] [--ping-interval MS] [--no-pin] [--out DIR]
//   npm run bench -- --scale --report bench/results/scale/<date>.json [--out DIR] [--docs docs/performance.md]
//                    (rebuild the report; --docs also fills that page's <!-- scale:start --> ... <!-- scale:end --> block)

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem, type } from "node:os";
import { dirname, join, relative } from "node:path";
import { cpuModel, packageVersion } from "../lib/machine.js";
import { BENCH_DIR, ROOT_DIR, detectPinning, spawnNode, startServer, stderrTail, stopProcess, waitForLine, type RunningServer, type ServerName } from "../lib/processes.js";
import type { Machine } from "../lib/report.js";
import { kindLabel, runtimeVersion, type RuntimeName } from "../lib/runtimes.js";
import { FULL_SCALE, QUICK_PING_INTERVAL_MS, QUICK_SCALE, type ScaleParams } from "./params.js";
import { SESSIONS, type SessionName, type SessionResult } from "./sessions.js";
import { barSvg, bars, curves, lineSvg, markdown, type ScaleRecord, type ScaleResults } from "./report.js";

const SCALE_RUNTIMES = ["node", "bun"] as const;
const SCALE_SERVERS = ["sockjet", "socketio", "control-ws"] as const satisfies readonly ServerName[];

function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

function numbers(text: string | undefined, fallback: number[]): number[] {
  if (text === undefined) return fallback;
  const list = text.split(",").map(Number);
  if (list.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`bad list of sizes: ${text}`);
  return [...list].sort((a, b) => a - b);
}

/**
 * The memory sessions' servers on Node hold V8's young generation at its smallest, as the main
 * benchmark's memory scenarios do (MEMORY_SERVER_ENV in bench/load/scenarios.ts): otherwise V8 grows
 * it to 32 MB while clients connect and may or may not have shrunk it when RSS is read. The CPU
 * sessions (idle, rooms) keep the default. Bun does not read NODE_OPTIONS.
 */
const MEMORY_SERVER_ENV = { NODE_OPTIONS: "--max-semi-space-size=1" };
const isMemory = (session: SessionName) => session === "ws" || session === "polling";

/** The control has no polling. */
function applies(session: SessionName, server: ServerName): boolean {
  return !(session === "polling" && server === "control-ws");
}

/** Writes latest.md and the SVGs next to the JSON (or into `dir`); returns the Markdown. */
export function writeReport(results: ScaleResults, dir: string, jsonPath: string): string {
  mkdirSync(dir, { recursive: true });
  const charts: Record<string, string> = {};
  for (const curve of curves(results)) {
    const file = `${curve.id}.svg`;
    writeFileSync(join(dir, file), lineSvg(results, curve));
    charts[curve.id] = relative(ROOT_DIR, join(dir, file));
  }
  for (const bar of bars(results)) {
    const file = `${bar.id}.svg`;
    writeFileSync(join(dir, file), barSvg(results, bar));
    charts[bar.id] = relative(ROOT_DIR, join(dir, file));
  }
  const md = markdown(results, { json: relative(ROOT_DIR, jsonPath), charts });
  writeFileSync(join(dir, "latest.md"), md);
  return md;
}

const DOCS_START = "<!-- scale:start -->";
const DOCS_END = "<!-- scale:end -->";

/**
 * Replaces what lies between `<!-- scale:start -->` and `<!-- scale:end -->` in a docs page with
 * the run's tables and charts (images relative to the page).
 */
function writeDocs(results: ScaleResults, dir: string, jsonPath: string, page: string): void {
  const text = readFileSync(page, "utf8");
  const start = text.indexOf(DOCS_START);
  const end = text.indexOf(DOCS_END);
  if (start < 0 || end < start) throw new Error(`${page} has no ${DOCS_START} ... ${DOCS_END} block`);
  const charts = Object.fromEntries([...curves(results), ...bars(results)].map((c) => [c.id, relative(ROOT_DIR, join(dir, `${c.id}.svg`))]));
  const fragment = markdown(results, { json: relative(ROOT_DIR, jsonPath), charts }, { images: relative(dirname(page), dir) || "." });
  writeFileSync(page, `${text.slice(0, start + DOCS_START.length)}\n${fragment}\n${text.slice(end)}`);
}

/** Runs one session's load generator against a server; resolves with its RESULT line. */
async function runSessionLoad(server: RunningServer, session: SessionName, sp: ScaleParams, cpuList: string | null) {
  const child = spawnNode(
    ["--import", "tsx", join(BENCH_DIR, "scale", "load.ts"), "--session", session, "--host", server.host, "--port", String(server.port), "--pid", String(server.pid), "--params", JSON.stringify(sp)],
    cpuList,
  );
  try {
    const line = await waitForLine(child, "RESULT ", sp.timeoutMs * 6, `scale load generator (${session})`, stderrTail(child));
    return { result: JSON.parse(line) as SessionResult, child };
  } catch (err) {
    await stopProcess(child, 0);
    throw err;
  }
}

export async function runScale(argv: readonly string[]): Promise<number> {
  const log = (text: string) => process.stdout.write(text);
  const reportFrom = option(argv, "report");
  if (reportFrom !== undefined) {
    const saved = JSON.parse(readFileSync(reportFrom, "utf8")) as ScaleResults;
    const dir = option(argv, "out") ?? dirname(reportFrom);
    log(writeReport(saved, dir, reportFrom));
    const page = option(argv, "docs");
    if (page !== undefined) writeDocs(saved, dir, reportFrom, page);
    return 0;
  }
  const quick = argv.includes("--quick");
  const base = quick ? QUICK_SCALE : FULL_SCALE;
  const sp: ScaleParams = {
    ...base,
    sizes: numbers(option(argv, "scale-sizes"), base.sizes),
    roomSizes: numbers(option(argv, "scale-room-sizes"), base.roomSizes),
    idleIntervals: Number(option(argv, "idle-intervals") ?? base.idleIntervals),
  };
  const runtimes = (option(argv, "runtimes")?.split(",") ?? [...SCALE_RUNTIMES]) as RuntimeName[];
  for (const rt of runtimes) if (!(SCALE_RUNTIMES as readonly string[]).includes(rt)) throw new Error(`the scale run covers ${SCALE_RUNTIMES.join(", ")}, not ${rt}`);
  const servers = (option(argv, "servers")?.split(",") ?? [...SCALE_SERVERS]) as ServerName[];
  for (const s of servers) if (!(SCALE_SERVERS as readonly string[]).includes(s)) throw new Error(`unknown server ${s} (the scale run has ${SCALE_SERVERS.join(", ")})`);
  const sessions = (option(argv, "sessions")?.split(",") ?? [...SESSIONS]) as SessionName[];
  for (const s of sessions) if (!SESSIONS.includes(s)) throw new Error(`unknown session ${s}`);

  const pinning = detectPinning(!argv.includes("--no-pin"));
  const machine: Machine = {
    cpuModel: cpuModel(),
    cores: cpus().length,
    node: process.version,
    os: `${type()} ${release()}`,
    memoryGB: totalmem() / 2 ** 30,
    loadAverage: loadavg(),
    socketIoVersion: packageVersion("socket.io"),
    wsVersion: packageVersion("ws"),
    pinning: pinning.note,
    runtimes: Object.fromEntries(runtimes.map((rt) => [rt, runtimeVersion(ROOT_DIR, rt)])),
    ...(runtimes.includes("bun") ? { bunEngineVersion: packageVersion("@socket.io/bun-engine") } : {}),
  };
  const started = Date.now();
  const date = new Date(started).toISOString().replace(/\.\d+Z$/, "Z");
  const outDir = option(argv, "out") ?? join(BENCH_DIR, "results", ...(quick ? ["tmp", "scale-quick"] : ["scale"]));
  mkdirSync(outDir, { recursive: true });
  const jsonPath = join(outDir, `${date.replace(/:/g, "-")}.json`);
  const records: ScaleRecord[] = [];
  const results = (): ScaleResults => ({ date, mode: quick ? "quick" : "full", seconds: (Date.now() - started) / 1000, machine, params: sp, records });
  const save = () => writeFileSync(jsonPath, JSON.stringify(results(), null, 2) + "\n");

  log(`sockjet scale run (${quick ? "quick" : "full"}): sizes ${sp.sizes.join(", ")}, rooms ${sp.roomSizes.join(", ")}; ${machine.cpuModel}, ${machine.cores} cores; load ${loadavg()[0]!.toFixed(2)}; ${pinning.note}\n`);
  // Quick runs ping every 3 s, so that the idle window (whole intervals) is short; full runs keep
  // the default heartbeat (25 s) that issue 14's idle figure is about. --ping-interval MS overrides.
  const pingInterval = option(argv, "ping-interval") ?? (quick ? String(QUICK_PING_INTERVAL_MS) : undefined);
  const heartbeatEnv: Record<string, string> = pingInterval !== undefined ? { BENCH_PING_INTERVAL: pingInterval } : {};
  let rotation = 0;
  for (const runtime of runtimes) {
    for (const session of sessions) {
      const own = servers.filter((s) => applies(session, s));
      const shift = rotation++ % Math.max(1, own.length);
      for (const server of [...own.slice(shift), ...own.slice(0, shift)]) {
        const t0 = Date.now();
        const load0 = loadavg()[0]!;
        log(`${runtime.padEnd(4)} ${session.padEnd(7)} ${kindLabel(runtime, server).padEnd(24)} `);
        let record: ScaleRecord;
        try {
          const env = { ...heartbeatEnv, ...(session === "rooms" ? { BENCH_ROOMS: "1" } : {}), ...(runtime === "node" && isMemory(session) ? MEMORY_SERVER_ENV : {}) };
          const srv = await startServer(server, { cpuList: pinning.server, runtime, env });
          try {
            const load = await runSessionLoad(srv, session, sp, pinning.load);
            // The server goes first, so its side closes the TCP connections (see bench/load/main.ts).
            await srv.stop();
            await stopProcess(load.child, 0);
            record = { runtime, server, session, figures: load.result.figures, errors: load.result.errors, load: [load0, loadavg()[0]!], seconds: (Date.now() - t0) / 1000 };
          } finally {
            await srv.stop();
          }
        } catch (err) {
          record = { runtime, server, session, figures: {}, errors: [err instanceof Error ? err.message : String(err)], load: [load0, loadavg()[0]!], seconds: (Date.now() - t0) / 1000 };
        }
        records.push(record);
        save();
        log(`${summaryLine(record)} (${record.seconds.toFixed(0)} s, load ${record.load.map((x) => x.toFixed(2)).join("→")})\n`);
        // Let the kernel finish closing the last session's sockets before the next server starts.
        await new Promise((r) => setTimeout(r, 1500));
      }
    }
  }
  save();
  const md = writeReport(results(), outDir, jsonPath);
  log("\n" + md);
  log(`\nwrote ${relative(ROOT_DIR, jsonPath)} and ${relative(ROOT_DIR, join(outDir, "latest.md"))} with its charts\n`);
  return records.some((r) => r.errors.length > 0) ? 1 : 0;
}

function summaryLine(r: ScaleRecord): string {
  if (r.errors.length > 0) return `ERROR ${r.errors.slice(0, 2).join("; ")}`;
  const f = r.figures;
  const parts: string[] = [];
  if (f.levels) parts.push(`KB/client ${f.levels.map((l) => `${l.clients}:${(l.bytesPerClient / 1024).toFixed(2)}`).join(" ")}`);
  if (f.connects) parts.push(`connect µs ${f.connects.map((c) => c.cpuUsPerConnection.toFixed(0)).join(" ")}`);
  if (f.idle) parts.push(`idle ${f.idle.msPer1kPerMinute.toFixed(1)} ms/1k/min`);
  if (f.connectAtScale) parts.push(`connect@${f.connectAtScale.connectedBefore} ${f.connectAtScale.cpuUsPerConnection.toFixed(0)} µs ${f.connectAtScale.connectionsPerSec.toFixed(0)}/s`);
  if (f.rooms) parts.push(`room µs/delivery ${f.rooms.map((x) => `${x.size}:${x.cpuUsPerDelivery.toFixed(3)}`).join(" ")}`);
  if (f.tiny) parts.push(`small rooms ${f.tiny.cpuUsPerDelivery.toFixed(3)} µs/delivery`);
  return parts.join("; ");
}
