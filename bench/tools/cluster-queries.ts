// Latency of the cluster-wide queries (docs/cluster.md, "The cluster seen whole"): three servers in
// this process on one broker, 30 socket.io-client v4 clients each, then 300 calls of each query one
// at a time (after 20 to warm up); prints the median and the 95th percentile.
//
//   node --import tsx bench/tools/cluster-queries.ts redis|amqp|nats
//
// Brokers at REDIS_URL, AMQP_URL, NATS_URL (defaults: the local ones of `npm test`).

import type { AddressInfo } from "node:net";
import { io, type Socket } from "socket.io-client";
import { Server } from "../../src/index.js";
import type { PubSubManager } from "../../src/manager/pubsub/index.js";
import { RedisManager } from "../../src/manager/pubsub/redis.js";
import { AmqpManager } from "../../src/manager/pubsub/amqp.js";
import { NatsManager } from "../../src/manager/pubsub/nats.js";

const kind = process.argv[2] ?? "redis";
const channel = `bench-queries-${process.pid}`;
function manager(): PubSubManager {
  switch (kind) {
    case "redis":
      return new RedisManager({ url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379", channel });
    case "amqp":
      return new AmqpManager({ url: process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672", channel });
    case "nats":
      return new NatsManager({ url: process.env.NATS_URL ?? "nats://127.0.0.1:4222", channel });
    default:
      throw new Error(`usage: cluster-queries.ts redis|amqp|nats (got ${kind})`);
  }
}

const servers: Server[] = [];
const clients: Socket[] = [];
for (let i = 0; i < 3; i++) {
  const sio = new Server({ clientManager: manager() });
  sio.onServerSideEvent("ping", () => "pong");
  const http = await sio.listen(0, "127.0.0.1");
  servers.push(sio);
  for (let k = 0; k < 30; k++) {
    const socket = io(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ["websocket"], forceNew: true });
    await new Promise((resolve) => socket.once("connect", () => resolve(null)));
    clients.push(socket);
  }
}
while (servers.some((s) => s.serverCount() !== 3)) await new Promise((resolve) => setTimeout(resolve, 20));

async function time(name: string, fn: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 20; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < 300; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  console.log(`${kind} ${name}: median ${samples[150]!.toFixed(2)} ms, p95 ${samples[285]!.toFixed(2)} ms`);
}

const remote = clients[80]!.id!;
await time("fetchSockets (90 sockets)", () => servers[0]!.fetchSockets());
await time("allRooms", () => servers[0]!.allRooms());
await time("fetchRooms of a remote sid", () => servers[0]!.fetchRooms(remote));
await time("serverSideEmitWithAck", () => servers[0]!.serverSideEmitWithAck("ping"));
for (const socket of clients) socket.disconnect();
for (const sio of servers) await sio.close();
process.exit(0);
