// What connection state recovery costs a broadcast: the server's CPU time per room broadcast (and
// per delivery) with the option off, on with the in-memory store, and on with RedisRecoveryStore.
// The server runs in a child process (its CPU is measured there, process.cpuUsage); the clients
// are raw Engine.IO/Socket.IO WebSockets in this process, so their parsing is not counted. One
// broadcast per event-loop turn (RedisRecoveryStore's round trip before each emit would otherwise
// be compared with a server that writes a whole burst at once).
//
//   node --import tsx bench/tools/recovery-overhead.ts [clients=200] [broadcasts=2000] [rounds=3]

import { fork, type ChildProcess } from "node:child_process";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { Server, type ServerOptions } from "../../src/index.js";
import { RedisRecoveryStore } from "../../src/manager/pubsub/redis.js";

type Mode = "off" | "memory" | "redis";
type FromParent = { burst: number } | { report: true } | { exit: true };
type FromChild = { port: number } | { cpu: number };

async function serve(mode: Mode): Promise<void> {
  const options: ServerOptions = {};
  if (mode === "memory") options.connectionStateRecovery = {};
  if (mode === "redis") options.connectionStateRecovery = { store: new RedisRecoveryStore({ prefix: `sockjet-bench:${process.pid}` }) };
  const sio = new Server(options);
  sio.on("join", async (sid: string) => {
    await sio.enterRoom(sid, "room");
    return true;
  });
  const http = await sio.listen(0, "127.0.0.1");
  let start = process.cpuUsage();
  process.on("message", async (message: FromParent) => {
    if ("burst" in message) {
      start = process.cpuUsage();
      // One broadcast per event-loop turn, as a server that broadcasts what its clients send does
      // (without the pause, the option-off server would write all of them in one write per client).
      for (let i = 0; i < message.burst; i++) {
        await sio.emit("tick", i, { to: "room" });
        await new Promise((resolve) => setImmediate(resolve));
      }
    } else if ("report" in message) {
      const used = process.cpuUsage(start);
      process.send!({ cpu: used.user + used.system } satisfies FromChild);
    } else {
      await sio.close();
      process.exit(0);
    }
  });
  process.send!({ port: (http.address() as AddressInfo).port } satisfies FromChild);
}

class RawClient {
  ticks = 0;
  private readonly ws: WebSocket;
  readonly joined: Promise<void>;

  constructor(port: number) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    this.joined = new Promise((resolve) => {
      this.ws.on("message", (raw) => {
        const text = raw.toString();
        if (text === "2") this.ws.send("3");
        else if (text.startsWith("0{")) this.ws.send("40");
        else if (text.startsWith("40{")) this.ws.send('421["join"]');
        else if (text.startsWith("431")) resolve();
        else if (text.startsWith('42["tick"')) this.ticks++;
      });
    });
  }

  close(): void {
    this.ws.close();
  }
}

function ask(child: ChildProcess, message: FromParent): Promise<FromChild> {
  return new Promise((resolve) => {
    child.once("message", (reply: FromChild) => resolve(reply));
    child.send(message);
  });
}

async function measure(mode: Mode, clients: number, broadcasts: number): Promise<number> {
  const child = fork(fileURLToPath(import.meta.url), ["server", mode], { execArgv: ["--import", "tsx"] });
  const { port } = (await new Promise<FromChild>((resolve) => child.once("message", resolve))) as { port: number };
  const peers = Array.from({ length: clients }, () => new RawClient(port));
  await Promise.all(peers.map((p) => p.joined));
  child.send({ burst: broadcasts } satisfies FromParent);
  while (peers.some((p) => p.ticks < broadcasts)) await new Promise((r) => setTimeout(r, 20));
  const { cpu } = (await ask(child, { report: true })) as { cpu: number };
  for (const p of peers) p.close();
  child.send({ exit: true } satisfies FromParent);
  await new Promise((resolve) => child.once("exit", resolve));
  return cpu / broadcasts;
}

if (process.argv[2] === "server") {
  await serve(process.argv[3] as Mode);
} else {
  const [clients = 200, broadcasts = 2000, rounds = 3] = process.argv.slice(2).map(Number);
  const results: Record<Mode, number[]> = { off: [], memory: [], redis: [] };
  for (let round = 0; round < rounds; round++) {
    for (const mode of ["off", "memory", "redis"] as const) results[mode].push(await measure(mode, clients, broadcasts));
  }
  console.log(`${clients} clients in one room, ${broadcasts} broadcasts per run, ${rounds} runs; server CPU (median)`);
  for (const mode of ["off", "memory", "redis"] as const) {
    const sorted = [...results[mode]].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    console.log(`  ${mode.padEnd(7)} ${median.toFixed(1)} µs per broadcast, ${((median * 1000) / clients).toFixed(0)} ns per delivery   (runs: ${results[mode].map((v) => v.toFixed(1)).join(", ")})`);
  }
}
