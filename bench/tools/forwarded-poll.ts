// The cost of no sticky sessions, measured: a long-polling round trip (a POST carrying an event
// with an acknowledgement, then the GET that brings the acknowledgement back) made to the server
// that owns the session (local) and to another server (forwarded: both requests cross the broker
// to the owner and back), side by side in one run, in alternating blocks so that the machine's
// load weighs on both alike. Two sockjet servers in this process, each with its cluster manager
// and its no-sticky layer on the same broker; the client is a raw keep-alive HTTP client in this
// process too.
//
// Per round trip: wall-clock latency (median, p90, p99), CPU of this process (both servers and
// the client; the client's share is the same in both columns, so the difference is the
// forwarding's), and the no-sticky layer's broker messages (published, both servers). The
// broker's own CPU (a separate process) is not counted.
//
//   node --import tsx bench/tools/forwarded-poll.ts                 # Redis, NATS, RabbitMQ
//   node --import tsx bench/tools/forwarded-poll.ts --brokers redis --rounds 2000
//
// Prints a markdown table; the figures of a run are in docs/cluster.md.

import type { AddressInfo } from "node:net";
import { Agent, request } from "node:http";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { Server } from "../../src/index.js";
import { PubSubManager } from "../../src/manager/pubsub/index.js";
import { NoStickySessions } from "../../src/manager/nosticky/index.js";
import type { PubSubDriver } from "../../src/manager/driver.js";
import { loadDriver } from "../../src/emitter/driver-url.js";

const { values } = parseArgs({
  options: {
    brokers: { type: "string", default: "redis,nats,amqp" },
    rounds: { type: "string", default: "3000" },
    blocks: { type: "string", default: "6" },
  },
});

const URLS: Record<string, string> = {
  redis: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  nats: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
  amqp: process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672",
};

async function noStickyDriver(kind: string, url: string, exchange: string): Promise<PubSubDriver> {
  if (kind === "amqp") {
    const { AmqpDriver } = await import("../../src/manager/drivers/amqp.js");
    return new AmqpDriver({ url, exchange, exchangeType: "topic" });
  }
  return loadDriver(url);
}

interface Node {
  sio: Server;
  sessions: NoStickySessions;
  port: number;
}

async function startNode(kind: string, url: string, tag: string): Promise<Node> {
  const manager = new PubSubManager({ channel: `bench-${tag}`, driver: await loadDriver(url) });
  const sio = new Server({ clientManager: manager });
  sio.on("echo", (_sid: string, x: unknown) => x);
  const sessions = new NoStickySessions({ driver: await noStickyDriver(kind, url, `bench-ns-${tag}`), channel: `bench-ns-${tag}` });
  await sessions.attach(sio);
  await manager.ready;
  const http = await sio.listen(0, "127.0.0.1");
  return { sio, sessions, port: (http.address() as AddressInfo).port };
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function http(port: number, method: string, path: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, agent, headers: body === undefined ? {} : { "Content-Type": "text/plain;charset=UTF-8" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${res.statusCode} ${text}`))));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A polling session opened on `owner` and connected to "/". */
async function openSession(owner: Node): Promise<string> {
  const open = await http(owner.port, "GET", "/socket.io/?EIO=4&transport=polling");
  const sid = (JSON.parse(open.slice(1)) as { sid: string }).sid;
  await http(owner.port, "POST", `/socket.io/?EIO=4&transport=polling&sid=${sid}`, "40");
  const connected = await http(owner.port, "GET", `/socket.io/?EIO=4&transport=polling&sid=${sid}`);
  if (!connected.startsWith("40")) throw new Error(`no CONNECT: ${connected}`);
  return sid;
}

interface Sample {
  latencies: number[];
  cpuMicros: number;
  messages: number;
  rounds: number;
}

async function measure(nodes: Node[], via: Node, sid: string, rounds: number, sample: Sample): Promise<void> {
  const path = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
  const published = () => nodes.reduce((n, node) => n + node.sessions.stats.published, 0);
  const before = published();
  const cpu = process.cpuUsage();
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint();
    await http(via.port, "POST", path, `42${i % 1000}["echo",${i}]`);
    const answer = await http(via.port, "GET", path);
    sample.latencies.push(Number(process.hrtime.bigint() - start) / 1000);
    if (answer !== `43${i % 1000}[${i}]`) throw new Error(`unexpected answer ${answer}`);
  }
  const used = process.cpuUsage(cpu);
  sample.cpuMicros += used.user + used.system;
  sample.messages += published() - before;
  sample.rounds += rounds;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const rows: string[] = [];
for (const kind of values.brokers.split(",")) {
  const url = URLS[kind];
  if (url === undefined) throw new Error(`unknown broker ${kind}`);
  const tag = `${process.pid}-${kind}`;
  const nodes = [await startNode(kind, url, tag), await startNode(kind, url, tag)];
  const [owner, front] = nodes as [Node, Node];
  const sid = await openSession(owner);
  const rounds = Number(values.rounds);
  const blocks = Number(values.blocks);
  const local: Sample = { latencies: [], cpuMicros: 0, messages: 0, rounds: 0 };
  const forwarded: Sample = { latencies: [], cpuMicros: 0, messages: 0, rounds: 0 };
  // Warm-up of both paths.
  await measure(nodes, owner, sid, 200, { latencies: [], cpuMicros: 0, messages: 0, rounds: 0 });
  await measure(nodes, front, sid, 200, { latencies: [], cpuMicros: 0, messages: 0, rounds: 0 });
  for (let b = 0; b < blocks; b++) {
    await measure(nodes, owner, sid, Math.ceil(rounds / blocks), local);
    await measure(nodes, front, sid, Math.ceil(rounds / blocks), forwarded);
  }
  for (const [name, s] of [["local", local], ["forwarded", forwarded]] as const) {
    const sorted = [...s.latencies].sort((a, b) => a - b);
    // Two HTTP requests (POST and GET) per round trip.
    rows.push(
      `| ${kind} | ${name} | ${s.rounds} | ${(quantile(sorted, 0.5) / 1000).toFixed(2)} | ${(quantile(sorted, 0.9) / 1000).toFixed(2)} | ${(quantile(sorted, 0.99) / 1000).toFixed(2)} | ${(s.cpuMicros / s.rounds).toFixed(0)} | ${(s.messages / s.rounds / 2).toFixed(2)} |`,
    );
  }
  for (const n of nodes) {
    await n.sio.close();
    await n.sessions.close();
  }
}
agent.destroy();
console.log(`Forwarded poll against local poll, ${values.rounds} round trips each (POST of an event with an ack + GET of the ack), ${values.blocks} alternating blocks; Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)} at the end\n`);
console.log("| broker | path | round trips | median ms | p90 ms | p99 ms | CPU µs per round trip | broker messages per poll |");
console.log("|---|---|---|---|---|---|---|---|");
for (const row of rows) console.log(row);
process.exit(0);
