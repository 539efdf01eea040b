// The processes of a cross-server measurement (bench/cluster.ts, test/bench/cluster-smoke.test.ts):
// N sockjet servers joined through Redis (bench/servers/cluster-sockjet.ts), or one plain sockjet
// server (bench/servers/sockjet.ts) as the no-broker reference, each pinned to its own core
// (round-robin) where taskset exists; the load generator (bench/load/cluster.ts); and Redis's
// own pid, so that its CPU can be read from /proc like the servers'.
//
// Self-contained on purpose (bench/lib/processes.ts is shared with the single-server benchmark and
// may change under it); only the directory constants and stopProcess are borrowed.

import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { BENCH_DIR, ROOT_DIR, stopProcess, waitForLine } from "./processes.js";
import { machineBusyMicros } from "../load/cluster-scenarios.js";
import type { ClusterParams, ClusterResult, ClusterScenarioName, ClusterTarget } from "../load/cluster-scenarios.js";

export { stopProcess };

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** Where each process runs: server k on `servers[k % servers.length]`, the load generator on `load`. */
export interface ClusterPinning {
  servers: string[] | null;
  load: string | null;
  note: string;
}

/**
 * With taskset and at least two cores: servers round-robin over every core (server k on core
 * k mod cores), the load generator on the last core. Redis is the machine's service and is not
 * touched: it runs wherever the scheduler puts it.
 */
export function detectClusterPinning(enabled = true): ClusterPinning {
  const cores = cpus().length;
  if (!enabled) return { servers: null, load: null, note: "no pinning (--no-pin)" };
  if (process.platform !== "linux") return { servers: null, load: null, note: "not Linux: no pinning" };
  if (cores < 2) return { servers: null, load: null, note: "one core: no pinning" };
  try {
    execFileSync("which", ["taskset"], { stdio: "ignore" });
  } catch {
    return { servers: null, load: null, note: "taskset not found (util-linux): no pinning" };
  }
  const servers = Array.from({ length: cores }, (_, k) => String(k));
  const last = String(cores - 1);
  return {
    servers,
    load: last,
    note:
      `taskset: server k on core k mod ${cores} (1 server: core 0; 2: cores 0, 1; 3: cores 0, 1, 0), ` +
      `load generator on core ${last}, Redis not pinned (the machine's service, wherever the scheduler puts it)`,
  };
}

const ULIMIT = "ulimit -n 65536 2>/dev/null || ulimit -n $(ulimit -Hn) 2>/dev/null;";

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** `node args...` through bash (ulimit) and taskset, exec'd so the child's pid is node's own. */
function spawnNode(nodeArgs: readonly string[], cpuList: string | null, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const command = [...(cpuList === null ? [] : ["taskset", "-c", cpuList]), process.execPath, ...nodeArgs].map(quote).join(" ");
  return spawn("bash", ["-c", `${ULIMIT} exec ${command}`], { cwd: ROOT_DIR, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
}

/** Keeps the tail of a child's stderr, and every `cluster-error` line it writes, for as long as it runs. */
class StderrLog {
  tail = "";
  readonly clusterErrors: string[] = [];
  private partial = "";

  constructor(child: ChildProcess) {
    child.stderr?.on("data", (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      this.tail = (this.tail + text).slice(-4000);
      this.partial += text;
      let nl: number;
      while ((nl = this.partial.indexOf("\n")) >= 0) {
        const line = this.partial.slice(0, nl);
        this.partial = this.partial.slice(nl + 1);
        if (line.startsWith("cluster-error ") && this.clusterErrors.length < 20) this.clusterErrors.push(line.slice(14));
      }
    });
  }
}

export interface ClusterServer extends ClusterTarget {
  pid: number;
  child: ChildProcess;
  /** Core list it is pinned to, or null. */
  cpuList: string | null;
}

export interface RunningCluster {
  /** "sockjet" (one server, in-memory manager, no broker) or "cluster-sockjet" (RedisManager). */
  script: "sockjet" | "cluster-sockjet";
  /** Redis channel shared by the servers (null without Redis). */
  channel: string | null;
  servers: ClusterServer[];
  /** `cluster-error` lines (broker failures, lost operations) written by any server so far. */
  clusterErrors(): string[];
  /** Something went wrong with a server process (it exited). */
  exited(): string[];
  stop(): Promise<void>;
}

export interface ClusterStartOptions {
  /** Number of servers (1 without Redis). */
  count: number;
  /** false: bench/servers/sockjet.ts alone, the in-memory manager (count must be 1). */
  redis: boolean;
  pinning?: ClusterPinning;
  channel?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Starts the servers (in parallel) and waits until every one is listening and, over Redis, subscribed. */
export async function startCluster(options: ClusterStartOptions): Promise<RunningCluster> {
  if (!options.redis && options.count !== 1) throw new Error("without Redis there is one server");
  const script = options.redis ? "cluster-sockjet" : "sockjet";
  const channel = options.redis ? (options.channel ?? `sockjet-bench-${randomUUID()}`) : null;
  const cores = options.pinning?.servers ?? null;
  const started: Array<{ child: ChildProcess; log: StderrLog; cpuList: string | null }> = [];
  const exits: string[] = [];
  const stopAll = async () => {
    await Promise.all(started.map((s) => stopProcess(s.child)));
  };
  try {
    const servers = await Promise.all(
      Array.from({ length: options.count }, async (_, k): Promise<ClusterServer> => {
        const cpuList = cores === null ? null : cores[k % cores.length]!;
        const args = ["--expose-gc", "--import", "tsx", join(BENCH_DIR, "servers", `${script}.ts`), "--port", "0"];
        if (channel !== null) args.push("--channel", channel);
        const child = spawnNode(args, cpuList, { REDIS_URL, ...options.env });
        const log = new StderrLog(child);
        started.push({ child, log, cpuList });
        child.on("exit", (code, signal) => exits.push(`server ${k} (pid ${child.pid}) exited (${signal ?? code}): ${log.tail.trim().slice(-500)}`));
        const port = Number((await waitForLine(child, "ready ", options.timeoutMs ?? 30_000, `server ${k} (${script})`, () => log.tail)).trim());
        if (child.pid === undefined) throw new Error(`server ${k} has no pid`);
        return { host: "127.0.0.1", port, pid: child.pid, child, cpuList };
      }),
    );
    let stopping = false;
    return {
      script,
      channel,
      servers,
      clusterErrors: () => started.flatMap((s) => s.log.clusterErrors),
      exited: () => (stopping ? [] : [...exits]),
      stop: async () => {
        stopping = true;
        await stopAll();
      },
    };
  } catch (err) {
    await Promise.all(started.map((s) => stopProcess(s.child, 0)));
    throw err;
  }
}

export interface RedisInfo {
  version: string;
  /** Redis's pid when it runs on this machine (its /proc entry is a redis-server), else null. */
  pid: number | null;
  note: string;
}

/** Asks Redis for its version and pid (INFO server); fails when Redis is not reachable. */
export async function redisInfo(url = REDIS_URL): Promise<RedisInfo> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: 2000 });
  let lastError = "";
  redis.on("error", (err: Error) => (lastError = err.message));
  try {
    await redis.connect().catch((err: unknown) => {
      throw new Error(lastError || (err instanceof Error ? err.message : String(err)));
    });
    const info = await redis.info("server");
    const field = (name: string) => new RegExp(`^${name}:(.*)$`, "m").exec(info)?.[1]?.trim();
    const version = field("redis_version") ?? "?";
    const pid = Number(field("process_id"));
    let local: number | null = null;
    let note = `Redis ${version} at ${url}`;
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      if (/redis/i.test(comm)) local = pid;
      else note += `: its pid ${pid} is not a redis process here (another host or container), so its CPU is not read`;
    } catch {
      note += `: pid ${pid} is not visible here, so its CPU is not read`;
    }
    if (local !== null) note += `, pid ${pid}`;
    return { version, pid: local, note };
  } finally {
    redis.disconnect();
  }
}

export interface ClusterLoadRun {
  result: ClusterResult;
  child: ChildProcess;
}

/** Runs one scenario in a load-generator process; it keeps its connections until stopped (servers first). */
export async function runClusterLoad(
  scenario: ClusterScenarioName,
  cluster: RunningCluster,
  params: Partial<ClusterParams>,
  cpuList: string | null,
  timeoutMs: number,
): Promise<ClusterLoadRun> {
  const targets: ClusterTarget[] = cluster.servers.map(({ host, port, pid }) => ({ host, port, pid }));
  const child = spawnNode(
    ["--import", "tsx", join(BENCH_DIR, "load", "cluster.ts"), "--scenario", scenario, "--targets", JSON.stringify(targets), "--params", JSON.stringify(params)],
    cpuList,
  );
  const log = new StderrLog(child);
  try {
    const line = await waitForLine(child, "RESULT ", timeoutMs, `load generator (${scenario})`, () => log.tail);
    return { result: JSON.parse(line) as ClusterResult, child };
  } catch (err) {
    await stopProcess(child, 0);
    throw err;
  }
}

/** How busy the whole machine was over `ms`, in % of one core (user + nice + system of /proc/stat). */
export async function machineBusyPct(ms = 1000): Promise<number> {
  const t0 = performance.now();
  const b0 = machineBusyMicros();
  await new Promise((r) => setTimeout(r, ms));
  return ((machineBusyMicros() - b0) / ((performance.now() - t0) * 1000)) * 100;
}

/**
 * Waits until the machine is quiet: less than `thresholdPct` of one core busy in each of `seconds`
 * consecutive seconds (nothing else benchmarking on a shared machine), for at most `maxWaitMs`.
 * Resolves with the last reading and how long it waited; `onWait` is told once when waiting begins.
 */
export async function waitForQuiet(
  thresholdPct: number,
  maxWaitMs: number,
  onWait?: (busyPct: number) => void,
  seconds = 2,
): Promise<{ busyPct: number; waitedMs: number }> {
  const t0 = Date.now();
  let told = false;
  let quiet = 0;
  for (;;) {
    const busyPct = await machineBusyPct(1000);
    if (!Number.isFinite(busyPct)) return { busyPct, waitedMs: Date.now() - t0 };
    quiet = busyPct < thresholdPct ? quiet + 1 : 0;
    if (quiet >= seconds || Date.now() - t0 >= maxWaitMs) return { busyPct, waitedMs: Date.now() - t0 };
    if (quiet === 0 && !told) {
      onWait?.(busyPct);
      told = true;
    }
  }
}
