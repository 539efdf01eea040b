// Connection state recovery on Bun and Deno: test/integrations/fixtures/recovery-server.ts runs in
// a child process (`bun`, `deno` from npm), the official v4 client reaches it through a TcpProxy
// that the test cuts mid-broadcast, as test/e2e/recovery.test.ts does on Node. A second client,
// never cut, is connected straight to the server in the same room. Used by
// test/integrations/bun-recovery.test.ts and deno-recovery.test.ts.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { MODES, until, untilAsync, type TransportMode } from "./harness.js";
import { TcpProxy } from "./cluster-proxy.js";
import { TickClient, closeTickClients, range, type ServerLog } from "./recovery-kit.js";
import { startChild, type RunningFixture } from "./scenarios.js";
import { randomId } from "../../src/util/random-id.js";

/** Bun (serveBun, native topic publish), Deno's default node:http, Deno.serve (serveDeno). */
export type RecoveryRuntime = "bun" | "deno, node:http" | "deno, Deno.serve";
export type RecoveryStoreKind = "in-memory" | "RedisRecoveryStore";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURE = fileURLToPath(new URL("../integrations/fixtures/recovery-server.ts", import.meta.url));
const ROOM = "feed";

interface Rig {
  /** Through the proxy (the client that is cut). */
  url: string;
  /** Straight to the server (the client that is never cut, and the control routes). */
  direct: string;
  proxy: TcpProxy;
  log(): Promise<ServerLog>;
  /** Emits `tick` from..to to the room on the server; resolves once the server has emitted them all. */
  stream(from: number, to: number): Promise<void>;
  /** Bun: how many WebSockets Bun has subscribed to the room's topic and to the namespace's. */
  subscribers(): Promise<{ room: number; namespace: number }>;
  close(): Promise<void>;
}

async function startRig(runtime: RecoveryRuntime, store: RecoveryStoreKind): Promise<Rig> {
  const env: Record<string, string> = {
    SOCKJET_RECOVERY_STORE: store === "RedisRecoveryStore" ? `redis:sockjet-test:recovery:${randomId()}` : "memory",
  };
  if (runtime === "deno, Deno.serve") env.SOCKJET_DENO_SERVE = "1";
  const binary = `${REPO}node_modules/.bin/${runtime === "bun" ? "bun" : "deno"}`;
  // Deno: --unstable-sloppy-imports resolves src/'s `.js` specifiers to the `.ts` files.
  const args = runtime === "bun" ? [FIXTURE] : ["run", "-A", "--unstable-sloppy-imports", FIXTURE];
  const child: RunningFixture = await startChild(`${runtime} (recovery)`, binary, args, env);
  let proxy: TcpProxy;
  try {
    proxy = await new TcpProxy("127.0.0.1", Number(new URL(child.url).port)).start();
  } catch (err) {
    await child.close();
    throw err;
  }
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${child.url}/control/${path}`);
    const body = await response.text();
    if (!response.ok) throw new Error(`${path}: ${response.status} ${body}`);
    return JSON.parse(body) as T;
  };
  return {
    url: `http://127.0.0.1:${proxy.port}`,
    direct: child.url,
    proxy,
    log: () => get<ServerLog>("log"),
    stream: async (from, to) => {
      await get(`stream?from=${from}&to=${to}`);
    },
    subscribers: () => get<{ room: number; namespace: number }>("subscribers"),
    async close() {
      await proxy.close();
      await child.close();
    },
  };
}

async function joined(url: string, mode: TransportMode, name: string): Promise<{ client: TickClient; sid: string }> {
  const client = new TickClient(url, mode);
  await client.nextConnect();
  assert.equal(await client.ask("join", name), "joined");
  return { client, sid: client.socket.id! };
}

/**
 * For each transport mode of the cut client: it is cut mid-broadcast and comes back with its sid,
 * `recovered`, its room and session, and every tick once and in order (lost in flight, emitted
 * while away, emitted while it reconnects, emitted after); the client that was never cut gets every tick once too. On Bun, the
 * room topic's subscribers show which path each client takes: a socket recovered from
 * RedisRecoveryStore is left off the topics (its duplicate filter needs the per-socket path), so
 * the room's later broadcasts reach it by that path and the never-cut client by the topic.
 */
export function recoveryOnRuntime(runtime: RecoveryRuntime, store: RecoveryStoreKind): void {
  describe(`connection state recovery on ${runtime}, ${store} store`, () => {
    let r: Rig;
    before(async () => {
      r = await startRig(runtime, store);
    });
    after(async () => {
      // A test that failed before closing its client must not leave it reconnecting.
      closeTickClients();
      await r?.close();
    });

    for (const mode of MODES) {
      test(`a client on ${mode} cut mid-broadcast recovers its sid, room, session and every missed tick once, in order`, async () => {
        const { client, sid } = await joined(r.url, mode, "ann");
        const { client: peer, sid: peerSid } = await joined(r.direct, "websocket", "bob");
        try {
          if (runtime === "bun" && mode === "websocket") {
            assert.deepEqual(await r.subscribers(), { room: 2, namespace: 2 }, "both clients take Bun's topic publish before the cut");
          }
          const running = r.stream(1, 60);
          await client.waitTicks(10);
          r.proxy.cut();
          await untilAsync(async () => (await r.log()).disconnects.some((d) => d.sid === sid), 20_000, "the server to notice the lost connection");
          await running;
          // Emitted while it is away, with nothing in flight: these can only come from the log.
          await r.stream(61, 70);
          // The room's broadcasts go on while it comes back: some reach it live while the server
          // restores it (and, with Redis, reads the log again), the rest after its CONNECT.
          const back = client.nextConnect();
          const during = r.stream(71, 170);
          r.proxy.restore();
          await back;
          await during;

          assert.equal(client.socket.id, sid, "same sid");
          assert.equal(client.socket.recovered, true, "the client sees a recovered connection");
          const log = await r.log();
          assert.deepEqual(log.connects.at(-1), { sid, recovered: true }, "the connect handler is told");
          const me = await client.ask<{ sid: string; rooms: string[]; session: { name: string } }>("whoami");
          assert.deepEqual(me, { sid, rooms: [sid, ROOM], session: { name: "ann" } });
          if (mode === "polling+upgrade") {
            // On a WebSocket before the next broadcasts, so that they find it there (on Bun: the
            // first one subscribes it to the topics, unless it was restored from Redis).
            await until(() => client.socket.io.engine.transport.name === "websocket", 20_000, "the recovered client to upgrade");
          }

          await r.stream(171, 175);
          await client.waitLastTick(175);
          // One more: a second copy of 171..175 (topic and per-socket path both) would be written before it.
          await r.stream(176, 176);
          await client.waitLastTick(176);
          await peer.waitLastTick(176);
          assert.deepEqual(client.ticks, range(1, 176), "every tick exactly once, in order");
          assert.equal(new Set(client.offsets).size, 176, "each tick has its own offset");
          assert.ok(client.offsets.every((o) => typeof o === "string"));
          assert.deepEqual(peer.ticks, range(1, 176), "the client that was never cut: every tick once, in order");
          assert.equal(peer.socket.id, peerSid);
          assert.ok(!(await r.log()).disconnects.some((d) => d.sid === peerSid), "the never-cut client stayed connected");

          if (runtime === "bun") {
            // The never-cut client is on the topics throughout; the recovered one is on them only
            // from the in-memory store and on a WebSocket.
            const onTopics = store === "in-memory" && mode !== "polling" ? 2 : 1;
            assert.deepEqual(await r.subscribers(), { room: onTopics, namespace: onTopics });
          }
          // Both gone from the server before the next test counts the topics' subscribers.
          client.close();
          peer.close();
          await untilAsync(
            async () => (await r.log()).disconnects.filter((d) => d.sid === sid || d.sid === peerSid).length === 3,
            20_000,
            "the server to see both clients leave",
          );
        } finally {
          client.close();
          peer.close();
        }
      });
    }
  });
}
