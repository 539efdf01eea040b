// Before/after: one server kind from two (or more) checkouts of the repository, measured by this
// checkout's load generator, runs INTERLEAVED so that a machine shared with other work loads both
// sides alike: for each pair and scenario, one run of every side, the order of the sides rotated
// from one pair to the next. Each run is a fresh server process, pinned and measured as in
// bench/run.ts. Prints and writes (--out DIR) the median, the range and every sample per side, the
// ratio of each side's median to the first side's, and the load average around each run.
//
//   git worktree add --detach /tmp/before <commit>; ln -s "$PWD/node_modules" /tmp/before/node_modules
//   node --import tsx bench/tools/compare-trees.ts --side before=/tmp/before --side after=/tmp/after \
//        [--side after-eio3=/tmp/after:BENCH_ALLOW_EIO3=1] [--runtime node] [--server sockjet] \
//        [--scenarios fanout-burst,fanout-paced,echo,connect,memory-ws,memory-polling] [--pairs 3]
//        [--echo-seconds N] [--out DIR]
//   node --import tsx bench/tools/compare-trees.ts --report DIR/compare-....json   (the table again)
//
// Beside each CPU figure (/proc/<pid>/stat, 10 ms ticks) the table has its schedstat counterpart
// (nanoseconds, all live threads): over the short windows of fanout-burst (about 0.1 s of server
// CPU) the ticks alone cannot tell 0.6 from 0.7 µs.
//
// A side is LABEL=DIR[:NAME=VALUE,...]: the checkout whose bench/servers script (and so whose src/)
// runs, and extra environment for its server. The scenario parameters are the full run's (lib/params.ts).

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { detectPinning, runLoad, startServer, stopProcess, type ServerName } from "../lib/processes.js";
import { FULL_PARAMS } from "../lib/params.js";
import { METRICS, median } from "../lib/report.js";
import type { RuntimeName } from "../lib/runtimes.js";
import { serverEnv, type Figures, type ScenarioName } from "../load/scenarios.js";

const argv = process.argv.slice(2);
function options(name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length - 1; i++) if (argv[i] === `--${name}`) out.push(argv[i + 1]!);
  return out;
}
const option = (name: string) => options(name)[0];

interface Side {
  label: string;
  dir: string;
  env: Record<string, string>;
}

interface Sample {
  pair: number;
  scenario: ScenarioName;
  side: string;
  figures: Figures;
  errors: string[];
  /** 1-minute load average before and after the run. */
  load: [number, number];
}

interface Saved {
  runtime: RuntimeName;
  server: ServerName;
  pairs: number;
  sides: Side[];
  scenarios: ScenarioName[];
  pinning: string;
  samples: Sample[];
}

const reportFrom = option("report");
if (reportFrom !== undefined) {
  process.stdout.write(table(JSON.parse(readFileSync(reportFrom, "utf8")) as Saved));
  process.exit(0);
}

const sides: Side[] = options("side").map((spec) => {
  const m = /^([^=]+)=([^:]+)(?::(.*))?$/.exec(spec);
  if (m === null) throw new Error(`bad --side ${spec} (LABEL=DIR[:NAME=VALUE,...])`);
  const env = Object.fromEntries((m[3] ?? "").split(",").filter(Boolean).map((kv) => kv.split("=", 2) as [string, string]));
  return { label: m[1]!, dir: m[2]!, env };
});
if (sides.length < 2) throw new Error("give at least two --side LABEL=DIR");
const runtime = (option("runtime") ?? "node") as RuntimeName;
const server = (option("server") ?? "sockjet") as ServerName;
const pairs = Number(option("pairs") ?? 3);
const scenarios = (option("scenarios") ?? "fanout-burst,fanout-paced,echo,connect,memory-ws,memory-polling").split(",") as ScenarioName[];
const outDir = option("out");

const echoSeconds = option("echo-seconds");
const PARAMS = { ...FULL_PARAMS, ...(echoSeconds === undefined ? {} : { echo: { ...FULL_PARAMS.echo, seconds: Number(echoSeconds) } }) };

const pinning = detectPinning(true);
const samples: Sample[] = [];
const log = (text: string) => process.stdout.write(text);
log(`compare-trees: ${server} on ${runtime}, ${pairs} pair(s), sides ${sides.map((s) => `${s.label}=${s.dir}`).join(", ")}; ${pinning.note}\n`);

for (let pair = 1; pair <= pairs; pair++) {
  for (let j = 0; j < scenarios.length; j++) {
    const scenario = scenarios[j]!;
    const shift = (pair - 1 + j) % sides.length;
    for (const side of [...sides.slice(shift), ...sides.slice(0, shift)]) {
      const before = loadavg()[0]!;
      log(`pair ${pair}/${pairs} ${scenario.padEnd(18)} ${side.label.padEnd(12)} `);
      let figures: Figures = {};
      let errors: string[] = [];
      try {
        const env = { ...serverEnv(scenario), ...side.env };
        const srv = await startServer(server, { cpuList: pinning.server, runtime, rootDir: side.dir, env });
        try {
          const load = await runLoad(scenario, srv, PARAMS[scenario] ?? {}, pinning.load, 15 * 60_000);
          figures = load.result.figures;
          errors = load.result.errors;
          await srv.stop();
          await stopProcess(load.child, 0);
        } finally {
          await srv.stop();
        }
      } catch (err) {
        errors = [err instanceof Error ? err.message : String(err)];
      }
      const sample: Sample = { pair, scenario, side: side.label, figures, errors, load: [before, loadavg()[0]!] };
      samples.push(sample);
      const shown = METRICS.filter((m) => m.scenario === scenario)
        .map((m) => `${m.figure}=${(Number(figures[m.figure] ?? NaN) / m.scale).toFixed(2)}`)
        .join(" ");
      log(`${errors.length > 0 ? `ERROR ${errors.slice(0, 2).join("; ")}` : shown} (load ${before.toFixed(2)})\n`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

const saved: Saved = { runtime, server, pairs, sides, scenarios, pinning: pinning.note, samples };
const md = table(saved);
log("\n" + md);
if (outDir !== undefined) {
  mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
  writeFileSync(join(outDir, `compare-${runtime}-${server}-${stamp}.json`), JSON.stringify({ ...saved, params: PARAMS }, null, 2) + "\n");
  writeFileSync(join(outDir, `compare-${runtime}-${server}-${stamp}.md`), md);
}
const failed = samples.filter((s) => s.errors.length > 0);
if (failed.length > 0) process.exitCode = 1;

function fmt(x: number, decimals: number): string {
  return Number.isFinite(x) ? x.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals }) : "—";
}

/** Medians, ranges and samples per side, each side's median ÷ the first side's, and the load average. */
function table(saved: Saved): string {
  const { sides, samples, scenarios } = saved;
  // The schedstat counterpart of a /proc/stat CPU figure, where the scenario records one.
  const SCHED: Record<string, string> = { cpuUsPerDelivery: "schedUsPerDelivery", cpuUsPerAck: "schedUsPerAck", cpuUsPerConnection: "schedUsPerConnection" };
  const lines: string[] = [];
  const loads = samples.flatMap((s) => s.load);
  lines.push(
    `# ${saved.server} on ${saved.runtime}: ${sides.map((s) => s.label).join(" vs ")}, ${saved.pairs} interleaved pair(s)`,
    "",
    `Sides: ${sides.map((s) => `${s.label} = \`${s.dir}\`${Object.keys(s.env).length > 0 ? ` with ${Object.entries(s.env).map(([k, v]) => `${k}=${v}`).join(" ")}` : ""}`).join("; ")}. ${saved.pinning}.`,
    `1-minute load average around the runs: median ${fmt(median(loads), 2)}, ${fmt(Math.min(...loads), 2)}–${fmt(Math.max(...loads), 2)}.`,
    "",
    `| figure | ${sides.map((s) => `${s.label}: median (min–max)`).join(" | ")} | ${sides.slice(1).map((s) => `${s.label} ÷ ${sides[0]!.label}`).join(" | ")} | samples |`,
    `|---|${sides.map(() => "--:|").join("")}${sides.slice(1).map(() => "--:|").join("")}---|`,
  );
  const row = (scenario: ScenarioName, figure: string, label: string, scale: number, decimals: number) => {
    const per = sides.map((side) =>
      samples
        .filter((s) => s.scenario === scenario && s.side === side.label && s.errors.length === 0)
        .map((s) => Number(s.figures[figure]) / scale)
        .filter((x) => Number.isFinite(x)),
    );
    const medians = per.map((v) => median(v));
    const cells = per.map((v, i) => (v.length === 0 ? "—" : `${fmt(medians[i]!, decimals)} (${fmt(Math.min(...v), decimals)}–${fmt(Math.max(...v), decimals)})`));
    const ratios = medians.slice(1).map((x) => (Number.isFinite(x / medians[0]!) ? `${(x / medians[0]!).toFixed(3)}×` : "—"));
    const all = per.map((v, i) => `${sides[i]!.label}: ${v.map((x) => fmt(x, decimals)).join(", ")}`).join("; ");
    lines.push(`| ${label} | ${cells.join(" | ")} | ${ratios.join(" | ")} | ${all} |`);
  };
  for (const scenario of scenarios) {
    for (const m of METRICS.filter((x) => x.scenario === scenario)) {
      row(scenario, m.figure, `${m.label} (${m.unit})`, m.scale, m.decimals);
      const sched = SCHED[m.figure];
      if (sched !== undefined) row(scenario, sched, `${m.label}, schedstat (${m.unit})`, m.scale, m.decimals === 1 ? 1 : 3);
    }
  }
  const failed = samples.filter((s) => s.errors.length > 0);
  if (failed.length > 0) {
    lines.push("", "Errors (left out):", "");
    for (const s of failed) lines.push(`- pair ${s.pair}, ${s.scenario}, ${s.side}: ${s.errors.slice(0, 2).join("; ")}`);
  }
  return lines.join("\n") + "\n";
}
