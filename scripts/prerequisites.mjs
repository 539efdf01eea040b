// What `npm test` needs beyond node_modules, made ready before the type-check and the tests run
// (package.json's "test" script runs this first):
//
// - Chromium for test/browser: $CHROMIUM_PATH, or Debian's `chromium` (/usr/bin/chromium);
// - python-socketio for the Python interop tests in test/cluster, importable by $PYTHON (default
//   /usr/bin/python3): Debian's python3-socketio, with python3-redis and python3-kombu for its
//   write-only managers, python3-requests and python3-websocket for its client's transports and
//   python3-msgpack for its msgpack serializer;
// - redis-server and redis-cli, which test/cluster/redis-cluster.test.ts runs itself;
// - Redis, RabbitMQ and NATS answering at REDIS_URL, AMQP_URL and NATS_URL (default: their ports
//   on 127.0.0.1).
//
// Run as root on a machine with apt-get, it installs the missing Debian packages and starts a local
// broker that does not answer, with the commands this project's machines start them with.
// Otherwise it prints one line saying what is missing and the command that installs or starts it,
// and exits 1: no test is left to skip for want of something.

import { spawnSync } from "node:child_process";
import { accessSync, closeSync, constants, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import net from "node:net";

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const DEBIAN_PYTHON = "/usr/bin/python3";
const PYTHON = process.env.PYTHON ?? DEBIAN_PYTHON;
const PYTHON_MODULES = "socketio, redis, kombu, requests, websocket, msgpack";
const PYTHON_PACKAGES = ["python3-socketio", "python3-redis", "python3-kombu", "python3-requests", "python3-websocket", "python3-msgpack"];

/** The brokers, each with the Debian package of its server and the command that starts it locally. */
const BROKERS = [
  {
    name: "Redis",
    env: "REDIS_URL",
    url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    defaultPort: 6379,
    binary: "/usr/bin/redis-server",
    debian: "redis-server",
    start: ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "", "--appendonly", "no"],
    startSeconds: 10,
  },
  {
    name: "RabbitMQ",
    env: "AMQP_URL",
    url: process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672",
    defaultPort: 5672,
    binary: "/usr/sbin/rabbitmq-server",
    debian: "rabbitmq-server",
    start: ["rabbitmq-server", "-detached"],
    startSeconds: 90,
  },
  {
    name: "NATS",
    env: "NATS_URL",
    url: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    defaultPort: 4222,
    binary: "/usr/sbin/nats-server",
    debian: "nats-server",
    start: ["start-stop-daemon", "--start", "--oknodo", "--background", "--exec", "/usr/sbin/nats-server", "--", "-a", "127.0.0.1", "-p", "4222", "-js", "-sd", "/var/lib/nats-server"],
    startSeconds: 10,
  },
];

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

const log = (line) => console.log(`prerequisites: ${line}`);

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether the command runs and exits 0 (output discarded). */
function succeeds(command, args) {
  return spawnSync(command, args, { stdio: "ignore" }).status === 0;
}

function answers(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect(port, host.replace(/^\[|\]$/g, ""));
    socket.setTimeout(timeoutMs);
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
  });
}

async function waitUntilAnswers(host, port, seconds) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await answers(host, port, 500)) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

const isRoot = process.getuid?.() === 0;
const haveApt = succeeds("apt-get", ["--version"]);
const canInstall = isRoot && haveApt;
const sudo = isRoot ? "" : "sudo ";

// ---- Debian packages -------------------------------------------------------------------------

/** [what is missing, for whom, Debian packages that bring it] */
const missing = [];
if (!executable(CHROMIUM_PATH)) {
  if (process.env.CHROMIUM_PATH !== undefined) {
    log(`CHROMIUM_PATH=${CHROMIUM_PATH} is not an executable; unset it to use Debian's chromium, or point it at a Chromium`);
    process.exit(1);
  }
  missing.push(["Chromium", "test/browser", ["chromium"]]);
}
if (!succeeds(PYTHON, ["-c", `import ${PYTHON_MODULES}`])) {
  if (PYTHON !== DEBIAN_PYTHON) {
    log(`${PYTHON_MODULES} are not all importable by PYTHON=${PYTHON}; install them for it (pip install python-socketio redis kombu requests websocket-client msgpack), or unset PYTHON to use Debian's python3`);
    process.exit(1);
  }
  missing.push(["python-socketio", "the Python interop tests in test/cluster", PYTHON_PACKAGES]);
}
if (!succeeds("redis-server", ["--version"]) || !succeeds("redis-cli", ["--version"])) {
  missing.push(["redis-server and redis-cli", "test/cluster/redis-cluster", ["redis-server"]]);
}
const brokers = BROKERS.map((broker) => {
  const u = new URL(broker.url);
  const port = Number(u.port || broker.defaultPort);
  const startable = LOCAL_HOSTS.has(u.hostname) && port === broker.defaultPort;
  return { ...broker, host: u.hostname, port, startable };
});
await Promise.all(brokers.map(async (broker) => (broker.up = await answers(broker.host, broker.port))));
for (const broker of brokers) {
  if (!broker.up && broker.startable && !executable(broker.binary)) missing.push([`${broker.name}'s server`, `the ${broker.name} tests`, [broker.debian]]);
}

if (missing.length > 0) {
  const packages = [...new Set(missing.flatMap(([, , debian]) => debian))];
  const what = missing.map(([name, forWhom]) => `${name} (${forWhom})`).join(", ");
  const command = `${sudo}apt-get install -y ${packages.join(" ")}`;
  if (!canInstall) {
    log(`missing ${what}; install with: ${command}`);
    process.exit(1);
  }
  const aptLog = join(tmpdir(), `sockjet-prerequisites-apt-${process.pid}.log`);
  log(`missing ${what}; installing Debian's ${packages.join(" ")} (a minute or two; apt-get's output goes to ${aptLog})`);
  const apt = (args) => {
    const out = openSync(aptLog, "a");
    const r = spawnSync("apt-get", ["-o", "DPkg::Lock::Timeout=600", ...args], {
      stdio: ["ignore", out, out],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    closeSync(out);
    if (r.status !== 0) {
      console.log(readFileSync(aptLog, "utf8").split("\n").slice(-30).join("\n"));
      log(`\`apt-get ${args.join(" ")}\` failed (exit ${r.status ?? r.signal}; log above, whole in ${aptLog}); install by hand with: ${command}`);
      process.exit(1);
    }
  };
  apt(["update", "-qq"]);
  apt(["install", "-y", "-qq", ...packages]);
  const still = [
    !executable(CHROMIUM_PATH) && `Chromium at ${CHROMIUM_PATH}`,
    !succeeds(PYTHON, ["-c", `import ${PYTHON_MODULES}`]) && `python-socketio for ${PYTHON}`,
    !succeeds("redis-cli", ["--version"]) && "redis-cli",
  ].filter(Boolean);
  if (still.length > 0) {
    log(`installed ${packages.join(" ")} but still missing: ${still.join(", ")}`);
    process.exit(1);
  }
}

// ---- brokers ---------------------------------------------------------------------------------

const down = [];
for (const broker of brokers) {
  if (broker.up || (await answers(broker.host, broker.port))) continue;
  const where = `${broker.host}:${broker.port}`;
  if (!broker.startable) {
    down.push(`${broker.name} at ${where} (${broker.env}) does not answer; start it, or point ${broker.env} at one that runs`);
    continue;
  }
  if (!isRoot) {
    down.push(`${broker.name} does not answer at ${where}; start it with: sudo ${broker.start.map((a) => (a === "" ? '""' : a)).join(" ")}`);
    continue;
  }
  // The daemon's output goes to a file, not to ours: a daemon holding our stdout would keep a pipe
  // that reads `npm test` (| tee, a CI runner) open after the tests end.
  const startLog = join(tmpdir(), `sockjet-prerequisites-${broker.debian}-${process.pid}.log`);
  log(`${broker.name} does not answer at ${where}; starting it (output in ${startLog})`);
  const out = openSync(startLog, "a");
  const r = spawnSync(broker.start[0], broker.start.slice(1), { stdio: ["ignore", out, out] });
  closeSync(out);
  if (r.status !== 0 || !(await waitUntilAnswers(broker.host, broker.port, broker.startSeconds))) {
    down.push(`${broker.name} did not start (\`${broker.start.join(" ")}\` exit ${r.status ?? r.signal}; nothing answers at ${where} after ${broker.startSeconds} s; see ${startLog})`);
  }
}
if (down.length > 0) {
  for (const line of down) log(line);
  process.exit(1);
}

const chromium = spawnSync(CHROMIUM_PATH, ["--version"], { encoding: "utf8" }).stdout?.trim() || CHROMIUM_PATH;
log(`ready: ${chromium}; python-socketio for ${PYTHON}; redis-server and redis-cli; ${brokers.map((b) => `${b.name} at ${b.host}:${b.port}`).join(", ")}`);
