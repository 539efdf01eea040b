// `npm run soak -- [--runtime node|bun|deno] [--cycles 10000] [--minutes 10] [--concurrency 16]
//                  [--clients 50] [--out bench/results/soak-latest.md]`
// Runs the churn soak (bench/soak/soak.ts) and writes its report as markdown (and the raw figures
// as JSON beside it). Exits 1 when any figure is beyond its margin.

import { writeFileSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { cpus, loadavg } from "node:os";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { RUNTIMES, runtimeVersion, type RuntimeName } from "../lib/runtimes.js";
import { FULL_MARGINS, runSoak, type SoakReport } from "./soak.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
function number(name: string, fallback: number): number {
  const value = Number(option(name, String(fallback)));
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`--${name} must be a non-negative number`);
  return value;
}

const runtime = option("runtime", "node") as RuntimeName;
if (!RUNTIMES.includes(runtime)) throw new RangeError(`--runtime must be one of ${RUNTIMES.join(", ")}`);
const out = resolve(ROOT, option("out", "bench/results/soak-latest.md"));
const loadBefore = loadavg();

const report = await runSoak({
  runtime,
  cycles: number("cycles", 10_000),
  concurrency: number("concurrency", 16),
  mixedMs: number("minutes", 10) * 60_000,
  mixedClients: number("clients", 50),
  warmupCycles: number("warmup-cycles", 300),
  warmupMixedMs: number("warmup-seconds", 10) * 1000,
  margins: FULL_MARGINS,
  settleMs: 60_000,
  seed: number("seed", 1),
  log: (line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`),
});
const loadAfter = loadavg();

mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, markdown(report));
writeFileSync(out.replace(/\.md$/, ".json"), JSON.stringify({ ...report, stderr: undefined }, null, 2) + "\n");
console.log(`${report.ok ? "PASS" : "FAIL"}: report in ${out}`);
for (const c of report.checks) if (!c.ok) console.log(`  beyond margin: ${c.what}: baseline ${c.baseline}, final ${c.final}, allowed ${c.allowed}`);
process.exit(report.ok ? 0 : 1);

function markdown(r: SoakReport): string {
  const MiB = (n: number) => (n / 2 ** 20).toFixed(2);
  const commit = (() => {
    try {
      return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    } catch {
      return "unknown";
    }
  })();
  const o = r.options;
  const counts = (label: string, c: SoakReport["churn"]) =>
    `| ${label} | ${c.cycles} | ${c.byMode.websocket} / ${c.byMode.polling} / ${c.byMode["polling+upgrade"]} | ${Object.entries(c.byEnding)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")} | ${c.acks} | ${c.eventsReceived} | ${Object.entries(c.errors).map(([k, v]) => `${k} ×${v}`).join("; ") || "none"} |`;
  const row = (label: string, s: SoakReport["baseline"]) =>
    `| ${label} | ${MiB(s.heapUsed)} | ${MiB(s.heapTotal)} | ${MiB(s.rss)} | ${MiB(s.external)} | ${s.fds} | ${s.timers} | ${s.sessions} | ${s.namespaces} | ${s.activeResources === null ? "—" : (s.activeResources.Timeout ?? 0)} |`;
  const every = Math.max(1, Math.ceil(r.samples.length / 20));
  return [
    `# Churn soak: ${r.ok ? "PASS" : "FAIL"}`,
    "",
    `Started ${r.startedAt}, commit ${commit}, ${o.runtime} ${runtimeVersion(ROOT, o.runtime)}, ${cpus().length} cores (shared with other work: load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")} before, ${loadAfter.map((l) => l.toFixed(2)).join(" ")} after).`,
    "",
    `Command: \`npm run soak -- --runtime ${o.runtime} --cycles ${o.cycles} --minutes ${o.mixedMs / 60_000} --concurrency ${o.concurrency} --clients ${o.mixedClients}\``,
    "",
    `Server: bench/soak/server.ts in its own process (pingInterval 5 s, pingTimeout 20 s); clients: socket.io-client v4 in the driver process. Warm-up before the baseline: ${o.warmupCycles} cycles and ${o.warmupMixedMs / 1000} s of mixed load. Every figure below is read after forced garbage collection, once the server holds no session (settled ${r.settleAfterChurnMs} ms after the churn, ${r.settleAfterMixedMs} ms after the mixed load).`,
    "",
    "## Verdict",
    "",
    "| figure | baseline | final | allowed | |",
    "|---|---|---|---|---|",
    ...r.checks.map((c) => `| ${c.what} | ${c.what.includes("bytes") ? MiB(c.baseline) + " MiB" : c.baseline} | ${c.what.includes("bytes") ? MiB(c.final) + " MiB" : c.final} | ${c.allowed} | ${c.ok ? "ok" : "**beyond**"} |`),
    "",
    "## Server state",
    "",
    "| when | heap used MiB | heap total MiB | RSS MiB | external MiB | fds | timer entries | sessions | namespaces | Node Timeouts |",
    "|---|---|---|---|---|---|---|---|---|---|",
    row("baseline", r.baseline),
    row("after churn", r.afterChurn),
    row("final", r.final),
    "",
    `Peak RSS sampled during the load: ${MiB(r.peak.rss)} MiB with ${r.peak.sessions} sessions at ${(r.peak.atMs / 1000).toFixed(0)} s.`,
    "",
    "## Load",
    "",
    `Churn: ${(r.churnMs / 1000).toFixed(1)} s (${(r.churn.cycles / (r.churnMs / 1000)).toFixed(0)} cycles/s, ${o.concurrency} in parallel). Mixed: ${(r.mixedMs / 1000).toFixed(0)} s, ${o.mixedClients} concurrent clients.`,
    "",
    "| phase | connections | websocket / polling / polling+upgrade | endings | acks | events received | client-side failures |",
    "|---|---|---|---|---|---|---|",
    counts("churn", r.churn),
    counts("mixed", r.mixed),
    "",
    `Disconnect reasons the server's handlers received (warm-up, churn and mixed load): ${Object.entries(r.final.disconnectReasons).map(([k, v]) => `${k} ${v}`).join(", ")}.`,
    "",
    `Server \`call()\`s to clients during the mixed load: ${r.final.calls.answered} answered, ${r.final.calls.timedOut} timed out (clients ignore one question in four), ${r.final.calls.otherErrors} other errors.`,
    "",
    "## Samples during the load (no forced GC)",
    "",
    "Timer entries track sessions (one heartbeat entry per session, plus connect, upgrade and ack timeouts while they run); they never grow on their own.",
    "",
    "| s | sessions | timer entries | heap used MiB | RSS MiB | fds |",
    "|---|---|---|---|---|---|",
    ...r.samples.filter((_, i) => i % every === 0).map((s) => `| ${(s.atMs / 1000).toFixed(0)} | ${s.sessions} | ${s.timers} | ${MiB(s.heapUsed)} | ${MiB(s.rss)} | ${s.fds} |`),
    "",
    "## Server warnings and errors logged",
    "",
    Object.keys(r.final.logged).length === 0 ? "None." : Object.entries(r.final.logged).map(([k, v]) => `- ${k} ×${v}`).join("\n"),
    "",
    r.final.failureMessages.length === 0 ? "" : ["## Failures", "", "```", ...r.final.failureMessages, "```", ""].join("\n"),
  ].join("\n");
}
