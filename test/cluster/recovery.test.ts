// Connection state recovery in a cluster of two servers, per broker (Redis, RabbitMQ, NATS), with
// the official v4 client cut mid-broadcast by a TCP proxy in front of server A:
// - with RedisRecoveryStore (sockjet/redis), whatever the broker, the client comes back to server
//   B and recovers there: same sid, its room and session, every tick once and in order (ticks
//   emitted from B before the cut, from B while it is away, then from A);
// - with the default in-memory store, it recovers when it comes back to A (ticks emitted from B
//   included: each server numbers what it delivers), and gets a fresh session on B;
// - with RedisRecoveryStore, an offset trimmed from the log (maxLogEntries), or a missed event of
//   the write-only emitter (which no server numbers), means a fresh session; the clients of a
//   server that shuts down recover on the other one.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { Server, type ConnectionStateRecoveryOptions } from "../../src/index.js";
import { RedisManager, RedisRecoveryStore } from "../../src/manager/pubsub/redis.js";
import { NatsManager } from "../../src/manager/pubsub/nats.js";
import { AmqpManager } from "../../src/manager/pubsub/amqp.js";
import type { PubSubManager } from "../../src/manager/pubsub/manager.js";
import { until, untilAsync } from "../support/harness.js";
import { within } from "../e2e/_util.js";
import { TcpProxy } from "../support/cluster-proxy.js";
import { TickClient, closeTickClients, recoveryHandlers, stream, range, type ServerLog } from "../support/recovery-kit.js";
import { randomId } from "../../src/util/random-id.js";
import { Emitter } from "../../src/emitter/index.js";

after(closeTickClients);

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const ROOM = "feed";

const BROKERS: Record<string, (channel: string) => PubSubManager> = {
  Redis: (channel) => new RedisManager({ url: REDIS_URL, channel }),
  RabbitMQ: (channel) => new AmqpManager({ url: AMQP_URL, channel }),
  NATS: (channel) => new NatsManager({ url: NATS_URL, channel }),
};

interface Node {
  sio: Server;
  log: ServerLog;
  url: string;
}

interface Cluster {
  a: Node;
  b: Node;
  /** In front of A: the client starts there. */
  proxy: TcpProxy;
  channel: string;
  close(): Promise<void>;
}

async function cluster(broker: string, recovery: () => ConnectionStateRecoveryOptions): Promise<Cluster> {
  const channel = `recovery-${randomId()}`;
  const node = async (): Promise<Node> => {
    const manager = BROKERS[broker]!(channel);
    const sio = new Server({ pingInterval: 1000, pingTimeout: 2000, clientManager: manager, connectionStateRecovery: recovery() });
    const log = recoveryHandlers(sio, ROOM);
    const http = await sio.listen(0, "127.0.0.1");
    await manager.ready;
    return { sio, log, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` };
  };
  const a = await node();
  const b = await node();
  const proxy = await new TcpProxy("127.0.0.1", Number(new URL(a.url).port)).start();
  return {
    a,
    b,
    proxy,
    channel,
    async close() {
      await within(proxy.close(), 10_000, "closing the proxy");
      await within(Promise.all([a.sio.close(), b.sio.close()]), 20_000, "closing both servers");
    },
  };
}

/** Connects through the proxy to A, joins the room; cuts mid-stream (ticks from `origin`), waits until A noticed. */
async function cutMidStream(c: Cluster, origin: Node, client: TickClient): Promise<string> {
  await client.nextConnect();
  assert.equal(await client.ask("join", "ann"), "joined");
  const sid = client.socket.id!;
  const running = stream(origin.sio, ROOM, 1, 40);
  await client.waitTicks(5);
  c.proxy.cut();
  await until(() => c.a.log.disconnects.some((d) => d.sid === sid), 20_000, "server A to notice the lost connection");
  await running;
  // Emitted while the client is away, nothing in flight.
  await stream(origin.sio, ROOM, 41, 50);
  return sid;
}

/** The client's next connection goes to `target` (the manager's URI is read at each attempt). */
async function returnTo(c: Cluster, client: TickClient, target: Node): Promise<void> {
  const back = client.nextConnect();
  if (target === c.a) c.proxy.restore();
  // socket.io-client keeps the URI in a field its typings mark private; the engine is built from it at each attempt.
  else (client.socket.io as unknown as { uri: string }).uri = target.url;
  await back;
}

async function expectRecovered(client: TickClient, sid: string, on: Node, emitAfter: Node): Promise<void> {
  assert.equal(client.socket.id, sid, "same sid");
  assert.equal(client.socket.recovered, true, "the client sees a recovered connection");
  assert.deepEqual(on.log.connects.at(-1), { sid, recovered: true }, "the connect handler of the server it came back to is told");
  const me = await client.ask<{ sid: string; rooms: string[]; session: object }>("whoami");
  assert.deepEqual(me, { sid, rooms: [sid, ROOM], session: { name: "ann" } });
  await stream(emitAfter.sio, ROOM, 51, 55);
  await client.waitLastTick(55);
  assert.deepEqual(client.ticks, range(1, 55), "every tick exactly once, in order");
}

for (const broker of Object.keys(BROKERS)) {
  describe(`connection state recovery across servers over ${broker}`, () => {
    describe("with RedisRecoveryStore", () => {
      let c: Cluster;
      const prefix = `sockjet-test:recovery:${randomId()}`;
      before(async () => {
        c = await cluster(broker, () => ({ store: new RedisRecoveryStore({ url: REDIS_URL, prefix }) }));
      });
      after(async () => {
        await c.close();
      });

      test("a client cut on server A recovers on server B", async () => {
        const client = new TickClient(`http://127.0.0.1:${c.proxy.port}`, "websocket");
        const sid = await cutMidStream(c, c.b, client);
        await returnTo(c, client, c.b);
        await expectRecovered(client, sid, c.b, c.a);
        client.close();
      });
    });

    describe("with the default in-memory store", () => {
      let c: Cluster;
      before(async () => {
        c = await cluster(broker, () => ({}));
      });
      after(async () => {
        await c.close();
      });

      test("back on the same server: recovered, ticks from the other server included", async () => {
        const client = new TickClient(`http://127.0.0.1:${c.proxy.port}`, "websocket");
        const sid = await cutMidStream(c, c.b, client);
        await returnTo(c, client, c.a);
        await expectRecovered(client, sid, c.a, c.b);
        client.close();
      });

      test("on the other server: a fresh session", async () => {
        const client = new TickClient(`http://127.0.0.1:${c.proxy.port}`, "websocket");
        const sid = await cutMidStream(c, c.b, client);
        await returnTo(c, client, c.b);
        assert.notEqual(client.socket.id, sid);
        assert.ok(!client.socket.recovered);
        assert.deepEqual(c.b.log.connects.at(-1), { sid: client.socket.id, recovered: false });
        const me = await client.ask<{ rooms: string[] }>("whoami");
        assert.deepEqual(me.rooms, [client.socket.id]);
        client.close();
      });
    });
  });
}

describe("RedisRecoveryStore and a server shutting down", () => {
  test("the clients of a server that shuts down recover on another one", async () => {
    const prefix = `sockjet-test:recovery:${randomId()}`;
    const c = await cluster("Redis", () => ({ store: new RedisRecoveryStore({ url: REDIS_URL, prefix }) }));
    try {
      // Straight to A this time, no proxy: A itself goes away.
      const client = new TickClient(c.a.url, "websocket");
      await client.nextConnect();
      assert.equal(await client.ask("join", "ann"), "joined");
      const sid = client.socket.id!;
      await stream(c.b.sio, ROOM, 1, 10);
      await client.waitLastTick(10);
      (client.socket.io as unknown as { uri: string }).uri = c.b.url;
      const back = client.nextConnect();
      await within(c.a.sio.close(), 20_000, "closing server A");
      assert.deepEqual(c.a.log.disconnects.at(-1), { sid, reason: "server shutting down" });
      await stream(c.b.sio, ROOM, 11, 20);
      await back;
      assert.equal(client.socket.id, sid);
      assert.equal(client.socket.recovered, true);
      assert.deepEqual(await client.ask("whoami"), { sid, rooms: [sid, ROOM], session: { name: "ann" } });
      await stream(c.b.sio, ROOM, 21, 25);
      await client.waitLastTick(25);
      assert.deepEqual(client.ticks, range(1, 25));
      client.close();
    } finally {
      await c.close();
    }
  });
});

describe("RedisRecoveryStore and events no server numbered", () => {
  test("a client that missed an event of the write-only emitter gets a fresh session, not a recovery without it", async () => {
    const prefix = `sockjet-test:recovery:${randomId()}`;
    const c = await cluster("Redis", () => ({ store: new RedisRecoveryStore({ url: REDIS_URL, prefix }) }));
    const emitter = new Emitter({ url: REDIS_URL, channel: c.channel });
    try {
      const client = new TickClient(`http://127.0.0.1:${c.proxy.port}`, "websocket");
      const sid = await cutMidStream(c, c.b, client);
      await emitter.emit("tick", 999, { room: ROOM });
      // The mark is written when a server applies the emit: the other server of the room's events shows it applied.
      const other = new TickClient(c.b.url, "websocket");
      await other.nextConnect();
      await other.ask("join", "bob");
      await emitter.emit("tick", 1000, { room: ROOM });
      await other.waitLastTick(1000);
      await returnTo(c, client, c.b);
      assert.notEqual(client.socket.id, sid);
      assert.ok(!client.socket.recovered);
      other.close();
      client.close();
    } finally {
      await emitter.close();
      await c.close();
    }
  });
});

describe("RedisRecoveryStore without Redis", () => {
  test("an emit does not wait for a Redis that is away: it goes out without an offset, and the error is logged", async () => {
    const redis = new URL(REDIS_URL);
    const proxy = await new TcpProxy(redis.hostname, Number(redis.port || 6379)).start();
    const errors: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (message: string) => void errors.push(message) };
    const store = new RedisRecoveryStore({ url: `redis://127.0.0.1:${proxy.port}`, prefix: `sockjet-test:recovery:${randomId()}`, commandTimeout: 500 });
    const sio = new Server({ logger, connectionStateRecovery: { store } });
    recoveryHandlers(sio, ROOM);
    const http = await sio.listen(0, "127.0.0.1");
    const client = new TickClient(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, "websocket");
    try {
      await client.nextConnect();
      await client.ask("join", "ann");
      await sio.emit("tick", 1, { to: ROOM });
      await client.waitLastTick(1);
      assert.match(String(client.offsets[0]), /^sjr:\d+-\d+$/);
      proxy.cut();
      await sio.emit("tick", 2, { to: ROOM });
      await client.waitLastTick(2);
      assert.equal(client.offsets[1], undefined, "sent without an offset");
      assert.ok(errors.some((m) => m.includes("event sent without offset")), errors.join("; "));
      client.close();
    } finally {
      await sio.close();
      await proxy.close();
    }
  });
});

describe("RedisRecoveryStore and an event that could not be logged", () => {
  test("a client away while an event went out unlogged gets a fresh session once Redis is back, not a recovery without it", async () => {
    const redis = new URL(REDIS_URL);
    const redisProxy = await new TcpProxy(redis.hostname, Number(redis.port || 6379)).start();
    const prefix = `sockjet-test:recovery:${randomId()}`;
    // A command that meets the outage fails and is never sent later, as every queued command does
    // after a long outage (ioredis gives up on them after 20 reconnection attempts, about 30 s).
    const redisOptions = { maxRetriesPerRequest: 0, enableOfflineQueue: false, autoResendUnfulfilledCommands: false };
    const store = new RedisRecoveryStore({ url: `redis://127.0.0.1:${redisProxy.port}`, prefix, commandTimeout: 500, redisOptions });
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const sio = new Server({ logger: quiet, pingInterval: 1000, pingTimeout: 2000, connectionStateRecovery: { store } });
    const log = recoveryHandlers(sio, ROOM);
    const http = await sio.listen(0, "127.0.0.1");
    const clientProxy = await new TcpProxy("127.0.0.1", (http.address() as AddressInfo).port).start();
    const client = new TickClient(`http://127.0.0.1:${clientProxy.port}`, "websocket");
    const { Redis } = await import("ioredis");
    const inspect = new Redis(REDIS_URL);
    try {
      await client.nextConnect();
      await client.ask("join", "ann");
      await sio.emit("tick", 1, { to: ROOM });
      await client.waitLastTick(1);
      const sid = client.socket.id!;
      clientProxy.cut();
      await until(() => log.disconnects.some((d) => d.sid === sid), 20_000, "the server to notice the lost connection");
      await untilAsync(async () => (await inspect.keys(`${prefix}:session:*`)).length === 1, 10_000, "the session to be written to Redis");
      redisProxy.cut();
      await sio.emit("tick", 2, { to: ROOM }); // goes out unnumbered: the log cannot take it
      redisProxy.restore();
      const hasGapMark = async () => (await inspect.xrange(`${prefix}:log:/`, "-", "+")).some(([, fields]) => fields[0] === "g");
      await untilAsync(hasGapMark, 20_000, "the owed gap mark to reach the log");
      const back = client.nextConnect();
      clientProxy.restore();
      await back;
      assert.notEqual(client.socket.id, sid, "a fresh sid");
      assert.ok(!client.socket.recovered, "not told it recovered");
    } finally {
      client.close();
      inspect.disconnect();
      await within(sio.close(), 20_000, "closing the server");
      await within(clientProxy.close(), 10_000, "closing the client's proxy");
      await within(redisProxy.close(), 10_000, "closing the Redis proxy");
    }
  });
});

describe("RedisRecoveryStore bounds", () => {
  test("an offset trimmed from the log (maxLogEntries) gives a fresh session on the other server", async () => {
    const prefix = `sockjet-test:recovery:${randomId()}`;
    // XADD trims approximately (MAXLEN ~), a node at a time: 400 entries past a bound of 5 leave the client's offset far behind.
    const c = await cluster("Redis", () => ({ store: new RedisRecoveryStore({ url: REDIS_URL, prefix, maxLogEntries: 5 }) }));
    try {
      const client = new TickClient(`http://127.0.0.1:${c.proxy.port}`, "websocket");
      const sid = await cutMidStream(c, c.b, client);
      await stream(c.b.sio, ROOM, 51, 450);
      await returnTo(c, client, c.b);
      assert.notEqual(client.socket.id, sid);
      assert.ok(!client.socket.recovered);
      const me = await client.ask<{ rooms: string[]; session: object }>("whoami");
      assert.deepEqual(me, { sid: client.socket.id, rooms: [client.socket.id], session: {} });
      client.close();
    } finally {
      await c.close();
    }
  });
});
