// The no-sticky run over one real broker (issue 12's Tests): three server processes
// (test/cluster/fixtures/nosticky-server.ts) behind a round-robin HTTP and WebSocket proxy with no
// affinity (./round-robin-proxy.ts); 50 official v4 clients polling only, 50 polling with upgrade,
// and 50 python-socketio clients polling only (test/cluster/fixtures/python_nosticky_chat.py),
// chatting in groups of 10 (every kind in every group).
//
//   phase 1  `chatSeconds` of chat: every acknowledged message reaches every member of its group
//            exactly once, in the sender's order; nothing unacknowledged.
//   phase 2  a server is killed (SIGKILL) while the chat goes on; its clients see a disconnect,
//            reconnect (a new session on a live server) and join their group again.
//   phase 3  a few seconds of chat among everyone, checked as phase 1.
//   always   no client receives a message twice; the proxy's log shows requests of one session on
//            different servers, and WebSockets accepted by a server that does not own the session.
//
// A phase where every message counts starts once every client's join of its group is
// acknowledged on its current session. The check waits for the deliveries to settle (the
// acknowledgement reaches the sender before the copies reach slow long-polls) and reports how
// many were late. A client whose session ended meanwhile (a ping timeout on a loaded machine)
// reconnects without state recovery and legitimately misses what its group got while it was
// away: such a gap, between two of its sessions, is reported apart (missedAcrossReconnect, with
// the disconnects), and a message missing within one session is a loss.
//
// Used by test/cluster/nosticky/<broker>.test.ts (a short chat) and by `npm run cluster:no-sticky`
// (scripts/nosticky-run.ts, the issue's 30 s).

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { io, type Socket } from "socket.io-client";
import { RoundRobinProxy } from "./round-robin-proxy.js";
import { PYTHON, probeBroker } from "./cluster-scenarios.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURE = fileURLToPath(new URL("../cluster/fixtures/nosticky-server.ts", import.meta.url));
const PY_CLIENT = fileURLToPath(new URL("../cluster/fixtures/python_nosticky_chat.py", import.meta.url));

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

export interface NoStickyRunOptions {
  name: string;
  url: string;
  /** Length of phase 1. */
  chatSeconds: number;
  /** Chat around the kill (default 3 s) and phase 3 (default 3 s). */
  killSeconds?: number;
  afterSeconds?: number;
  /** Clients of each kind (default 50). */
  perKind?: number;
  /** Interval between two messages of one client (default 1000 ms). */
  periodMs?: number;
  /**
   * Whether the python clients keep chatting while the server is killed (default true). When one
   * of them is sending at the moment its session ends, python-engineio's client (4.3) loses its
   * own stop signal and notices only after max(pingInterval, pingTimeout) + 5 s (its write loop's
   * queue timeout): npm test's short run pauses them around the kill to stay short.
   */
  pythonChatsThroughKill?: boolean;
  log?: (line: string) => void;
}

export interface NoStickyReport {
  broker: string;
  clients: number;
  /** Acknowledged messages per phase, and deliveries checked. */
  sent: [number, number, number];
  delivered: number;
  /** Sessions whose requests reached 2 or more servers, of the sessions with 3 requests or more. */
  spread: { sessions: number; onSeveralServers: number };
  /** Upgrades accepted by a server that does not own the session. */
  relayedUpgrades: number;
  /** Clients whose session was owned by the killed server (all reconnected). */
  reconnected: number;
  /**
   * Acknowledged messages that had not reached a recipient (on an unchanged session) when phase 3's
   * acknowledgements were all in, and arrived afterwards: slow, not lost.
   */
  late: number;
  /** Acknowledged messages a recipient missed between two of its sessions (Socket.IO without recovery). */
  missedAcrossReconnect: { messages: number; clients: string[] };
  /** Disconnects during phases 1 and 3 (client, phase, reason): why those messages were missed. */
  stableReconnects: string[];
  /** Broker messages published by the no-sticky layer, all servers. */
  brokerMessages: number;
  /** Python clients that python-socketio 5.7 left disconnected for good, reconnected by the fixture as an application must. */
  pythonRevived: number;
  failures: string[];
}

interface ServerChild {
  child: ChildProcess;
  port: number;
  nodeId: string;
  request(op: string): Promise<unknown>;
}

function startServer(config: Record<string, string>): Promise<ServerChild> {
  const child = spawn(process.execPath, ["--import", "tsx", FIXTURE], {
    cwd: ROOT,
    env: { ...process.env, SOCKJET_NOSTICKY: JSON.stringify(config) },
    // Not the parent's own stderr: a child left behind must not hold the test runner's pipe open.
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  child.stderr!.on("data", (d: Buffer) => process.stderr.write(d));
  children.add(child);
  child.on("exit", () => children.delete(child));
  const waiters: Array<(v: unknown) => void> = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("server process did not become ready")), 40_000);
    child.on("message", (m: { kind: string; port?: number; nodeId?: string; result?: unknown }) => {
      if (m.kind === "ready") {
        clearTimeout(timer);
        resolve({
          child,
          port: m.port!,
          nodeId: m.nodeId!,
          request: (op) =>
            new Promise((res) => {
              waiters.push(res);
              child.send({ op });
            }),
        });
      } else if (m.kind === "reply") waiters.shift()?.(m.result);
    });
    child.once("exit", (code) => reject(new Error(`server process exited early (code ${code})`)));
  });
}

/** A disconnect: in which phase (null between phases), of which session (index in `sids`), and why. */
interface Drop {
  phase: number | null;
  session: number;
  reason: string;
}

interface ClientRecord {
  id: string;
  group: string;
  acked: Record<string, number[]>;
  /** [sender, seq, index in `sids` of the session it arrived on]. */
  received: Array<[string, number, number]>;
  sids: string[];
  connected: boolean;
  /** The latest session (index in `sids`) whose join of the group was acknowledged; -1 before. */
  joined: number;
  /** The session each phase began with (index in `sids`). */
  starts: Record<string, number>;
  drops: Drop[];
  /** python-socketio 5.7 only: times the library left the client disconnected with no reconnect task and the fixture reconnected it. */
  revived?: number;
}

/** The phase under way (null between phases), for the disconnects of the JavaScript clients. */
let stage: number | null = null;

/** The JavaScript clients, in this process. */
class JsChatter {
  readonly record: ClientRecord;
  private seq = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  pending = 0;

  constructor(
    readonly socket: Socket,
    id: string,
    group: string,
  ) {
    this.record = { id, group, acked: {}, received: [], sids: [], connected: false, joined: -1, starts: {}, drops: [] };
    const record = this.record;
    socket.on("connect", () => {
      record.sids.push((socket.io.engine as unknown as { id: string }).id);
      const session = record.sids.length - 1;
      socket.emit("join", group, () => (record.joined = Math.max(record.joined, session)));
    });
    socket.on("chat", (m: { from: string; seq: number }) => record.received.push([m.from, m.seq, record.sids.length - 1]));
    socket.on("disconnect", (reason: string) => {
      // The acknowledgements of a session that ended never come.
      this.pending = 0;
      record.drops.push({ phase: stage, session: record.sids.length - 1, reason });
    });
  }

  go(phase: number, period: number): void {
    this.record.starts[phase] = this.record.sids.length - 1;
    this.timer = setInterval(() => {
      if (!this.socket.connected) return;
      const seq = ++this.seq;
      this.pending++;
      this.socket.emit("chat", { from: this.record.id, seq, phase, group: this.record.group }, () => {
        (this.record.acked[phase] ??= []).push(seq);
        this.pending--;
      });
    }, period);
  }

  halt(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

/** The python-socketio clients, in one Python process driven over stdin/stdout. */
class PythonChatters {
  private readonly lines: string[] = [];
  private wake: (() => void) | null = null;
  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      this.lines.push(line);
      this.wake?.();
    });
  }

  static async start(url: string, count: number, first: number, groups: number, period: number): Promise<PythonChatters> {
    // setpriv (util-linux) execs python with a parent-death signal: a test file killed at the
    // runner's timeout must not leave 50 chatting clients behind.
    const guard = existsSync("/usr/bin/setpriv") ? ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--"] : [];
    const argv = [...guard, PYTHON, PY_CLIENT, url, String(count), String(first), String(groups), String(period)];
    const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    // python-engineio logs every dropped connection: kept out of the test's output (unless debugging).
    if (process.env.NOSTICKY_DEBUG) child.stderr!.on("data", (d: Buffer) => process.stderr.write(d));
    else child.stderr!.resume();
    children.add(child);
    child.on("exit", () => children.delete(child));
    const chatters = new PythonChatters(child);
    await chatters.next(60_000);
    return chatters;
  }

  private async next(limit = 40_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + limit;
    while (this.lines.length === 0) {
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error("the python clients did not answer");
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 200);
      });
    }
    return JSON.parse(this.lines.shift()!) as Record<string, unknown>;
  }

  async command(line: string): Promise<Record<string, unknown>> {
    this.child.stdin!.write(line + "\n");
    return this.next();
  }

  async report(): Promise<ClientRecord[]> {
    const answer = (await this.command("report")) as { clients: Record<string, Omit<ClientRecord, "id">> };
    return Object.entries(answer.clients).map(([id, c]) => ({ id, ...c }));
  }

  /**
   * Ends the process at once: a goodbye to the cluster from each of its 50 clients, one after the
   * other, is nothing the run checks, and takes seconds on a loaded machine while the test waits
   * for the process's pipes to close.
   */
  kill(): void {
    this.child.kill("SIGKILL");
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean | Promise<boolean>, what: string, limit: number): Promise<void> {
  const deadline = Date.now() + limit;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface PhaseCheck {
  /** Deliveries of acknowledged messages seen. */
  delivered: number;
  /** Acknowledged messages a recipient has not received although it kept one session all along (a loss, or still on its way). */
  lost: number;
  /** Acknowledged messages a recipient missed while it was between two sessions (see below). */
  acrossReconnect: number;
  /** Of those, per recipient. */
  excused: Map<string, number>;
  problems: string[];
}

/**
 * Exact delivery of one phase's acknowledged messages inside each group. A Socket.IO client that
 * reconnects without connection state recovery legitimately misses what its room got while it was
 * away: a message missing between two received ones of the same sender is excused only when the
 * recipient's session changed between them (or, before the first, since the phase began; after
 * the last, by the end of the run). One missing inside one session is a loss.
 */
function checkPhase(records: ClientRecord[], phase: number): PhaseCheck {
  const byGroup = new Map<string, ClientRecord[]>();
  for (const r of records) (byGroup.get(r.group) ?? byGroup.set(r.group, []).get(r.group)!).push(r);
  const out: PhaseCheck = { delivered: 0, lost: 0, acrossReconnect: 0, excused: new Map(), problems: [] };
  for (const members of byGroup.values()) {
    for (const sender of members) {
      const acked = sender.acked[phase] ?? [];
      const at = new Map(acked.map((seq, i) => [seq, i]));
      for (const recipient of members) {
        const got = recipient.received.filter(([from, seq]) => from === sender.id && at.has(seq));
        out.delivered += got.length;
        if (got.some(([, seq], i) => i > 0 && at.get(seq)! <= at.get(got[i - 1]![1])!)) {
          out.problems.push(`phase ${phase}: ${recipient.id} got the messages of ${sender.id} out of order`);
          continue;
        }
        const sessionOf: Array<number | undefined> = acked.map(() => undefined);
        for (const [, seq, session] of got) sessionOf[at.get(seq)!] = session;
        const last = recipient.connected ? recipient.sids.length - 1 : Number.POSITIVE_INFINITY;
        let before = recipient.starts[phase] ?? 0;
        let lost = 0;
        for (let i = 0; i < acked.length; i++) {
          const session = sessionOf[i];
          if (session !== undefined) {
            before = session;
            continue;
          }
          const after = sessionOf.slice(i + 1).find((s) => s !== undefined) ?? last;
          if (after === before) lost++;
          else {
            out.acrossReconnect++;
            out.excused.set(recipient.id, (out.excused.get(recipient.id) ?? 0) + 1);
          }
        }
        out.lost += lost;
        if (lost > 0) out.problems.push(`phase ${phase}: ${recipient.id} got ${got.length} of ${acked.length} messages of ${sender.id}, ${lost} missing within one session (sids ${recipient.sids.join(" ")})`);
      }
    }
  }
  return out;
}

export async function runNoSticky(options: NoStickyRunOptions): Promise<NoStickyReport> {
  const log = options.log ?? (() => {});
  await probeBroker(options);
  const perKind = options.perKind ?? 50;
  const period = options.periodMs ?? 1000;
  const groups = Math.max(1, Math.round((perKind * 3) / 10));
  const tag = `${process.pid}-${Date.now()}`;
  const config = { url: options.url, channel: `nosticky-test-${tag}`, nsChannel: `sockjet-nosticky-${tag}` };
  const servers = await Promise.all([startServer(config), startServer(config), startServer(config)]);
  const proxy = await new RoundRobinProxy(servers.map((s) => s.port)).start();
  const js: JsChatter[] = [];
  let python: PythonChatters | null = null;
  const failures: string[] = [];
  try {
    log(`${options.name}: 3 servers up (${servers.map((s) => s.nodeId).join(", ")}), proxy on ${proxy.port}`);
    // The python clients connect while the JavaScript ones do.
    const starting = PythonChatters.start(proxy.url, perKind, 0, groups, period);
    for (const [kind, transports] of [["p", ["polling"]], ["u", ["polling", "websocket"]]] as const) {
      for (let i = 0; i < perKind; i++) {
        const index = (kind === "p" ? perKind : 2 * perKind) + i;
        const socket = io(proxy.url, { forceNew: true, transports: [...transports], reconnectionDelay: 200, reconnectionDelayMax: 1000, timeout: 30_000 });
        js.push(new JsChatter(socket, `js-${kind}-${i}`, `g${index % groups}`));
      }
    }
    python = await starting;
    const collect = async () => [...js.map((c) => ({ ...c.record, connected: c.socket.connected })), ...(await python!.report())];
    // Before a phase where every message counts, every client is connected and its join of the
    // group acknowledged on its current session: a message to the group cannot miss it.
    const everyoneJoined = async (what: string, gone: (sid: string | undefined) => boolean = () => false) => {
      let waiting = "";
      await until(
        async () => {
          const stuck = (await collect()).filter((c) => !c.connected || c.joined !== c.sids.length - 1 || gone(c.sids.at(-1)));
          waiting = stuck.map((c) => `${c.id} (${c.connected ? "connected" : "disconnected"}, sids ${c.sids.join(" ")})`).join(", ");
          if (process.env.NOSTICKY_DEBUG) log(`waiting for ${waiting}`);
          return stuck.length === 0;
        },
        what,
        60_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}: ${waiting}`);
      });
    };
    await everyoneJoined("every client to connect and join its group");
    log(`${options.name}: ${3 * perKind} clients connected`);

    const runPhase = async (phase: number, seconds: number, during?: () => Promise<void>) => {
      const pythonChats = during === undefined || options.pythonChatsThroughKill !== false;
      stage = phase;
      if (pythonChats) await python!.command(`go ${phase}`);
      for (const c of js) c.go(phase, period);
      if (during !== undefined) await during();
      await sleep(seconds * 1000);
      for (const c of js) c.halt();
      stage = null;
      // In a stable phase every acknowledgement comes. Around the kill, those of the dead sessions
      // never do, and nothing of that phase is checked: no wait.
      const stable = during === undefined;
      const { pending } = pythonChats ? ((await python!.command(`halt ${stable ? 15 : 0}`)) as { pending: number }) : { pending: 0 };
      if (stable) {
        await until(() => js.every((c) => c.pending === 0 || !c.socket.connected), "acknowledgements", 15_000).catch(() => {});
        const unacknowledged = pending + js.reduce((n, c) => n + c.pending, 0);
        if (unacknowledged > 0) failures.push(`phase ${phase}: ${unacknowledged} messages never acknowledged`);
      }
      log(`${options.name}: phase ${phase} halted`);
    };

    await runPhase(1, options.chatSeconds);
    log(`${options.name}: phase 1 done`);

    const victim = servers[2]!;
    await runPhase(2, options.killSeconds ?? 3, async () => {
      await sleep(500);
      proxy.remove(2);
      victim.child.kill("SIGKILL");
      log(`${options.name}: killed server ${victim.nodeId}`);
    });
    log(`${options.name}: phase 2 done`);
    const owned = (sid: string | undefined) => sid?.startsWith(victim.nodeId) ?? false;
    await everyoneJoined("every client of the killed server to reconnect and join its group again", owned);
    log(`${options.name}: everyone reconnected`);

    await runPhase(3, options.afterSeconds ?? 3);
    log(`${options.name}: phase 3 done`);

    // Every acknowledgement is in, but a recipient's copy may still be on its way (a long-poll
    // cycle through a front and the broker, slow on a loaded machine): the check waits for the
    // deliveries to settle, and tells how many arrived late. What is still missing then is lost.
    let records = await collect();
    const check = () => [checkPhase(records, 1), checkPhase(records, 3)] as const;
    let checks = check();
    const lostAtHalt = checks[0].lost + checks[1].lost;
    await until(
      async () => {
        records = await collect();
        checks = check();
        return checks[0].lost + checks[1].lost === 0;
      },
      "the deliveries to settle",
      20_000,
    ).catch(() => {});
    const sent: [number, number, number] = [1, 2, 3].map((p) => records.reduce((n, r) => n + (r.acked[p]?.length ?? 0), 0)) as [number, number, number];
    const delivered = checks[0].delivered + checks[1].delivered;
    const lostAfterWait = checks[0].lost + checks[1].lost;
    const problems = [...checks[0].problems, ...checks[1].problems];
    failures.push(...problems.slice(0, 20));
    if (problems.length > 20) failures.push(`... ${problems.length - 20} more`);
    if (process.env.NOSTICKY_DEBUG) for (const r of records) if (r.drops.length > 0) log(`${r.id}: sids ${r.sids.join(" ")}; drops ${JSON.stringify(r.drops)}`);
    const stableReconnects = records.flatMap((r) => r.drops.filter((d) => d.phase === 1 || d.phase === 3).map((d) => `${r.id} in phase ${d.phase}: ${d.reason || "disconnect"}`));
    const excused = new Map<string, number>();
    for (const c of checks) for (const [id, n] of c.excused) excused.set(id, (excused.get(id) ?? 0) + n);
    const byId = new Map(records.map((r) => [r.id, r]));
    const acrossReconnect = [...excused].map(([id, n]) => {
      const drops = byId.get(id)!.drops.map((d) => `${d.phase === null ? "between phases" : `phase ${d.phase}`}${d.reason === "" ? "" : ` (${d.reason})`}`);
      return `${id}: ${n} missed; disconnected ${drops.join(", ") || "at the end"}`;
    });
    for (const r of records) {
      const seen = new Set<string>();
      for (const [from, seq] of r.received) {
        const key = from + ":" + seq;
        if (seen.has(key)) failures.push(`${r.id} received ${key} twice`);
        seen.add(key);
      }
    }
    const reconnected = records.filter((r) => r.sids.some(owned)).length;
    for (const r of records) if (r.sids.some(owned) && (owned(r.sids.at(-1)) || !r.connected)) failures.push(`${r.id} did not reconnect after its server was killed`);
    if (reconnected === 0) failures.push("no client was on the killed server");
    if (sent[0] === 0 || sent[2] === 0) failures.push("nothing was acknowledged in a phase");

    const nodeIndex = new Map(servers.map((s, i) => [s.nodeId, i]));
    let sessions = 0;
    let several = 0;
    let relayedUpgrades = 0;
    const requests = new Map<string, number>();
    for (const entry of proxy.log) if (entry.sid !== null) requests.set(entry.sid, (requests.get(entry.sid) ?? 0) + 1);
    for (const [sid, backends] of proxy.backendsBySid()) {
      if ((requests.get(sid) ?? 0) < 3) continue;
      sessions++;
      if (backends.size > 1) several++;
    }
    for (const entry of proxy.log) if (entry.kind === "upgrade" && entry.sid !== null && nodeIndex.get(entry.sid.slice(0, 8)) !== entry.backend) relayedUpgrades++;
    if (several * 2 < sessions) failures.push(`only ${several} of ${sessions} sessions had requests on several servers`);
    if (relayedUpgrades === 0) failures.push("no WebSocket upgrade reached a server other than its session's owner");

    const stats = (await Promise.all(servers.slice(0, 2).map((s) => s.request("stats")))) as Array<{ published: number }>;
    return {
      broker: options.name,
      clients: records.length,
      sent,
      delivered,
      spread: { sessions, onSeveralServers: several },
      relayedUpgrades,
      reconnected,
      late: lostAtHalt - lostAfterWait,
      missedAcrossReconnect: { messages: checks[0].acrossReconnect + checks[1].acrossReconnect, clients: acrossReconnect.slice(0, 10) },
      stableReconnects,
      brokerMessages: stats.reduce((n, s) => n + s.published, 0),
      pythonRevived: records.reduce((n, r) => n + (r.revived ?? 0), 0),
      failures,
    };
  } finally {
    for (const c of js) {
      c.halt();
      c.socket.disconnect();
    }
    python?.kill();
    await proxy.close();
    for (const s of servers) s.child.kill("SIGKILL");
  }
}
