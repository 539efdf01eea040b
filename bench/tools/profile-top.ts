// Summarises a V8 .cpuprofile (from `npm run bench -- --profile sockjet`, which runs the server
// with --cpu-prof): the functions with the most self time and the most total (inclusive) time.
// --from/--to (CLOCK_MONOTONIC µs, the windowStartMonoUs/windowEndMonoUs figures the load
// generator records) keep only the samples of a measured window.
//
//   node --import tsx bench/tools/profile-top.ts FILE.cpuprofile [--from US --to US] [--top 25]
//   node --import tsx bench/tools/profile-top.ts FILE.cpuprofile --results RESULTS.json   (window looked up by file name)

import { readFileSync } from "node:fs";
import { basename } from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const file = process.argv[2];
if (file === undefined || file.startsWith("--")) {
  console.error("usage: profile-top.ts FILE.cpuprofile [--from US --to US | --results RESULTS.json] [--top N]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
const top = Number(option("top") ?? 25);
let from = option("from") === undefined ? -Infinity : Number(option("from"));
let to = option("to") === undefined ? Infinity : Number(option("to"));

const resultsFile = option("results");
if (resultsFile !== undefined) {
  // Profile names are [<runtime>-]<server>-<scenario>-run<N>.cpuprofile (see bench/run.ts). Bun's
  // profiles count time from the Unix epoch, not CLOCK_MONOTONIC: their window cannot be cut.
  const match = /^(?:(bun)-)?(.+?)-(fanout-burst|fanout-paced|echo|memory-ws|memory-polling|connect)-run(\d+)\.cpuprofile$/.exec(basename(file));
  if (match === null) throw new Error(`cannot tell server/scenario/run from ${basename(file)}`);
  if (match[1] === "bun") throw new Error("Bun's profiles use another clock: run without --results (the whole profile)");
  const results = JSON.parse(readFileSync(resultsFile, "utf8")) as { records: Array<{ run: number; scenario: string; server: string; runtime?: string; figures: Record<string, number> }> };
  const record = results.records.find((r) => (r.runtime ?? "node") === "node" && r.server === match[2] && r.scenario === match[3] && r.run === Number(match[4]));
  if (record?.figures.windowStartMonoUs === undefined) throw new Error("no measured window for this profile in the results");
  from = record.figures.windowStartMonoUs;
  to = record.figures.windowEndMonoUs ?? Infinity;
}

const byId = new Map<number, ProfileNode>();
const parent = new Map<number, number>();
for (const node of profile.nodes) {
  byId.set(node.id, node);
  for (const child of node.children ?? []) parent.set(child, node.id);
}

function key(frame: CallFrame): string {
  const name = frame.functionName || "(anonymous)";
  if (!frame.url) return name;
  const url = frame.url.replace(/^file:\/\//, "").replace(/^.*\/node_modules\//, "~/").replace(/^.*\/(src|bench)\//, "$1/");
  return `${name}  ${url}:${frame.lineNumber + 1}`;
}

const self = new Map<string, number>();
const total = new Map<string, number>();
let inWindow = 0;
let time = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  time += profile.timeDeltas[i] ?? 0;
  if (time < from || time > to) continue;
  const delta = profile.timeDeltas[i + 1] ?? 0;
  if (delta <= 0) continue;
  inWindow += delta;
  let id: number | undefined = profile.samples[i]!;
  const leaf = byId.get(id)!;
  const leafKey = key(leaf.callFrame);
  self.set(leafKey, (self.get(leafKey) ?? 0) + delta);
  const seen = new Set<string>();
  while (id !== undefined) {
    const k = key(byId.get(id)!.callFrame);
    if (!seen.has(k)) {
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + delta);
    }
    id = parent.get(id);
  }
}

function print(title: string, map: Map<string, number>, skip: (k: string) => boolean): void {
  console.log(`\n${title}`);
  const rows = [...map.entries()].filter(([k]) => !skip(k)).sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [k, us] of rows) console.log(`${((us / inWindow) * 100).toFixed(1).padStart(6)}%  ${(us / 1000).toFixed(1).padStart(9)} ms  ${k}`);
}

console.log(`${basename(file)}: ${(inWindow / 1000).toFixed(1)} ms of samples${Number.isFinite(from) ? " in the measured window" : ""}`);
print("self time", self, () => false);
print("total time (inclusive)", total, (k) => k.startsWith("(root)") || k.startsWith("(program)"));
