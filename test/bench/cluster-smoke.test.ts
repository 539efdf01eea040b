// The cross-server benchmark case at its smallest (bench/cluster.ts): two sockjet server processes
// joined through the real Redis (REDIS_URL), each with RedisManager on a channel of its own,
// 20 WebSocket clients spread over them (10 each), and one `bcast {n: 5}` asked of server 0.
// Correctness only: every client of both servers receives every message exactly once and in
// order, and no server reports a broker failure. No timing is asserted.
//
// Redis must be reachable: the test fails rather than skips (`npm test` starts a local one).

import { test } from "node:test";
import assert from "node:assert/strict";
import { REDIS_URL, redisInfo, startCluster } from "../../bench/lib/cluster-processes.js";
import { ClusterLoad, runClusterScenario } from "../../bench/load/cluster-scenarios.js";

try {
  await redisInfo(REDIS_URL);
} catch (err) {
  const reason = err instanceof Error ? err.message : String(err);
  throw new Error(`Redis does not answer at ${REDIS_URL} (${reason}): run \`npm test\`, which starts the local brokers (scripts/prerequisites.mjs), or set REDIS_URL to one that runs`);
}

test("bench cluster smoke: 2 servers over Redis deliver every broadcast to every client exactly once", { timeout: 15_000 }, async () => {
  const cluster = await startCluster({ count: 2, redis: true, timeoutMs: 10_000 });
  const load = new ClusterLoad(
    cluster.servers.map(({ host, port, pid }) => ({ host, port, pid })),
    { clients: 20, n: 5, size: 100, verify: true, settleMs: 200, timeoutMs: 5_000 },
  );
  try {
    const { figures, errors } = await runClusterScenario(load, "cluster-smoke");
    assert.deepEqual(errors, []);
    assert.deepEqual(cluster.clusterErrors(), []);
    assert.deepEqual(cluster.exited(), []);
    assert.equal(figures.expected, 20 * 5);
    assert.equal(figures.deliveries, figures.expected);
    assert.equal(figures.missing, 0);
    assert.equal(figures.extra, 0);
    // Half the clients are on the server that did not receive the request: only Redis reaches them.
    assert.equal(figures.server0Clients, 10);
    assert.equal(figures.server1Clients, 10);
    assert.equal(figures.server0Deliveries, 10 * 5);
    assert.equal(figures.server1Deliveries, 10 * 5);
    for (const c of load.clients) assert.equal(c.received, 5);
  } finally {
    load.close();
    await cluster.stop();
  }
});
