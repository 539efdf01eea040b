// The slow-reader server: one room, a broadcast into it on request, and the server's own view of
// every session's backlog while it runs. Measured by bench/tools/slow-reader.ts and driven by
// test/e2e/slow-reader.test.ts on every runtime (./serve.ts picks the runtime's server).
//
// Contract (namespace "/"):
//   join()                  -> the client enters room "room"; ack true
//   blast({n, size, batch}) -> n events `msg(k, "x".repeat(size))` to "room" (k counts every message
//                              since start), `batch` per event-loop
//                              turn; after every emit, each open session's backlog (EngineSocket
//                              .bufferedBytes: engine queue + runtime buffer) is sampled; ack
//                              { n, maxBuffered: {engineSid: bytes} }
//   stats({gc})             -> ack { rss, heapUsed, external, arrayBuffers, closes, maxBuffered, limit }
//                              after two full collections when gc is true
// Options from the environment: SLOW_READER_LIMIT (maxBufferedBytes; unset = the default),
// SLOW_READER_PING_INTERVAL / SLOW_READER_PING_TIMEOUT (ms; unset = the defaults).

import process from "node:process";
import { Server, args } from "../../../src/index.js";

export const ROOM = "room";

export interface BlastSpec {
  n: number;
  size: number;
  batch: number;
}

export interface CloseRecord {
  /** Socket.IO sid. */
  sid: string;
  reason: string;
  /** Messages emitted into the room when it closed. */
  atMessage: number;
}

export interface ServerStats {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  closes: CloseRecord[];
  /** Largest backlog sampled per engine session id (every session seen since start). */
  maxBuffered: Record<string, number>;
  limit: number;
}

function intFrom(value: unknown, max: number, fallback: number): number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= max ? value : fallback;
}

function numberFromEnv(name: string): number | undefined {
  const raw = process.env[name];
  return raw === undefined || raw === "" ? undefined : Number(raw);
}

async function collect(): Promise<void> {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  const gc = bun !== undefined ? () => bun.gc(true) : (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return;
  gc();
  await new Promise((resolve) => setTimeout(resolve, 20));
  gc();
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createSlowReaderServer(): Server {
  const limit = numberFromEnv("SLOW_READER_LIMIT");
  const pingInterval = numberFromEnv("SLOW_READER_PING_INTERVAL");
  const pingTimeout = numberFromEnv("SLOW_READER_PING_TIMEOUT");
  const sio = new Server({
    ...(limit === undefined ? {} : { maxBufferedBytes: limit }),
    ...(pingInterval === undefined ? {} : { pingInterval }),
    ...(pingTimeout === undefined ? {} : { pingTimeout }),
  });
  const closes: CloseRecord[] = [];
  const maxBuffered: Record<string, number> = {};
  let emitted = 0;

  const sample = () => {
    for (const session of sio.engine.sessions.values()) {
      // Undefined on a tree from before the accounting existed (the "before" runs of the tool).
      const bytes: number | undefined = session.bufferedBytes;
      if (bytes === undefined) continue;
      if (bytes > (maxBuffered[session.id] ?? 0)) maxBuffered[session.id] = bytes;
    }
  };

  sio.on("disconnect", (sid: string, reason: string) => {
    closes.push({ sid, reason, atMessage: emitted });
  });
  sio.on("join", async (sid: string) => {
    await sio.enterRoom(sid, ROOM);
    return true;
  });
  sio.on("blast", async (_sid: string, spec: unknown) => {
    const raw = (typeof spec === "object" && spec !== null ? spec : {}) as Record<string, unknown>;
    const { n, size, batch } = { n: intFrom(raw.n, 10_000_000, 0), size: intFrom(raw.size, 10_000_000, 0), batch: Math.max(1, intFrom(raw.batch, 100_000, 20)) };
    const payload = "x".repeat(size);
    for (let i = 0; i < n; ) {
      const end = Math.min(n, i + batch);
      for (; i < end; i++) {
        // Numbered across blasts, so that a client checks order over several of them.
        await sio.emit("msg", args(emitted++, payload), { to: ROOM });
        sample();
      }
      // The turn ends: the engine writes what it queued, as it would between real events.
      await nextTurn();
      sample();
    }
    return { n, maxBuffered };
  });
  sio.on("stats", async (_sid: string, options: unknown) => {
    if ((options as { gc?: unknown } | null)?.gc === true) await collect();
    const memory = process.memoryUsage();
    const stats: ServerStats = {
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      external: memory.external,
      arrayBuffers: memory.arrayBuffers,
      closes,
      maxBuffered,
      limit: sio.engine.options.maxBufferedBytes,
    };
    return stats;
  });
  return sio;
}
