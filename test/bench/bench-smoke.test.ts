// The benchmark's smallest scenario against each server under test (sockjet, socket.io, the bare
// control) on each runtime (Node, Bun, Deno), and sockjet on node:http on Deno (`sockjet-node`,
// which runs there only), each in its own process as the benchmark runs them. Correctness only: every
// client receives every message of a broadcast, in order and intact, and every echo is
// acknowledged with its own arguments. No timing is asserted.

import { test } from "node:test";
import assert from "node:assert/strict";
import { SERVERS, startServer } from "../../bench/lib/processes.js";
import { RUNTIMES, kindLabel, runsOn } from "../../bench/lib/runtimes.js";
import { createContext, runScenario } from "../../bench/load/scenarios.js";

for (const runtime of RUNTIMES) for (const name of SERVERS.filter((s) => runsOn(s, runtime))) {
  test(`bench smoke on ${runtime}: ${kindLabel(runtime, name)} delivers every broadcast and acknowledges every echo`, async () => {
    const server = await startServer(name, { runtime, timeoutMs: 30_000 });
    // 20 WebSocket clients, plus 5 long-polling ones where the server has polling (not the control).
    const ctx = createContext(
      { host: server.host, port: server.port, pid: server.pid },
      { clients: 20, pollingClients: name === "control-ws" ? 0 : 5, n: 5, size: 100, verify: true, timeoutMs: 10_000 },
    );
    try {
      const { figures, errors } = await runScenario(ctx, "smoke");
      assert.deepEqual(errors, []);
      assert.equal(figures.missing, 0);
      assert.equal(figures.deliveries, figures.expected);
      assert.equal(figures.expected, (name === "control-ws" ? 20 : 25) * 5);
      assert.equal(figures.acks, figures.expectedAcks);
    } finally {
      ctx.close();
      await server.stop();
    }
  });
}
