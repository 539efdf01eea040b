// Shared by the scale-smoke-*.test.ts files. The scale sessions of `npm run bench -- --scale`
// (bench/scale/sessions.ts) at tiny sizes, against sockjet, socket.io and the bare control on Node
// and Bun, each server in its own process as the scale run starts them. Correctness only, no
// timing: every client stays connected and is pinged in the idle window, every memory level is
// read, every room member gets exactly the messages of its room and nobody else does, and every
// small room's message reaches its members.

import { test } from "node:test";
import assert from "node:assert/strict";
import { startServer, type ServerName } from "../../bench/lib/processes.js";
import { kindLabel, type RuntimeName } from "../../bench/lib/runtimes.js";
import { createContext } from "../../bench/load/scenarios.js";
import { QUICK_SCALE, type ScaleParams } from "../../bench/scale/params.js";
import { runSession, type SessionName } from "../../bench/scale/sessions.js";

const TINY: ScaleParams = {
  ...QUICK_SCALE,
  sizes: [20, 50],
  roomSizes: [5, 20, 50],
  tinyRooms: 30,
  tinyRoomSize: 5,
  tinyRounds: 2,
  roomDeliveries: 100,
  minBroadcasts: 3,
  connectBatch: 10,
  warmupClients: 5,
  settleMs: 200,
  pollingSettleMs: 200,
  gcWaitMs: 100,
  idleIntervals: 2,
  timeoutMs: 20_000,
};

const SERVERS: ServerName[] = ["sockjet", "socketio", "control-ws"];

async function session(runtime: RuntimeName, server: ServerName, name: SessionName, env: Record<string, string>) {
  const srv = await startServer(server, { runtime, timeoutMs: 30_000, env });
  const ctx = createContext({ host: srv.host, port: srv.port, pid: srv.pid }, { concurrency: TINY.concurrency, gcWaitMs: TINY.gcWaitMs, timeoutMs: TINY.timeoutMs });
  try {
    return await runSession(ctx, name, TINY);
  } finally {
    ctx.close();
    await srv.stop();
  }
}

/**
 * Registers the tests of one runtime, of the memory sessions (ws, polling) or of the CPU ones (idle,
 * rooms): a test file per runtime and part keeps each file well inside the runner's 60 s.
 */
export function scaleSmoke(runtime: RuntimeName, part: "memory" | "cpu"): void {
  for (const server of SERVERS) {
    const label = `scale smoke on ${runtime}: ${kindLabel(runtime, server)}`;
    if (part === "memory") memoryTests(runtime, server, label);
    else cpuTests(runtime, server, label);
  }
}

function memoryTests(runtime: RuntimeName, server: ServerName, label: string): void {
  test(`${label}: idle WebSocket clients stay connected; memory read at each size`, async () => {
    const { figures, errors } = await session(runtime, server, "ws", {});
    assert.deepEqual(errors, []);
    const { levels = [] } = figures;
    assert.deepEqual(
      levels.map((l) => [l.clients, l.alive, l.connect.connections]),
      [
        [20, 20, 20],
        [50, 50, 30],
      ],
    );
    assert.ok(levels.every((l) => Number.isFinite(l.bytesPerClient)));
  });

  // The control has no polling.
  if (server === "control-ws") return;
  test(`${label}: long-polling sessions, each with a GET pending, stay alive at each size`, async () => {
    const { figures, errors } = await session(runtime, server, "polling", {});
    assert.deepEqual(errors, []);
    assert.deepEqual(
      figures.levels?.map((l) => [l.clients, l.alive]),
      [
        [20, 20],
        [50, 50],
      ],
    );
  });
}

function cpuTests(runtime: RuntimeName, server: ServerName, label: string): void {
  test(`${label}: idle WebSocket clients are pinged and stay connected over whole intervals; a batch connects on top`, async () => {
    // A ping every 500 ms, so that the idle window (2 intervals) is short; a generous timeout so that
    // only a dead heartbeat, not a stall of this shared machine, closes a client.
    const { figures, errors } = await session(runtime, server, "idle", { BENCH_PING_INTERVAL: "500", BENCH_PING_TIMEOUT: "10000" });
    assert.deepEqual(errors, []);
    const { connects = [], idle, connectAtScale } = figures;
    assert.deepEqual(
      connects.map((c) => [c.connectedBefore, c.connections]),
      [
        [0, 20],
        [20, 30],
      ],
    );
    assert.ok(idle);
    assert.equal(idle.clients, 50);
    assert.equal(idle.alive, 50);
    assert.equal(idle.pingIntervalMs, 500);
    // Two intervals: every client answered at least one ping inside the window.
    assert.ok(idle.pingsPerClient >= 1, `pings per client ${idle.pingsPerClient}`);
    assert.ok(connectAtScale);
    assert.equal(connectAtScale.connectedBefore, 50);
    assert.equal(connectAtScale.connections, 10);
  });

  test(`${label}: room broadcasts reach exactly their members; every small room's message reaches its members`, async () => {
    const { figures, errors } = await session(runtime, server, "rooms", { BENCH_ROOMS: "1" });
    assert.deepEqual(errors, []);
    assert.deepEqual(
      figures.rooms?.map((r) => [r.size, r.wrong, r.deliveries]),
      [
        [5, 0, 5 * 20],
        [20, 0, 20 * 5],
        [50, 0, 50 * 3],
      ],
    );
    assert.ok(figures.tiny);
    assert.equal(figures.tiny.wrong, 0);
    assert.equal(figures.tiny.deliveries, 30 * 5 * 2);
  });
}
