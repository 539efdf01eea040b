// The cross-server broadcast scenarios (bench/cluster.ts): WebSocket clients spread evenly over N
// sockjet servers joined through Redis (client i on server i mod N), one client on server 0 asks
// for a broadcast to the whole namespace, and every client of every server must receive it
// exactly once. Clients speak the protocol over `ws` (./ws-client.ts), as in the single-server
// scenarios. Every CPU figure is read from /proc: the N server pids summed, and Redis's pid.
//
//   cluster-burst  warm-up bcast{warmupN}; then one bcast{n, size}: deliveries/s from the send to the
//                  last delivery; server CPU from just before the send to 200 ms after the last delivery
//   cluster-paced  warm-up broadcasts; then `broadcasts` × bcast{n:1} every `intervalMs`, each fully
//                  delivered before the next: server CPU per delivery, time for one broadcast to reach all
//   cluster-smoke  one bcast{n} with every delivery parsed and checked (tests)
//
// Exactly once: with `verify` (the default here) each client parses every message and checks that
// message i arrives when i messages have arrived (a duplicate, a loss or a reordering is an error);
// after a settle, every client must hold exactly n and no delivery beyond clients × n may have come.

import { performance } from "node:perf_hooks";
import { readFileSync } from "node:fs";
import { cpuMicros, clkTck, procAvailable, schedMicros } from "./proc.js";
import { DeliverySink, inPool, sleep, withTimeout } from "./protocol.js";
import { WsClient } from "./ws-client.js";

export interface ClusterTarget {
  host: string;
  port: number;
  /** The server's pid for /proc figures; null skips them. */
  pid: number | null;
}

export const CLUSTER_SCENARIOS = ["cluster-burst", "cluster-paced", "cluster-smoke"] as const;
export type ClusterScenarioName = (typeof CLUSTER_SCENARIOS)[number];

export interface ClusterParams {
  /** WebSocket clients in total, spread evenly over the servers. */
  clients: number;
  /** cluster-burst / cluster-smoke: messages of the broadcast. */
  n: number;
  size: number;
  warmupN: number;
  /** cluster-paced */
  broadcasts: number;
  warmupBroadcasts: number;
  intervalMs: number;
  concurrency: number;
  /** Parse every delivery and check its index (exactly once, in order). */
  verify: boolean;
  /** Quiet time after the last delivery: inside the CPU window, and for late duplicates to show. */
  settleMs: number;
  /** Spread client connections over this many source addresses 127.0.0.x (Linux loopback). */
  sourceAddresses: number;
  /** Redis's pid, for its CPU (context, not part of the server figure); null skips it. */
  redisPid: number | null;
  /** Most milliseconds one phase may take. */
  timeoutMs: number;
}

export const DEFAULT_CLUSTER_PARAMS: ClusterParams = {
  clients: 600,
  n: 200,
  size: 100,
  warmupN: 10,
  broadcasts: 100,
  warmupBroadcasts: 10,
  intervalMs: 20,
  concurrency: 50,
  verify: true,
  settleMs: 200,
  sourceAddresses: 8,
  redisPid: null,
  timeoutMs: 60_000,
};

export type Figures = Record<string, number>;

export interface ClusterResult {
  scenario: ClusterScenarioName;
  figures: Figures;
  errors: string[];
}

interface Mark {
  /** Per server: utime + stime of /proc/<pid>/stat (10 ms ticks), µs. */
  stat: number[];
  /** Per server: run time from the threads' schedstat (ns resolution), µs. */
  sched: number[];
  redisStat: number;
  redisSched: number;
  /** Per server: write system calls so far (/proc/<pid>/io). */
  writes: number[];
  loadCpu: NodeJS.CpuUsage;
  /** Busy time of the whole machine (all cores) from /proc/stat, µs; NaN where unavailable. */
  machine: number;
  at: number;
}

/**
 * user + nice + system of every core, from the first line of /proc/stat, in µs: the time processes
 * (and kernel threads) ran, as /proc/<pid>/stat counts it. irq and softirq time is left out on both
 * sides (a kernel with IRQ time accounting does not charge it to the process it interrupted).
 */
export function machineBusyMicros(): number {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
    const [, user, nice, system] = line.trim().split(/\s+/).map(Number);
    return ((user! + nice! + system!) * 1e6) / clkTck();
  } catch {
    return NaN;
  }
}

function usablePid(pid: number | null): number | null {
  return pid !== null && procAvailable(pid) ? pid : null;
}

function readStat(pid: number | null): number {
  return pid === null ? NaN : cpuMicros(pid);
}

function readSched(pid: number | null): number {
  return pid === null ? NaN : schedMicros(pid);
}

/** Write system calls made so far (`syscw` of /proc/<pid>/io: write, writev...), NaN when unreadable. */
function readWrites(pid: number | null): number {
  if (pid === null) return NaN;
  try {
    return Number(/^syscw:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** The clients of one scenario run over N servers. */
export class ClusterLoad {
  readonly sink = new DeliverySink();
  readonly clients: WsClient[] = [];
  /** Index of the server each client is connected to. */
  readonly serverOf: number[] = [];
  readonly params: ClusterParams;
  private readonly pids: Array<number | null>;
  private readonly redisPid: number | null;
  private readonly extraErrors: string[] = [];

  constructor(
    readonly targets: readonly ClusterTarget[],
    params: Partial<ClusterParams> = {},
  ) {
    if (targets.length === 0) throw new Error("no server to connect to");
    this.params = { ...DEFAULT_CLUSTER_PARAMS, ...params };
    this.pids = targets.map((t) => usablePid(t.pid));
    this.redisPid = usablePid(this.params.redisPid);
  }

  private sourceAddress(i: number, host: string): string | undefined {
    const n = this.params.sourceAddresses;
    if (n <= 1 || host !== "127.0.0.1" || process.platform !== "linux") return undefined;
    return `127.0.0.${1 + (i % n)}`;
  }

  /** Connects `clients` WebSocket clients, client i to server i mod N, in that order of indices. */
  async connect(): Promise<void> {
    const { clients, concurrency, verify, timeoutMs } = this.params;
    const made = await withTimeout(
      inPool(clients, concurrency, (i) => {
        const target = this.targets[i % this.targets.length]!;
        return WsClient.connect(target.host, target.port, { sink: this.sink, verify, localAddress: this.sourceAddress(i, target.host) });
      }),
      timeoutMs * 3,
      `connecting ${clients} clients to ${this.targets.length} server(s)`,
    );
    made.forEach((c, i) => {
      this.clients.push(c);
      this.serverOf.push(i % this.targets.length);
    });
  }

  /** Clients per server, for the record. */
  clientsOn(server: number): number {
    return this.serverOf.filter((s) => s === server).length;
  }

  mark(): Mark {
    return {
      stat: this.pids.map(readStat),
      sched: this.pids.map(readSched),
      redisStat: readStat(this.redisPid),
      redisSched: readSched(this.redisPid),
      writes: this.pids.map(readWrites),
      loadCpu: process.cpuUsage(),
      machine: machineBusyMicros(),
      at: performance.now(),
    };
  }

  since(m: Mark): { stat: number[]; sched: number[]; redisStat: number; redisSched: number; writes: number[]; loadCpuPct: number; otherCpuPct: number } {
    const now = this.mark();
    const load = process.cpuUsage(m.loadCpu);
    const loadUs = load.user + load.system;
    const stat = now.stat.map((v, k) => v - m.stat[k]!);
    const redisStat = now.redisStat - m.redisStat;
    const windowUs = (now.at - m.at) * 1000;
    // What the rest of the machine did meanwhile (other processes, the kernel's own threads):
    // a shared machine shows here. In % of one core.
    const other = now.machine - m.machine - sum(stat) - (Number.isFinite(redisStat) ? redisStat : 0) - loadUs;
    return {
      stat,
      sched: now.sched.map((v, k) => v - m.sched[k]!),
      redisStat,
      redisSched: now.redisSched - m.redisSched,
      writes: now.writes.map((v, k) => v - m.writes[k]!),
      loadCpuPct: (loadUs / windowUs) * 100,
      otherCpuPct: (Math.max(0, other) / windowUs) * 100,
    };
  }

  /**
   * Client 0 (on server 0) asks for `bcast {n, size}`. Resolves with the time from the send to the
   * last of the clients × n deliveries, and to the ack (server 0 acknowledges once it has emitted
   * and published all n).
   */
  async broadcast(n: number, size: number): Promise<{ deliveredMs: number; ackMs: number }> {
    for (const c of this.clients) c.resetSequence(size);
    const t0 = performance.now();
    const delivered = this.sink.expect(this.clients.length * n).then(() => performance.now());
    const ack = this.clients[0]!.emitWithAck("bcast", [{ n, size }]).then((body) => ({ body, at: performance.now() }));
    const expected = this.clients.length * n;
    const [doneAt, acked] = await withTimeout(
      Promise.all([delivered, ack]),
      this.params.timeoutMs,
      `broadcast of ${n} to ${this.clients.length} clients on ${this.targets.length} server(s)`,
    ).catch((err: unknown) => {
      const short = this.clients.map((c, i) => (c.received < n ? this.serverOf[i]! : -1)).filter((s) => s >= 0);
      const where = this.targets.map((_, k) => `${short.filter((s) => s === k).length} on server ${k}`).join(", ");
      throw new Error(`${err instanceof Error ? err.message : String(err)}: ${this.sink.total} of ${expected} delivered; clients short: ${where}`);
    });
    if (acked.body !== `[${n}]`) this.extraErrors.push(`bcast acknowledged with ${acked.body.slice(0, 60)}`);
    return { deliveredMs: doneAt - t0, ackMs: acked.at - t0 };
  }

  /**
   * After a broadcast of n and a settle: clients that do not hold exactly n messages, and
   * deliveries beyond clients × n (late duplicates). Both are also recorded as errors.
   */
  exactlyOnce(n: number): { missing: number; extra: number } {
    let missing = 0;
    const perServer = new Map<number, number>();
    this.clients.forEach((c, i) => {
      if (c.received !== n) {
        missing++;
        perServer.set(this.serverOf[i]!, (perServer.get(this.serverOf[i]!) ?? 0) + 1);
      }
    });
    // The sink stops counting towards its target once reached, but keeps its total.
    const extra = Math.max(0, this.sink.total - this.clients.length * n);
    if (missing > 0) {
      const where = [...perServer].map(([s, k]) => `${k} on server ${s}`).join(", ");
      this.extraErrors.push(`${missing} clients did not get exactly ${n} messages (${where})`);
    }
    if (extra > 0) this.extraErrors.push(`${extra} deliveries beyond ${this.clients.length} × ${n}`);
    return { missing, extra };
  }

  errors(): string[] {
    const out = [...this.extraErrors];
    for (const c of this.clients) for (const e of c.errors) if (out.length < 20) out.push(e);
    return out.slice(0, 20);
  }

  close(): void {
    for (const c of this.clients) c.terminate();
  }
}

/** Figures common to both measured scenarios: CPU of the servers (summed and each), of Redis, of the load generator. */
function cpuFigures(load: ClusterLoad, used: ReturnType<ClusterLoad["since"]>, deliveries: number, messages: number, perClientMessages: number): Figures {
  const figures: Figures = {
    servers: load.targets.length,
    clients: load.clients.length,
    deliveries,
    serverCpuUs: sum(used.stat),
    cpuUsPerDelivery: sum(used.stat) / deliveries,
    schedUsPerDelivery: sum(used.sched) / deliveries,
    redisCpuUs: used.redisStat,
    redisSchedUs: used.redisSched,
    redisSchedUsPerDelivery: used.redisSched / deliveries,
    redisSchedUsPerMessage: used.redisSched / messages,
    loadGenCpuPct: used.loadCpuPct,
    otherCpuPct: used.otherCpuPct,
    // Write system calls of all servers per delivery: how many deliveries share one write.
    serverWritesPerDelivery: sum(used.writes) / deliveries,
  };
  used.stat.forEach((v, k) => {
    const local = load.clientsOn(k) * perClientMessages;
    figures[`server${k}Clients`] = load.clientsOn(k);
    figures[`server${k}CpuUs`] = v;
    figures[`server${k}SchedUs`] = used.sched[k]!;
    // Per delivery to its own clients: server 0 also receives the request and publishes; the others decode.
    figures[`server${k}SchedUsPerLocalDelivery`] = used.sched[k]! / local;
  });
  return figures;
}

async function burst(load: ClusterLoad): Promise<Figures> {
  const p = load.params;
  await load.connect();
  if (p.warmupN > 0) {
    await load.broadcast(p.warmupN, p.size);
    await sleep(p.settleMs);
    load.exactlyOnce(p.warmupN);
  }
  await sleep(200);
  const m0 = load.mark();
  const { deliveredMs, ackMs } = await load.broadcast(p.n, p.size);
  await sleep(p.settleMs);
  const used = load.since(m0);
  const { missing, extra } = load.exactlyOnce(p.n);
  const deliveries = load.clients.length * p.n;
  return {
    ...cpuFigures(load, used, deliveries, p.n, p.n),
    n: p.n,
    missing,
    extra,
    seconds: deliveredMs / 1000,
    ackMs,
    deliveriesPerSec: deliveries / (deliveredMs / 1000),
  };
}

async function paced(load: ClusterLoad): Promise<Figures> {
  const p = load.params;
  await load.connect();
  let missing = 0;
  let extra = 0;
  const once = async (): Promise<number> => {
    const start = performance.now();
    const { deliveredMs } = await load.broadcast(1, p.size);
    await sleep(Math.max(2, start + p.intervalMs - performance.now()));
    return deliveredMs;
  };
  for (let i = 0; i < p.warmupBroadcasts; i++) await once();
  await sleep(200);
  const m0 = load.mark();
  const times: number[] = [];
  for (let i = 0; i < p.broadcasts; i++) {
    times.push(await once());
    // Checked after the pause, so a late duplicate of this broadcast would already show.
    const check = load.exactlyOnce(1);
    missing += check.missing;
    extra += check.extra;
  }
  await sleep(p.settleMs);
  const used = load.since(m0);
  const last = load.exactlyOnce(1);
  extra += last.extra;
  times.sort((a, b) => a - b);
  const deliveries = load.clients.length * p.broadcasts;
  return {
    ...cpuFigures(load, used, deliveries, p.broadcasts, p.broadcasts),
    broadcasts: p.broadcasts,
    intervalMs: p.intervalMs,
    missing,
    extra,
    fullDeliveryP50Ms: percentile(times, 50),
    fullDeliveryP99Ms: percentile(times, 99),
  };
}

async function smoke(load: ClusterLoad): Promise<Figures> {
  const p = load.params;
  await load.connect();
  await load.broadcast(p.n, p.size);
  await sleep(p.settleMs);
  const { missing, extra } = load.exactlyOnce(p.n);
  const figures: Figures = {
    servers: load.targets.length,
    clients: load.clients.length,
    expected: load.clients.length * p.n,
    deliveries: load.sink.total,
    missing,
    extra,
  };
  for (let k = 0; k < load.targets.length; k++) {
    figures[`server${k}Clients`] = load.clientsOn(k);
    figures[`server${k}Deliveries`] = sum(load.clients.filter((_, i) => load.serverOf[i] === k).map((c) => c.received));
  }
  return figures;
}

/** Runs a scenario; its clients stay connected (the caller closes the load or stops the servers). */
export async function runClusterScenario(load: ClusterLoad, name: ClusterScenarioName): Promise<ClusterResult> {
  let figures: Figures;
  switch (name) {
    case "cluster-burst":
      figures = await burst(load);
      break;
    case "cluster-paced":
      figures = await paced(load);
      break;
    case "cluster-smoke":
      figures = await smoke(load);
      break;
  }
  return { scenario: name, figures, errors: load.errors() };
}
