// Slow readers, measured: for each runtime and transport, --count clients (10) that stop reading
// sit in a room with four healthy members (three WebSocket, one long-polling) while the room
// receives --mb megabytes in --size-byte messages (1000), after the same broadcast once without them (to
// warm the heap and the allocator). A slow WebSocket client pauses its TCP socket (the kernel
// buffers fill, then the server's); a slow long-polling client never polls again. Records the
// server's RSS (peak during the broadcast, and after two full collections once it is over) and JS
// heap against the baseline taken just before; the same run with no slow client ("none", the
// control) shows what the broadcast itself costs, and the difference divided by the number of slow
// clients is what one slow client costs. Also: whether and when they were closed and why, the
// largest backlog the server's accounting saw for one (EngineSocket.bufferedBytes), and that every
// healthy member got every message in order.
//
//   npm run bench:slow-reader                       # default limit, 20 and 100 MB, every runtime
//   npm run bench:slow-reader -- --runtimes node,bun --slow ws --mb 20 --limit 16777216
//   npm run bench:slow-reader -- --tree /tmp/before --label before   # a checkout from before a change
//
// Runtimes: node (node:http + ws), bun (Bun.serve), deno (Deno.serve), deno-node (node:http on Deno).
// Writes bench/results/slow-reader-<date>.json (--out DIR elsewhere); --report file.json prints the
// markdown tables of one or more result files.

import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadavg } from "node:os";
import { BENCH_DIR, ROOT_DIR, stderrTail, stopProcess, waitForLine } from "../lib/processes.js";
import { runtimeCommand, runtimeVersion, type RuntimeName } from "../lib/runtimes.js";
import { PollingClient, WsClient } from "../lib/slow-reader-clients.js";
import type { ServerStats } from "../servers/slow-reader/app.js";

const SLOW_RUNTIMES = ["node", "bun", "deno", "deno-node"] as const;
type SlowRuntime = (typeof SLOW_RUNTIMES)[number];
// "none" first: the other runs of the same runtime and volume are compared with it.
const SLOW_KINDS = ["none", "ws", "polling"] as const;
type SlowKind = (typeof SLOW_KINDS)[number];

const WAIT_MS = 300_000;

export interface SlowReaderResult {
  label: string;
  runtime: SlowRuntime;
  slow: SlowKind;
  mb: number;
  /** Payload bytes per message. */
  size: number;
  limit: number;
  baselineRss: number;
  peakRssGrowth: number;
  afterRssGrowth: number;
  afterHeapGrowth: number;
  afterExternalGrowth: number;
  /** How many slow clients were in the room (all of the same kind). */
  slowCount: number;
  /** Their close reasons ("still open" for those open at the end), distinct, comma-separated. */
  reasons: string;
  /** Messages into the measured broadcast when the last of them closed. */
  closedAtMessage: number | null;
  /** Largest backlog the server's accounting saw for any of them (null: a tree without the accounting). */
  maxBuffered: number | null;
  /** Every healthy member got every message, in order. */
  healthyComplete: boolean;
  seconds: number;
  load: number;
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  return kb === null ? 0 : Number(kb[1]) * 1024;
}

interface Started {
  child: ChildProcess;
  url: string;
}

async function startServer(root: string, runtime: SlowRuntime, limit: number | null): Promise<Started> {
  const script = join(root, "bench", "servers", "slow-reader", "serve.ts");
  const base: RuntimeName = runtime === "deno-node" ? "deno" : runtime;
  const argv = runtimeCommand(ROOT_DIR, base, script, null);
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  if (runtime === "deno-node") env.SLOW_READER_HTTP = "node";
  if (limit !== null) env.SLOW_READER_LIMIT = String(limit);
  const child = spawn(argv[0]!, [...argv.slice(1), "--port", "0"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  const port = Number((await waitForLine(child, "ready ", 60_000, `slow-reader server on ${runtime}`, stderrTail(child))).trim());
  return { child, url: `http://127.0.0.1:${port}` };
}

async function measure(root: string, label: string, runtime: SlowRuntime, slow: SlowKind, count: number, mb: number, size: number, limit: number | null): Promise<SlowReaderResult> {
  const started = Date.now();
  const { child, url } = await startServer(root, runtime, limit);
  const clients: (WsClient | PollingClient)[] = [];
  try {
    const healthy = [await WsClient.open(url), await WsClient.open(url), await WsClient.open(url), await PollingClient.open(url, true)];
    clients.push(...healthy);
    const control = healthy[0]!;
    const n = Math.round((mb * 1_000_000) / size);
    const deadline = () => new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no complete delivery within ${WAIT_MS} ms`)), WAIT_MS).unref());
    // Warm-up: the same broadcast once with healthy members only, so that the heap and the
    // allocator have grown to what the broadcast itself needs before the baseline is taken.
    await Promise.race([broadcast(control, healthy, 0, n, size), deadline()]);
    const slowClients: (WsClient | PollingClient)[] = [];
    for (let i = 0; slow !== "none" && i < count; i++) {
      if (slow === "ws") {
        const client = await WsClient.open(url);
        client.stopReading();
        slowClients.push(client);
      } else {
        slowClients.push(await PollingClient.open(url, false));
      }
    }
    clients.push(...slowClients);
    const stats = async () => (await control.call("stats", { gc: true }))[0] as ServerStats;
    const before = await stats();
    const baselineRss = rssOf(child.pid!);
    let peak = baselineRss;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssOf(child.pid!));
      } catch {
        // the process is gone; the run fails below
      }
    }, 50);
    await Promise.race([broadcast(control, healthy, n, n, size), deadline()]);
    clearInterval(sampler);
    peak = Math.max(peak, rssOf(child.pid!));
    const after = await stats();
    const afterRss = rssOf(child.pid!);
    const closes = slowClients.map((client) => after.closes.find((c) => c.sid === client.sid));
    const reasons = [...new Set(closes.map((c) => c?.reason ?? "still open"))].sort();
    const closedAt = closes.flatMap((c) => (c === undefined ? [] : [c.atMessage - n]));
    const held = slowClients.flatMap((client) => (after.maxBuffered[client.engineSid] === undefined ? [] : [after.maxBuffered[client.engineSid]!]));
    return {
      label,
      runtime,
      slow,
      mb,
      size,
      limit: after.limit,
      baselineRss,
      peakRssGrowth: peak - baselineRss,
      afterRssGrowth: afterRss - baselineRss,
      afterHeapGrowth: after.heapUsed - before.heapUsed,
      afterExternalGrowth: after.external - before.external,
      slowCount: slowClients.length,
      reasons: reasons.join(", "),
      closedAtMessage: closedAt.length === 0 ? null : Math.max(...closedAt),
      maxBuffered: held.length === 0 ? null : Math.max(...held),
      healthyComplete: healthy.every((c) => c.received === 2 * n && c.error === null && !c.closed),
      seconds: (Date.now() - started) / 1000,
      load: loadavg()[0]!,
    };
  } finally {
    for (const client of clients) client.close();
    await stopProcess(child, 3000);
  }
}

/**
 * Broadcasts `n` messages into the room in steps of about 512 KB, each sent once every healthy
 * member has the previous one: the healthy members are paced as a real application's are (a
 * server that emits faster than its readers can read closes them too, by design), while the slow
 * clients fall behind without limit. `before`: messages the members already had.
 */
async function broadcast(control: WsClient | PollingClient, healthy: readonly (WsClient | PollingClient)[], before: number, n: number, size: number): Promise<void> {
  const step = Math.max(1, Math.floor(512_000 / size));
  for (let sent = 0; sent < n; ) {
    const count = Math.min(step, n - sent);
    await control.call("blast", { n: count, size, batch: 20 });
    sent += count;
    await Promise.all(healthy.map((c) => c.waitFor(before + sent)));
  }
}

const MB = (bytes: number) => (bytes / 1_048_576).toFixed(1);

/** The run without a slow client that a run is compared with (same tree, runtime and volume). */
function controlOf(r: SlowReaderResult, results: readonly SlowReaderResult[]): SlowReaderResult | undefined {
  return results.find((c) => c.slow === "none" && c.label === r.label && c.runtime === r.runtime && c.mb === r.mb && c.size === r.size);
}

export function report(results: readonly SlowReaderResult[]): string {
  const lines = [
    "| tree | runtime | slow clients | sent | limit | RSS after GC, growth | same, per slow client beyond the control | RSS peak, growth | same, per slow client beyond the control | heap after GC | slow clients closed | last closed at message | largest backlog held | healthy members complete |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of results) {
    const control = r.slow === "none" ? undefined : controlOf(r, results);
    const per = (value: number, base: number | undefined) => (base === undefined || r.slowCount === 0 ? "-" : `${MB((value - base) / r.slowCount)} MiB`);
    lines.push(
      `| ${r.label} | ${r.runtime} | ${r.slow === "none" ? "none (control)" : `${r.slowCount} ${r.slow}`} | ${r.mb} MB in ${r.size} B messages | ${MB(r.limit)} MiB | ${MB(r.afterRssGrowth)} MiB | ${per(r.afterRssGrowth, control?.afterRssGrowth)} | ${MB(r.peakRssGrowth)} MiB | ${per(r.peakRssGrowth, control?.peakRssGrowth)} | ${MB(r.afterHeapGrowth)} MiB | ${r.slow === "none" ? "-" : r.reasons} | ${r.closedAtMessage ?? "-"} | ${r.maxBuffered === null ? "-" : `${(r.maxBuffered / 1024).toFixed(0)} KiB`} | ${r.healthyComplete ? "yes" : "NO"} |`,
    );
  }
  return lines.join("\n");
}

function list<T extends string>(value: string, allowed: readonly T[], what: string): T[] {
  const items = value.split(",").filter((s) => s !== "");
  for (const item of items) if (!allowed.includes(item as T)) throw new Error(`unknown ${what} ${item} (one of ${allowed.join(", ")})`);
  return items as T[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runtimes: { type: "string", default: SLOW_RUNTIMES.join(",") },
      slow: { type: "string", default: SLOW_KINDS.join(",") },
      mb: { type: "string", default: "20,100" },
      count: { type: "string", default: "10" },
      size: { type: "string", default: "1000" },
      limit: { type: "string" },
      tree: { type: "string" },
      label: { type: "string" },
      out: { type: "string" },
      report: { type: "string", multiple: true },
    },
  });
  if (values.report !== undefined) {
    const results = values.report.flatMap((file) => (JSON.parse(readFileSync(file, "utf8")) as { results: SlowReaderResult[] }).results);
    process.stdout.write(report(results) + "\n");
    return;
  }
  const root = values.tree ?? ROOT_DIR;
  const limit = values.limit === undefined ? null : Number(values.limit);
  const label = values.label ?? (values.tree === undefined ? "this tree" : values.tree);
  const results: SlowReaderResult[] = [];
  for (const mb of values.mb.split(",").map(Number)) {
    for (const runtime of list(values.runtimes, SLOW_RUNTIMES, "runtime")) {
      for (const slow of list(values.slow, SLOW_KINDS, "slow client")) {
        const result = await measure(root, label, runtime, slow, Number(values.count), mb, Number(values.size), limit);
        results.push(result);
        process.stderr.write(report(results).split("\n").at(-1)! + "\n");
      }
    }
  }
  const outDir = values.out ?? join(BENCH_DIR, "results");
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `slow-reader-${new Date().toISOString().slice(0, 19).replace(/:/g, "-")}Z.json`);
  const versions = { node: process.version, bun: runtimeVersion(ROOT_DIR, "bun"), deno: runtimeVersion(ROOT_DIR, "deno") };
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), label, versions, results }, null, 2) + "\n");
  process.stdout.write(report(results) + `\n\nwritten ${file}\n`);
}

await main();
