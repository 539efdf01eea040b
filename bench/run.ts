// The benchmark runner (`npm run bench`, `npm run bench:quick`). For each run, each scenario and
// each server (interleaved, order rotated from one scenario to the next), it starts a fresh
// server process, runs the scenario from a separate load-generator process, and stops both. It
// writes bench/results/<date>.json, bench/results/latest.md and bench/results/latest.svg
// (quick mode: bench/results/quick/). Every server runs on each runtime of --runtimes (Node, Bun,
// Deno by default) and is compared with the servers of the same runtime only; the load generator
// is always on Node. On Deno, "sockjet" is sockjet on node:http (the default there, as socket.io
// runs there), and `sockjet-deno-serve` the same server on Deno.serve; that kind is Deno's only.
//
//   tsx bench/run.ts [--quick] [--runs N] [--runtimes node,bun,deno] [--scenarios a,b]
//                    [--servers sockjet,socketio,control-ws,sockjet-deno-serve] [--echo-seconds N] [--profile sockjet]
//                    [--no-pin] [--out DIR]
//   tsx bench/run.ts --report bench/results/<date>.json [--out DIR] [--name NAME]
//                    (rebuild latest.md/.svg, or NAME.md/.svg, from saved results, next to the file or into DIR)
//   tsx bench/run.ts --scale [--quick] [--scale-sizes 1000,5000,15000] ...
//                    (the scale curves of issue 14 instead: see bench/scale/run.ts)

import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem, type } from "node:os";
import { dirname, join, relative } from "node:path";
import { cpuModel, packageVersion } from "./lib/machine.js";
import { isMsgpack, needsEio3, serverEnv, type ScenarioName } from "./load/scenarios.js";
import { BENCH_DIR, ROOT_DIR, SERVERS, detectPinning, runLoad, startServer, stopProcess, type ServerName } from "./lib/processes.js";
import { FULL_PARAMS, QUICK_PARAMS } from "./lib/params.js";
import { KINDS_VERSION, markdown, summarizeAll, svgChart, upgradeRecords, METRICS, type Machine, type RunRecord } from "./lib/report.js";
import { RUNTIMES, kindLabel, runsOn, runtimeVersion, type RuntimeName } from "./lib/runtimes.js";

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

// --scale: the scale curves (memory, idle CPU, rooms, connects up to 15,000 clients), a run of its own.
if (flag("scale")) {
  const { runScale } = await import("./scale/run.js");
  process.exit(await runScale(process.argv.slice(2)));
}

// --report FILE.json: rebuild latest.md and latest.svg (next to FILE, or into --out DIR; --name NAME
// writes NAME.md and NAME.svg instead) from a results file, without running anything.
const reportFrom = option("report");
if (reportFrom !== undefined) {
  const saved = JSON.parse(readFileSync(reportFrom, "utf8")) as {
    date: string;
    mode: "full" | "quick";
    runs: number;
    machine: Machine;
    params: Partial<Record<ScenarioName, object>>;
    records: RunRecord[];
    seconds?: number;
    kinds?: number;
  };
  const dir = option("out") ?? dirname(reportFrom);
  mkdirSync(dir, { recursive: true });
  const params = Object.fromEntries(Object.entries(saved.params).filter(([k]) => saved.records.some((r) => r.scenario === k)));
  const name = option("name") ?? "latest";
  const records = upgradeRecords(saved.records, saved.kinds);
  const input = { ...saved, records, params, seconds: saved.seconds ?? NaN, summaries: summarizeAll(records), jsonFile: relative(ROOT_DIR, reportFrom), chartFile: `${name}.svg` };
  writeFileSync(join(dir, `${name}.md`), markdown(input));
  writeFileSync(join(dir, `${name}.svg`), svgChart(input));
  process.stdout.write(markdown(input));
  process.exit(0);
}

const quick = flag("quick");
const runtimes = (option("runtimes")?.split(",") ?? [...RUNTIMES]) as RuntimeName[];
for (const rt of runtimes) if (!RUNTIMES.includes(rt)) throw new Error(`unknown runtime ${rt}`);
// Three runs of one runtime take about 14 minutes on 2 cores; all three runtimes get two runs
// (about 23 minutes) unless --runs says otherwise.
const runs = Number(option("runs") ?? (quick ? 1 : runtimes.length > 1 ? 2 : 3));
const echoSeconds = option("echo-seconds");
const profileServer = option("profile") as ServerName | undefined;

const PARAMS = quick ? { ...QUICK_PARAMS } : { ...FULL_PARAMS };
if (echoSeconds !== undefined) PARAMS.echo = { ...PARAMS.echo, seconds: Number(echoSeconds) };

const DEFAULT_SCENARIOS: ScenarioName[] = ["fanout-burst", "fanout-paced", "fanout-mixed", "fanout-mixed-paced", "echo", "memory-ws", "memory-polling", "connect", "fanout-burst-msgpack", "echo-msgpack"];
const scenarios = (option("scenarios")?.split(",") ?? DEFAULT_SCENARIOS) as ScenarioName[];
const servers = (option("servers")?.split(",") ?? [...SERVERS]) as ServerName[];
for (const s of servers) if (!SERVERS.includes(s)) throw new Error(`unknown server ${s}`);
// The default list holds sockjet-deno-serve, which only Deno runs; one asked for by name must run somewhere.
if (option("servers") !== undefined) {
  for (const s of servers) if (!runtimes.some((rt) => runsOn(s, rt))) throw new Error(`server ${s} runs on none of ${runtimes.join(", ")}`);
}

/**
 * The control speaks WebSocket and Engine.IO v4 only: no polling, no mixed room. socket.io on Bun
 * (@socket.io/bun-engine) refuses every Engine.IO v3 handshake, whatever its options: no mixed room.
 */
function applies(scenario: ScenarioName, server: ServerName, runtime: RuntimeName): boolean {
  // The control speaks no Socket.IO packet format, msgpack included.
  if (server === "control-ws" && (scenario === "memory-polling" || needsEio3(scenario) || isMsgpack(scenario))) return false;
  if (server === "socketio" && runtime === "bun" && needsEio3(scenario)) return false;
  return true;
}

/**
 * The servers of a scenario on a runtime, in an order rotated from one run and scenario to the next.
 * Only the runtime's own kinds take part (sockjet-deno-serve is Deno's only), so Node's and Bun's order is
 * what it was before that kind existed.
 */
function orderOf(runtime: RuntimeName, scenario: ScenarioName, rotation: number): ServerName[] {
  const own = servers.filter((s) => runsOn(s, runtime));
  const shift = rotation % Math.max(1, own.length);
  return [...own.slice(shift), ...own.slice(0, shift)].filter((s) => applies(scenario, s, runtime));
}

const pinning = detectPinning(!flag("no-pin"));
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
const outDir = option("out") ?? join(BENCH_DIR, "results", ...(quick ? ["quick"] : []));
const profileDir = join(BENCH_DIR, "results", "profiles");
mkdirSync(outDir, { recursive: true });
const jsonPath = join(outDir, `${date.replace(/:/g, "-")}.json`);
const records: RunRecord[] = [];

function save(): void {
  const seconds = (Date.now() - started) / 1000;
  writeFileSync(jsonPath, JSON.stringify({ date, mode: quick ? "quick" : "full", kinds: KINDS_VERSION, runs, seconds, machine, params: PARAMS, records, profiled: profileServer ?? null }, null, 2) + "\n");
}

function keepMainProfile(dir: string, target: string): void {
  try {
    // Node names each isolate's profile CPU.<date>.<time>.<pid>.<thread>.<seq>; the main thread is 0.
    // Bun writes one profile per process, Deno one V8 tick log (v8.log).
    const files = readdirSync(dir);
    const main = files.find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f)) ?? files.find((f) => f.endsWith(".cpuprofile") || f === "v8.log");
    if (main !== undefined) renameSync(join(dir, main), target);
    rmSync(dir, { recursive: true, force: true });
  } catch (err) {
    log(`(no profile kept: ${err instanceof Error ? err.message : String(err)}) `);
  }
}

const log = (text: string) => process.stdout.write(text);
log(`sockjet benchmark (${quick ? "quick" : "full"}), ${runs} run(s); ${machine.cpuModel}, ${machine.cores} cores; runtimes ${runtimes.map((rt) => `${rt} ${machine.runtimes?.[rt] ?? "?"}`).join(", ")}; ${pinning.note}\n`);
if (profileServer) log(`profiling ${profileServer} with --cpu-prof into ${relative(ROOT_DIR, profileDir)} (its figures are inflated by the profiler)\n`);

for (let run = 1; run <= runs; run++) {
  for (let j = 0; j < scenarios.length; j++) {
    const scenario = scenarios[j]!;
    for (const runtime of runtimes) for (const server of orderOf(runtime, scenario, run + j)) {
      const t0 = Date.now();
      log(`run ${run}/${runs} ${runtime.padEnd(4)} ${scenario.padEnd(18)} ${kindLabel(runtime, server).padEnd(22)} `);
      // Each isolate writes its own profile (tsx's loader thread too), so each run gets a directory;
      // the main thread's profile (thread id 0 in the default name) is then renamed.
      const runProfileDir = join(profileDir, `${runtime === "node" ? "" : `${runtime}-`}${server}-${scenario}-run${run}`);
      const profiled = profileServer === server;
      let record: RunRecord;
      try {
        // The mixed scenarios' servers accept Engine.IO v3 (allowEIO3), the msgpack scenarios' speak
        // msgpack; every other scenario's are started as before.
        const env = serverEnv(scenario);
        const srv = await startServer(server, { cpuList: pinning.server, runtime, profileDir: profiled ? runProfileDir : null, env });
        try {
          const load = await runLoad(scenario, srv, PARAMS[scenario], pinning.load, 15 * 60_000);
          record = { run, scenario, server, runtime, figures: load.result.figures, errors: load.result.errors };
          // The server goes first, so its side closes the TCP connections (see bench/load/main.ts).
          await srv.stop();
          await stopProcess(load.child, 0);
        } finally {
          await srv.stop();
        }
      } catch (err) {
        record = { run, scenario, server, runtime, figures: {}, errors: [err instanceof Error ? err.message : String(err)] };
      }
      if (profiled) keepMainProfile(runProfileDir, `${runProfileDir}.${runtime === "deno" ? "v8.log" : "cpuprofile"}`);
      records.push(record);
      save();
      const shown = METRICS.filter((m) => m.scenario === scenario)
        .map((m) => `${m.figure}=${Number(record.figures[m.figure] ?? NaN).toFixed(m.decimals === 0 ? 0 : 2)}`)
        .join(" ");
      log(`${record.errors.length > 0 ? `ERROR ${record.errors.slice(0, 2).join("; ")}` : shown} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

const input = {
  date,
  mode: quick ? ("quick" as const) : ("full" as const),
  runs,
  seconds: (Date.now() - started) / 1000,
  machine,
  params: Object.fromEntries(scenarios.map((s) => [s, PARAMS[s]])),
  records,
  summaries: summarizeAll(records),
  jsonFile: relative(ROOT_DIR, jsonPath),
};
save();
const md = markdown(input);
writeFileSync(join(outDir, "latest.md"), md);
writeFileSync(join(outDir, "latest.svg"), svgChart(input));
log("\n" + md);
log(`\nwrote ${relative(ROOT_DIR, jsonPath)}, ${relative(ROOT_DIR, join(outDir, "latest.md"))}, ${relative(ROOT_DIR, join(outDir, "latest.svg"))}\n`);
if (records.some((r) => r.errors.length > 0)) process.exitCode = 1;
