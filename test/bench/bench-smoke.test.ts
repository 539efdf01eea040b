// The benchmark's smallest scenario against each server under test (sockjet, socket.io, the bare
// control) on each runtime (Node, Bun, Deno; sockjet on Deno is node:http, its default there), and
// sockjet on Deno.serve (`sockjet-deno-serve`, Deno only), each in its own process as the benchmark
// runs them. Correctness only: every
// client receives every message of a broadcast, in order and intact, and every echo is
// acknowledged with its own arguments. No timing is asserted.
//
// Then the mixed-room scenario (fanout-mixed) in verify mode on every server that accepts Engine.IO
// v3 clients (all but the controls and socket.io's bun-engine): 10 v3 and 10 v4 WebSocket clients in
// one broadcast, an echo from each, and a heartbeat short enough (300 ms) to be exercised: v3
// clients ping and get pongs, the server pings only the v4 ones, and nobody is dropped.

import { test } from "node:test";
import assert from "node:assert/strict";
import { SERVERS, startServer } from "../../bench/lib/processes.js";
import { RUNTIMES, kindLabel, runsOn } from "../../bench/lib/runtimes.js";
import { MIXED_SERVER_ENV, createContext, runScenario } from "../../bench/load/scenarios.js";

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

/** The controls speak Engine.IO v4 only; @socket.io/bun-engine refuses every v3 handshake. */
const speaksV3 = (runtime: string, name: string) => name !== "control-ws" && !(runtime === "bun" && name === "socketio");

for (const runtime of RUNTIMES) for (const name of SERVERS.filter((s) => runsOn(s, runtime) && speaksV3(runtime, s))) {
  test(`bench smoke on ${runtime}: ${kindLabel(runtime, name)} broadcasts to a mixed room of Engine.IO v3 and v4 clients`, async () => {
    const server = await startServer(name, {
      runtime,
      timeoutMs: 30_000,
      // Pings every 300 ms so the heartbeat is exercised; a generous timeout so that only a dead
      // heartbeat, not a stall of this shared machine, closes a client.
      env: { ...MIXED_SERVER_ENV, BENCH_PING_INTERVAL: "300", BENCH_PING_TIMEOUT: "10000" },
    });
    const ctx = createContext(
      { host: server.host, port: server.port, pid: server.pid },
      { clients: 20, n: 5, warmupN: 2, size: 100, verify: true, timeoutMs: 10_000 },
    );
    try {
      const { figures, errors } = await runScenario(ctx, "fanout-mixed");
      assert.deepEqual(errors, []);
      assert.equal(figures.v3Clients, 10);
      assert.equal(figures.v4Clients, 10);
      assert.equal(figures.missing, 0);
      assert.equal(figures.deliveries, 20 * 5);
      assert.equal(figures.echoMismatches, 0);
      // The heartbeat check ran (it does only when the interval is short) and found nothing wrong.
      assert.equal(figures.heartbeatClosed, 0);
      assert.equal(figures.v3PingsUnanswered, 0);
      assert.equal(figures.v4Unpinged, 0);
      assert.ok((figures.v3PongsReceived ?? 0) > 0);
    } finally {
      ctx.close();
      await server.stop();
    }
  });
}
