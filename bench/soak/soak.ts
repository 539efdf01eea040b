// The churn soak, as a function (bench/soak/run.ts is its command line, test/soak/churn.test.ts
// runs a short slice): a warm-up, a baseline after forced GC, connect/disconnect churn, mixed
// load, then the same measurements once every client is gone, compared with stated margins.

import type { RuntimeName } from "../lib/runtimes.js";
import { churn, errorCount, mixed, type LoadCounts } from "./load.js";
import { startSoakServer, type SoakServer } from "./server-process.js";
import type { Stats } from "./protocol.js";

export interface SoakOptions {
  runtime: RuntimeName;
  cycles: number;
  concurrency: number;
  mixedMs: number;
  mixedClients: number;
  /** Cycles and mixed time run before the baseline, so that lazily built state (JIT, caches) is there. */
  warmupCycles: number;
  warmupMixedMs: number;
  margins: Margins;
  /** Longest wait for the server to drop every session after a phase. */
  settleMs: number;
  seed: number;
  log?: (line: string) => void;
}

/**
 * How far the end state may be from the baseline. Sessions and timer entries have exact answers
 * (zero clients: the baseline's count); file descriptors too, once idle keep-alive connections have
 * timed out. The heap gets a fixed allowance: what still grows after the warm-up is V8's compiled
 * code and its metadata (bench/tools/heap-diff.ts on snapshots before and after 3,000 cycles: about
 * 200 bytes per cycle, all of it "code" entries, none of it sockjet's objects), which tiers up as
 * more paths get hot. 4 MiB over the full soak's 13,000+ connections still catches any leak of
 * 300 bytes or more per connection (a session's objects are several KB). RSS gets only a coarse
 * bound, since the allocator keeps freed pages.
 */
export interface Margins {
  heapBytes: number;
  rssBytes: number;
  fds: number;
  timers: number;
}

export const FULL_MARGINS: Margins = { heapBytes: 4 * 2 ** 20, rssBytes: 64 * 2 ** 20, fds: 0, timers: 0 };

export interface Sample {
  atMs: number;
  sessions: number;
  timers: number;
  heapUsed: number;
  rss: number;
  fds: number;
}

export interface Check {
  what: string;
  baseline: number;
  final: number;
  allowed: string;
  ok: boolean;
}

export interface SoakReport {
  options: SoakOptions;
  startedAt: string;
  baseline: Stats;
  afterChurn: Stats;
  final: Stats;
  peak: Sample;
  samples: Sample[];
  churn: LoadCounts;
  mixed: LoadCounts;
  churnMs: number;
  mixedMs: number;
  settleAfterChurnMs: number;
  settleAfterMixedMs: number;
  checks: Check[];
  ok: boolean;
  stderr: string;
}

/** Waits (bounded) until the server holds no session and its timers and fds are back at `target`. */
async function settle(server: SoakServer, target: Stats, margins: Margins, timeoutMs: number): Promise<{ stats: Stats; ms: number }> {
  const start = Date.now();
  for (;;) {
    const s = await server.stats(false);
    const back = s.sessions === 0 && s.timers <= target.timers + margins.timers && s.fds <= target.fds + margins.fds;
    if (back || Date.now() - start > timeoutMs) return { stats: await server.stats(true), ms: Date.now() - start };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const MiB = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;

export function compare(baseline: Stats, final: Stats, margins: Margins, load: LoadCounts[]): Check[] {
  const checks: Check[] = [
    { what: "sessions", baseline: baseline.sessions, final: final.sessions, allowed: "0", ok: final.sessions === 0 },
    { what: "timer queue entries", baseline: baseline.timers, final: final.timers, allowed: `baseline + ${margins.timers}`, ok: final.timers <= baseline.timers + margins.timers },
    { what: "open file descriptors", baseline: baseline.fds, final: final.fds, allowed: `baseline + ${margins.fds}`, ok: final.fds <= baseline.fds + margins.fds },
    { what: "namespaces with members", baseline: baseline.namespaces, final: final.namespaces, allowed: "baseline", ok: final.namespaces <= baseline.namespaces },
    { what: "heap used (bytes)", baseline: baseline.heapUsed, final: final.heapUsed, allowed: `baseline + ${MiB(margins.heapBytes)}`, ok: final.heapUsed <= baseline.heapUsed + margins.heapBytes },
    { what: "RSS (bytes)", baseline: baseline.rss, final: final.rss, allowed: `baseline + ${MiB(margins.rssBytes)}`, ok: final.rss <= baseline.rss + margins.rssBytes },
    { what: "unhandled rejections", baseline: 0, final: final.unhandledRejection, allowed: "0", ok: final.unhandledRejection === 0 },
    { what: "uncaught exceptions", baseline: 0, final: final.uncaughtException, allowed: "0", ok: final.uncaughtException === 0 },
    { what: "server error lines", baseline: 0, final: loggedErrors(final), allowed: "0", ok: loggedErrors(final) === 0 },
    { what: "client-side failures", baseline: 0, final: load.reduce((n, c) => n + errorCount(c), 0), allowed: "0", ok: load.every((c) => errorCount(c) === 0) },
  ];
  const timeouts = [baseline, final].map((s) => (s.activeResources === null ? null : (s.activeResources.Timeout ?? 0)));
  if (timeouts[0] !== null && timeouts[1] !== null) {
    // Node's own timer list (setTimeout handles of everything in the process, not only the engine's queue).
    checks.push({ what: "Node Timeout handles", baseline: timeouts[0], final: timeouts[1], allowed: "baseline", ok: timeouts[1] <= timeouts[0] });
  }
  if (!final.gc) checks.push({ what: "forced GC available", baseline: 1, final: 0, allowed: "1", ok: false });
  return checks;
}

function loggedErrors(s: Stats): number {
  return Object.entries(s.logged).reduce((n, [key, count]) => (key.startsWith("error:") ? n + count : n), 0);
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const startedAt = new Date().toISOString();
  const server = await startSoakServer(options.runtime);
  try {
    log(`server on ${options.runtime} at ${server.url} (pid ${server.pid})`);
    const empty = await server.stats(true);
    if (options.warmupCycles > 0) await churn(server.url, { cycles: options.warmupCycles, concurrency: options.concurrency });
    if (options.warmupMixedMs > 0) await mixed(server.url, { durationMs: options.warmupMixedMs, clients: Math.min(10, options.mixedClients), seed: options.seed + 7 });
    const { stats: baseline } = await settle(server, empty, options.margins, options.settleMs);
    log(`baseline: heap ${MiB(baseline.heapUsed)}, rss ${MiB(baseline.rss)}, fds ${baseline.fds}, timers ${baseline.timers}, sessions ${baseline.sessions}`);

    const samples: Sample[] = [];
    const t0 = Date.now();
    let peak: Sample = { atMs: 0, sessions: 0, timers: 0, heapUsed: 0, rss: 0, fds: 0 };
    const sample = async () => {
      const s = await server.stats(false);
      const point = { atMs: Date.now() - t0, sessions: s.sessions, timers: s.timers, heapUsed: s.heapUsed, rss: s.rss, fds: s.fds };
      samples.push(point);
      if (point.rss > peak.rss) peak = point;
    };
    const sampler = setInterval(() => void sample().catch(() => {}), Math.max(1000, Math.min(10_000, (options.mixedMs + options.cycles * 20) / 60)));

    let churnStart = Date.now();
    let lastLog = 0;
    const churnCounts = await churn(server.url, {
      cycles: options.cycles,
      concurrency: options.concurrency,
      onProgress: (done) => {
        if (Date.now() - lastLog > 15_000) {
          lastLog = Date.now();
          log(`churn: ${done}/${options.cycles} cycles`);
        }
      },
    });
    const churnMs = Date.now() - churnStart;
    log(`churn done in ${(churnMs / 1000).toFixed(1)} s, ${errorCount(churnCounts)} client failures`);
    const afterChurn = await settle(server, baseline, options.margins, options.settleMs);
    log(`after churn (settled in ${afterChurn.ms} ms): heap ${MiB(afterChurn.stats.heapUsed)}, fds ${afterChurn.stats.fds}, timers ${afterChurn.stats.timers}`);

    churnStart = Date.now();
    const mixedCounts = await mixed(server.url, { durationMs: options.mixedMs, clients: options.mixedClients, seed: options.seed });
    const mixedMs = Date.now() - churnStart;
    log(`mixed load done in ${(mixedMs / 1000).toFixed(1)} s: ${mixedCounts.cycles} connections, ${mixedCounts.acks} acks, ${errorCount(mixedCounts)} client failures`);
    clearInterval(sampler);
    const final = await settle(server, baseline, options.margins, options.settleMs);
    log(`final (settled in ${final.ms} ms): heap ${MiB(final.stats.heapUsed)}, rss ${MiB(final.stats.rss)}, fds ${final.stats.fds}, timers ${final.stats.timers}, sessions ${final.stats.sessions}`);

    const checks = compare(baseline, final.stats, options.margins, [churnCounts, mixedCounts]);
    return {
      options,
      startedAt,
      baseline,
      afterChurn: afterChurn.stats,
      final: final.stats,
      peak,
      samples,
      churn: churnCounts,
      mixed: mixedCounts,
      churnMs,
      mixedMs,
      settleAfterChurnMs: afterChurn.ms,
      settleAfterMixedMs: final.ms,
      checks,
      ok: checks.every((c) => c.ok),
      stderr: server.stderr(),
    };
  } finally {
    await server.close();
  }
}
