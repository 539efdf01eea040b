// Starting and stopping the processes of a benchmark run: a server under test and the load
// generator, each in its own process, pinned to different cores where `taskset` exists, with a
// file-descriptor limit high enough for 10,000 sockets.

import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { cpus } from "node:os";
import type { ScenarioName, ScenarioParams, ScenarioResult } from "../load/scenarios.js";
import { runtimeCommand, serverScript, type RuntimeName, type ServerKind } from "./runtimes.js";

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const ROOT_DIR = dirname(BENCH_DIR);

/** Every server kind; `sockjet-deno-serve` runs on Deno only (see `runsOn` in ./runtimes.ts). */
export const SERVERS = ["sockjet", "socketio", "control-ws", "sockjet-deno-serve"] as const satisfies readonly ServerKind[];
export type ServerName = (typeof SERVERS)[number];

export interface Pinning {
  /** CPU list for the server and the load generator (`taskset -c`), or null when not pinning. */
  server: string | null;
  load: string | null;
  note: string;
}

/** Server on core 0 and load generator on core 1 on Linux with taskset and at least two cores. */
export function detectPinning(enabled = true): Pinning {
  if (!enabled) return { server: null, load: null, note: "disabled" };
  if (process.platform !== "linux") return { server: null, load: null, note: "not Linux: no pinning" };
  if (cpus().length < 2) return { server: null, load: null, note: "one core: no pinning" };
  try {
    execFileSync("which", ["taskset"], { stdio: "ignore" });
  } catch {
    return { server: null, load: null, note: "taskset not found (util-linux): no pinning" };
  }
  return { server: "0", load: "1", note: "server on core 0, load generator on core 1 (taskset -c)" };
}

/** A shell prefix that raises the open-file limit as far as allowed (65536, else the hard limit). */
const ULIMIT = "ulimit -n 65536 2>/dev/null || ulimit -n $(ulimit -Hn) 2>/dev/null;";

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Spawns `node args...` through bash (for ulimit) and taskset, exec'd so the pid is node's own. */
export function spawnNode(nodeArgs: readonly string[], cpuList: string | null, env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawnCommand([process.execPath, ...nodeArgs], cpuList, env);
}

/** Spawns `argv` (any runtime) the same way: ulimit, taskset, exec'd so that the pid is the runtime's own. */
function spawnCommand(argv: readonly string[], cpuList: string | null, env: NodeJS.ProcessEnv = {}, cwd = ROOT_DIR): ChildProcess {
  const command = [...(cpuList === null ? [] : ["taskset", "-c", cpuList]), ...argv].map(quote).join(" ");
  return spawn("bash", ["-c", `${ULIMIT} exec ${command}`], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Keeps the last 4 KB a child writes to stderr, for error messages. */
export function stderrTail(child: ChildProcess): () => string {
  let tail = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    tail = (tail + chunk.toString("utf8")).slice(-4000);
  });
  return () => tail;
}

/**
 * Resolves with the first stdout line that starts with `prefix`; rejects if the process exits
 * first or on timeout, quoting the end of its stderr (`tail`).
 */
export function waitForLine(child: ChildProcess, prefix: string, timeoutMs: number, what: string, tail: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith(prefix)) {
          finish();
          resolve(line.slice(prefix.length));
          return;
        }
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      finish();
      reject(new Error(`${what} exited (${signal ?? code}) before "${prefix.trim()}": ${tail().trim().slice(-1500)}`));
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`${what}: no "${prefix.trim()}" within ${timeoutMs} ms: ${tail().trim().slice(-1500)}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
    };
    child.stdout?.on("data", onData);
    child.on("exit", onExit);
  });
}

/** Ends a process: SIGTERM (lets --cpu-prof write its profile), SIGKILL after `graceMs`. */
export function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(graceMs > 0 ? "SIGTERM" : "SIGKILL");
  });
}

export interface RunningServer {
  name: ServerName;
  runtime: RuntimeName;
  pid: number;
  port: number;
  host: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface ServerStartOptions {
  cpuList?: string | null;
  /** Extra node flags, e.g. ["--cpu-prof", "--cpu-prof-dir=..."] (Node only; see `profileDir` for every runtime). */
  nodeFlags?: readonly string[];
  /** The runtime the server runs on (default Node). */
  runtime?: RuntimeName;
  /** Profile the server with the runtime's CPU profiler into this directory. */
  profileDir?: string | null;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /**
   * Another checkout whose bench/servers script (and so whose src/) runs, from its own directory;
   * the runtimes and the load generator stay this checkout's (bench/tools/compare-trees.ts).
   */
  rootDir?: string;
}

/** Starts a fresh server process (port chosen by the OS) and waits for its "ready <port>" line. */
export async function startServer(name: ServerName, options: ServerStartOptions = {}): Promise<RunningServer> {
  const runtime = options.runtime ?? "node";
  const rootDir = options.rootDir ?? ROOT_DIR;
  const script = serverScript(join(rootDir, "bench"), runtime, name);
  const argv =
    runtime === "node" && options.nodeFlags !== undefined
      ? [process.execPath, "--expose-gc", ...options.nodeFlags, "--import", "tsx", script]
      : runtimeCommand(ROOT_DIR, runtime, script, options.profileDir ?? null);
  const child = spawnCommand([...argv, "--port", "0"], options.cpuList ?? null, { NO_COLOR: "1", ...options.env }, rootDir);
  try {
    const port = Number((await waitForLine(child, "ready ", options.timeoutMs ?? 30_000, `server ${name} on ${runtime}`, stderrTail(child))).trim());
    const pid = child.pid;
    if (pid === undefined) throw new Error(`server ${name} has no pid`);
    return { name, runtime, pid, port, host: "127.0.0.1", child, stop: () => stopProcess(child) };
  } catch (err) {
    await stopProcess(child, 0);
    throw err;
  }
}

export interface LoadRun {
  result: ScenarioResult;
  child: ChildProcess;
}

/** Runs one scenario in a separate load-generator process; it keeps its connections until stopped. */
export async function runLoad(
  scenario: ScenarioName,
  server: RunningServer,
  params: Partial<ScenarioParams>,
  cpuList: string | null,
  timeoutMs: number,
): Promise<LoadRun> {
  const script = join(BENCH_DIR, "load", "main.ts");
  const child = spawnNode(
    ["--import", "tsx", script, "--scenario", scenario, "--host", server.host, "--port", String(server.port), "--pid", String(server.pid), "--params", JSON.stringify(params)],
    cpuList,
  );
  try {
    const line = await waitForLine(child, "RESULT ", timeoutMs, `load generator (${scenario})`, stderrTail(child));
    return { result: JSON.parse(line) as ScenarioResult, child };
  } catch (err) {
    await stopProcess(child, 0);
    throw err;
  }
}
