// Broker faults under load, shared by test/support/fault-scenario.ts (a short cut and silent link per broker)
// and bench/faults.ts (30 s cuts and broker restarts): sockjet server processes and a write-only
// Emitter process joined through a TCP proxy in front of the broker, official socket.io-client v4
// clients on every server, all in the room "load". Every server broadcasts numbered messages to
// the room and calls clients of the next server; the emitter does both too. After the fault and
// the recovery, every (message, client) pair that did not arrive is held against a report:
//
//   reported by the sender    the manager's "error" event (stage "publish") named that message,
//                             or the emitter's emit rejected
//   receiver's outage         the receiving server had reported "disconnect" (and not yet
//                             "reconnect") when the message was sent, or did so within
//                             IN_FLIGHT_MS after it (the message was on its way when the link
//                             went: the broker had taken it, the socket to the receiver died)
//   silent                    anything else: a defect
//
// Calls end as ok, ACK_TIMEOUT, or rejected with the broker's error; one still pending after its
// timeout is a hang.

import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { io, type Socket as ClientSocket } from "socket.io-client";
import type { LoadCall, LoadLog } from "./fault-load-types.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SERVER = fileURLToPath(new URL("../cluster/fixtures/load-server.ts", import.meta.url));
const EMITTER = fileURLToPath(new URL("../cluster/fixtures/load-emitter.ts", import.meta.url));

/** How long before a receiver's "disconnect" a missing message counts as in flight at the fault. */
export const IN_FLIGHT_MS = 1000;

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

type ChildMessage =
  | { kind: "ready"; port: number; hostId: string }
  | { kind: "event"; name: "disconnect" | "reconnect"; at: number }
  | { kind: "log"; log: LoadLog };

export interface LoadConfig {
  /** Broker URL the processes use (the proxy's). */
  url: string;
  channel: string;
  fastBackoff?: boolean;
  publishTimeout?: number;
  /** Per server index, another URL (e.g. a proxy of its own, to cut one server off alone). */
  serverUrls?: string[];
}

/** A load process (server or emitter) driven over IPC. */
export class LoadProcess {
  readonly events: Array<{ name: "disconnect" | "reconnect"; at: number }> = [];
  url = "";
  exitCode: number | null | undefined = undefined;
  private logWaiter: ((log: LoadLog) => void) | null = null;
  private readonly wakers = new Set<() => void>();

  private constructor(
    readonly label: string,
    readonly index: number,
    private readonly child: ChildProcess,
  ) {
    children.add(child);
    child.on("exit", (code) => {
      this.exitCode = code;
      children.delete(child);
      this.wake();
    });
    child.on("message", (message: ChildMessage) => {
      if (message.kind === "event") {
        this.events.push({ name: message.name, at: message.at });
        this.wake();
      } else if (message.kind === "log") this.logWaiter?.(message.log);
    });
  }

  static start(kind: "server" | "emitter", index: number, config: LoadConfig): Promise<LoadProcess> {
    const child = spawn(process.execPath, ["--import", "tsx", kind === "server" ? SERVER : EMITTER], {
      cwd: ROOT,
      env: { ...process.env, SOCKJET_LOAD: JSON.stringify({ ...config, index }) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "advanced",
    });
    const proc = new LoadProcess(kind === "server" ? `server ${index}` : "emitter", index, child);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`${proc.label} did not become ready`));
      }, 60_000);
      child.on("message", (message: ChildMessage) => {
        if (message.kind !== "ready") return;
        clearTimeout(timer);
        proc.url = `http://127.0.0.1:${message.port}`;
        resolve(proc);
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`${proc.label} exited early (code ${code})`));
      });
    });
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  send(command: Record<string, unknown>): void {
    if (this.alive) this.child.send(command);
  }

  /** Stops the load and resolves with the log (null if the process died). */
  stop(): Promise<LoadLog | null> {
    if (!this.alive) return Promise.resolve(null);
    return new Promise((resolve) => {
      const onExit = () => resolve(null);
      this.child.once("exit", onExit);
      this.logWaiter = (log) => {
        this.child.off("exit", onExit);
        resolve(log);
      };
      this.send({ op: "stop" });
    });
  }

  /** Resolves when this process has reported "reconnect" at or after `since` (false after `limit` ms or if it died). */
  async reconnected(since: number, limit: number): Promise<boolean> {
    const deadline = Date.now() + limit;
    for (;;) {
      if (this.events.some((e) => e.name === "reconnect" && e.at >= since)) return true;
      if (!this.alive || Date.now() > deadline) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.wakers.add(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  async exit(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.send({ op: "exit" });
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }

  /** The periods this process was cut off: [disconnect, reconnect or Infinity]. */
  outages(): Array<[number, number]> {
    const windows: Array<[number, number]> = [];
    let open: number | null = null;
    for (const e of this.events) {
      if (e.name === "disconnect" && open === null) open = e.at;
      else if (e.name === "reconnect" && open !== null) {
        windows.push([open, e.at]);
        open = null;
      }
    }
    if (open !== null) windows.push([open, Infinity]);
    return windows;
  }

  private wake(): void {
    for (const w of [...this.wakers]) w();
    this.wakers.clear();
  }
}

/** A client that records every numbered message and call request, with the time of first receipt. */
export class LoadClient {
  /** `${source}:${seq}` → [count, first receipt]. */
  readonly received = new Map<string, [number, number]>();
  /** Call data → times received (a call delivered twice to the client is a duplicate). */
  readonly calls = new Map<number, number>();
  readonly marks = new Set<number>();
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly socket: ClientSocket,
    readonly server: number,
  ) {
    socket.on("load", (source: number, seq: number) => {
      const key = `${source}:${seq}`;
      const entry = this.received.get(key);
      if (entry) entry[0]++;
      else this.received.set(key, [1, Date.now()]);
    });
    socket.on("double", (x: number, ack: (v: number) => void) => {
      this.calls.set(x, (this.calls.get(x) ?? 0) + 1);
      ack(x * 2);
    });
    socket.on("mark", (source: number) => {
      this.marks.add(source);
      for (const w of [...this.waiters]) w();
    });
  }

  static async connect(url: string, server: number): Promise<LoadClient> {
    const socket = io(url, { forceNew: true, reconnection: false, transports: ["websocket"] });
    const client = new LoadClient(socket, server);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", reject);
    });
    return client;
  }

  get id(): string {
    const id = this.socket.id;
    if (id === undefined) throw new Error("client not connected");
    return id;
  }

  /** Resolves when marks from every source in `sources` have arrived (false after `limit` ms). */
  async marked(sources: number[], limit: number): Promise<boolean> {
    const deadline = Date.now() + limit;
    while (!sources.every((s) => this.marks.has(s))) {
      if (Date.now() > deadline) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        const wake = () => (clearTimeout(timer), this.waiters.delete(wake), resolve());
        this.waiters.add(wake);
      });
    }
    return true;
  }
}

export interface FaultCluster {
  servers: LoadProcess[];
  emitter: LoadProcess;
  clients: LoadClient[];
  close(): Promise<void>;
}

/** Starts `servers` load servers and one emitter on `config.url`, and `perServer` clients on each. */
export async function startFaultCluster(config: LoadConfig, servers = 3, perServer = 2): Promise<FaultCluster> {
  const procs: LoadProcess[] = [];
  const clients: LoadClient[] = [];
  const close = async () => {
    for (const c of clients) c.socket.disconnect();
    await Promise.all(procs.map((p) => p.exit()));
  };
  try {
    const started = await Promise.all([
      ...Array.from({ length: servers }, (_, i) => LoadProcess.start("server", i, { ...config, url: config.serverUrls?.[i] ?? config.url })),
      LoadProcess.start("emitter", servers, config),
    ]);
    procs.push(...started);
    const serverProcs = started.slice(0, servers);
    for (const s of serverProcs) for (let k = 0; k < perServer; k++) clients.push(await LoadClient.connect(s.url, s.index));
    return { servers: serverProcs, emitter: started[servers]!, clients, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export interface LoadTiming {
  /** ms between numbered emits, per process. */
  period: number;
  /** ms between calls, per process. */
  callPeriod: number;
  callTimeout: number;
}

/** Starts the load: server i calls the clients of server i+1; the emitter calls every client. */
export function startLoad(cluster: FaultCluster, timing: LoadTiming): void {
  const n = cluster.servers.length;
  for (const s of cluster.servers) {
    const targets = cluster.clients.filter((c) => c.server === (s.index + 1) % n).map((c) => c.id);
    s.send({ op: "start", ...timing, callTargets: targets });
  }
  cluster.emitter.send({ op: "start", ...timing, callTargets: cluster.clients.map((c) => c.id) });
}

export interface StreamReport {
  source: string;
  /** Processes that died during the run (crashes). */
  crashed: boolean;
  sent: number;
  /** Messages the sender reported lost. */
  reportedLost: number;
  /** ...of which some clients (on other servers) received anyway (a rejection after the broker took it). */
  reportedButDelivered: number;
  /** (message, client) pairs. */
  expected: number;
  delivered: number;
  missingReportedBySender: number;
  missingReceiverOutage: number;
  /** ...of which the message was sent before the receiver's "disconnect" (at most `before` ms, see analyse). */
  missingInFlight: number;
  missingSilent: number;
  /** The silent losses, for the report: `source:seq → server of the client` (at most 10). */
  silentSamples: string[];
  duplicates: number;
  /** ms from the restore to the first delivery to another server's client of a message sent after it. */
  firstDeliveryAfterRestore: number | null;
  /** ms from the restore until every later message reached every client (receipt of the first such message). */
  completeAfterRestore: number | null;
  rssStartMB: number;
  rssMaxMB: number;
}

export interface CallReport {
  caller: string;
  calls: number;
  ok: number;
  timeout: number;
  rejected: number;
  wrong: number;
  /** Still pending when the run ended (after their timeout): hangs. */
  pending: number;
  /** Call requests a client received more than once. */
  duplicates: number;
  /** ms from the restore to the first call made after it that succeeded (its reply). */
  firstOkAfterRestore: number | null;
  pendingMax: number;
  samples: string[];
}

export interface FaultReport {
  streams: StreamReport[];
  calls: CallReport[];
  /** ms from the restore to each process's "reconnect" (null: none). */
  reconnect: Array<{ process: string; ms: number | null }>;
  /** Failure reports other than lost emits, per stage/operation: `publish/callback: 3`. */
  otherReports: Record<string, number>;
}

/**
 * Hands every missing delivery to a report; see the header. `before` replaces IN_FLIGHT_MS: how
 * long before a receiver's "disconnect" a missing message still counts against that disconnect
 * (for a link that went silent, the time the driver takes to notice).
 */
export function analyse(cluster: FaultCluster, logs: Array<LoadLog | null>, faultAt: number, restoreAt: number, before = IN_FLIGHT_MS): FaultReport {
  const procs = [...cluster.servers, cluster.emitter];
  const streams: StreamReport[] = [];
  const calls: CallReport[] = [];
  const otherReports: Record<string, number> = {};
  const mb = (bytes: number) => Math.round(bytes / 1048576);

  for (const [i, proc] of procs.entries()) {
    const log = logs[i];
    const crashed = log === null || log === undefined;
    const isEmitter = proc === cluster.emitter;
    const report: StreamReport = {
      source: proc.label,
      crashed,
      sent: log?.sent.length ?? 0,
      reportedLost: 0,
      reportedButDelivered: 0,
      expected: 0,
      delivered: 0,
      missingReportedBySender: 0,
      missingReceiverOutage: 0,
      missingInFlight: 0,
      missingSilent: 0,
      silentSamples: [],
      duplicates: 0,
      firstDeliveryAfterRestore: null,
      completeAfterRestore: null,
      rssStartMB: mb(log?.rss.start ?? 0),
      rssMaxMB: mb(log?.rss.max ?? 0),
    };
    streams.push(report);
    if (!log) continue;
    for (const e of log.otherErrors) {
      const key = `${e.stage}/${e.operation ?? "-"}`;
      otherReports[key] = (otherReports[key] ?? 0) + 1;
    }
    const lost = new Set(log.lost.map((l) => l.seq));
    report.reportedLost = lost.size;
    let lastIncomplete = -Infinity;
    const completeAt = new Map<number, number>();
    for (const { seq, at } of log.sent) {
      let missing = false;
      let remoteDelivered = false;
      let latest = 0;
      for (const client of cluster.clients) {
        report.expected++;
        const entry = client.received.get(`${proc.index}:${seq}`);
        const remote = isEmitter || client.server !== proc.index;
        if (entry !== undefined) {
          report.delivered++;
          report.duplicates += entry[0] - 1;
          latest = Math.max(latest, entry[1]);
          if (remote) {
            remoteDelivered = true;
            if (at >= restoreAt) {
              const ms = entry[1] - restoreAt;
              if (report.firstDeliveryAfterRestore === null || ms < report.firstDeliveryAfterRestore) report.firstDeliveryAfterRestore = ms;
            }
          }
          continue;
        }
        missing = true;
        const receiver = cluster.servers[client.server]!;
        const window = remote ? receiver.outages().find(([down, up]) => at >= down - before && at <= up) : undefined;
        if (remote && lost.has(seq)) report.missingReportedBySender++;
        else if (window !== undefined) {
          report.missingReceiverOutage++;
          if (at < window[0]) report.missingInFlight++;
        } else {
          report.missingSilent++;
          if (report.silentSamples.length < 10) report.silentSamples.push(`${proc.label} #${seq} (sent ${at - faultAt} ms after the fault) → client of server ${client.server}`);
        }
      }
      if (lost.has(seq) && remoteDelivered) report.reportedButDelivered++;
      if (missing) lastIncomplete = Math.max(lastIncomplete, at);
      else completeAt.set(at, latest);
    }
    // Recovery: the first message after the last incomplete one (and after the restore) that reached everyone.
    const from = Math.max(lastIncomplete + 1, restoreAt);
    const after = log.sent.filter((s) => s.at >= from && completeAt.has(s.at));
    if (after.length > 0) report.completeAfterRestore = completeAt.get(after[0]!.at)! - restoreAt;

    const offset = proc.index * 1_000_000;
    const byOutcome = (o: LoadCall["outcome"]) => log.calls.filter((c) => c.outcome === o).length;
    const firstOk = log.calls.filter((c) => c.at >= restoreAt && c.outcome === "ok").sort((a, b) => a.doneAt - b.doneAt)[0];
    let duplicates = 0;
    for (const client of cluster.clients) for (const [data, count] of client.calls) if (data >= offset && data < offset + 1_000_000) duplicates += count - 1;
    calls.push({
      caller: proc.label,
      calls: log.calls.length,
      ok: byOutcome("ok"),
      timeout: byOutcome("timeout"),
      rejected: byOutcome("rejected"),
      wrong: byOutcome("wrong"),
      pending: byOutcome("pending"),
      duplicates,
      firstOkAfterRestore: firstOk ? firstOk.doneAt - restoreAt : null,
      pendingMax: log.pendingCallsMax,
      samples: [...new Set(log.calls.filter((c) => c.outcome === "rejected" || c.outcome === "wrong").map((c) => `${c.outcome}: ${c.error}`))].slice(0, 3),
    });
  }
  const reconnect = procs.map((p) => {
    const e = p.events.find((x) => x.name === "reconnect" && x.at >= faultAt);
    return { process: p.label, ms: e ? e.at - restoreAt : null };
  });
  return { streams, calls, reconnect, otherReports };
}

/** Stops the load, lets every earlier message arrive (markers, FIFO per publisher), returns the logs. */
export async function stopLoad(cluster: FaultCluster, limit = 20_000): Promise<{ logs: Array<LoadLog | null>; drained: boolean }> {
  const procs = [...cluster.servers, cluster.emitter];
  const logs = await Promise.all(procs.map((p) => p.stop()));
  for (const p of procs) p.send({ op: "mark" });
  const sources = procs.filter((p) => p.alive).map((p) => p.index);
  const drained = (await Promise.all(cluster.clients.map((c) => c.marked(sources, limit)))).every(Boolean);
  return { logs, drained };
}
