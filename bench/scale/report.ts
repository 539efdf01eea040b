// The scale run's report: Markdown tables (each curve per runtime, sockjet ÷ socket.io and sockjet
// ÷ control at every point, flatness, issue 14's targets) and one hand-written SVG chart per curve
// (a panel per runtime, a line per server), as bench/lib/report.ts writes latest.svg.

import type { Machine } from "../lib/report.js";
import { KIND_LABELS, RUNTIME_LABELS, type RuntimeName } from "../lib/runtimes.js";
import type { ServerName } from "../lib/processes.js";
import type { ScaleParams } from "./params.js";
import type { ConnectPhase, SessionFigures, SessionName } from "./sessions.js";

export interface ScaleRecord {
  runtime: RuntimeName;
  server: ServerName;
  session: SessionName;
  figures: SessionFigures;
  errors: string[];
  /** 1-minute load average when the session started and ended. */
  load: [number, number];
  seconds: number;
}

export interface ScaleResults {
  date: string;
  mode: "full" | "quick";
  seconds: number;
  machine: Machine;
  params: ScaleParams;
  records: ScaleRecord[];
}

/** The kinds in every table and chart, in this order. */
const KINDS = ["sockjet", "socketio", "control-ws"] as const;
type Kind = (typeof KINDS)[number];
const COLORS: Record<Kind, string> = { sockjet: "#c0262d", socketio: "#2f6fdf", "control-ws": "#e0892b" };

/** Issue 14: per-client memory and per-delivery CPU stay within this from 1k to 15k. */
export const FLATNESS_TARGET = 0.15;

function rec(results: ScaleResults, runtime: RuntimeName, server: Kind, session: SessionName): ScaleRecord | undefined {
  return results.records.find((r) => r.runtime === runtime && r.server === server && r.session === session && r.errors.length === 0);
}

function runtimesOf(results: ScaleResults): RuntimeName[] {
  return (["node", "bun", "deno"] as const).filter((rt) => results.records.some((r) => r.runtime === rt));
}

function fmt(v: number | undefined, decimals: number): string {
  return v === undefined || !Number.isFinite(v) ? "—" : v.toFixed(decimals);
}

function ratio(a: number | undefined, b: number | undefined): number {
  return a === undefined || b === undefined || !(b > 0) ? NaN : a / b;
}

function ratioText(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : "—";
}

function kb(bytes: number | undefined): number | undefined {
  return bytes === undefined ? undefined : bytes / 1024;
}

/** One curve: for each server, its value at each x (undefined where it has none). */
export interface Curve {
  id: string;
  title: string;
  unit: string;
  decimals: number;
  xLabel: string;
  xs: number[];
  values(results: ScaleResults, runtime: RuntimeName, server: Kind): Array<number | undefined>;
  /** Points from this x on are judged for flatness (issue 14: 1k to 15k). */
  flatFrom?: number;
}

const levelsOf = (results: ScaleResults, runtime: RuntimeName, server: Kind, session: SessionName) => rec(results, runtime, server, session)?.figures.levels ?? [];

/** The connect phases of the idle session: each growth phase, then the batch at the largest size. */
function connectPhases(results: ScaleResults, runtime: RuntimeName, server: Kind): ConnectPhase[] {
  const r = rec(results, runtime, server, "idle");
  if (r === undefined) return [];
  return [...(r.figures.connects ?? []), ...(r.figures.connectAtScale ? [r.figures.connectAtScale] : [])];
}

/** Issue 14 judges flatness from 1k on; sizes that never reach two points there (quick runs) are judged from their smallest. */
function flatFrom(xs: number[]): number {
  return xs.filter((x) => x >= 1000).length >= 2 ? 1000 : (xs[0] ?? 0);
}

export function curves(results: ScaleResults): Curve[] {
  const p = results.params;
  const connectXs = [0, ...p.sizes];
  const atConnect = (results: ScaleResults, runtime: RuntimeName, server: Kind, pick: (c: ConnectPhase) => number) =>
    connectXs.map((x) => {
      const c = connectPhases(results, runtime, server).find((c) => c.connectedBefore === x);
      return c === undefined ? undefined : pick(c);
    });
  return [
    {
      id: "memory-ws",
      title: "Memory per idle WebSocket client",
      unit: "KB",
      decimals: 2,
      xLabel: "idle WebSocket clients",
      xs: p.sizes,
      values: (res, rt, s) => p.sizes.map((x) => kb(levelsOf(res, rt, s, "ws").find((l) => l.clients === x)?.bytesPerClient)),
      flatFrom: flatFrom(p.sizes),
    },
    {
      id: "memory-polling",
      title: "Memory per idle long-polling session (a GET pending)",
      unit: "KB",
      decimals: 2,
      xLabel: "long-polling sessions",
      xs: p.sizes,
      values: (res, rt, s) => p.sizes.map((x) => kb(levelsOf(res, rt, s, "polling").find((l) => l.clients === x)?.bytesPerClient)),
      flatFrom: flatFrom(p.sizes),
    },
    {
      id: "room-cpu",
      title: "Room broadcast CPU per delivery (paced: each message fully delivered before the next)",
      unit: "µs",
      decimals: 3,
      xLabel: "room members",
      xs: p.roomSizes,
      values: (res, rt, s) => p.roomSizes.map((x) => rec(res, rt, s, "rooms")?.figures.rooms?.find((r) => r.size === x)?.cpuUsPerDelivery),
      flatFrom: flatFrom(p.roomSizes),
    },
    {
      id: "connect-cpu",
      title: "CPU per connection by clients already connected (schedstat)",
      unit: "µs",
      decimals: 1,
      xLabel: "clients already connected",
      xs: connectXs,
      // schedstat's nanoseconds, as the main benchmark's connect figure: 2,000 connections at Bun's
      // 40-80 µs are only 8-16 ticks of /proc/<pid>/stat. The tick figure where schedstat lost time to
      // a thread that exited in the window (it can go negative then).
      values: (res, rt, s) => atConnect(res, rt, s, (c) => (c.schedUsPerConnection > 0 ? c.schedUsPerConnection : c.cpuUsPerConnection)),
    },
    {
      id: "connect-rate",
      title: "Connections per second by clients already connected (50 handshakes in flight)",
      unit: "/s",
      decimals: 0,
      xLabel: "clients already connected",
      xs: connectXs,
      values: (res, rt, s) => atConnect(res, rt, s, (c) => c.connectionsPerSec),
    },
  ];
}

/** A single figure per server (bar charts). */
export interface Bar {
  id: string;
  title: string;
  unit: string;
  decimals: number;
  value(results: ScaleResults, runtime: RuntimeName, server: Kind): number | undefined;
}

export function bars(results: ScaleResults): Bar[] {
  const p = results.params;
  const largest = p.sizes[p.sizes.length - 1] ?? 0;
  const interval = results.records.find((r) => r.figures.idle !== undefined)?.figures.idle?.pingIntervalMs;
  return [
    {
      id: "idle-cpu",
      title: `Idle CPU, ${largest.toLocaleString("en")} WebSocket clients, a ping every ${interval === undefined ? "?" : interval / 1000} s: server CPU per 1k clients per minute`,
      unit: "ms",
      decimals: 1,
      value: (res, rt, s) => rec(res, rt, s, "idle")?.figures.idle?.msPer1kPerMinute,
    },
    {
      id: "tiny-rooms",
      title: `${p.tinyRooms.toLocaleString("en")} rooms of ${p.tinyRoomSize}, each sent one message (in one loop): CPU per delivery`,
      unit: "µs",
      decimals: 3,
      value: (res, rt, s) => rec(res, rt, s, "rooms")?.figures.tiny?.cpuUsPerDelivery,
    },
  ];
}

/** Largest ÷ smallest of the points from `from` on, minus one (0.10: within 10 %). */
function spread(xs: number[], values: Array<number | undefined>, from: number): number {
  const judged = values.filter((v, i): v is number => xs[i]! >= from && v !== undefined && Number.isFinite(v));
  // A point at or below zero (RSS under its baseline: the first clients filled memory the warm-up had freed) has no ratio.
  if (judged.length < 2 || Math.min(...judged) <= 0) return NaN;
  return Math.max(...judged) / Math.min(...judged) - 1;
}

function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(0)} %` : "—";
}

interface TargetRow {
  runtime: RuntimeName;
  target: string;
  figure: string;
  value: number;
  limit: number;
  /** How the value is shown (ratio or percentage). */
  show: (v: number) => string;
}

function targetRows(results: ScaleResults): TargetRow[] {
  const rows: TargetRow[] = [];
  const cs = curves(results);
  const c = (id: string) => cs.find((x) => x.id === id)!;
  const p = results.params;
  const largest = p.sizes[p.sizes.length - 1]!;
  const last = <T,>(xs: T[]) => xs[xs.length - 1];
  for (const rt of runtimesOf(results)) {
    // Flatness of sockjet's per-client memory and per-delivery CPU.
    for (const id of ["memory-ws", "memory-polling", "room-cpu"]) {
      const curve = c(id);
      const v = spread(curve.xs, curve.values(results, rt, "sockjet"), curve.flatFrom ?? 0);
      if (Number.isFinite(v)) {
        const from = curve.xs.filter((x) => x >= (curve.flatFrom ?? 0));
        rows.push({ runtime: rt, target: `flat within 15 %: ${curve.title.split(" (")[0]!}, ${from[0]!.toLocaleString("en")} to ${last(from)!.toLocaleString("en")}`, figure: "largest ÷ smallest − 1", value: v, limit: FLATNESS_TARGET, show: pct });
      }
    }
    const idle = bars(results).find((b) => b.id === "idle-cpu")!;
    const idleRatio = ratio(idle.value(results, rt, "sockjet"), idle.value(results, rt, "control-ws"));
    if (Number.isFinite(idleRatio)) rows.push({ runtime: rt, target: `idle CPU, ${largest.toLocaleString("en")} clients, ≤ 1.15× the bare control pinging on the same interval`, figure: "sockjet ÷ control", value: idleRatio, limit: 1.15, show: ratioText });
    const connect = c("connect-cpu").values(results, rt, "sockjet");
    const connectCtl = c("connect-cpu").values(results, rt, "control-ws");
    const at = c("connect-cpu").xs.length - 1;
    const connectRatio = ratio(connect[at], connectCtl[at]);
    if (Number.isFinite(connectRatio)) rows.push({ runtime: rt, target: `CPU per connect with ${largest.toLocaleString("en")} connected ≤ 1.3× the control`, figure: "sockjet ÷ control", value: connectRatio, limit: 1.3, show: ratioText });
    const wsMem = c("memory-ws").values(results, rt, "sockjet");
    const wsMemCtl = c("memory-ws").values(results, rt, "control-ws");
    const memRatio = ratio(last(wsMem), last(wsMemCtl));
    if (Number.isFinite(memRatio)) rows.push({ runtime: rt, target: `memory per idle WebSocket client (${largest.toLocaleString("en")}) ≤ ${rt === "node" ? "1.15" : "1.3"}× the control`, figure: "sockjet ÷ control", value: memRatio, limit: rt === "node" ? 1.15 : 1.3, show: ratioText });
    if (rt === "node") {
      const poll = ratio(last(c("memory-polling").values(results, rt, "sockjet")), last(c("memory-polling").values(results, rt, "socketio")));
      if (Number.isFinite(poll)) rows.push({ runtime: rt, target: `memory per polling session (${largest.toLocaleString("en")}) ≤ 0.5× socket.io`, figure: "sockjet ÷ socket.io", value: poll, limit: 0.5, show: ratioText });
      const room = c("room-cpu");
      const k = room.xs.indexOf(1000) >= 0 ? room.xs.indexOf(1000) : 0;
      const paced = ratio(room.values(results, rt, "sockjet")[k], room.values(results, rt, "control-ws")[k]);
      if (Number.isFinite(paced)) rows.push({ runtime: rt, target: `paced broadcast CPU per delivery (room of ${room.xs[k]!.toLocaleString("en")}) ≤ 1.15× the control`, figure: "sockjet ÷ control", value: paced, limit: 1.15, show: ratioText });
    }
  }
  return rows;
}

/** KB per client added between two sizes: (RSS at `to` − RSS at `from`) ÷ (to − from). */
function marginalKB(results: ScaleResults, runtime: RuntimeName, server: Kind, session: SessionName, from: number, to: number): number | undefined {
  const levels = levelsOf(results, runtime, server, session);
  const a = levels.find((l) => l.clients === from);
  const b = levels.find((l) => l.clients === to);
  return a === undefined || b === undefined ? undefined : ((b.rssMB - a.rssMB) * 1024) / (to - from);
}

function loadRange(results: ScaleResults): string {
  const loads = results.records.flatMap((r) => r.load);
  return loads.length === 0 ? "?" : `${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}`;
}

function title(rt: RuntimeName, machine: Machine): string {
  return `${RUNTIME_LABELS[rt]} ${rt === "node" ? machine.node : (machine.runtimes?.[rt] ?? "?")}`;
}

/**
 * The report. `docs`: the fragment for docs/performance.md's Scale section instead (headings one
 * level down, each chart as an image under `docs.images`, no per-session details).
 */
export function markdown(results: ScaleResults, files: { json: string; charts: Record<string, string> }, docs?: { images: string }): string {
  const m = results.machine;
  const lines: string[] = [];
  const h = docs === undefined ? "##" : "###";
  const chart = (id: string, text: string) => {
    if (!files.charts[id]) return;
    if (docs === undefined) lines.push(`Chart: \`${files.charts[id]}\`.`, "");
    else lines.push(`![${text}](${docs.images}/${files.charts[id]!.split("/").pop()!})`, "");
  };
  if (docs === undefined) lines.push(`# Scale curves (${results.mode})`, "");
  lines.push(
    `${results.date} · ${m.cpuModel}, ${m.cores} cores, ${m.memoryGB.toFixed(0)} GB · ${m.os} · ${runtimesOf(results).map((rt) => title(rt, m)).join(", ")} · socket.io ${m.socketIoVersion}${m.bunEngineVersion ? ` (+ @socket.io/bun-engine ${m.bunEngineVersion} on Bun)` : ""}, ws ${m.wsVersion} · ${m.pinning} · one run, each server grown from nothing in its own process · 1-minute load average during the sessions ${loadRange(results)} · ${(results.seconds / 60).toFixed(1)} minutes`,
    "",
  );
  const errors = results.records.filter((r) => r.errors.length > 0);
  if (errors.length > 0) {
    lines.push("Sessions with errors (left out of the tables):", "");
    for (const r of errors) lines.push(`- ${r.runtime} ${r.server} ${r.session}: ${r.errors.slice(0, 3).join("; ")}`);
    lines.push("");
  }
  const rows = targetRows(results);
  if (rows.length > 0) {
    lines.push(`${h} Issue 14's targets, from these curves`, "", "| runtime | target | figure | measured | met |", "|---|---|---|---|---|");
    for (const r of rows) lines.push(`| ${RUNTIME_LABELS[r.runtime]} | ${r.target} | ${r.figure} | ${r.show(r.value)} | ${r.value <= r.limit ? "yes" : `no (limit ${r.show(r.limit)})`} |`);
    lines.push("");
  }
  for (const curve of curves(results)) {
    lines.push(`${h} ${curve.title} (${curve.unit})`, "");
    chart(curve.id, curve.title);
    for (const rt of runtimesOf(results)) {
      const labels = KIND_LABELS[rt];
      const v = Object.fromEntries(KINDS.map((k) => [k, curve.values(results, rt, k)])) as Record<Kind, Array<number | undefined>>;
      lines.push(`**${title(rt, m)}**`, "");
      lines.push(`| ${curve.xLabel} | ${KINDS.map((k) => labels[k]).join(" | ")} | sockjet ÷ socket.io | sockjet ÷ control |`, "|---|---|---|---|---|---|");
      curve.xs.forEach((x, i) => {
        lines.push(`| ${x.toLocaleString("en")} | ${KINDS.map((k) => fmt(v[k][i], curve.decimals)).join(" | ")} | ${ratioText(ratio(v.sockjet[i], v.socketio[i]))} | ${ratioText(ratio(v.sockjet[i], v["control-ws"][i]))} |`);
      });
      if (curve.flatFrom !== undefined) {
        // From the judged start, and from each later point that still leaves two (the first point is
        // the least certain: RSS moves by a megabyte or two either way, a kilobyte per client at 1k).
        const starts = curve.xs.filter((x, i) => x >= curve.flatFrom! && i <= curve.xs.length - 2);
        for (const from of starts) {
          lines.push(`| flatness from ${from.toLocaleString("en")} (largest ÷ smallest − 1) | ${KINDS.map((k) => pct(spread(curve.xs, v[k], from))).join(" | ")} | | |`);
        }
      }
      const session = curve.id === "memory-ws" ? "ws" : curve.id === "memory-polling" ? "polling" : null;
      if (session !== null) {
        // What each client added between two sizes costs: the fixed part of the baseline-to-first-size
        // growth (heap spaces, buffers) is not in it.
        for (let i = 1; i < curve.xs.length; i++) {
          const m = Object.fromEntries(KINDS.map((k) => [k, marginalKB(results, rt, k, session, curve.xs[i - 1]!, curve.xs[i]!)])) as Record<Kind, number | undefined>;
          lines.push(`| marginal, ${curve.xs[i - 1]!.toLocaleString("en")} → ${curve.xs[i]!.toLocaleString("en")} | ${KINDS.map((k) => fmt(m[k], curve.decimals)).join(" | ")} | ${ratioText(ratio(m.sockjet, m.socketio))} | ${ratioText(ratio(m.sockjet, m["control-ws"]))} |`);
        }
      }
      lines.push("");
    }
  }
  for (const bar of bars(results)) {
    lines.push(`${h} ${bar.title} (${bar.unit})`, "");
    chart(bar.id, bar.title);
    lines.push(`| runtime | sockjet | socket.io | control | sockjet ÷ socket.io | sockjet ÷ control |`, "|---|---|---|---|---|---|");
    for (const rt of runtimesOf(results)) {
      const v = Object.fromEntries(KINDS.map((k) => [k, bar.value(results, rt, k)])) as Record<Kind, number | undefined>;
      lines.push(`| ${title(rt, m)} | ${KINDS.map((k) => fmt(v[k], bar.decimals)).join(" | ")} | ${ratioText(ratio(v.sockjet, v.socketio))} | ${ratioText(ratio(v.sockjet, v["control-ws"]))} |`);
    }
    lines.push("");
  }
  if (docs !== undefined) {
    lines.push(`Raw results: \`${files.json}\`; the full report with every session's details: \`${files.json.replace(/[^/]+$/, "latest.md")}\`.`, "");
    return lines.join("\n");
  }
  lines.push("## Details", "");
  lines.push("| runtime | server | session | figures | load (1 min) | seconds |", "|---|---|---|---|---|---|");
  for (const r of results.records) {
    const f = r.figures;
    const parts: string[] = [];
    if (f.idle) parts.push(`idle ${f.idle.clients} clients ${f.idle.seconds.toFixed(0)} s: ${f.idle.cpuMs.toFixed(0)} ms CPU, ${f.idle.pingsPerClient.toFixed(2)} pings per client, ${f.idle.alive} alive`);
    if (f.levels) parts.push(`baseline ${fmt(f.baselineRssMB, 1)} MB, RSS ${f.levels.map((l) => `${l.clients}: ${l.rssMB.toFixed(1)} MB`).join(", ")}`);
    if (f.rooms) parts.push(`room p50 ms ${f.rooms.map((x) => `${x.size}: ${x.p50Ms.toFixed(2)}`).join(", ")}`);
    if (f.tiny) parts.push(`small rooms: ${f.tiny.cpuUsPerRoom.toFixed(2)} µs per room, round ${f.tiny.roundMs.toFixed(1)} ms`);
    lines.push(`| ${RUNTIME_LABELS[r.runtime]} | ${KIND_LABELS[r.runtime][r.server as Kind] ?? r.server} | ${r.session} | ${r.errors.length > 0 ? `ERROR ${r.errors[0]}` : parts.join("; ")} | ${r.load.map((x) => x.toFixed(2)).join(" → ")} | ${r.seconds.toFixed(0)} |`);
  }
  lines.push("", `Raw results: \`${files.json}\`.`, "");
  return lines.join("\n");
}

// ---- SVG ------------------------------------------------------------------------------------------

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const WIDTH = 880;
const HEIGHT = 400;

/** A round axis maximum above `v` (1, 2, 2.5 or 5 × a power of ten). */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const k of [1, 2, 2.5, 5, 10]) if (k * p >= v) return k * p;
  return 10 * p;
}

function header(out: string[], results: ScaleResults, text: string, unit: string): void {
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, sans-serif" font-size="12">`);
  out.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`);
  out.push(`<text x="20" y="22" font-size="15" font-weight="600">${esc(text)}</text>`);
  const m = results.machine;
  out.push(`<text x="20" y="40" fill="#555">${esc(`${unit}, ${unit === "/s" ? "higher" : "lower"} is better · ${results.date} · ${m.cpuModel}, ${m.cores} cores · load ${loadRange(results)} · one run`)}</text>`);
}

/** An axis tick: at most two decimals, no trailing zeros. */
function tick(v: number): string {
  return String(Number(v.toFixed(2)));
}

function legend(out: string[], runtimeLabels: boolean): void {
  const y = HEIGHT - 14;
  KINDS.forEach((k, i) => {
    const x = 20 + i * 270;
    const label = k === "sockjet" ? "sockjet" : k === "socketio" ? (runtimeLabels ? "socket.io (Bun: + bun-engine)" : "socket.io") : "bare control (Node: ws, Bun: Bun.serve)";
    out.push(`<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${COLORS[k]}"/><text x="${x + 18}" y="${y}">${esc(label)}</text>`);
  });
}

/** A panel per runtime, side by side: evenly spaced x positions (the sizes), a polyline per server. */
export function lineSvg(results: ScaleResults, curve: Curve): string {
  const out: string[] = [];
  header(out, results, curve.title, curve.unit);
  const rts = runtimesOf(results);
  const panelW = (WIDTH - 20) / Math.max(1, rts.length);
  rts.forEach((rt, p) => {
    const x0 = 20 + p * panelW + 50;
    const plotW = panelW - 80;
    const top = 70;
    const plotH = HEIGHT - top - 70;
    const series = KINDS.map((k) => [k, curve.values(results, rt, k)] as const);
    const max = niceMax(Math.max(0, ...series.flatMap(([, v]) => v.filter((x): x is number => x !== undefined && Number.isFinite(x)))));
    const y = (v: number) => top + plotH - (v / max) * plotH;
    const x = (i: number) => x0 + (curve.xs.length === 1 ? plotW / 2 : (i / (curve.xs.length - 1)) * plotW);
    out.push(`<text x="${x0}" y="${top - 12}" font-weight="600">${esc(title(rt, results.machine))}</text>`);
    for (let k = 0; k <= 4; k++) {
      const v = (max * k) / 4;
      out.push(`<line x1="${x0}" x2="${x0 + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e4e4e4"/>`);
      out.push(`<text x="${x0 - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${esc(tick(v))}</text>`);
    }
    curve.xs.forEach((xv, i) => out.push(`<text x="${x(i).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle" fill="#555">${esc(xv.toLocaleString("en"))}</text>`));
    out.push(`<text x="${x0 + plotW / 2}" y="${top + plotH + 34}" text-anchor="middle">${esc(curve.xLabel)}</text>`);
    for (const [k, values] of series) {
      const points = values.map((v, i) => (v === undefined || !Number.isFinite(v) ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`));
      const drawn = points.filter((pt): pt is string => pt !== null);
      if (drawn.length === 0) continue;
      out.push(`<polyline points="${drawn.join(" ")}" fill="none" stroke="${COLORS[k]}" stroke-width="2"/>`);
      values.forEach((v, i) => {
        if (v === undefined || !Number.isFinite(v)) return;
        out.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3.5" fill="${COLORS[k]}"/>`);
        out.push(`<text x="${(x(i) + 5).toFixed(1)}" y="${(y(v) - 6).toFixed(1)}" font-size="10" fill="${COLORS[k]}">${esc(v.toFixed(curve.decimals))}</text>`);
      });
    }
  });
  legend(out, rts.includes("bun"));
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** Bars per runtime (a group each), a bar per server, with sockjet ÷ each other server above sockjet's. */
export function barSvg(results: ScaleResults, bar: Bar): string {
  const out: string[] = [];
  header(out, results, bar.title, bar.unit);
  const rts = runtimesOf(results);
  const left = 70;
  const top = 70;
  const plotW = WIDTH - left - 30;
  const plotH = HEIGHT - top - 70;
  const values = rts.flatMap((rt) => KINDS.map((k) => bar.value(results, rt, k))).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const max = niceMax(Math.max(0, ...values));
  const y = (v: number) => top + plotH - (v / max) * plotH;
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${esc(tick(v))}</text>`);
  }
  const group = plotW / Math.max(1, rts.length);
  const barW = Math.min(70, group / 4);
  rts.forEach((rt, g) => {
    const gx = left + g * group + group / 2 - (KINDS.length * barW) / 2;
    const sj = bar.value(results, rt, "sockjet");
    KINDS.forEach((k, i) => {
      const v = bar.value(results, rt, k);
      const x = gx + i * barW;
      if (v === undefined || !Number.isFinite(v)) {
        out.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${(y(0) - 4).toFixed(1)}" text-anchor="middle" fill="#999">n/a</text>`);
        return;
      }
      out.push(`<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 4).toFixed(1)}" height="${(y(0) - y(v)).toFixed(1)}" fill="${COLORS[k]}"/>`);
      const note = k === "sockjet" ? "" : ` (${ratioText(ratio(sj, v))})`;
      out.push(`<text x="${(x + barW / 2 - 2).toFixed(1)}" y="${(y(v) - 4).toFixed(1)}" text-anchor="middle" font-size="10">${esc(v.toFixed(bar.decimals) + note)}</text>`);
    });
    out.push(`<text x="${(left + g * group + group / 2).toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle" font-weight="600">${esc(title(rt, results.machine))}</text>`);
  });
  out.push(`<text x="${left}" y="${top - 10}" fill="#555" font-size="11">${esc("in parentheses: sockjet ÷ that server")}</text>`);
  legend(out, rts.includes("bun"));
  out.push("</svg>");
  return out.join("\n") + "\n";
}
