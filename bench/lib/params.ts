// The parameters of every scenario, for a full run (the figures of the issues) and a quick one
// (the same scenarios, small and short): bench/run.ts and bench/tools/compare-trees.ts use them.

import type { ScenarioName, ScenarioParams } from "../load/scenarios.js";

/** Scenario parameters. Full: the figures of the issue. Quick: the same scenarios, small and short. */
export const FULL_PARAMS: Record<ScenarioName, Partial<ScenarioParams>> = {
  "fanout-burst": { clients: 1000, n: 100, size: 100, warmupN: 10, concurrency: 100 },
  "fanout-paced": { clients: 1000, broadcasts: 100, warmupBroadcasts: 10, intervalMs: 20, size: 100, concurrency: 100 },
  // The same two fanouts with every other client on Engine.IO v3 (500 v3 + 500 v4, one broadcast).
  "fanout-mixed": { clients: 1000, n: 100, size: 100, warmupN: 10, concurrency: 100 },
  "fanout-mixed-paced": { clients: 1000, broadcasts: 100, warmupBroadcasts: 10, intervalMs: 20, size: 100, concurrency: 100 },
  echo: { clients: 200, seconds: 10, warmupSeconds: 1, concurrency: 100 },
  // RSS is read once it has settled (full collections until it moves by less than 1 %, at most 4),
  // and the servers run with a fixed young generation (see serverV8Flags in bench/load/scenarios.ts).
  "memory-ws": { clients: 10_000, concurrency: 100, warmupClients: 100, settleMs: 3000, gcWaitMs: 1000, gcRounds: 4 },
  // Settles past Node's 5 s keepAliveTimeout so the idle spare keep-alive sockets are gone for both servers.
  "memory-polling": { clients: 10_000, concurrency: 100, warmupClients: 100, settleMs: 6000, gcWaitMs: 1000, gcRounds: 4 },
  // 500 warm-up connections (every path optimized by the JIT), then 5 blocks of 1,000, each its own
  // CPU window; the figure is the median block (2,000 in one window before: a GC or a burst of other
  // work on the machine moved it by 20 % or more).
  connect: { clients: 5000, blocks: 5, concurrency: 50, warmupClients: 500 },
  smoke: { clients: 20, n: 5, size: 100, pollingClients: 5, verify: true },
  // fanout-burst and echo with the msgpack parser on both sides, the same figures.
  "fanout-burst-msgpack": { clients: 1000, n: 100, size: 100, warmupN: 10, concurrency: 100 },
  "echo-msgpack": { clients: 200, seconds: 10, warmupSeconds: 1, concurrency: 100 },
};
export const QUICK_PARAMS: Record<ScenarioName, Partial<ScenarioParams>> = {
  "fanout-burst": { clients: 100, n: 20, size: 100, warmupN: 5, concurrency: 50 },
  "fanout-paced": { clients: 100, broadcasts: 20, warmupBroadcasts: 5, intervalMs: 10, size: 100, concurrency: 50 },
  "fanout-mixed": { clients: 100, n: 20, size: 100, warmupN: 5, concurrency: 50 },
  "fanout-mixed-paced": { clients: 100, broadcasts: 20, warmupBroadcasts: 5, intervalMs: 10, size: 100, concurrency: 50 },
  echo: { clients: 50, seconds: 2, warmupSeconds: 0.5, concurrency: 50 },
  "memory-ws": { clients: 1000, concurrency: 100, warmupClients: 50, settleMs: 1000, gcWaitMs: 500, gcRounds: 2 },
  "memory-polling": { clients: 1000, concurrency: 100, warmupClients: 50, settleMs: 1000, gcWaitMs: 500, gcRounds: 2 },
  connect: { clients: 300, concurrency: 50, warmupClients: 50 },
  smoke: FULL_PARAMS.smoke,
  "fanout-burst-msgpack": { clients: 100, n: 20, size: 100, warmupN: 5, concurrency: 50 },
  "echo-msgpack": { clients: 50, seconds: 2, warmupSeconds: 0.5, concurrency: 50 },
};
