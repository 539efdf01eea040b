// The local brokers of the broker-fault runs (bench/faults.ts): is each one up, kill it (SIGKILL
// to the process listening on its port, found with `ss`, never by name), and start it again with
// the commands scripts/prerequisites.mjs uses. Other test runs share these brokers, so the
// caller keeps every outage short and always restarts (try/finally).

import { execFileSync, spawnSync } from "node:child_process";
import { connect } from "node:net";

export type BrokerKind = "redis" | "amqp" | "nats";

export interface BrokerSpec {
  kind: BrokerKind;
  name: string;
  url: string;
  port: number;
  /** How it is started (as root, as scripts/prerequisites.mjs does). */
  start: string[];
}

export const BROKERS: Record<BrokerKind, BrokerSpec> = {
  redis: {
    kind: "redis",
    name: "Redis",
    url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    port: 6379,
    start: ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "", "--appendonly", "no"],
  },
  amqp: {
    kind: "amqp",
    name: "RabbitMQ",
    url: process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672",
    port: 5672,
    start: ["rabbitmq-server", "-detached"],
  },
  nats: {
    kind: "nats",
    name: "NATS",
    url: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    port: 4222,
    start: ["start-stop-daemon", "--start", "--oknodo", "--background", "--exec", "/usr/sbin/nats-server", "--", "-a", "127.0.0.1", "-p", "4222", "-js", "-sd", "/var/lib/nats-server"],
  },
};

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.setTimeout(1000);
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
  });
}

/** Polls until the port is (or is no longer) listening; resolves with the time it happened, or null after `limit` ms. */
export async function waitListening(port: number, up: boolean, limit: number): Promise<number | null> {
  const deadline = Date.now() + limit;
  while (Date.now() < deadline) {
    if ((await listening(port)) === up) return Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return null;
}

/** The pid of the process listening on 127.0.0.1:port (from `ss -ltnp`), or null. */
export function listenerPid(port: number): number | null {
  const out = execFileSync("ss", ["-ltnpH", `sport = :${port}`], { encoding: "utf8" });
  const match = /pid=(\d+)/.exec(out);
  return match ? Number(match[1]) : null;
}

/** SIGKILL to the broker's listening process; resolves once the port is closed. */
export async function killBroker(spec: BrokerSpec): Promise<void> {
  const pid = listenerPid(spec.port);
  if (pid === null) throw new Error(`${spec.name}: nothing listens on ${spec.port}`);
  process.kill(pid, "SIGKILL");
  if ((await waitListening(spec.port, false, 10_000)) === null) throw new Error(`${spec.name} still listens after SIGKILL to ${pid}`);
}

/** Starts the broker (if it is not up) and resolves with the time its port accepts connections. */
export async function startBroker(spec: BrokerSpec, limit = 60_000): Promise<number> {
  if (await listening(spec.port)) return Date.now();
  const [command, ...args] = spec.start;
  const result = spawnSync(command!, args, { stdio: "ignore", timeout: 30_000 });
  if (result.error) throw new Error(`${spec.name}: ${spec.start.join(" ")} failed: ${result.error.message}`);
  const at = await waitListening(spec.port, true, limit);
  if (at === null) throw new Error(`${spec.name} did not come back within ${limit} ms (${spec.start.join(" ")})`);
  return at;
}
