// The benchmark scenarios, as the load generator runs them against one server process. Every CPU
// and memory figure is read from /proc/<server pid> (see ./proc.ts), never reported by the server.

import http from "node:http";
import { performance } from "node:perf_hooks";
import { cpuMicros, procAvailable, rssBytes, schedMicros } from "./proc.js";
import { DeliverySink, inPool, sleep, withTimeout, type ProtocolClient } from "./protocol.js";
import { WsClient } from "./ws-client.js";
import { PollingClient } from "./polling-client.js";

export interface Target {
  host: string;
  port: number;
  /** The server's pid, for /proc figures; null (tests on other platforms) skips them. */
  pid: number | null;
}

export type Figures = Record<string, number>;

/** CPU microseconds, from /proc/<pid>/stat and from the threads' schedstat. */
export interface CpuMark {
  stat: number;
  sched: number;
}

export interface ScenarioResult {
  scenario: string;
  figures: Figures;
  errors: string[];
}

export const SCENARIOS = ["fanout-burst", "fanout-paced", "fanout-mixed", "fanout-mixed-paced", "echo", "memory-ws", "memory-polling", "connect", "smoke", "fanout-burst-msgpack", "echo-msgpack"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/**
 * The mixed-room scenarios: fanout-burst and fanout-paced with every other client speaking
 * Engine.IO v3 (socket.io-client 1.x/2.x's protocol) and the rest v4, all in the one broadcast.
 * Their servers must accept v3 clients (`allowEIO3`, see MIXED_SERVER_ENV).
 */
export const MIXED_SCENARIOS: readonly ScenarioName[] = ["fanout-mixed", "fanout-mixed-paced"];

/** What a server process needs in its environment to accept Engine.IO v3 clients (bench/servers/common.ts). */
export const MIXED_SERVER_ENV = { BENCH_ALLOW_EIO3: "1" } as const;

/** Whether a scenario has Engine.IO v3 clients, so that its server must be started with MIXED_SERVER_ENV. */
export function needsEio3(scenario: ScenarioName): boolean {
  return MIXED_SCENARIOS.includes(scenario);
}

/**
 * fanout-burst and echo with socket.io-msgpack-parser's packet format on both sides: the server
 * is started with MSGPACK_SERVER_ENV (sockjet `parser: "msgpack"`, socket.io with the official
 * parser) and the clients speak msgpack.
 */
export const MSGPACK_SCENARIOS: readonly ScenarioName[] = ["fanout-burst-msgpack", "echo-msgpack"];

/** What a server process needs in its environment to speak msgpack (bench/servers/common.ts). */
export const MSGPACK_SERVER_ENV = { BENCH_PARSER: "msgpack" } as const;

export function isMsgpack(scenario: ScenarioName): boolean {
  return MSGPACK_SCENARIOS.includes(scenario);
}

/**
 * The memory scenarios' servers on Node run with V8's young generation held at its smallest
 * (semi-spaces of 1 MB). Otherwise V8 grows it to 32 MB while the clients connect and may or may
 * not have shrunk it again when RSS is read: a swing of 3 KB per connection at 10,000 connections
 * from one run to the next, whatever the server keeps (docs/performance.md, "Why earlier figures
 * differed"). What the young generation holds is garbage or on its way to the old one, so the
 * figure loses nothing a connection keeps. Bun (JavaScriptCore) and Deno do not read NODE_OPTIONS.
 */
export const MEMORY_SERVER_ENV = { NODE_OPTIONS: "--max-semi-space-size=1" } as const;

export function isMemory(scenario: ScenarioName): boolean {
  return scenario === "memory-ws" || scenario === "memory-polling";
}

/** The environment a scenario's server process is started with. */
export function serverEnv(scenario: ScenarioName): Record<string, string> {
  if (needsEio3(scenario)) return MIXED_SERVER_ENV;
  if (isMsgpack(scenario)) return MSGPACK_SERVER_ENV;
  if (isMemory(scenario)) return MEMORY_SERVER_ENV;
  return {};
}

/** Parameters of every scenario; each uses the ones it needs. */
export interface ScenarioParams {
  clients: number;
  /** fanout-burst: messages per broadcast; smoke: messages of its broadcast. */
  n: number;
  size: number;
  warmupN: number;
  /** fanout-paced */
  broadcasts: number;
  warmupBroadcasts: number;
  intervalMs: number;
  /** echo */
  seconds: number;
  warmupSeconds: number;
  /** connect / memory */
  concurrency: number;
  warmupClients: number;
  settleMs: number;
  gcWaitMs: number;
  /**
   * connect: the measured clients are opened in this many equal blocks, each measured on its own;
   * the figure is the median block, and the blocks' range is reported beside it.
   */
  blocks: number;
  /** memory: full collections, one every gcWaitMs, until RSS moves by less than 1 % (at most this many). */
  gcRounds: number;
  /** smoke: long-polling clients beside the WebSocket ones (0 for a WebSocket-only server). */
  pollingClients: number;
  /** Parse and check every delivery and ack. */
  verify: boolean;
  /** Spread client connections over this many source addresses 127.0.0.x (Linux loopback). */
  sourceAddresses: number;
  /** Most milliseconds one phase may take. */
  timeoutMs: number;
}

export const DEFAULT_PARAMS: ScenarioParams = {
  clients: 1000,
  n: 100,
  size: 100,
  warmupN: 10,
  broadcasts: 100,
  warmupBroadcasts: 10,
  intervalMs: 20,
  seconds: 10,
  warmupSeconds: 1,
  concurrency: 50,
  warmupClients: 100,
  settleMs: 3000,
  gcWaitMs: 1000,
  blocks: 1,
  gcRounds: 1,
  pollingClients: 0,
  verify: false,
  sourceAddresses: 8,
  timeoutMs: 120_000,
};

/** Clients made by a scenario, so that a caller (the smoke test) can close them afterwards. */
export class LoadContext {
  readonly sink = new DeliverySink();
  readonly clients: ProtocolClient[] = [];
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256 });
  private count = 0;
  /** The clients speak msgpack (the msgpack scenarios, see runScenario). */
  msgpack = false;

  constructor(
    readonly target: Target,
    readonly params: ScenarioParams,
  ) {}

  private sourceAddress(): string | undefined {
    const n = this.params.sourceAddresses;
    const i = this.count++;
    if (n <= 1 || this.target.host !== "127.0.0.1" || process.platform !== "linux") return undefined;
    return `127.0.0.${1 + (i % n)}`;
  }

  /** A WebSocket client speaking Engine.IO v4 (default) or v3. */
  async ws(engineProtocol: 3 | 4 = 4): Promise<WsClient> {
    const { host, port } = this.target;
    const client = await WsClient.connect(host, port, { sink: this.sink, verify: this.params.verify, localAddress: this.sourceAddress(), engineProtocol, msgpack: this.msgpack });
    this.clients.push(client);
    return client;
  }

  /** Clients 0, 2, 4, ... speak Engine.IO v3 and 1, 3, 5, ... v4 (the first, which sends `bcast`, is a v3 one). */
  mixedWs(count: number): Promise<WsClient[]> {
    let next = 0;
    return this.connectMany(count, () => this.ws(next++ % 2 === 0 ? 3 : 4));
  }

  async polling(): Promise<PollingClient> {
    const { host, port } = this.target;
    const client = await PollingClient.connect(host, port, {
      sink: this.sink,
      verify: this.params.verify,
      localAddress: this.sourceAddress(),
      agent: this.agent,
    });
    this.clients.push(client);
    return client;
  }

  connectMany<C extends ProtocolClient>(count: number, make: () => Promise<C>): Promise<C[]> {
    return withTimeout(inPool(count, this.params.concurrency, make), this.params.timeoutMs * 3, `connecting ${count} clients`);
  }

  /** The server's CPU time so far: /proc/<pid>/stat (the figure) and schedstat (the high-resolution cross-check). */
  cpu(): CpuMark {
    const pid = this.target.pid;
    return pid === null ? { stat: NaN, sched: NaN } : { stat: cpuMicros(pid), sched: schedMicros(pid) };
  }

  cpuSince(mark: CpuMark): CpuMark {
    const now = this.cpu();
    return { stat: now.stat - mark.stat, sched: now.sched - mark.sched };
  }

  rss(): number {
    return this.target.pid === null ? NaN : rssBytes(this.target.pid);
  }

  /** Asks the server for a full GC (SIGUSR2, see bench/servers/common.ts) and lets it finish. */
  async gc(): Promise<void> {
    if (this.target.pid !== null) process.kill(this.target.pid, "SIGUSR2");
    await sleep(this.params.gcWaitMs);
  }

  /**
   * RSS once it has settled: full collections until one moves RSS by less than 1 % (at most
   * gcRounds). A single collection may leave freed pages the runtime returns to the OS only on a
   * later one, so one reading can land on either side of that.
   */
  async settledRss(): Promise<{ rss: number; rounds: number }> {
    await this.gc();
    let rss = this.rss();
    let rounds = 1;
    while (rounds < this.params.gcRounds) {
      await this.gc();
      rounds++;
      const next = this.rss();
      const moved = Math.abs(next - rss) / rss;
      rss = next;
      if (moved < 0.01) break;
    }
    return { rss, rounds };
  }

  errors(): string[] {
    const out: string[] = [];
    for (const c of this.clients) for (const e of c.errors) if (out.length < 20) out.push(e);
    return out;
  }

  close(): void {
    for (const c of this.clients) if (c instanceof WsClient) c.terminate();
    else c.close();
    this.agent.destroy();
  }
}

/** One `bcast {n, size}` from the first client; resolves when every client got all n and the ack came back. */
async function broadcastOnce(ctx: LoadContext, clients: readonly ProtocolClient[], n: number, size: number): Promise<number> {
  for (const c of clients) c.resetSequence(size);
  const t0 = performance.now();
  const delivered = ctx.sink.expect(clients.length * n).then(() => performance.now());
  const ack = clients[0]!.emitWithAck("bcast", [{ n, size }]);
  const [doneAt, body] = await withTimeout(Promise.all([delivered, ack]), ctx.params.timeoutMs, `broadcast of ${n} to ${clients.length}`);
  if (body !== `[${n}]`) ctx.clients[0]!.errors.push(`bcast acknowledged with ${body.slice(0, 60)}`);
  return doneAt - t0;
}

function checkDelivered(ctx: LoadContext, clients: readonly ProtocolClient[], n: number): number {
  let missing = 0;
  for (const c of clients) if (c.received !== n) missing++;
  if (missing > 0) ctx.clients[0]!.errors.push(`${missing} clients did not get exactly ${n} messages`);
  return missing;
}

/** CLOCK_MONOTONIC in microseconds: the clock of V8's CPU profiles, so a profile can be cut to a measured window. */
function monoMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function loadCpu(): () => number {
  const start = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const used = process.cpuUsage(start);
    return ((used.user + used.system) / 1000 / (performance.now() - t0)) * 100;
  };
}

async function fanoutBurst(ctx: LoadContext, mixed = false): Promise<Figures> {
  const p = ctx.params;
  const clients = mixed ? await ctx.mixedWs(p.clients) : await ctx.connectMany(p.clients, () => ctx.ws());
  if (p.warmupN > 0) await broadcastOnce(ctx, clients, p.warmupN, p.size);
  await sleep(200);
  const loadUsage = loadCpu();
  const cpu0 = ctx.cpu();
  const w0 = monoMicros();
  const elapsed = await broadcastOnce(ctx, clients, p.n, p.size);
  const loadPct = loadUsage();
  await sleep(200);
  const cpu = ctx.cpuSince(cpu0);
  const w1 = monoMicros();
  const deliveries = clients.length * p.n;
  return {
    clients: clients.length,
    deliveries,
    missing: checkDelivered(ctx, clients, p.n),
    windowStartMonoUs: w0,
    windowEndMonoUs: w1,
    cpuUs: cpu.stat,
    cpuUsPerDelivery: cpu.stat / deliveries,
    schedUsPerDelivery: cpu.sched / deliveries,
    seconds: elapsed / 1000,
    deliveriesPerSec: deliveries / (elapsed / 1000),
    loadGenCpuPct: loadPct,
  };
}

async function fanoutPaced(ctx: LoadContext, mixed = false): Promise<Figures> {
  const p = ctx.params;
  const clients = mixed ? await ctx.mixedWs(p.clients) : await ctx.connectMany(p.clients, () => ctx.ws());
  for (let i = 0; i < p.warmupBroadcasts; i++) await broadcastOnce(ctx, clients, 1, p.size);
  await sleep(200);
  const cpu0 = ctx.cpu();
  const w0 = monoMicros();
  const times: number[] = [];
  let missing = 0;
  for (let i = 0; i < p.broadcasts; i++) {
    const start = performance.now();
    times.push(await broadcastOnce(ctx, clients, 1, p.size));
    missing += checkDelivered(ctx, clients, 1);
    const wait = start + p.intervalMs - performance.now();
    await sleep(Math.max(2, wait));
  }
  await sleep(200);
  const cpu = ctx.cpuSince(cpu0);
  const w1 = monoMicros();
  const deliveries = clients.length * p.broadcasts;
  times.sort((a, b) => a - b);
  return {
    clients: clients.length,
    broadcasts: p.broadcasts,
    deliveries,
    missing,
    windowStartMonoUs: w0,
    windowEndMonoUs: w1,
    cpuUs: cpu.stat,
    cpuUsPerDelivery: cpu.stat / deliveries,
    schedUsPerDelivery: cpu.sched / deliveries,
    fullDeliveryP50Ms: percentile(times, 50),
    fullDeliveryP99Ms: percentile(times, 99),
  };
}

async function echo(ctx: LoadContext): Promise<Figures> {
  const p = ctx.params;
  const clients = await ctx.connectMany(p.clients, () => ctx.ws());
  let running = true;
  let measuring = false;
  let acks = 0;
  let mismatches = 0;
  const latencies: number[] = [];
  const loops = clients.map(async (c, k) => {
    for (let i = 0; running; i++) {
      const arg = { m: "hello", c: k, i };
      const t = performance.now();
      const body = await c.emitWithAck("echo", [arg]);
      if (p.verify && body !== JSON.stringify([arg])) mismatches++;
      if (measuring) {
        acks++;
        latencies.push(performance.now() - t);
      }
    }
  });
  const finished = Promise.all(loops);
  finished.catch(() => undefined);
  await sleep(p.warmupSeconds * 1000);
  const loadUsage = loadCpu();
  const cpu0 = ctx.cpu();
  const w0 = monoMicros();
  const t0 = performance.now();
  measuring = true;
  await sleep(p.seconds * 1000);
  measuring = false;
  const cpu = ctx.cpuSince(cpu0);
  const w1 = monoMicros();
  const seconds = (performance.now() - t0) / 1000;
  const loadPct = loadUsage();
  running = false;
  await withTimeout(finished, p.timeoutMs, "echo loops to finish");
  latencies.sort((a, b) => a - b);
  if (mismatches > 0) ctx.clients[0]!.errors.push(`${mismatches} echo acks did not repeat their arguments`);
  return {
    clients: clients.length,
    acks,
    mismatches,
    windowStartMonoUs: w0,
    windowEndMonoUs: w1,
    cpuUs: cpu.stat,
    cpuUsPerAck: cpu.stat / acks,
    schedUsPerAck: cpu.sched / acks,
    acksPerSec: acks / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    loadGenCpuPct: loadPct,
  };
}

async function memory(ctx: LoadContext, transport: "ws" | "polling"): Promise<Figures> {
  const p = ctx.params;
  const make: () => Promise<ProtocolClient> = transport === "ws" ? () => ctx.ws() : () => ctx.polling();
  // Warm-up: the first connections load and compile code paths once; that cost is not per connection.
  const warm = await ctx.connectMany(p.warmupClients, make);
  for (const c of warm) c.close();
  await sleep(500);
  const { rss: baseline, rounds: baselineGcRounds } = await ctx.settledRss();
  const t0 = performance.now();
  const cpu0 = ctx.cpu();
  const w0 = monoMicros();
  const clients = await ctx.connectMany(p.clients, make);
  const connectSeconds = (performance.now() - t0) / 1000;
  const connectCpu = ctx.cpuSince(cpu0);
  const w1 = monoMicros();
  await sleep(p.settleMs);
  const { rss, rounds: gcRounds } = await ctx.settledRss();
  const alive = clients.filter((c) => c.isOpen).length;
  if (alive !== clients.length) ctx.clients[0]!.errors.push(`${clients.length - alive} of ${clients.length} connections died while idle`);
  return {
    clients: clients.length,
    alive,
    baselineRssMB: baseline / 2 ** 20,
    rssMB: rss / 2 ** 20,
    bytesPerConnection: (rss - baseline) / clients.length,
    baselineGcRounds,
    gcRounds,
    connectSeconds,
    // Server CPU per connection while they were being opened (a by-product, not the scenario's figure).
    connectCpuUsPerConnection: connectCpu.stat / clients.length,
    // The profiled window of this scenario is the connect phase (see bench/tools/profile-top.ts).
    windowStartMonoUs: w0,
    windowEndMonoUs: w1,
  };
}

async function connect(ctx: LoadContext): Promise<Figures> {
  const p = ctx.params;
  await ctx.connectMany(p.warmupClients, () => ctx.ws());
  await sleep(200);
  // The measured clients come in blocks, each its own CPU window: a full GC, a JIT tier-up or a
  // burst of other work on a shared machine lands in one block, and the median block leaves it
  // out; the range shows how far the blocks spread.
  const blocks = Math.max(1, Math.min(p.blocks, p.clients));
  const perBlock = Math.floor(p.clients / blocks);
  const statPer: number[] = [];
  const schedPer: number[] = [];
  let cpuUs = 0;
  let schedUs = 0;
  let connections = 0;
  let connectSeconds = 0;
  const w0 = monoMicros();
  for (let b = 0; b < blocks; b++) {
    const count = b === blocks - 1 ? p.clients - perBlock * (blocks - 1) : perBlock;
    const cpu0 = ctx.cpu();
    const t0 = performance.now();
    const clients = await ctx.connectMany(count, () => ctx.ws());
    connectSeconds += (performance.now() - t0) / 1000;
    await sleep(200);
    const cpu = ctx.cpuSince(cpu0);
    connections += clients.length;
    cpuUs += cpu.stat;
    schedUs += cpu.sched;
    statPer.push(cpu.stat / clients.length);
    schedPer.push(cpu.sched / clients.length);
  }
  const w1 = monoMicros();
  statPer.sort((a, b) => a - b);
  schedPer.sort((a, b) => a - b);
  return {
    connections,
    blocks,
    windowStartMonoUs: w0,
    windowEndMonoUs: w1,
    cpuUs,
    // The median block (with one block: the whole window, as before blocks existed), from the
    // threads' schedstat: a block of 1,000 connections is only 4-30 ticks of /proc/<pid>/stat
    // (Bun connects in 40-80 µs), too coarse for a ratio. The tick figure stays beside it.
    cpuUsPerConnection: Number.isFinite(schedPer[0]) ? median(schedPer) : median(statPer),
    statUsPerConnection: median(statPer),
    cpuUsPerConnectionMin: statPer[0]!,
    cpuUsPerConnectionMax: statPer[statPer.length - 1]!,
    cpuUsPerConnectionAll: cpuUs / connections,
    schedUsPerConnection: median(schedPer),
    schedUsPerConnectionMin: schedPer[0]!,
    schedUsPerConnectionMax: schedPer[schedPer.length - 1]!,
    connectionsPerSec: connections / connectSeconds,
  };
}

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** Correctness only: every client gets every message of a broadcast in order, every echo comes back. */
async function smoke(ctx: LoadContext): Promise<Figures> {
  const p = ctx.params;
  const ws = await ctx.connectMany(p.clients, () => ctx.ws());
  const polling = await ctx.connectMany(p.pollingClients, () => ctx.polling());
  const clients: ProtocolClient[] = [...ws, ...polling];
  await broadcastOnce(ctx, clients, p.n, p.size);
  const missing = checkDelivered(ctx, clients, p.n);
  let acks = 0;
  let mismatches = 0;
  await withTimeout(
    Promise.all(
      clients.map(async (c, k) => {
        for (let i = 0; i < 3; i++) {
          const values = ["hello", { c: k, i }, [1, 2, 3]];
          const body = await c.emitWithAck("echo", values);
          if (body === JSON.stringify(values)) acks++;
          else mismatches++;
        }
      }),
    ),
    p.timeoutMs,
    "echo acks",
  );
  if (mismatches > 0) ctx.clients[0]!.errors.push(`${mismatches} echo acks did not repeat their arguments`);
  return { clients: clients.length, deliveries: ctx.sink.total, expected: clients.length * p.n, missing, acks, expectedAcks: clients.length * 3 };
}

/**
 * After a mixed scenario's measured window: how many clients spoke each protocol and, in verify
 * mode, the checks a broken v3 path would fail: every client (v3 and v4) gets an echo acknowledged
 * with its own arguments, and where the heartbeat is short (the smoke test sets it), every client
 * stays connected over a few intervals, each v3 client's pings are answered with pongs and the
 * server never pings a v3 client (WsClient records that as an error), while each v4 client is pinged.
 */
async function checkMixed(ctx: LoadContext): Promise<Figures> {
  const ws = ctx.clients.filter((c): c is WsClient => c instanceof WsClient);
  const v3 = ws.filter((c) => c.engineProtocol === 3);
  const v4 = ws.filter((c) => c.engineProtocol === 4);
  const figures: Figures = { v3Clients: v3.length, v4Clients: v4.length };
  if (!ctx.params.verify) return figures;
  const fail = (message: string) => ctx.clients[0]!.errors.push(message);
  let mismatches = 0;
  await withTimeout(
    Promise.all(
      ws.map(async (c, k) => {
        const values = ["mixed", { c: k, v: c.engineProtocol }];
        if ((await c.emitWithAck("echo", values)) !== JSON.stringify(values)) mismatches++;
      }),
    ),
    ctx.params.timeoutMs,
    "mixed echo acks",
  );
  if (mismatches > 0) fail(`${mismatches} echo acks did not repeat their arguments`);
  figures.echoMismatches = mismatches;
  const interval = ws[0]?.pingInterval ?? 0;
  if (interval > 0 && interval <= 2000) {
    await sleep(interval * 3 + 200);
    // Pongs may trail the pings while a shared machine stalls this process or the server: wait
    // (bounded) for each v3 client's pongs to catch up rather than judge one instant.
    const behind = (c: WsClient) => c.pingsSent === 0 || c.pongsReceived < c.pingsSent - 1;
    const deadline = Date.now() + ctx.params.timeoutMs;
    while (v3.some(behind) && Date.now() < deadline) await sleep(50);
    const closed = ws.filter((c) => !c.isOpen).length;
    const unanswered = v3.filter(behind).length;
    const unpinged = v4.filter((c) => c.pingsReceived === 0).length;
    if (closed > 0) fail(`${closed} clients were closed over ${interval * 3} ms of heartbeat`);
    if (unanswered > 0) fail(`${unanswered} Engine.IO v3 clients' pings went unanswered`);
    if (unpinged > 0) fail(`${unpinged} Engine.IO v4 clients were never pinged`);
    Object.assign(figures, {
      heartbeatClosed: closed,
      v3PingsUnanswered: unanswered,
      v4Unpinged: unpinged,
      v3PingsSent: v3.reduce((n, c) => n + c.pingsSent, 0),
      v3PongsReceived: v3.reduce((n, c) => n + c.pongsReceived, 0),
    });
  }
  return figures;
}

/** A context for one scenario run; /proc figures are skipped where /proc is unavailable. */
export function createContext(target: Target, params: Partial<ScenarioParams> = {}): LoadContext {
  const usable = target.pid !== null && procAvailable(target.pid) ? target : { ...target, pid: null };
  return new LoadContext(usable, { ...DEFAULT_PARAMS, ...params });
}

/** Runs a scenario; its clients stay connected (the caller closes the context or kills the server). */
export async function runScenario(ctx: LoadContext, name: ScenarioName): Promise<ScenarioResult> {
  let figures: Figures;
  ctx.msgpack = isMsgpack(name);
  switch (name) {
    case "fanout-burst":
    case "fanout-burst-msgpack":
      figures = await fanoutBurst(ctx);
      break;
    case "fanout-paced":
      figures = await fanoutPaced(ctx);
      break;
    case "fanout-mixed":
      figures = { ...(await fanoutBurst(ctx, true)), ...(await checkMixed(ctx)) };
      break;
    case "fanout-mixed-paced":
      figures = { ...(await fanoutPaced(ctx, true)), ...(await checkMixed(ctx)) };
      break;
    case "echo":
    case "echo-msgpack":
      figures = await echo(ctx);
      break;
    case "memory-ws":
      figures = await memory(ctx, "ws");
      break;
    case "memory-polling":
      figures = await memory(ctx, "polling");
      break;
    case "connect":
      figures = await connect(ctx);
      break;
    case "smoke":
      figures = await smoke(ctx);
      break;
  }
  return { scenario: name, figures, errors: ctx.errors() };
}
