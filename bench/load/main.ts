// The load generator process. Runs one scenario against one server process and prints one line
//   RESULT {"scenario": ..., "figures": {...}, "errors": [...]}
// then stays alive with its connections open until it is killed: the runner stops the server
// first, so the server side closes the TCP connections (its side, not ours, keeps TIME_WAIT and
// the load generator's ephemeral ports stay free for the next scenario).
//
//   node --import tsx bench/load/main.ts --scenario echo --port 8000 --pid 1234 [--host 127.0.0.1]
//        [--params '{"clients":200,"seconds":10}'] [--exit]

import { SCENARIOS, createContext, runScenario, type ScenarioName, type ScenarioParams } from "./scenarios.js";

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const scenario = option("scenario") as ScenarioName | undefined;
if (scenario === undefined || !SCENARIOS.includes(scenario)) {
  console.error(`--scenario must be one of ${SCENARIOS.join(", ")}`);
  process.exit(2);
}
const port = Number(option("port"));
const pidText = option("pid");
const params = JSON.parse(option("params") ?? "{}") as Partial<ScenarioParams>;
const ctx = createContext({ host: option("host") ?? "127.0.0.1", port, pid: pidText === undefined ? null : Number(pidText) }, params);

try {
  const result = await runScenario(ctx, scenario);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  process.stdout.write(`RESULT ${JSON.stringify({ scenario, figures: {}, errors: [message, ...ctx.errors()] })}\n`);
}
if (process.argv.includes("--exit")) {
  ctx.close();
  process.exit(0);
}
setInterval(() => undefined, 1 << 30);
