// Turns the per-run results into the medians, ratios, the Markdown table and the SVG chart.
// No dependencies: the chart is written by hand. Where sockjet also ran on a second server
// (`sockjet-deno-serve`, Deno only), that runtime's table, the Spread table and the chart show it
// beside sockjet on the runtime's default server; results without it come out as before. Files
// saved before node:http became the default on Deno are read through `upgradeRecords`.

import type { Figures, ScenarioName } from "../load/scenarios.js";
import { SERVERS, type ServerName } from "./processes.js";
import { ALT_KIND, ALT_SERVER, CONTROL_NOTES, KIND_LABELS, RUNTIMES, RUNTIME_LABELS, SOCKJET_SERVERS, kindLabel, type RuntimeName } from "./runtimes.js";

/** Column heads of the tables that span runtimes (the runtime column says where "sockjet" ran). */
const SHORT_HEADS: Record<ServerName, string> = { sockjet: "sockjet", [ALT_KIND]: `sockjet (${ALT_SERVER})`, socketio: "socket.io", "control-ws": "control" };

export interface RunRecord {
  run: number;
  scenario: ScenarioName;
  server: ServerName;
  /** The server's runtime; absent in results saved before the runtime dimension (Node). */
  runtime?: RuntimeName;
  figures: Figures;
  errors: string[];
}

export interface Machine {
  cpuModel: string;
  cores: number;
  node: string;
  os: string;
  memoryGB: number;
  loadAverage: number[];
  socketIoVersion: string;
  wsVersion: string;
  pinning: string;
  /** Versions of the runtimes measured (absent in results saved before the runtime dimension). */
  runtimes?: Partial<Record<RuntimeName, string>>;
  bunEngineVersion?: string;
}

/** One row of the table: a figure of a scenario, and the target the issue sets for it. */
export interface Metric {
  id: string;
  scenario: ScenarioName;
  figure: string;
  label: string;
  unit: string;
  /** Divides the stored figure for display (bytes → KB). */
  scale: number;
  decimals: number;
  lowerIsBetter: boolean;
  /** sockjet ÷ socket.io must be at most this on Node (issue 5; lower-is-better figures). */
  target?: number;
  /** sockjet ÷ the same runtime's socket.io must be at most this on Bun and Deno (issue 7; on Deno, for both sockjet kinds). */
  runtimeTargets?: Partial<Record<Exclude<RuntimeName, "node">, number>>;
  /** sockjet ÷ control must be at most this, where the issue also sets one. */
  controlTarget?: number;
  /** Shown in the chart. */
  chart: boolean;
}

export const METRICS: readonly Metric[] = [
  { id: "burst-cpu", scenario: "fanout-burst", figure: "cpuUsPerDelivery", label: "fanout-burst CPU per delivery", unit: "µs", scale: 1, decimals: 2, lowerIsBetter: true, target: 0.3, runtimeTargets: { bun: 0.15 }, chart: true },
  { id: "burst-rate", scenario: "fanout-burst", figure: "deliveriesPerSec", label: "fanout-burst deliveries/s", unit: "/s", scale: 1, decimals: 0, lowerIsBetter: false, chart: false },
  { id: "paced-cpu", scenario: "fanout-paced", figure: "cpuUsPerDelivery", label: "fanout-paced CPU per delivery", unit: "µs", scale: 1, decimals: 2, lowerIsBetter: true, target: 0.75, controlTarget: 1, runtimeTargets: { bun: 0.6, deno: 0.75 }, chart: true },
  { id: "paced-latency", scenario: "fanout-paced", figure: "fullDeliveryP50Ms", label: "fanout-paced time to reach all clients, p50", unit: "ms", scale: 1, decimals: 2, lowerIsBetter: true, chart: false },
  // Mixed room: the same fanouts with half the clients on Engine.IO v3. No target (the Engine.IO v3
  // issue asks for the figure only) and not charted: the ratio to the control does not exist.
  { id: "mixed-burst-cpu", scenario: "fanout-mixed", figure: "cpuUsPerDelivery", label: "fanout-mixed (v3 + v4) CPU per delivery", unit: "µs", scale: 1, decimals: 2, lowerIsBetter: true, chart: false },
  { id: "mixed-burst-rate", scenario: "fanout-mixed", figure: "deliveriesPerSec", label: "fanout-mixed (v3 + v4) deliveries/s", unit: "/s", scale: 1, decimals: 0, lowerIsBetter: false, chart: false },
  { id: "mixed-paced-cpu", scenario: "fanout-mixed-paced", figure: "cpuUsPerDelivery", label: "fanout-mixed-paced (v3 + v4) CPU per delivery", unit: "µs", scale: 1, decimals: 2, lowerIsBetter: true, chart: false },
  { id: "mixed-paced-latency", scenario: "fanout-mixed-paced", figure: "fullDeliveryP50Ms", label: "fanout-mixed-paced (v3 + v4) time to reach all clients, p50", unit: "ms", scale: 1, decimals: 2, lowerIsBetter: true, chart: false },
  { id: "echo-cpu", scenario: "echo", figure: "cpuUsPerAck", label: "echo CPU per ack", unit: "µs", scale: 1, decimals: 2, lowerIsBetter: true, target: 0.85, controlTarget: 1.05, runtimeTargets: { bun: 0.75, deno: 0.7 }, chart: true },
  { id: "echo-rate", scenario: "echo", figure: "acksPerSec", label: "echo acks/s", unit: "/s", scale: 1, decimals: 0, lowerIsBetter: false, chart: false },
  { id: "echo-p50", scenario: "echo", figure: "p50Ms", label: "echo latency p50", unit: "ms", scale: 1, decimals: 2, lowerIsBetter: true, chart: false },
  { id: "echo-p99", scenario: "echo", figure: "p99Ms", label: "echo latency p99", unit: "ms", scale: 1, decimals: 2, lowerIsBetter: true, target: 1, chart: true },
  { id: "mem-ws", scenario: "memory-ws", figure: "bytesPerConnection", label: "memory per idle WebSocket client", unit: "KB", scale: 1024, decimals: 2, lowerIsBetter: true, target: 0.5, runtimeTargets: { bun: 0.35, deno: 1 }, chart: true },
  { id: "mem-polling", scenario: "memory-polling", figure: "bytesPerConnection", label: "memory per idle polling session", unit: "KB", scale: 1024, decimals: 2, lowerIsBetter: true, target: 0.5, chart: true },
  // The msgpack parser (sockjet parser: "msgpack" against socket.io with socket.io-msgpack-parser):
  // no target, not charted; the JSON rows above are the same scenarios with the default parser.
  { id: "msgpack-burst-cpu", scenario: "fanout-burst-msgpack", figure: "cpuUsPerDelivery", label: "fanout-burst msgpack CPU per delivery", unit: "µs", scale: 1, decimals: 2, lowerIsBetter: true, chart: false },
  { id: "msgpack-burst-rate", scenario: "fanout-burst-msgpack", figure: "deliveriesPerSec", label: "fanout-burst msgpack deliveries/s", unit: "/s", scale: 1, decimals: 0, lowerIsBetter: false, chart: false },
  { id: "msgpack-echo-cpu", scenario: "echo-msgpack", figure: "cpuUsPerAck", label: "echo msgpack CPU per ack", unit: "µs", scale: 1, decimals: 2, lowerIsBetter: true, chart: false },
  { id: "msgpack-echo-rate", scenario: "echo-msgpack", figure: "acksPerSec", label: "echo msgpack acks/s", unit: "/s", scale: 1, decimals: 0, lowerIsBetter: false, chart: false },
  { id: "msgpack-echo-p50", scenario: "echo-msgpack", figure: "p50Ms", label: "echo msgpack latency p50", unit: "ms", scale: 1, decimals: 2, lowerIsBetter: true, chart: false },
  { id: "connect-cpu", scenario: "connect", figure: "cpuUsPerConnection", label: "connect CPU per connection", unit: "µs", scale: 1, decimals: 1, lowerIsBetter: true, target: 0.6, runtimeTargets: { bun: 0.4, deno: 0.6 }, chart: true },
];

/** Each mixed-room metric and the v4-only metric of the same fanout, for the mixed ÷ v4-only table. */
export const MIXED_PAIRS: ReadonlyArray<{ mixed: string; v4: string; label: string }> = [
  { mixed: "mixed-burst-cpu", v4: "burst-cpu", label: "burst CPU per delivery" },
  { mixed: "mixed-paced-cpu", v4: "paced-cpu", label: "paced CPU per delivery" },
];

/** The target of a metric on a runtime: issue 5's on Node, issue 7's on Bun and Deno. */
export function targetOf(m: Metric, runtime: RuntimeName): number | undefined {
  return runtime === "node" ? m.target : m.runtimeTargets?.[runtime];
}

/** Which issue sets the targets of a runtime. */
const TARGET_SOURCE: Record<RuntimeName, string> = { node: "issue 5", bun: "issue 7", deno: "issue 7" };

export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

export interface Summary {
  /** The server kinds with at least one record on this runtime (failed ones included). */
  measured: ServerName[];
  /** metric id → server → { median, samples } */
  values: Record<string, Partial<Record<ServerName, { median: number; samples: number[] }>>>;
  /** sockjet's ratios, and the second sockjet kind's ÷ socket.io (NaN and null where it did not run). */
  ratios: Record<string, { vsSocketIo: number; vsControl: number; met: boolean | null; metControl: boolean | null; altVsSocketIo: number; metAlt: boolean | null }>;
}

/**
 * The meaning of the server kinds in a results file: 2 since node:http became the `sockjet` kind on
 * Deno (Deno.serve is `sockjet-deno-serve`); files without it used `sockjet` for Deno.serve and
 * `sockjet-node` for node:http there.
 */
export const KINDS_VERSION = 2;

/** Records of a results file in today's kinds (see KINDS_VERSION); Node and Bun records are unchanged. */
export function upgradeRecords(records: readonly RunRecord[], kinds: number | undefined): RunRecord[] {
  if ((kinds ?? 1) >= KINDS_VERSION) return [...records];
  return records.map((r) => {
    if (runtimeOf(r) !== "deno") return r;
    const old: string = r.server;
    if (old === "sockjet") return { ...r, server: ALT_KIND };
    if (old === "sockjet-node") return { ...r, server: "sockjet" };
    return r;
  });
}

/** The runtime of a record (Node for results saved before the runtime dimension). */
export function runtimeOf(record: RunRecord): RuntimeName {
  return record.runtime ?? "node";
}

/** The runtimes present in a set of records, in the order node, bun, deno. */
export function runtimesIn(records: readonly RunRecord[]): RuntimeName[] {
  return RUNTIMES.filter((rt) => records.some((r) => runtimeOf(r) === rt));
}

/** Medians and ratios of one runtime's records (servers compared only with servers of the same runtime). */
export function summarize(records: readonly RunRecord[], runtime: RuntimeName = "node"): Summary {
  const values: Summary["values"] = {};
  const ratios: Summary["ratios"] = {};
  const measured = SERVERS.filter((server) => records.some((r) => r.server === server && runtimeOf(r) === runtime));
  for (const m of METRICS) {
    const row: Summary["values"][string] = {};
    for (const server of SERVERS) {
      const samples = records
        .filter((r) => r.scenario === m.scenario && r.server === server && runtimeOf(r) === runtime && r.errors.length === 0)
        .map((r) => r.figures[m.figure])
        .filter((x): x is number => typeof x === "number" && Number.isFinite(x));
      if (samples.length > 0) row[server] = { median: median(samples), samples };
    }
    values[m.id] = row;
    const s = row.sockjet?.median ?? NaN;
    const vsSocketIo = s / (row.socketio?.median ?? NaN);
    const vsControl = s / (row["control-ws"]?.median ?? NaN);
    const altVsSocketIo = (row[ALT_KIND]?.median ?? NaN) / (row.socketio?.median ?? NaN);
    const target = targetOf(m, runtime);
    const controlTarget = runtime === "node" ? m.controlTarget : undefined;
    const meets = (value: number, limit: number | undefined) => (limit === undefined || !Number.isFinite(value) ? null : value <= limit);
    ratios[m.id] = {
      vsSocketIo,
      vsControl,
      met: meets(vsSocketIo, target),
      metControl: meets(vsControl, controlTarget),
      altVsSocketIo,
      metAlt: meets(altVsSocketIo, target),
    };
  }
  return { measured, values, ratios };
}

function fmt(value: number | undefined, decimals: number): string {
  if (value === undefined || !Number.isFinite(value)) return "—";
  return value.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : "—";
}

export interface ReportInput {
  date: string;
  mode: "full" | "quick";
  runs: number;
  seconds: number;
  machine: Machine;
  params: Partial<Record<ScenarioName, object>>;
  records: RunRecord[];
  /** One summary per runtime measured (see summarizeAll). */
  summaries: Partial<Record<RuntimeName, Summary>>;
  jsonFile: string;
  /** The chart's file name, for the last line (default latest.svg). */
  chartFile?: string;
}

/** Summaries of every runtime present in the records. */
export function summarizeAll(records: readonly RunRecord[]): Partial<Record<RuntimeName, Summary>> {
  return Object.fromEntries(runtimesIn(records).map((rt) => [rt, summarize(records, rt)]));
}

function runtimeTitle(machine: Machine, runtime: RuntimeName): string {
  const version = runtime === "node" ? machine.node : (machine.runtimes?.[runtime] ?? "?");
  return `${RUNTIME_LABELS[runtime]} ${version}`;
}

/**
 * The table of one runtime: medians per server, sockjet ÷ socket.io and ÷ control, and the targets.
 * Where the second sockjet kind ran (Deno.serve on Deno), its median and its ÷ socket.io get
 * columns of their own and the target is judged for both sockjet kinds.
 */
function runtimeTable(lines: string[], summary: Summary, runtime: RuntimeName): void {
  const labels = KIND_LABELS[runtime];
  const alt = summary.measured.includes(ALT_KIND);
  const altLabel = kindLabel(runtime, ALT_KIND);
  const extra = (text: string) => (alt ? ` ${text} |` : "");
  lines.push(`| figure | ${labels.sockjet} |${extra(altLabel)} ${labels.socketio} | ${labels["control-ws"]} | sockjet ÷ socket.io |${extra(`${altLabel} ÷ socket.io`)} sockjet ÷ control | ${TARGET_SOURCE[runtime]} target |`);
  lines.push(`|---|--:|${alt ? "--:|" : ""}--:|--:|--:|${alt ? "--:|" : ""}--:|:--|`);
  for (const m of METRICS) {
    const row = summary.values[m.id] ?? {};
    // A scenario left out of the run (--scenarios) has no row.
    if (Object.keys(row).length === 0) continue;
    const r = summary.ratios[m.id]!;
    const cell = (server: ServerName) => fmt(row[server] === undefined ? undefined : row[server]!.median / m.scale, m.decimals);
    const verdict = (met: boolean | null) => (met === null ? "" : met ? " ✅ met" : " ❌ missed");
    const targets: string[] = [];
    const target = targetOf(m, runtime);
    if (target !== undefined && !alt) targets.push(`÷ socket.io ≤ ${target.toFixed(2)}×${verdict(r.met)}`);
    if (target !== undefined && alt) {
      const both = `${SOCKJET_SERVERS[runtime]}${verdict(r.met) || " —"}, ${ALT_SERVER}${verdict(r.metAlt) || " —"}`;
      targets.push(`÷ socket.io ≤ ${target.toFixed(2)}×: ${both}`);
    }
    if (runtime === "node" && m.controlTarget !== undefined) targets.push(`÷ control ≤ ${m.controlTarget.toFixed(2)}×${verdict(r.metControl)}`);
    lines.push(
      `| ${m.label} (${m.unit}${m.lowerIsBetter ? ", lower is better" : ", higher is better"}) | ${cell("sockjet")} |${extra(cell(ALT_KIND))} ${cell("socketio")} | ${cell("control-ws")} | ` +
        `${ratio(r.vsSocketIo)} |${extra(ratio(r.altVsSocketIo))} ${ratio(r.vsControl)} | ${targets.join("; ")} |`,
    );
  }
}

export function markdown(input: ReportInput): string {
  const { machine } = input;
  const runtimes = RUNTIMES.filter((rt) => input.summaries[rt] !== undefined);
  const lines: string[] = [];
  lines.push(`# sockjet benchmark (${input.mode})`, "");
  const took = Number.isFinite(input.seconds) ? ` · ${Math.round(input.seconds)} s in all` : "";
  lines.push(`${input.date} · ${input.runs} run(s) per scenario and server, medians${took}`, "");
  const versions = runtimes.map((rt) => runtimeTitle(machine, rt)).join(", ");
  lines.push(
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGB.toFixed(0)} GB; ${machine.os}; servers on ${versions}; load generator on Node ${machine.node}; ` +
      `socket.io ${machine.socketIoVersion}${machine.bunEngineVersion === undefined ? "" : `; @socket.io/bun-engine ${machine.bunEngineVersion}`}; ws ${machine.wsVersion}; ${machine.pinning}; load average at start ${machine.loadAverage.map((x) => x.toFixed(2)).join(" ")}.`,
    "",
  );
  lines.push("Each runtime's table compares servers on that runtime only: sockjet, the official socket.io server as it runs there, and the runtime's bare control.", "");
  const altRuntimes = runtimes.filter((rt) => input.summaries[rt]!.measured.includes(ALT_KIND));
  if (altRuntimes.length > 0) {
    lines.push(
      `On Deno, "sockjet (node:http)" is sockjet as Deno users get it by default (\`sio.listen\`: node:http and ws through Deno's Node compatibility, as socket.io runs there); ` +
        `"sockjet (Deno.serve)" is the same server on \`serveDeno\` (Deno.serve and Deno.upgradeWebSocket), where each send is its own frame and write.`,
      "",
    );
  }
  for (const runtime of runtimes) {
    lines.push(`## ${runtimeTitle(machine, runtime)}`, "");
    runtimeTable(lines, input.summaries[runtime]!, runtime);
    lines.push("");
  }
  lines.push("Only ratios measured in the same run on the same machine are comparable; absolute figures move with the machine and its load.");
  lines.push("CPU time and RSS are read from `/proc/<server pid>` by the load generator, outside the server process.");
  lines.push("The controls speak WebSocket only, so they have no polling figure.");
  const mixedRuntimes = runtimes.filter((rt) => MIXED_PAIRS.some((pair) => Object.keys(input.summaries[rt]!.values[pair.mixed] ?? {}).length > 0));
  if (mixedRuntimes.length > 0) {
    lines.push(
      "fanout-mixed and fanout-mixed-paced are fanout-burst and fanout-paced with every other client speaking Engine.IO v3 (socket.io-client 1.x/2.x's protocol; the servers start with `allowEIO3: true`) and the rest v4, all in the same broadcasts. " +
        "The controls speak v4 only, so they have no mixed figure (—); neither has socket.io on Bun: `@socket.io/bun-engine` refuses every Engine.IO v3 handshake.",
      "",
    );
    mixedTable(lines, input, mixedRuntimes);
  }
  lines.push("");
  lines.push("## Spread (all runs)", "");
  // sockjet (Deno.serve) gets a column only when some runtime measured it ("—" on the others).
  const spread: ServerName[] = altRuntimes.length > 0 ? ["sockjet", ALT_KIND, "socketio", "control-ws"] : ["sockjet", "socketio", "control-ws"];
  lines.push(`| runtime | figure | ${spread.map((s) => SHORT_HEADS[s]).join(" | ")} |`);
  lines.push(`|---|---|${spread.map(() => "--:|").join("")}`);
  for (const runtime of runtimes) {
    const summary = input.summaries[runtime]!;
    for (const m of METRICS) {
      const row = summary.values[m.id] ?? {};
      if (Object.keys(row).length === 0) continue;
      const cells = spread.map((s) => (row[s] === undefined ? "—" : row[s]!.samples.map((x) => fmt(x / m.scale, m.decimals)).join(", ")));
      lines.push(`| ${RUNTIME_LABELS[runtime]} | ${m.label} | ${cells.join(" | ")} |`);
    }
  }
  lines.push("");
  lines.push("## Parameters", "");
  for (const [scenario, params] of Object.entries(input.params)) lines.push(`- ${scenario}: \`${JSON.stringify(params)}\``);
  const failed = input.records.filter((r) => r.errors.length > 0);
  if (failed.length > 0) {
    lines.push("", "## Errors (these runs are left out of the medians)", "");
    for (const r of failed) lines.push(`- run ${r.run}, ${RUNTIME_LABELS[runtimeOf(r)]}, ${r.scenario}, ${kindLabel(runtimeOf(r), r.server)}: ${r.errors.slice(0, 3).join("; ")}`);
  }
  lines.push("", `Raw results: \`${input.jsonFile}\`. Chart: \`${input.chartFile ?? "latest.svg"}\` (one panel per runtime).`, "");
  return lines.join("\n");
}

/** Per runtime and server, each mixed-room figure beside the v4-only one of the same run: what mixing costs. */
function mixedTable(lines: string[], input: ReportInput, runtimes: readonly RuntimeName[]): void {
  lines.push("### Mixed room ÷ v4-only room (same run)", "");
  const kinds: ServerName[] = ["sockjet", ALT_KIND, "socketio"];
  const shown = kinds.filter((k) => runtimes.some((rt) => input.summaries[rt]!.measured.includes(k)));
  lines.push(`| runtime | figure (µs, v4-only → mixed) | ${shown.map((k) => SHORT_HEADS[k]).join(" | ")} |`);
  lines.push(`|---|---|${shown.map(() => "--:|").join("")}`);
  for (const runtime of runtimes) {
    const values = input.summaries[runtime]!.values;
    for (const pair of MIXED_PAIRS) {
      const cells = shown.map((k) => {
        const v4 = values[pair.v4]?.[k]?.median;
        const mixed = values[pair.mixed]?.[k]?.median;
        if (v4 === undefined || mixed === undefined) return "—";
        return `${fmt(v4, 2)} → ${fmt(mixed, 2)} (${ratio(mixed / v4)})`;
      });
      lines.push(`| ${RUNTIME_LABELS[runtime]} | ${pair.label} | ${cells.join(" | ")} |`);
    }
  }
  lines.push("");
}

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const PANEL_HEIGHT = 420;

/** One chart per runtime, stacked in one SVG. */
export function svgChart(input: ReportInput): string {
  const runtimes = RUNTIMES.filter((rt) => input.summaries[rt] !== undefined);
  const width = 880;
  const height = PANEL_HEIGHT * Math.max(1, runtimes.length);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  runtimes.forEach((runtime, i) => {
    out.push(`<g transform="translate(0 ${i * PANEL_HEIGHT})">`);
    panel(out, input, runtime, input.summaries[runtime]!, width);
    out.push(`</g>`);
  });
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

/**
 * Grouped bars: for each charted figure, sockjet ÷ socket.io and sockjet ÷ control, with 1.0 and the
 * target marked; where the second sockjet kind ran (Deno.serve), its ÷ socket.io bar sits between them, under the target too.
 */
function panel(out: string[], input: ReportInput, runtime: RuntimeName, summary: Summary, width: number): void {
  const metrics = METRICS.filter((m) => m.chart);
  const height = PANEL_HEIGHT;
  const left = 60;
  const right = 20;
  const top = 56;
  const bottom = 110;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const alt = summary.measured.includes(ALT_KIND);
  const all = metrics.flatMap((m) => [summary.ratios[m.id]!.vsSocketIo, summary.ratios[m.id]!.altVsSocketIo, summary.ratios[m.id]!.vsControl]).filter((x) => Number.isFinite(x));
  const maxRatio = Math.max(1.5, Math.ceil(Math.max(0, ...all) * 2) / 2);
  const y = (v: number) => top + plotH - (Math.min(v, maxRatio) / maxRatio) * plotH;
  const group = plotW / metrics.length;
  const barW = Math.min(34, group / (alt ? 4 : 3));
  const colors = { socketio: "#2f6fdf", alt: "#2a9d6f", control: "#e0892b" };
  const labels = KIND_LABELS[runtime];
  out.push(`<text x="${left}" y="22" font-size="15" font-weight="600">${esc(`${RUNTIME_LABELS[runtime]}: sockjet ÷ other server on ${RUNTIME_LABELS[runtime]}, same run (lower is better)`)}</text>`);
  out.push(`<text x="${left}" y="40" fill="#555">${esc(`${input.date} · ${input.machine.cpuModel}, ${input.machine.cores} cores · ${runtimeTitle(input.machine, runtime)} · medians of ${input.runs} run(s)`)}</text>`);
  const step = maxRatio <= 2 ? 0.25 : maxRatio <= 4 ? 0.5 : 1;
  for (let v = 0; v <= maxRatio + 1e-9; v += step) {
    out.push(`<line x1="${left}" x2="${width - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${Math.abs(v - 1) < 1e-9 ? "#333" : "#e4e4e4"}" ${Math.abs(v - 1) < 1e-9 ? 'stroke-dasharray="5 3"' : ""}/>`);
    out.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${v.toFixed(2)}×</text>`);
  }
  metrics.forEach((m, i) => {
    const r = summary.ratios[m.id]!;
    const bars: Array<[number, string]> = [[r.vsSocketIo, colors.socketio]];
    if (alt) bars.push([r.altVsSocketIo, colors.alt]);
    bars.push([r.vsControl, colors.control]);
    const x0 = left + i * group + group / 2 - (bars.length * barW) / 2;
    // The target is on ÷ socket.io: the line spans those bars (all but the last, ÷ control).
    const targetW = (bars.length - 1) * barW;
    bars.forEach(([value, color], k) => {
      const x = x0 + k * barW;
      if (!Number.isFinite(value)) {
        out.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${(y(0) - 4).toFixed(1)}" text-anchor="middle" fill="#999">n/a</text>`);
        return;
      }
      out.push(`<rect x="${x.toFixed(1)}" y="${y(value).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(y(0) - y(value)).toFixed(1)}" fill="${color}"/>`);
      out.push(`<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y(value) - 4).toFixed(1)}" text-anchor="middle" font-size="10">${value > maxRatio ? "↑" : ""}${value.toFixed(2)}</text>`);
    });
    const target = targetOf(m, runtime);
    if (target !== undefined) {
      const ty = y(target).toFixed(1);
      out.push(`<line x1="${(x0 - 6).toFixed(1)}" x2="${(x0 + targetW + 4).toFixed(1)}" y1="${ty}" y2="${ty}" stroke="#c0262d" stroke-width="2"/>`);
    }
    const words = m.label.split(" ");
    const mid = Math.ceil(words.length / 2);
    [words.slice(0, mid).join(" "), words.slice(mid).join(" ")].forEach((line, k) => {
      out.push(`<text x="${(left + i * group + group / 2).toFixed(1)}" y="${(top + plotH + 18 + k * 14).toFixed(1)}" text-anchor="middle">${esc(line)}</text>`);
    });
  });
  const ly = height - 30;
  const peer = runtime === "node" ? `${labels.socketio} ${input.machine.socketIoVersion}` : labels.socketio;
  out.push(`<rect x="${left}" y="${ly - 10}" width="12" height="12" fill="${colors.socketio}"/><text x="${left + 18}" y="${ly}">${esc(`sockjet ÷ ${peer}`)}</text>`);
  out.push(`<rect x="${left + 250}" y="${ly - 10}" width="12" height="12" fill="${colors.control}"/><text x="${left + 268}" y="${ly}">${esc(`sockjet ÷ control (${CONTROL_NOTES[runtime]})`)}</text>`);
  out.push(`<line x1="${left + 600}" x2="${left + 624}" y1="${ly - 4}" y2="${ly - 4}" stroke="#c0262d" stroke-width="2"/><text x="${left + 630}" y="${ly}">target vs socket.io</text>`);
  if (alt) {
    // A second legend line: the first one is full.
    const altLabel = kindLabel(runtime, ALT_KIND);
    out.push(`<rect x="${left}" y="${ly + 8}" width="12" height="12" fill="${colors.alt}"/><text x="${left + 18}" y="${ly + 18}">${esc(`${altLabel} ÷ ${peer} · the other bars are sockjet on ${SOCKJET_SERVERS[runtime]}`)}</text>`);
  }
}
