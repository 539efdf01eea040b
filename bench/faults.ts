// Broker faults under load (`npm run faults`): for Redis, RabbitMQ and NATS, sockjet server
// processes and a write-only Emitter process joined through a TCP proxy in front of the broker,
// socket.io-client v4 clients on every server, all in one room. Every process broadcasts numbered
// messages to the room and calls clients held by another server (test/support/fault-load.ts).
// Two faults per broker, each on a fresh cluster and channel:
//
//   cut    the proxy drops every connection and refuses new ones for --cut ms (default 30000),
//          then lets them through again (the broker keeps running)
//   kill   SIGKILL to the broker's listening process, --down ms later (default 5000) started again
//          with the command scripts/prerequisites.mjs uses; the restore is the moment its port
//          accepts connections again (RabbitMQ boots in 10-20 s)
//   stall  the proxy keeps every connection open but forwards nothing for --cut ms (a link gone
//          silent, no reset, as with a pulled cable); new connections get no answer. Only
//          timeouts and heartbeats notice; on restore what was held back is delivered
//   isolate  the same silent link for server 0 alone (a proxy of its own): the others keep
//          publishing, server 0 misses it
//
// Every missing (message, client) pair is held against a report: the sender's "error" event or
// rejection, or the receiving server's disconnect window; anything else is a silent loss.
//
//   tsx bench/faults.ts [--brokers redis,amqp,nats] [--faults cut,kill,stall,isolate] [--cut 30000] [--down 5000]
//                       [--servers 3] [--per-server 2] [--period 20] [--call-period 100]
//                       [--call-timeout 5000] [--warmup 5000] [--after 10000] [--fast-backoff]
//
// Writes bench/results/faults-<date>.json (everything measured) and bench/results/faults-latest.md.
// Other runs share the brokers: every broker is checked (and started) before, and restarted in a
// finally after its kill.

import { mkdirSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { TcpProxy } from "../test/support/cluster-proxy.js";
import { analyse, startFaultCluster, startLoad, stopLoad, type FaultReport } from "../test/support/fault-load.js";
import { BROKERS, killBroker, startBroker, type BrokerKind, type BrokerSpec } from "./lib/brokers.js";
import { BENCH_DIR } from "./lib/processes.js";

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}
const num = (name: string, fallback: number) => Number(option(name, String(fallback)));

const brokers = option("brokers", "redis,amqp,nats").split(",") as BrokerKind[];
const faults = option("faults", "cut,kill,stall,isolate").split(",") as Fault[];
const CUT = num("cut", 30_000);
const DOWN = num("down", 5000);
const SERVERS = num("servers", 3);
const PER_SERVER = num("per-server", 2);
const timing = { period: num("period", 20), callPeriod: num("call-period", 100), callTimeout: num("call-timeout", 5000) };
const WARMUP = num("warmup", 5000);
const AFTER = num("after", 10_000);
const FAST = process.argv.includes("--fast-backoff");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function urlVia(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(port);
  return u.toString();
}

type Fault = "cut" | "kill" | "stall" | "isolate";

/** The drivers' publishTimeout (their default); a silent link is noticed within twice that. */
const PUBLISH_TIMEOUT = 5000;

interface Run {
  broker: string;
  fault: Fault;
  /** ms the broker was unreachable (cut: the cut; kill: SIGKILL → port open again). */
  outageMs: number;
  /** ms from the restore until every process reported "reconnect". */
  allReconnectedMs: number | null;
  /** Processes that reported "disconnect" (of `processes`). */
  disconnected: number;
  processes: number;
  drained: boolean;
  report: FaultReport;
  loadavg: number[];
}

async function runFault(spec: BrokerSpec, fault: Fault): Promise<Run> {
  const proxy = await new TcpProxy("127.0.0.1", spec.port).start();
  const own = fault === "isolate" ? await new TcpProxy("127.0.0.1", spec.port).start() : null;
  const cluster = await startFaultCluster(
    { url: urlVia(spec.url, proxy.port), channel: `sockjet-faults-${randomUUID()}`, fastBackoff: FAST, ...(own ? { serverUrls: [urlVia(spec.url, own.port)] } : {}) },
    SERVERS,
    PER_SERVER,
  );
  let killed = false;
  try {
    startLoad(cluster, timing);
    await sleep(WARMUP);
    const faultAt = Date.now();
    let restoreAt: number;
    if (own !== null) {
      own.stall();
      await sleep(CUT);
      own.restore();
      restoreAt = Date.now();
    } else if (fault === "cut" || fault === "stall") {
      if (fault === "cut") proxy.cut();
      else proxy.stall();
      await sleep(CUT);
      proxy.restore();
      restoreAt = Date.now();
    } else {
      killed = true;
      await killBroker(spec);
      await sleep(DOWN);
      restoreAt = await startBroker(spec);
      killed = false;
    }
    console.log(`  ${spec.name} ${fault}: outage ${restoreAt - faultAt} ms, waiting for every process to reconnect`);
    const all = [...cluster.servers, cluster.emitter];
    // A stall may go unnoticed: only a process that reported "disconnect" is waited for.
    const lost = (p: (typeof all)[number]) => (fault !== "stall" && fault !== "isolate") || p.events.some((e) => e.name === "disconnect" && e.at >= faultAt);
    await Promise.all(all.filter(lost).map((p) => p.reconnected(restoreAt, 120_000)));
    const reconnects = all.filter(lost).map((p) => p.events.find((e) => e.name === "reconnect" && e.at >= restoreAt)?.at ?? null);
    const disconnected = all.filter((p) => p.events.some((e) => e.name === "disconnect" && e.at >= faultAt)).length;
    await sleep(AFTER);
    const { logs, drained } = await stopLoad(cluster);
    // A silent link is noticed up to 2 × publishTimeout after it went silent: what a receiver
    // missed in that time counts against its "disconnect" (the column's parenthesis).
    const silentLink = fault === "stall" || fault === "isolate";
    const report = analyse(cluster, logs, faultAt, restoreAt, silentLink ? 2 * PUBLISH_TIMEOUT + 1000 : undefined);
    return {
      broker: spec.name,
      fault,
      outageMs: restoreAt - faultAt,
      allReconnectedMs: reconnects.length === 0 ? null : reconnects.every((r) => r !== null) ? Math.max(...(reconnects as number[])) - restoreAt : null,
      disconnected,
      processes: all.length,
      drained,
      report,
      loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    };
  } finally {
    // Whatever happened, the broker is running again before anything else.
    if (killed) await startBroker(spec).catch((err: unknown) => console.error(String(err)));
    await cluster.close();
    await proxy.close();
    await own?.close();
  }
}

function sum<T>(items: T[], f: (t: T) => number): number {
  return items.reduce((a, t) => a + f(t), 0);
}

const ms = (v: number | null) => (v === null ? "never" : `${(v / 1000).toFixed(1)} s`);

function table(runs: Run[]): string {
  const lines: string[] = [];
  lines.push("### Numbered room broadcasts (per source: 3 servers, the emitter)", "");
  lines.push("| broker | fault | outage | source | sent | reported lost by sender | deliveries expected | delivered | missing: sender reported | missing: receiver's disconnect window (before its disconnect) | silent | duplicates | first cross-server delivery after restore | all delivered from | RSS start → max |");
  lines.push("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const run of runs) {
    for (const s of run.report.streams) {
      lines.push(
        `| ${run.broker} | ${run.fault} | ${ms(run.outageMs)} | ${s.source}${s.crashed ? " (crashed)" : ""} | ${s.sent} | ${s.reportedLost}${s.reportedButDelivered ? ` (${s.reportedButDelivered} delivered anyway)` : ""} | ${s.expected} | ${s.delivered} | ${s.missingReportedBySender} | ${s.missingReceiverOutage} (${s.missingInFlight}) | ${s.missingSilent} | ${s.duplicates} | ${ms(s.firstDeliveryAfterRestore)} | ${ms(s.completeAfterRestore)} | ${s.rssStartMB} → ${s.rssMaxMB} MB |`,
      );
    }
  }
  lines.push("", "### call() (servers: to the clients of the next server; the emitter: to every client)", "");
  lines.push("| broker | fault | caller | calls | ok | rejected at once (broker error) | ACK_TIMEOUT | wrong | hung | duplicated requests | most pending | first ok after restore |");
  lines.push("|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const run of runs) {
    for (const c of run.report.calls) {
      lines.push(`| ${run.broker} | ${run.fault} | ${c.caller} | ${c.calls} | ${c.ok} | ${c.rejected} | ${c.timeout} | ${c.wrong} | ${c.pending} | ${c.duplicates} | ${c.pendingMax} | ${ms(c.firstOkAfterRestore)} |`);
    }
  }
  lines.push("", "### Recovery and other reports", "");
  lines.push("| broker | fault | outage | processes that reported \"disconnect\" | all of them reconnected after restore | markers drained | other failure reports (stage/operation: count) |");
  lines.push("|---|---|---|---|---|---|---|");
  for (const run of runs) {
    const other = Object.entries(run.report.otherReports).map(([k, v]) => `${k}: ${v}`).join(", ") || "none";
    lines.push(`| ${run.broker} | ${run.fault} | ${ms(run.outageMs)} | ${run.disconnected} of ${run.processes} | ${run.disconnected === 0 ? "-" : ms(run.allReconnectedMs)} | ${run.drained ? "yes" : "NO"} | ${other} |`);
  }
  const silent = sum(runs, (r) => sum(r.report.streams, (s) => s.missingSilent));
  const dup = sum(runs, (r) => sum(r.report.streams, (s) => s.duplicates) + sum(r.report.calls, (c) => c.duplicates));
  const hung = sum(runs, (r) => sum(r.report.calls, (c) => c.pending));
  lines.push("", `Totals: ${silent} silent losses, ${dup} duplicates, ${hung} hung calls.`);
  const samples = runs.flatMap((r) => r.report.streams.flatMap((s) => s.silentSamples.map((x) => `${r.broker} ${r.fault}: ${x}`)));
  if (samples.length > 0) lines.push("", "Silent losses (samples):", "", ...samples.map((s) => `- ${s}`));
  return lines.join("\n");
}

function commit(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

async function main(): Promise<void> {
  // Every broker is up before anything starts (an earlier run may have died between kill and start).
  for (const kind of ["redis", "amqp", "nats"] as const) await startBroker(BROKERS[kind]);
  const started = new Date();
  const runs: Run[] = [];
  for (const kind of brokers) {
    const spec = BROKERS[kind];
    if (spec === undefined) throw new Error(`unknown broker ${kind} (redis, amqp, nats)`);
    for (const fault of faults) {
      console.log(`${spec.name}: ${fault}`);
      const run = await runFault(spec, fault);
      runs.push(run);
      const silent = sum(run.report.streams, (s) => s.missingSilent);
      console.log(`  done: ${silent} silent losses, reconnected ${ms(run.allReconnectedMs)} after restore`);
    }
  }
  const stamp = started.toISOString().replace(/:/g, "-").replace(/\.\d+Z$/, "Z");
  const dir = join(BENCH_DIR, "results");
  mkdirSync(dir, { recursive: true });
  const settings = { cut: CUT, down: DOWN, servers: SERVERS, perServer: PER_SERVER, ...timing, warmup: WARMUP, after: AFTER, fastBackoff: FAST };
  writeFileSync(join(dir, `faults-${stamp}.json`), JSON.stringify({ started: started.toISOString(), commit: commit(), settings, runs }, null, 1) + "\n");
  const header = [
    "# Broker faults under load",
    "",
    `Measured ${started.toISOString()} on commit ${commit()}, ${cpus().length} cores (shared with other work; load average after each run: ${runs.map((r) => r.loadavg[0]).join(", ")}).`,
    `Command: \`npm run faults${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}\`; raw figures in \`faults-${stamp}.json\`. Method: docs/reliability/broker-faults.md.`,
    "",
    `${SERVERS} sockjet servers (the managers' default reconnect backoff${FAST ? ", capped at 1 s" : ""}) and one write-only Emitter process through a TCP proxy in front of the broker; ${PER_SERVER} socket.io-client v4 clients per server, all in one room. ` +
      `Every server and the emitter broadcast a numbered message to the room every ${timing.period} ms and call() a client every ${timing.callPeriod} ms (timeout ${timing.callTimeout} ms). ` +
      `Fault after ${WARMUP / 1000} s of load; load continues through it and for ${AFTER / 1000} s after every process has reconnected. cut = the proxy drops every connection for ${CUT / 1000} s; stall = the proxy forwards nothing for ${CUT / 1000} s, connections stay open; isolate = the same for server 0's link only; kill = SIGKILL to the broker, started again ${DOWN / 1000} s later.`,
    "",
    `A delivery is a (message, client) pair. A missing one is *sender reported* when the sender's manager emitted \`"error"\` (stage \`publish\`) for that message or the emitter's \`emit\` rejected; *receiver's disconnect window* when the client's server had reported \`"disconnect"\` and not yet \`"reconnect"\` when it was sent (in parentheses: sent before that \`"disconnect"\`: at most 1 s before, in flight when the link went; for a silent link (stall, isolate) at most ${(2 * PUBLISH_TIMEOUT + 1000) / 1000} s before, the time the driver takes to notice); *silent* otherwise. Times are from the restore (the proxy letting connections through, or the broker's port accepting again).`,
    "",
  ];
  writeFileSync(join(dir, "faults-latest.md"), header.join("\n") + "\n" + table(runs) + "\n");
  console.log(table(runs));
}

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    console.error(err);
    for (const kind of ["redis", "amqp", "nats"] as const) await startBroker(BROKERS[kind]).catch(() => {});
    process.exit(1);
  },
);
