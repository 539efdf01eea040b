// Connection state recovery with a shared log (RedisRecoveryStore) racing live events, forced into
// each interleaving instead of hoped for. A recovered socket's restore reads the log twice (the
// restore's read, then the catch-up read once the socket is in its rooms), and every live event
// has two steps that other work can fall between: it is logged (XADD, its offset fixed), then
// delivered (on this server once the XADD's answer is back; on another server's clients over the
// broker). An event logged before the last read is replayed from the log; its live delivery may
// still come afterwards: while the catch-up read is answered (buffered), while the connect handler
// is deciding, or after the client is back (the CI failure: tick 20 twice). The client must get it
// once.
//
// The order is forced with a store wrapper that runs a step just before each read and holds an
// emit after its XADD until the test lets it go, and with a manager that takes "another server's"
// emit when the test hands it over (as a broker manager applies a received one); the other server
// numbers its events with its own RedisRecoveryStore on the same log. No timing.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { Server, type ConnectInfo } from "../../src/index.js";
import { RedisRecoveryStore } from "../../src/manager/pubsub/redis.js";
import { InMemoryManager } from "../../src/manager/memory.js";
import type { EmitOperation } from "../../src/manager/manager.js";
import type { RecoveryHost, RecoverySession, RecoveryStore, RestoredSession, MissedEvent } from "../../src/socket/recovery.js";
import { silentLogger } from "../../src/util/logger.js";
import { randomId } from "../../src/util/random-id.js";
import { deferred, until } from "../support/harness.js";
import { TcpProxy } from "../support/cluster-proxy.js";
import { TickClient, closeTickClients, range } from "../support/recovery-kit.js";

// A test that fails before closing its client must not leave it reconnecting.
after(closeTickClients);

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const ROOM = "feed";

/** A RedisRecoveryStore that lets the test act just before its reads, and hold one emit between its XADD and its delivery. */
class GatedStore implements RecoveryStore {
  readonly scope = "cluster" as const;
  /** Runs once, just before the restore reads the session and the log. */
  beforeRestore: (() => Promise<void>) | null = null;
  /** Runs once, just before the catch-up read (the socket is in its rooms by then). */
  beforeCatchUp: (() => Promise<void>) | null = null;
  /** Runs once, after the catch-up read and before the server has its answer (live packets are buffered then). */
  afterCatchUp: (() => Promise<void>) | null = null;
  private hold: { logged: () => void; released: Promise<void> } | null = null;

  constructor(readonly inner: RedisRecoveryStore) {}

  /** The next emit is logged, then waits for `release` before it is delivered; `logged` resolves once its XADD is answered. */
  holdNext(): { logged: Promise<void>; release: () => void } {
    const logged = deferred();
    const released = deferred();
    this.hold = { logged: () => logged.resolve(), released: released.promise };
    return { logged: logged.promise, release: () => released.resolve() };
  }

  start(host: RecoveryHost): void {
    this.inner.start(host);
  }

  async record(operation: EmitOperation): Promise<unknown[]> {
    const args = await this.inner.record(operation);
    const hold = this.hold;
    if (hold !== null) {
      this.hold = null;
      hold.logged();
      await hold.released;
    }
    return args;
  }

  observe(operation: EmitOperation): void {
    this.inner.observe(operation);
  }

  persist(session: RecoverySession): void {
    this.inner.persist(session);
  }

  async restore(namespace: string, pid: string, offset: string): Promise<RestoredSession | null> {
    const step = this.beforeRestore;
    this.beforeRestore = null;
    if (step !== null) await step();
    return this.inner.restore(namespace, pid, offset);
  }

  async catchUp(session: RecoverySession, through: string): Promise<{ missed: MissedEvent[]; through: string }> {
    const step = this.beforeCatchUp;
    this.beforeCatchUp = null;
    if (step !== null) await step();
    const caughtUp = await this.inner.catchUp(session, through);
    const after = this.afterCatchUp;
    this.afterCatchUp = null;
    if (after !== null) await after();
    return caughtUp;
  }

  covers(through: string, offset: string): boolean | null {
    return this.inner.covers(through, offset);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The in-memory manager, plus what a broker manager does with another server's emit: apply it here. */
class BrokerFeed extends InMemoryManager {
  receive(operation: EmitOperation): void {
    this.apply(operation);
  }
}

interface Rig {
  sio: Server;
  store: GatedStore;
  feed: BrokerFeed;
  /** Another server's log writer (same prefix): numbers the events it emits. */
  other: RedisRecoveryStore;
  proxy: TcpProxy;
  url: string;
  disconnects: string[];
  /** Runs inside the connect handler of a recovered connection, once (the handler waits for it). */
  duringConnect: (() => Promise<void>) | null;
}

async function rig(): Promise<Rig> {
  const prefix = `sockjet-test:recovery-race:${randomId()}`;
  const store = new GatedStore(new RedisRecoveryStore({ url: REDIS_URL, prefix }));
  const feed = new BrokerFeed();
  const sio = new Server({ pingInterval: 1000, pingTimeout: 2000, clientManager: feed, connectionStateRecovery: { store } });
  const other = new RedisRecoveryStore({ url: REDIS_URL, prefix });
  const host: RecoveryHost = {
    logger: silentLogger,
    limits: { maxDisconnectionDuration: 60_000, retention: 63_000, maxMissedPackets: 1000, maxMissedBytes: 1 << 20, maxLogBytes: 16 << 20, maxSessions: 10_000 },
    encode: () => {
      throw new Error("the Redis store does not encode");
    },
  };
  other.start(host);
  const r: Rig = { sio, store, feed, other, proxy: null!, url: "", disconnects: [], duringConnect: null };
  sio.on("connect", async (_sid: string, _environ: unknown, _auth: unknown, info: ConnectInfo) => {
    const step = r.duringConnect;
    if (!info.recovered || step === null) return;
    r.duringConnect = null;
    await step();
  });
  sio.on("disconnect", (sid: string) => {
    r.disconnects.push(sid);
  });
  sio.on("join", async (sid: string) => {
    await sio.enterRoom(sid, ROOM);
    return "joined";
  });
  const http = await sio.listen(0, "127.0.0.1");
  r.proxy = await new TcpProxy("127.0.0.1", (http.address() as AddressInfo).port).start();
  r.url = `http://127.0.0.1:${r.proxy.port}`;
  return r;
}

const tick = (n: number): EmitOperation => ({ type: "emit", namespace: "/", event: "tick", args: [n], rooms: [ROOM], skip: [] });

type Logged = "before the restore's read" | "between the restore's read and the catch-up read";
type Origin = "this server" | "another server, over the broker";
type Delivered = "during the catch-up" | "while the connect handler decides" | "after the client is back";

const LOGGED: Logged[] = ["before the restore's read", "between the restore's read and the catch-up read"];
const ORIGINS: Origin[] = ["this server", "another server, over the broker"];
const DELIVERED: Delivered[] = ["during the catch-up", "while the connect handler decides", "after the client is back"];

describe("connection state recovery (RedisRecoveryStore): an event logged before the last read and delivered live after it", () => {
  let r: Rig;
  before(async () => {
    r = await rig();
  });
  after(async () => {
    await r.proxy.close();
    await r.sio.close();
    await r.other.close();
  });

  for (const logged of LOGGED) {
    for (const origin of ORIGINS) {
      for (const delivered of DELIVERED) {
        test(`logged ${logged}, from ${origin}, delivered ${delivered}: received once, in order`, async () => {
          r.proxy.restore();
          const client = new TickClient(r.url, "websocket");
          try {
            await client.nextConnect();
            assert.equal(await client.ask("join"), "joined");
            const sid = client.socket.id!;
            for (let n = 1; n <= 3; n++) await r.sio.emit("tick", n, { to: ROOM });
            await client.waitLastTick(3);
            r.proxy.cut();
            await until(() => r.disconnects.includes(sid), 20_000, "the server to notice the lost connection");
            // Missed while away, nothing in flight: from the log only.
            await r.sio.emit("tick", 4, { to: ROOM });

            // Tick 5: logged at the chosen point; its delivery waits for `deliver`.
            let deliver!: () => Promise<void>;
            const step = async (): Promise<void> => {
              if (origin === "this server") {
                const held = r.store.holdNext();
                const emitting = r.sio.emit("tick", 5, { to: ROOM });
                await held.logged;
                deliver = async () => {
                  held.release();
                  await emitting;
                };
              } else {
                const operation = tick(5);
                operation.args = await r.other.record(operation);
                deliver = async () => r.feed.receive(operation);
              }
            };
            if (logged === "before the restore's read") r.store.beforeRestore = step;
            else r.store.beforeCatchUp = step;
            if (delivered === "during the catch-up") r.store.afterCatchUp = () => deliver();
            if (delivered === "while the connect handler decides") r.duringConnect = () => deliver();

            const back = client.nextConnect();
            r.proxy.restore();
            await back;
            assert.equal(client.socket.id, sid, "same sid");
            assert.equal(client.socket.recovered, true, "recovered");
            if (delivered === "after the client is back") await deliver();
            assert.equal(r.store.afterCatchUp, null, "the catch-up step ran");
            assert.equal(r.duringConnect, null, "the connect handler's step ran");

            // Tick 6 is logged after both reads: it comes live, and behind any copy of tick 5.
            await r.sio.emit("tick", 6, { to: ROOM });
            await client.waitLastTick(6);
            assert.deepEqual(client.ticks, range(1, 6), "every tick exactly once, in order");
          } finally {
            r.store.beforeRestore = null;
            r.store.beforeCatchUp = null;
            r.store.afterCatchUp = null;
            r.duringConnect = null;
            client.close();
          }
        });
      }
    }
  }

  // The other side of the de-duplication: what was logged after the last read is not in it, and
  // must still reach the client, whenever it is delivered.
  test("logged after the catch-up read, from either server, delivered while the connect handler decides: received, in order", async () => {
    r.proxy.restore();
    const client = new TickClient(r.url, "websocket");
    try {
      await client.nextConnect();
      assert.equal(await client.ask("join"), "joined");
      const sid = client.socket.id!;
      await r.sio.emit("tick", 1, { to: ROOM });
      await client.waitLastTick(1);
      r.proxy.cut();
      await until(() => r.disconnects.includes(sid), 20_000, "the server to notice the lost connection");
      await r.sio.emit("tick", 2, { to: ROOM });
      // The connect handler runs once both reads are done: these two are logged after them.
      r.duringConnect = async () => {
        await r.sio.emit("tick", 3, { to: ROOM });
        const operation = tick(4);
        operation.args = await r.other.record(operation);
        r.feed.receive(operation);
      };
      const back = client.nextConnect();
      r.proxy.restore();
      await back;
      assert.equal(client.socket.recovered, true, "recovered");
      assert.equal(r.duringConnect, null, "the connect handler emitted ticks 3 and 4");
      await r.sio.emit("tick", 5, { to: ROOM });
      await client.waitLastTick(5);
      assert.deepEqual(client.ticks, range(1, 5), "every tick exactly once, in order");
    } finally {
      r.duringConnect = null;
      client.close();
    }
  });
});
