// What a flood of Engine.IO sessions that never send a Socket.IO CONNECT costs the server, and
// whether `connectTimeout` ends them: sockjet and socket.io 4.8 on node:http, side by side, each
// in its own process (bench/tools/handshake-flood-server.ts, --expose-gc).
//
//   node --import tsx bench/tools/handshake-flood.ts [--count 5000] [--concurrency 50]
//        [--servers sockjet,socketio] [--transports polling,websocket] [--namespaces 2000]
//        [--connect-timeout 45000] [--out bench/results/handshake-flood-latest.md]
//
// Per server and transport: warm-up sessions (opened, then closed), a baseline after forced GC,
// `count` sessions opened and left silent (polling: the handshake GET only, over `concurrency`
// keep-alive connections, so that the TCP connections do not grow with the count; websocket: one
// socket each, answered pings aside nothing sent), the same figures again, per session, then the
// time until the server has closed every one of them (connectTimeout) and the heap once they are gone.
// --namespaces K: one connection joins K distinct namespaces of a server accepting any (sockjet
// `namespaces: "*"`, socket.io a RegExp parent) and leaves them: what the empty namespaces keep.

import { spawn, type ChildProcess } from "node:child_process";
import { Agent, request } from "node:http";
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { runtimeVersion } from "../lib/runtimes.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SERVER = fileURLToPath(new URL("./handshake-flood-server.ts", import.meta.url));

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const COUNT = Number(option("count", "5000"));
const CONCURRENCY = Number(option("concurrency", "50"));
const SERVERS = option("servers", "sockjet,socketio").split(",") as Array<"sockjet" | "socketio">;
const TRANSPORTS = option("transports", "polling,websocket").split(",").filter(Boolean) as Array<"polling" | "websocket">;
const NAMESPACES = Number(option("namespaces", "0"));
const CONNECT_TIMEOUT = Number(option("connect-timeout", "45000"));
const OUT = option("out", "");

interface ServerStats {
  heapUsed: number;
  rss: number;
  external: number;
  arrayBuffers: number;
  fds: number;
  sessions: number;
}

interface Target {
  url: string;
  stats(): Promise<ServerStats>;
  close(): Promise<void>;
}

async function start(kind: string, env: Record<string, string> = {}): Promise<Target> {
  const child: ChildProcess = spawn(process.execPath, ["--expose-gc", "--import", "tsx", SERVER, kind], {
    cwd: ROOT,
    env: { ...process.env, FLOOD_CONNECT_TIMEOUT: String(CONNECT_TIMEOUT), ...env },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines: Array<(line: string) => void> = [];
  let buffered = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      lines.shift()?.(line);
    }
  });
  const next = () => new Promise<string>((resolve) => lines.push(resolve));
  const { port } = JSON.parse(await next()) as { port: number };
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    url: `http://127.0.0.1:${port}`,
    async stats() {
      const answer = next();
      child.stdin!.write('{"op":"stats"}\n');
      return JSON.parse(await answer) as ServerStats;
    },
    async close() {
      child.stdin!.end();
      await exited;
    },
  };
}

function get(agent: Agent, url: string, method = "GET", body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method, headers: body === undefined ? {} : { "content-type": "text/plain;charset=UTF-8" } }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Opens `count` polling sessions (handshake only) and resolves with their sids. */
async function pollingFlood(agent: Agent, base: string, count: number): Promise<string[]> {
  const sids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const res = await get(agent, `${base}/socket.io/?EIO=4&transport=polling`);
      if (res.status !== 200) throw new Error(`handshake answered ${res.status}: ${res.body}`);
      sids.push((JSON.parse(res.body.slice(1)) as { sid: string }).sid);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return sids;
}

/** Opens `count` WebSockets, each waiting for its open packet; pings are answered, nothing else is sent. */
async function websocketFlood(base: string, count: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const ws = new WebSocket(`${base.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
      await new Promise<void>((resolve, reject) => {
        ws.once("message", () => resolve());
        ws.once("error", reject);
      });
      ws.on("message", (data) => {
        if (String(data) === "2") ws.send("3");
      });
      sockets.push(ws);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return sockets;
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<number | null> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await check()) return Date.now() - t0;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return null;
}

interface Row {
  server: string;
  transport: string;
  count: number;
  openMs: number;
  heapPer: number;
  rssPer: number;
  externalPer: number;
  fdsDelta: number;
  closedAfterMs: number | null;
  wsClosed: number | null;
  heapAfterClose: number;
}

async function measure(kind: "sockjet" | "socketio", transport: "polling" | "websocket"): Promise<Row> {
  const target = await start(kind);
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    // Warm-up: the same paths once, then closed (polling: a CLOSE packet; websocket: the socket).
    if (transport === "polling") {
      for (const sid of await pollingFlood(agent, target.url, 200)) await get(agent, `${target.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, "POST", "1");
    } else {
      for (const ws of await websocketFlood(target.url, 200)) ws.close();
    }
    await until(async () => (await target.stats()).sessions === 0, 30_000);
    const before = await target.stats();
    const t0 = Date.now();
    const sockets = transport === "polling" ? (await pollingFlood(agent, target.url, COUNT), []) : await websocketFlood(target.url, COUNT);
    const openMs = Date.now() - t0;
    const during = await target.stats();
    if (during.sessions < COUNT) throw new Error(`${kind}: only ${during.sessions} of ${COUNT} sessions open`);
    let closedByServer = 0;
    for (const ws of sockets) ws.once("close", () => closedByServer++);
    const closedAfterMs = await until(async () => (await target.stats()).sessions === 0, CONNECT_TIMEOUT + 60_000);
    if (transport === "websocket") await until(async () => closedByServer === sockets.length, 10_000);
    const after = await target.stats();
    for (const ws of sockets) ws.terminate();
    return {
      server: kind,
      transport,
      count: COUNT,
      openMs,
      heapPer: (during.heapUsed - before.heapUsed) / COUNT,
      rssPer: (during.rss - before.rss) / COUNT,
      externalPer: (during.external - before.external) / COUNT,
      fdsDelta: during.fds - before.fds,
      closedAfterMs,
      wsClosed: transport === "websocket" ? closedByServer : null,
      heapAfterClose: after.heapUsed - before.heapUsed,
    };
  } finally {
    agent.destroy();
    await target.close();
  }
}

interface NamespaceRow {
  server: string;
  namespaces: number;
  heapPerNamespace: number;
}

/** One WebSocket connection joins `count` distinct namespaces one after the other, leaving each. */
async function namespaceChurn(kind: "sockjet" | "socketio", count: number): Promise<NamespaceRow> {
  const target = await start(kind, { FLOOD_NAMESPACES: "*" });
  try {
    const ws = new WebSocket(`${target.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
    const inbox: string[] = [];
    const waiters: Array<(line: string) => void> = [];
    ws.on("message", (data) => {
      const text = String(data);
      if (text === "2") return void ws.send("3");
      const w = waiters.shift();
      if (w) w(text);
      else inbox.push(text);
    });
    const nextMessage = () => (inbox.length > 0 ? Promise.resolve(inbox.shift()!) : new Promise<string>((resolve) => waiters.push(resolve)));
    await nextMessage(); // open packet
    const join = async (nsp: string) => {
      ws.send(`40${nsp},`);
      const answer = await nextMessage();
      if (!answer.startsWith(`40${nsp},`)) throw new Error(`${kind}: ${nsp} answered ${answer}`);
      ws.send(`41${nsp},`);
    };
    for (let i = 0; i < 100; i++) await join(`/warm-${i}`);
    const before = await target.stats();
    for (let i = 0; i < count; i++) await join(`/dyn-${i}`);
    const after = await target.stats();
    ws.terminate();
    return { server: kind, namespaces: count, heapPerNamespace: (after.heapUsed - before.heapUsed) / count };
  } finally {
    await target.close();
  }
}

const rows: Row[] = [];
for (const transport of TRANSPORTS) {
  for (const kind of SERVERS) {
    console.error(`${kind} ${transport}: ${COUNT} sessions without CONNECT...`);
    const row = await measure(kind, transport);
    console.error(JSON.stringify(row));
    rows.push(row);
  }
}
const nsRows: NamespaceRow[] = [];
if (NAMESPACES > 0) {
  for (const kind of SERVERS) {
    const row = await namespaceChurn(kind, NAMESPACES);
    console.error(JSON.stringify(row));
    nsRows.push(row);
  }
}

const KB = (n: number) => (n / 1024).toFixed(2);
const label = (k: string) => (k === "socketio" ? "socket.io 4.8" : "sockjet");
const lines = [
  `# Sessions that never send CONNECT`,
  "",
  `${new Date().toISOString()}, Node ${runtimeVersion(ROOT, "node")}, ${cpus().length} cores shared with other work (load average ${loadavg().map((l) => l.toFixed(2)).join(" ")} at the end).`,
  "",
  `Command: \`node --import tsx bench/tools/handshake-flood.ts --count ${COUNT} --concurrency ${CONCURRENCY} --servers ${SERVERS.join(",")} --transports ${TRANSPORTS.join(",")} --namespaces ${NAMESPACES} --connect-timeout ${CONNECT_TIMEOUT}\``,
  "",
];
if (rows.length > 0) {
  lines.push(
  "Per session, after forced GC, with every session still open (polling sessions share the keep-alive connections; each WebSocket session has its own TCP connection).",
  "",
  "| server | transport | sessions | opened in | JS heap per session | RSS per session | external per session | fds added | all closed by the server, after the last handshake | WebSockets closed by the server | heap left after close |",
  "|---|---|---|---|---|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${label(r.server)} | ${r.transport} | ${r.count} | ${(r.openMs / 1000).toFixed(1)} s (${Math.round(r.count / (r.openMs / 1000))}/s) | ${KB(r.heapPer)} KB | ${KB(r.rssPer)} KB | ${KB(r.externalPer)} KB | ${r.fdsDelta} | ${r.closedAfterMs === null ? "**not within connectTimeout + 60 s**" : `${(r.closedAfterMs / 1000).toFixed(1)} s`} | ${r.wsClosed ?? "—"} | ${KB(r.heapAfterClose)} KB |`,
  ),
  "",
  );
}
if (nsRows.length > 0) {
  lines.push(
    "Namespaces created on one connection and left (server accepting any namespace), heap kept per namespace after forced GC ((after - before) / count, after 100 warm-up namespaces; a fixed amount, such as compiled code, shrinks per namespace as the count grows, a kept object does not):",
    "",
    "| server | namespaces | heap kept per namespace |",
    "|---|---|---|",
    ...nsRows.map((r) => `| ${label(r.server)} | ${r.namespaces} | ${r.heapPerNamespace.toFixed(0)} bytes |`),
    "",
  );
}
const text = lines.join("\n");
console.log(text);
if (OUT !== "") writeFileSync(OUT, text);
