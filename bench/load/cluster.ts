// The load generator of the cross-server case (bench/cluster.ts): one process, clients spread over
// N servers, one scenario, then one line
//   RESULT {"scenario": ..., "figures": {...}, "errors": [...]}
// and it stays alive with its connections open until killed (the runner stops the servers first,
// so their side keeps TIME_WAIT), unless --exit.
//
//   node --import tsx bench/load/cluster.ts --scenario cluster-burst \
//        --targets '[{"host":"127.0.0.1","port":8000,"pid":123},{"host":"127.0.0.1","port":8001,"pid":124}]' \
//        [--params '{"clients":600,"n":200,"redisPid":99}'] [--exit]

import { CLUSTER_SCENARIOS, ClusterLoad, runClusterScenario, type ClusterParams, type ClusterScenarioName, type ClusterTarget } from "./cluster-scenarios.js";

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const scenario = option("scenario") as ClusterScenarioName | undefined;
if (scenario === undefined || !CLUSTER_SCENARIOS.includes(scenario)) {
  console.error(`--scenario must be one of ${CLUSTER_SCENARIOS.join(", ")}`);
  process.exit(2);
}
const targets = JSON.parse(option("targets") ?? "[]") as ClusterTarget[];
const params = JSON.parse(option("params") ?? "{}") as Partial<ClusterParams>;
const load = new ClusterLoad(targets, params);

try {
  const result = await runClusterScenario(load, scenario);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  process.stdout.write(`RESULT ${JSON.stringify({ scenario, figures: {}, errors: [message, ...load.errors()] })}\n`);
}
if (process.argv.includes("--exit")) {
  load.close();
  process.exit(0);
}
setInterval(() => undefined, 1 << 30);
