// The scale sessions, as the load generator runs them against one server process: each grows one
// server from nothing to the largest size and reads the figures on the way, so that every point of
// a curve comes from the same process under the same conditions.
//   ws:      memory per idle WebSocket client at each size.
//   polling: memory per idle long-polling session (one GET pending each) at each size.
//   idle:    grows to the largest size reading connect CPU and rate of each growth phase, then idle
//            CPU over whole ping intervals, then a connect batch on top.
//   rooms:   paced broadcasts to rooms of each size, then every one of many small rooms sent a message.
// CPU and memory come from /proc/<server pid> (../load/proc.ts); nothing is reported by the server.

import { performance } from "node:perf_hooks";
import { WsClient } from "../load/ws-client.js";
import { sleep, withTimeout, type ProtocolClient } from "../load/protocol.js";
import type { CpuMark, LoadContext } from "../load/scenarios.js";
import { roomsOfClient, type ScaleParams } from "./params.js";

export const SESSIONS = ["ws", "polling", "idle", "rooms"] as const;
export type SessionName = (typeof SESSIONS)[number];

/** One connect phase: `connections` opened while `connectedBefore` were already connected. */
export interface ConnectPhase {
  connectedBefore: number;
  connections: number;
  seconds: number;
  connectionsPerSec: number;
  cpuUsPerConnection: number;
  schedUsPerConnection: number;
}

/** Memory with `clients` idle clients (or sessions) connected, after a settle and a full GC. */
export interface MemoryLevel {
  clients: number;
  alive: number;
  rssMB: number;
  bytesPerClient: number;
  /** How this level was reached from the previous one. */
  connect: ConnectPhase;
}

export interface IdleWindow {
  clients: number;
  alive: number;
  pingIntervalMs: number;
  /** Idle time between the last connect and the window (absent in runs before the settle existed: 1 s). */
  settleSeconds?: number;
  seconds: number;
  cpuMs: number;
  /** The unit: ms of server CPU per 1,000 clients per minute. */
  msPer1kPerMinute: number;
  schedMsPer1kPerMinute: number;
  /** Server pings the clients answered in the window, per client (about the window's intervals). */
  pingsPerClient: number;
}

export interface RoomSeries {
  size: number;
  broadcasts: number;
  deliveries: number;
  cpuUsPerDelivery: number;
  schedUsPerDelivery: number;
  /** Time for one broadcast to reach every member (load generator's clock), median. */
  p50Ms: number;
  /** Members that did not get exactly `broadcasts` messages, plus non-members that got any. */
  wrong: number;
}

export interface TinyRooms {
  rooms: number;
  roomSize: number;
  rounds: number;
  deliveries: number;
  cpuUsPerDelivery: number;
  schedUsPerDelivery: number;
  cpuUsPerRoom: number;
  /** Time for one round (a message to every room) to be fully delivered, median. */
  roundMs: number;
  wrong: number;
}

export interface SessionFigures {
  baselineRssMB?: number;
  levels?: MemoryLevel[];
  /** idle: the growth phases to the largest size. */
  connects?: ConnectPhase[];
  idle?: IdleWindow;
  connectAtScale?: ConnectPhase;
  rooms?: RoomSeries[];
  tiny?: TinyRooms;
}

export interface SessionResult {
  session: SessionName;
  figures: SessionFigures;
  errors: string[];
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Opens `count` more clients and reads the server's CPU over it (plus 200 ms for the tail). */
async function connectPhase<C extends ProtocolClient>(ctx: LoadContext, before: number, count: number, make: () => Promise<C>): Promise<[C[], ConnectPhase]> {
  const cpu0 = ctx.cpu();
  const t0 = performance.now();
  const added = count > 0 ? await ctx.connectMany(count, make) : [];
  const seconds = (performance.now() - t0) / 1000;
  await sleep(200);
  const cpu: CpuMark = ctx.cpuSince(cpu0);
  return [
    added,
    {
      connectedBefore: before,
      connections: added.length,
      seconds,
      connectionsPerSec: added.length / seconds,
      cpuUsPerConnection: cpu.stat / added.length,
      schedUsPerConnection: cpu.sched / added.length,
    },
  ];
}

/**
 * RSS once it has settled: full collections (SIGUSR2, two gc() each) until one moves RSS by less
 * than 1 %, at most `GC_ROUNDS`. One collection may leave freed pages that the runtime returns to
 * the OS only on a later one, so a single reading can land on either side of that.
 */
const GC_ROUNDS = 4;
async function settledRss(ctx: LoadContext): Promise<number> {
  await ctx.gc();
  let rss = ctx.rss();
  for (let round = 1; round < GC_ROUNDS; round++) {
    await ctx.gc();
    const next = ctx.rss();
    const moved = Math.abs(next - rss) / rss;
    rss = next;
    if (moved < 0.01) break;
  }
  return rss;
}

/** Warm-up connections opened and closed, full GCs, and the baseline RSS. */
async function baseline(ctx: LoadContext, sp: ScaleParams, make: () => Promise<ProtocolClient>): Promise<number> {
  const warm = await ctx.connectMany(sp.warmupClients, make);
  for (const c of warm) c.close();
  await sleep(500);
  return settledRss(ctx);
}

/** Grows to each size of `sp.sizes`, reading memory per client at each (after a settle and a GC). */
async function memoryLevels(ctx: LoadContext, sp: ScaleParams, make: () => Promise<ProtocolClient>, settleMs: number, figures: SessionFigures): Promise<ProtocolClient[]> {
  const base = await baseline(ctx, sp, make);
  figures.baselineRssMB = base / 2 ** 20;
  figures.levels = [];
  const clients: ProtocolClient[] = [];
  for (const size of sp.sizes) {
    const [added, connect] = await connectPhase(ctx, clients.length, size - clients.length, make);
    clients.push(...added);
    await sleep(settleMs);
    const rss = await settledRss(ctx);
    const alive = clients.filter((c) => c.isOpen).length;
    if (alive !== clients.length) ctx.clients[0]!.errors.push(`${clients.length - alive} of ${clients.length} clients died while idle`);
    figures.levels.push({ clients: clients.length, alive, rssMB: rss / 2 ** 20, bytesPerClient: (rss - base) / clients.length, connect });
  }
  return clients;
}

async function wsSession(ctx: LoadContext, sp: ScaleParams): Promise<SessionFigures> {
  const figures: SessionFigures = {};
  await memoryLevels(ctx, sp, () => ctx.ws(), sp.settleMs, figures);
  return figures;
}

async function idleSession(ctx: LoadContext, sp: ScaleParams): Promise<SessionFigures> {
  const figures: SessionFigures = { connects: [] };
  const warm = await ctx.connectMany(sp.warmupClients, () => ctx.ws());
  for (const c of warm) c.close();
  await sleep(500);
  const clients: WsClient[] = [];
  for (const size of sp.sizes) {
    const [added, connect] = await connectPhase(ctx, clients.length, size - clients.length, () => ctx.ws());
    clients.push(...added);
    figures.connects!.push(connect);
  }
  // Idle: whole ping intervals, so that every client is pinged the same number of times in the
  // window whatever the phase of its heartbeat (a per-socket timer or one shared sweep).
  const interval = clients[0]?.pingInterval ?? 0;
  if (interval <= 0) throw new Error("no pingInterval in the open packet");
  // Settle first (see idleSettleIntervals): without it the window opened 1 s after the last
  // connect and held V8's one-time collections after the growth, which swung Node's ratio to the
  // control between 0.98x and 1.31x from one run to the next.
  await sleep(1000 + interval * sp.idleSettleIntervals);
  const pings0 = clients.reduce((n, c) => n + c.pingsReceived, 0);
  const cpu0 = ctx.cpu();
  const t0 = performance.now();
  await sleep(interval * sp.idleIntervals);
  const cpu = ctx.cpuSince(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  const pings = clients.reduce((n, c) => n + c.pingsReceived, 0) - pings0;
  const alive = clients.filter((c) => c.isOpen).length;
  if (alive !== clients.length) ctx.clients[0]!.errors.push(`${clients.length - alive} of ${clients.length} clients died in the idle window`);
  const per = (us: number) => us / 1000 / (clients.length / 1000) / (seconds / 60);
  figures.idle = {
    clients: clients.length,
    alive,
    pingIntervalMs: interval,
    settleSeconds: 1 + (interval * sp.idleSettleIntervals) / 1000,
    seconds,
    cpuMs: cpu.stat / 1000,
    msPer1kPerMinute: per(cpu.stat),
    schedMsPer1kPerMinute: per(cpu.sched),
    pingsPerClient: pings / clients.length,
  };
  // Connects on top of the largest size: what a reconnect storm after a deploy meets.
  const [, phase] = await connectPhase(ctx, clients.length, sp.connectBatch, () => ctx.ws());
  figures.connectAtScale = phase;
  return figures;
}

async function pollingSession(ctx: LoadContext, sp: ScaleParams): Promise<SessionFigures> {
  const figures: SessionFigures = {};
  await memoryLevels(ctx, sp, () => ctx.polling(), sp.pollingSettleMs, figures);
  return figures;
}

/** Sends `bcastRoom`/`bcastRooms` from `sender` and waits for `expected` deliveries and the ack; returns ms. */
async function trigger(ctx: LoadContext, sender: ProtocolClient, event: string, spec: object, expected: number, answer: number): Promise<number> {
  const t0 = performance.now();
  const delivered = ctx.sink.expect(expected);
  const ack = sender.emitWithAck(event, [spec]);
  const [, body] = await withTimeout(Promise.all([delivered, ack]), ctx.params.timeoutMs, `${event} ${JSON.stringify(spec)}`);
  if (body !== `[${answer}]`) ctx.clients[0]!.errors.push(`${event} acknowledged with ${body.slice(0, 60)}`);
  return performance.now() - t0;
}

async function roomsSession(ctx: LoadContext, sp: ScaleParams): Promise<SessionFigures> {
  const n = Math.max(...sp.roomSizes);
  if (sp.tinyRoomSize > n) throw new Error(`small rooms of ${sp.tinyRoomSize} need at least that many clients`);
  const memberships = clients0(n, sp);
  let next = 0;
  const clients = await ctx.connectMany(n, async () => {
    const i = next++;
    const client = await WsClient.connect(ctx.target.host, ctx.target.port, { sink: ctx.sink, verify: false, localAddress: sourceAddress(ctx.target.host, i), auth: JSON.stringify({ r: memberships[i] }) });
    ctx.clients.push(client);
    return client;
  });
  // inPool calls the maker in index order and stores each result at its index: client k has memberships[k].
  const byIndex: WsClient[] = clients;
  await sleep(1000);
  const sender = byIndex[0]!;
  const figures: SessionFigures = { rooms: [] };
  for (const size of sp.roomSizes) {
    const room = `s${size}`;
    for (let w = 0; w < 5; w++) await trigger(ctx, sender, "bcastRoom", { room, n: 1, size: sp.size }, size, 1);
    for (const c of byIndex) c.resetSequence(sp.size);
    const broadcasts = Math.max(sp.minBroadcasts, Math.ceil(sp.roomDeliveries / size));
    await sleep(200);
    const cpu0 = ctx.cpu();
    const times: number[] = [];
    for (let b = 0; b < broadcasts; b++) times.push(await trigger(ctx, sender, "bcastRoom", { room, n: 1, size: sp.size }, size, 1));
    await sleep(200);
    const cpu = ctx.cpuSince(cpu0);
    let wrong = 0;
    for (let k = 0; k < n; k++) if (byIndex[k]!.received !== (k < size ? broadcasts : 0)) wrong++;
    if (wrong > 0) ctx.clients[0]!.errors.push(`room of ${size}: ${wrong} clients got the wrong number of messages`);
    const deliveries = size * broadcasts;
    figures.rooms!.push({ size, broadcasts, deliveries, cpuUsPerDelivery: cpu.stat / deliveries, schedUsPerDelivery: cpu.sched / deliveries, p50Ms: median(times), wrong });
  }
  // Every small room sent one message, in one loop on the server, `tinyRounds` times.
  const spec = { prefix: "t", count: sp.tinyRooms, size: sp.size };
  const perRound = sp.tinyRooms * sp.tinyRoomSize;
  await trigger(ctx, sender, "bcastRooms", spec, perRound, sp.tinyRooms);
  for (const c of byIndex) c.resetSequence(sp.size);
  await sleep(200);
  const cpu0 = ctx.cpu();
  const times: number[] = [];
  for (let r = 0; r < sp.tinyRounds; r++) times.push(await trigger(ctx, sender, "bcastRooms", spec, perRound, sp.tinyRooms));
  await sleep(200);
  const cpu = ctx.cpuSince(cpu0);
  let wrong = 0;
  for (let k = 0; k < n; k++) {
    const tiny = memberships[k]!.filter((r) => r.startsWith("t")).length;
    if (byIndex[k]!.received !== tiny * sp.tinyRounds) wrong++;
  }
  if (wrong > 0) ctx.clients[0]!.errors.push(`small rooms: ${wrong} clients got the wrong number of messages`);
  const deliveries = perRound * sp.tinyRounds;
  figures.tiny = {
    rooms: sp.tinyRooms,
    roomSize: sp.tinyRoomSize,
    rounds: sp.tinyRounds,
    deliveries,
    cpuUsPerDelivery: cpu.stat / deliveries,
    schedUsPerDelivery: cpu.sched / deliveries,
    cpuUsPerRoom: cpu.stat / (sp.tinyRooms * sp.tinyRounds),
    roundMs: median(times),
    wrong,
  };
  return figures;
}

/** Spreads connections over 127.0.0.1–8 as LoadContext does, so that ephemeral ports never run out. */
function sourceAddress(host: string, i: number): string | undefined {
  return process.platform === "linux" && host === "127.0.0.1" ? `127.0.0.${1 + (i % 8)}` : undefined;
}

/** The rooms of every client of the rooms session. */
function clients0(n: number, sp: ScaleParams): string[][] {
  return Array.from({ length: n }, (_, i) => roomsOfClient(i, n, sp));
}

export async function runSession(ctx: LoadContext, session: SessionName, sp: ScaleParams): Promise<SessionResult> {
  let figures: SessionFigures;
  switch (session) {
    case "ws":
      figures = await wsSession(ctx, sp);
      break;
    case "polling":
      figures = await pollingSession(ctx, sp);
      break;
    case "idle":
      figures = await idleSession(ctx, sp);
      break;
    case "rooms":
      figures = await roomsSession(ctx, sp);
      break;
  }
  return { session, figures, errors: ctx.errors() };
}
