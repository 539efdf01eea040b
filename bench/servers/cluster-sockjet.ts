// sockjet under test as one of N servers joined through Redis (the cross-server broadcast case,
// bench/cluster.ts). The benchmark contract of ./common.ts with the very same handlers as
// ./sockjet.ts; the only difference is the constructor option `clientManager: new RedisManager(...)`,
// which is the whole point: `bcast` emits to every client of "/" on every server.
//
//   node --import tsx bench/servers/cluster-sockjet.ts --port 0 --channel sockjet-bench-<id>
//
// Redis: REDIS_URL (default redis://127.0.0.1:6379). The channel comes from `--channel` or
// BENCH_CHANNEL; every server of one measurement shares it, and each measurement has its own, so
// that nothing else published on Redis reaches it. "ready <port>" is printed only once the
// manager is connected and subscribed: the server serves local clients before that, but what it
// published then would be lost for the others. Every broker failure (a lost operation included)
// is written to stderr as one `cluster-error {...}` line, which the runner counts as an error.

import { Server, args } from "../../src/index.js";
import { RedisManager } from "../../src/manager/pubsub/redis.js";
import { HOST, PING_INTERVAL, PING_TIMEOUT, announce, bcastSpec, payloadOf, portFromArgs } from "./common.js";

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const channel = option("channel") ?? process.env.BENCH_CHANNEL;
if (channel === undefined || channel === "") {
  process.stderr.write("cluster-sockjet: --channel (or BENCH_CHANNEL) is required\n");
  process.exit(2);
}

const manager = new RedisManager({
  url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  channel,
  onError: ({ stage, error, operation }) => {
    process.stderr.write(`cluster-error ${JSON.stringify({ stage, error: error.message, operation: operation?.type ?? null })}\n`);
  },
});

const sio = new Server({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT, clientManager: manager });

sio.on("echo", (_sid: string, ...values: unknown[]) => args(...values));

// BENCH_EMIT=pipelined (diagnostics only, never set by the benchmark): emit all n without waiting
// for each publication, then wait for them all, instead of the contract's `await` per emit.
const pipelined = process.env.BENCH_EMIT === "pipelined";

sio.on("bcast", async (_sid: string, spec: unknown) => {
  const { n, size } = bcastSpec(spec);
  const payload = payloadOf(size);
  if (pipelined) {
    const sent: Promise<void>[] = [];
    for (let i = 0; i < n; i++) sent.push(sio.emit("msg", args(i, payload)));
    await Promise.all(sent);
    return n;
  }
  for (let i = 0; i < n; i++) await sio.emit("msg", args(i, payload));
  return n;
});

await manager.ready;
const server = await sio.listen(portFromArgs(), HOST);
const address = server.address();
announce(typeof address === "object" && address !== null ? address.port : 0);
