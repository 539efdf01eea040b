// `npm run cluster:no-sticky`: the full no-sticky run, over Redis, RabbitMQ and NATS in
// turn (or the brokers named on the command line: redis, amqp, nats): three server processes
// behind a round-robin proxy, 150 clients of three kinds, 30 s of chat, then a server killed and
// its clients reconnected (test/support/nosticky-scenario.ts). Prints each broker's report; exits
// 1 if any check failed. `--seconds N` changes the length of the chat.

import { runNoSticky } from "../test/support/nosticky-scenario.js";

const BROKERS = {
  redis: { name: "Redis", url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" },
  amqp: { name: "RabbitMQ", url: process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672" },
  nats: { name: "NATS", url: process.env.NATS_URL ?? "nats://127.0.0.1:4222" },
} as const;

const argv = process.argv.slice(2);
const at = argv.indexOf("--seconds");
const seconds = at === -1 ? 30 : Number(argv.splice(at, 2)[1]);
const chosen = (argv.length === 0 ? Object.keys(BROKERS) : argv) as Array<keyof typeof BROKERS>;
let failed = false;
for (const key of chosen) {
  const broker = BROKERS[key];
  if (broker === undefined) throw new Error(`unknown broker ${key} (redis, amqp, nats)`);
  const started = Date.now();
  const report = await runNoSticky({ ...broker, chatSeconds: seconds, log: (line) => console.error(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${line}`) });
  console.log(JSON.stringify(report));
  if (report.failures.length > 0) failed = true;
}
process.exit(failed ? 1 : 0);
