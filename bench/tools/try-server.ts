// Runs one scenario against one server on one runtime, in this process (a quick check while
// working on a server; the benchmark itself uses bench/run.ts).
//
//   node --import tsx bench/tools/try-server.ts bun sockjet smoke ['{"clients":20}']
//   TRY_PROFILE_DIR=/tmp/prof node --import tsx bench/tools/try-server.ts bun sockjet fanout-burst
//   node --import tsx bench/tools/try-server.ts node socketio fanout-mixed '{"clients":20,"n":5,"verify":true}'

import { startServer, type ServerName } from "../lib/processes.js";
import type { RuntimeName } from "../lib/runtimes.js";
import { createContext, runScenario, serverEnv, type ScenarioName } from "../load/scenarios.js";

const [runtime = "node", name = "sockjet", scenario = "smoke", params = "{}"] = process.argv.slice(2);
// TRY_PROFILE_DIR=dir profiles the server with its runtime's CPU profiler.
// The environment run.ts gives the scenario's server (allowEIO3 for the mixed scenarios, the
// msgpack parser, the memory scenarios' fixed young generation).
const env = serverEnv(scenario as ScenarioName);
const server = await startServer(name as ServerName, { runtime: runtime as RuntimeName, timeoutMs: 30_000, profileDir: process.env.TRY_PROFILE_DIR ?? null, env });
const defaults = scenario === "smoke" ? { clients: 20, pollingClients: name === "control-ws" ? 0 : 5, n: 5, size: 100, verify: true, timeoutMs: 10_000 } : {};
const ctx = createContext({ host: server.host, port: server.port, pid: server.pid }, { ...defaults, ...(JSON.parse(params) as object) });
try {
  const result = await runScenario(ctx, scenario as ScenarioName);
  console.log(JSON.stringify(result));
} finally {
  ctx.close();
  await server.stop();
}
