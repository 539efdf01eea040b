// Coverage-guided fuzzing of every decoder that reads network or broker input (`npm run fuzz`).
//
// Each fuzz/targets/<name>.ts exports `fuzz(buf)`, which feeds the bytes to its decoders and
// throws only when a decoder breaks its documented contract. The target is bundled with esbuild
// into one CommonJS file (jsfuzz instruments the files it `require`s with istanbul, and cannot
// load TypeScript or ES modules), then jsfuzz mutates inputs for `--time` seconds, starting from
// the committed seeds in fuzz/corpus/<name>/. Why jsfuzz and not Jazzer.js: see
// docs/reliability/fuzzing.md.
//
// jsfuzz runs until it is stopped and reports a crash (an exception: it writes `crash-<sha256>`
// and exits 1), a hang (no answer for `--timeout` seconds: it kills its worker, writes the input
// and exits 1) and a worker past `--rss-limit-mb` (killed, the same). We stop it with SIGINT,
// on which its worker exits cleanly; the target's harness then writes its exact execution count,
// and the worker its istanbul coverage (.nyc_output/cov.json).
//
// Usage: node scripts/fuzz.mjs [--time 60] [--timeout 10] [--rss-limit-mb 1024] [--targets a,b]
//        [--results fuzz/results.md]
// Exits 1 when any target crashed, hung or ran out of memory; crashing inputs are copied to
// fuzz/crashes/<target>-<sha256> (printed in hex), with the target's jsfuzz log as
// fuzz/crashes/<target>.log.

import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";

const ROOT = resolve(import.meta.dirname, "..");
const TARGETS_DIR = join(ROOT, "fuzz", "targets");
const CORPUS_DIR = join(ROOT, "fuzz", "corpus");
const CRASH_DIR = join(ROOT, "fuzz", "crashes");
const JSFUZZ = join(ROOT, "node_modules", "jsfuzz", "build", "src", "index.js");

/** What each target feeds (the results table's second column). */
const DESCRIPTIONS = {
  "engine-v4": "Engine.IO v4 frames, payloads, polling POST bodies",
  "engine-v3": "Engine.IO v3 frames, text / XHR2 binary payloads, JSONP bodies and responses",
  socketio: "Socket.IO Decoder: text packets and binary attachments in sequence",
  http: "query string, Origin/Host vs. every cors.origin form, packed headers, static-file paths",
  envelope: "cluster envelope (header JSON, attachments)",
  pickle: "restricted pickle decoder",
  "python-message": "python-socketio messages (pickle and JSON)",
};

function parseArgs(argv) {
  const options = { time: 60, timeout: 10, rssLimitMb: 1024, targets: null, results: join(ROOT, "fuzz", "results.md") };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--time") options.time = Number(value());
    else if (arg === "--timeout") options.timeout = Number(value());
    else if (arg === "--rss-limit-mb") options.rssLimitMb = Number(value());
    else if (arg === "--targets") options.targets = value().split(",").filter(Boolean);
    else if (arg === "--results") options.results = resolve(value());
    else throw new Error(`unknown argument ${arg} (use --time, --timeout, --rss-limit-mb, --targets, --results)`);
  }
  for (const key of ["time", "timeout", "rssLimitMb"]) {
    if (!(Number.isFinite(options[key]) && options[key] > 0)) throw new Error(`--${key} must be a positive number`);
  }
  return options;
}

function allTargets() {
  return readdirSync(TARGETS_DIR)
    .filter((f) => f.endsWith(".ts") && f !== "harness.ts")
    .map((f) => f.slice(0, -3))
    .sort();
}

async function bundle(name, dir) {
  const outfile = join(dir, "target.cjs");
  await build({
    entryPoints: [join(TARGETS_DIR, `${name}.ts`)],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    outfile,
    logLevel: "error",
  });
  return "target.cjs";
}

/** Covered / total statements and branches of the instrumented bundle, from the worker's dump. */
function coverageOf(dir) {
  const file = join(dir, ".nyc_output", "cov.json");
  if (!existsSync(file)) return null;
  const map = JSON.parse(readFileSync(file, "utf8"));
  let statements = 0;
  let coveredStatements = 0;
  let branches = 0;
  let coveredBranches = 0;
  for (const entry of Object.values(map)) {
    for (const hits of Object.values(entry.s)) {
      statements++;
      if (hits > 0) coveredStatements++;
    }
    for (const hits of Object.values(entry.b)) {
      for (const h of hits) {
        branches++;
        if (h > 0) coveredBranches++;
      }
    }
  }
  return { statements, coveredStatements, branches, coveredBranches };
}

function runTarget(name, options, workDir) {
  return new Promise((resolvePromise) => {
    const dir = join(workDir, name);
    mkdirSync(join(dir, "corpus"), { recursive: true });
    const statsFile = join(dir, "stats.json");
    const seeds = join(CORPUS_DIR, name);
    bundle(name, dir).then(
      (targetFile) => {
        const seedCount = existsSync(seeds) ? readdirSync(seeds).length : 0;
        // The working corpus comes first: jsfuzz writes new inputs to its first directory, and the
        // committed seeds must stay as they are.
        const args = [JSFUZZ, targetFile, "corpus", ...(seedCount > 0 ? [seeds] : [])];
        args.push("--timeout", String(options.timeout), "--rss-limit-mb", String(options.rssLimitMb));
        const started = Date.now();
        const child = spawn(process.execPath, args, {
          cwd: dir,
          detached: true, // its own process group: SIGINT reaches the worker too
          env: { ...process.env, FUZZ_STATS: statsFile },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        const onData = (chunk) => {
          output += chunk;
          if (output.length > 4_000_000) output = output.slice(-2_000_000);
        };
        child.stdout.on("data", onData);
        child.stderr.on("data", onData);
        let stopping = false;
        const stop = setTimeout(() => {
          stopping = true;
          try {
            process.kill(-child.pid, "SIGINT");
          } catch {}
        }, options.time * 1000);
        // The worker leaves on its next input after SIGINT; one still busy 60 s later is killed
        // (and the run counts as failed: an input that long is a hang).
        let kill = null;
        const armKill = setTimeout(() => {
          kill = setTimeout(() => {
            try {
              process.kill(-child.pid, "SIGKILL");
            } catch {}
          }, 60_000);
        }, options.time * 1000);
        child.on("exit", (code, signal) => {
          clearTimeout(stop);
          clearTimeout(armKill);
          if (kill) clearTimeout(kill);
          const seconds = (Date.now() - started) / 1000;
          const lines = output.split("\n");
          const stats = [...output.matchAll(/^#(\d+) (?:NEW|PULSE)\s+cov: (\d+) corp: (\d+) exec\/s: (\d+)/gm)];
          const last = stats.at(-1);
          let executions = last ? Number(last[1]) : 0;
          if (existsSync(statsFile)) executions = JSON.parse(readFileSync(statsFile, "utf8")).executions;
          const crashFiles = readdirSync(dir).filter((f) => f.startsWith("crash-"));
          const hang = /timeout reached/.test(output);
          const oom = /MEMORY OOM/.test(output);
          const thrown = crashFiles.length > 0 && !hang && !oom;
          // An exit before we stopped it, or a non-zero status, is a failure even without a crash file.
          const early = !stopping;
          const failed = crashFiles.length > 0 || hang || oom || early || (code !== 0 && code !== null) || (signal !== null && signal !== "SIGINT");
          const saved = [];
          if (crashFiles.length > 0) {
            mkdirSync(CRASH_DIR, { recursive: true });
            for (const f of crashFiles) {
              const to = join(CRASH_DIR, `${name}-${f.slice("crash-".length)}`);
              copyFileSync(join(dir, f), to);
              saved.push(to);
            }
          }
          if (failed) {
            // The whole jsfuzz log, for the diagnosis.
            mkdirSync(CRASH_DIR, { recursive: true });
            const log = join(CRASH_DIR, `${name}.log`);
            writeFileSync(log, output);
            saved.push(log);
          }
          const errorLines = failed ? lines.filter((l) => /Error|crash|timeout|OOM|Worker/.test(l)).slice(0, 30) : [];
          if (failed) {
            if (errorLines.length === 0) errorLines.push(...lines.slice(-12));
            errorLines.push(`jsfuzz exit code ${code}, signal ${signal}${early ? ", ended before its time was up" : ""}`);
          }
          resolvePromise({
            name,
            seconds,
            executions,
            coverageUnits: last ? Number(last[2]) : 0,
            corpus: last ? Number(last[3]) : seedCount,
            seeds: seedCount,
            coverage: coverageOf(dir),
            crashes: thrown ? crashFiles.length : 0,
            hang,
            oom,
            early,
            failed,
            saved,
            errorLines,
            code,
            signal,
          });
        });
      },
      (error) => resolvePromise({ name, failed: true, buildError: String(error), seconds: 0, executions: 0, saved: [], errorLines: [] }),
    );
  });
}

function percent(part, whole) {
  return whole === 0 ? "–" : `${((100 * part) / whole).toFixed(1)}% (${part}/${whole})`;
}

function resultsMarkdown(results, options, context) {
  const rows = results.map((r) => {
    const verdict = r.buildError
      ? "build failed"
      : r.failed
        ? [r.crashes ? `${r.crashes} crash(es)` : "", r.hang ? "hang" : "", r.oom ? "out of memory" : "", r.early && !r.crashes && !r.hang && !r.oom ? "stopped early" : ""].filter(Boolean).join(", ") || "failed"
        : "0 crashes, 0 hangs";
    const c = r.coverage;
    return `| \`${r.name}\` | ${DESCRIPTIONS[r.name] ?? ""} | ${r.seconds.toFixed(0)} | ${r.executions.toLocaleString("en-US")} | ${r.seconds > 0 ? Math.round(r.executions / r.seconds) : 0} | ${r.coverageUnits ?? "–"} | ${c ? percent(c.coveredStatements, c.statements) : "–"} | ${c ? percent(c.coveredBranches, c.branches) : "–"} | ${r.seeds ?? 0} → ${r.corpus ?? 0} | ${verdict} |`;
  });
  const total = results.reduce((sum, r) => sum + r.executions, 0);
  return [
    "# Fuzzing results",
    "",
    `Written by \`npm run fuzz\` (scripts/fuzz.mjs); method and targets in docs/reliability/fuzzing.md.`,
    "",
    `- Date: ${context.date}`,
    `- Command: \`${context.command}\``,
    `- Per target: ${options.time} s of jsfuzz 1.0.15 (one worker), a hang is an input taking over ${options.timeout} s, memory limit ${options.rssLimitMb} MB`,
    `- Machine: ${context.cpus} cores, shared with other jobs; load average ${context.loadBefore} at the start, ${context.loadAfter} at the end; Node ${process.version}`,
    `- Inputs executed in all: ${total.toLocaleString("en-US")}; result: ${results.some((r) => r.failed) ? "**FAILURES** (see below)" : "0 crashes, 0 hangs, 0 out-of-memory"}`,
    "",
    "| target | decoders | s | inputs executed | inputs/s | jsfuzz cov | statements covered | branches covered | corpus (seeds → end) | result |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    "`jsfuzz cov` is jsfuzz's own count (covered statements + functions + branch arms, the signal it",
    "keeps inputs for). The two percentages are istanbul's, over the whole esbuild bundle of the target:",
    "the decoders plus the target's own checks, tree-shaken to what the target reaches; paths that only",
    "a valid-looking input reaches (round trips) count too.",
    ...results
      .filter((r) => r.failed)
      .flatMap((r) => ["", `## ${r.name}: failure`, "", ...(r.saved.length ? [`Inputs and log: ${r.saved.map((s) => `\`${s.slice(ROOT.length + 1)}\``).join(", ")}`, ""] : []), "```", ...(r.buildError ? [r.buildError] : r.errorLines), "```"]),
    "",
  ].join("\n");
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const known = allTargets();
  const targets = options.targets ?? known;
  for (const t of targets) if (!known.includes(t)) throw new Error(`no fuzz target ${t} (have: ${known.join(", ")})`);
  const context = {
    date: new Date().toISOString(),
    command: `npm run fuzz -- ${process.argv.slice(2).join(" ")}`.trim().replace(/ --$/, ""),
    cpus: availableParallelism(),
    loadBefore: loadavg().map((l) => l.toFixed(2)).join(" "),
    loadAfter: "",
  };
  const workDir = mkdtempSync(join(tmpdir(), "sockjet-fuzz-"));
  const results = [];
  try {
    for (const name of targets) {
      process.stdout.write(`fuzz ${name}: ${options.time} s ... `);
      const result = await runTarget(name, options, workDir);
      results.push(result);
      console.log(result.failed ? `FAILED ${result.buildError ?? ""}` : `${result.executions} inputs, no crash`);
      for (const line of result.errorLines) console.log(`  ${line}`);
      for (const file of result.saved) {
        if (file.endsWith(".log")) {
          console.log(`  jsfuzz log saved to ${file}`);
          continue;
        }
        const bytes = readFileSync(file);
        console.log(`  input saved to ${file}${bytes.length <= 512 ? ` (hex ${bytes.toString("hex")})` : ""}`);
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  context.loadAfter = loadavg().map((l) => l.toFixed(2)).join(" ");
  writeFileSync(options.results, resultsMarkdown(results, options, context));
  console.log(`results written to ${options.results}`);
  process.exit(results.some((r) => r.failed) ? 1 : 0);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
