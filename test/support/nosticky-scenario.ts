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
// Used by test/cluster/nosticky/<broker>.test.ts (a short chat) and by `npm run cluster:no-sticky`
// (scripts/nosticky-run.ts, the 30 s).

import { spawn, type ChildProcess } from "node:child_process";
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
  /** Broker messages published by the no-sticky layer, all servers. */
  brokerMessages: number;
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

interface ClientRecord {
  id: string;
  group: string;
  acked: Record<string, number[]>;
  received: Array<[string, number]>;
  sids: string[];
  connected: boolean;
}

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
    this.record = { id, group, acked: {}, received: [], sids: [], connected: false };
    socket.on("connect", () => {
      this.record.sids.push((socket.io.engine as unknown as { id: string }).id);
      socket.emit("join", group);
    });
    socket.on("chat", (m: { from: string; seq: number }) => this.record.received.push([m.from, m.seq]));
    // The acknowledgements of a session that ended never come.
    socket.on("disconnect", () => (this.pending = 0));
  }

  go(phase: number, period: number): void {
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
    const child = spawn(PYTHON, [PY_CLIENT, url, String(count), String(first), String(groups), String(period)], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    // python-engineio logs every dropped connection: kept out of the test's output.
    child.stderr!.resume();
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

  quit(): void {
    this.child.stdin!.end("quit\n");
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

/** Exact delivery of one phase's acknowledged messages inside each group. */
function checkPhase(records: ClientRecord[], phase: number, failures: string[]): number {
  const byGroup = new Map<string, ClientRecord[]>();
  for (const r of records) (byGroup.get(r.group) ?? byGroup.set(r.group, []).get(r.group)!).push(r);
  let delivered = 0;
  for (const members of byGroup.values()) {
    for (const sender of members) {
      const acked = sender.acked[phase] ?? [];
      const ackedSet = new Set(acked);
      for (const recipient of members) {
        const got = recipient.received.filter(([from, seq]) => from === sender.id && ackedSet.has(seq)).map(([, seq]) => seq);
        delivered += got.length;
        if (got.length !== acked.length || got.some((seq, i) => seq !== acked[i])) {
          if (failures.length < 20) failures.push(`phase ${phase}: ${recipient.id} got ${got.length} of ${acked.length} messages of ${sender.id}${got.length === acked.length ? " (out of order)" : ""}`);
          else if (failures.length === 20) failures.push("...");
        }
      }
    }
  }
  return delivered;
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
    python = await PythonChatters.start(proxy.url, perKind, 0, groups, period);
    for (const [kind, transports] of [["p", ["polling"]], ["u", ["polling", "websocket"]]] as const) {
      for (let i = 0; i < perKind; i++) {
        const index = (kind === "p" ? perKind : 2 * perKind) + i;
        const socket = io(proxy.url, { forceNew: true, transports: [...transports], reconnectionDelay: 200, reconnectionDelayMax: 1000, timeout: 30_000 });
        js.push(new JsChatter(socket, `js-${kind}-${i}`, `g${index % groups}`));
      }
    }
    await until(() => js.every((c) => c.socket.connected), "the JavaScript clients to connect", 60_000);
    // Every client has joined its group before anyone speaks.
    await sleep(1500);
    log(`${options.name}: ${3 * perKind} clients connected`);

    const runPhase = async (phase: number, seconds: number, during?: () => Promise<void>) => {
      const pythonChats = during === undefined || options.pythonChatsThroughKill !== false;
      if (pythonChats) await python!.command(`go ${phase}`);
      for (const c of js) c.go(phase, period);
      if (during !== undefined) await during();
      await sleep(seconds * 1000);
      for (const c of js) c.halt();
      // In a stable phase every acknowledgement comes; around the kill, those of the dead sessions never do.
      const wait = during === undefined ? 15 : 3;
      const { pending } = pythonChats ? ((await python!.command(`halt ${wait}`)) as { pending: number }) : { pending: 0 };
      await until(() => js.every((c) => c.pending === 0 || !c.socket.connected), "acknowledgements", wait * 1000).catch(() => {});
      const unacknowledged = pending + js.reduce((n, c) => n + c.pending, 0);
      if (during === undefined && unacknowledged > 0) failures.push(`phase ${phase}: ${unacknowledged} messages never acknowledged`);
      log(`${options.name}: phase ${phase} halted`);
      await sleep(800);
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
    let waiting = "";
    await until(
      async () => {
        const stuck = [...js.map((c) => ({ ...c.record, connected: c.socket.connected })), ...(await python!.report())].filter((c) => !c.connected || owned(c.sids.at(-1)));
        waiting = stuck.map((c) => `${c.id} (${c.connected ? "connected" : "disconnected"}, sids ${c.sids.join(" ")})`).join(", ");
        if (process.env.NOSTICKY_DEBUG) log(`waiting for ${waiting}`);
        return stuck.length === 0;
      },
      "every client of the killed server to reconnect",
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${waiting}`);
    });
    await sleep(800);
    log(`${options.name}: everyone reconnected`);

    await runPhase(3, options.afterSeconds ?? 3);
    log(`${options.name}: phase 3 done`);

    const records = [...js.map((c) => ({ ...c.record, connected: c.socket.connected })), ...(await python.report())];
    const sent: [number, number, number] = [1, 2, 3].map((p) => records.reduce((n, r) => n + (r.acked[p]?.length ?? 0), 0)) as [number, number, number];
    const delivered = checkPhase(records, 1, failures) + checkPhase(records, 3, failures);
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
      brokerMessages: stats.reduce((n, s) => n + s.published, 0),
      failures,
    };
  } finally {
    for (const c of js) {
      c.halt();
      c.socket.disconnect();
    }
    python?.quit();
    await proxy.close();
    for (const s of servers) s.child.kill("SIGKILL");
  }
}
