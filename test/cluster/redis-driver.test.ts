// RedisDriver / RedisManager details that the process-level scenarios do not cover, in this
// process against the real Redis (REDIS_URL): the delivery contract every driver keeps, sharded pub/sub, a server started while Redis is
// unreachable, and publishing during an outage (rejected at once, never queued for later).

import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Server } from "../../src/index.js";
import { RedisDriver, RedisManager } from "../../src/manager/pubsub/redis.js";
import type { ClusterErrorEvent } from "../../src/manager/pubsub/index.js";
import { startInProcessCluster, eventually, type InProcessCluster } from "../support/cluster-harness.js";
import { TcpProxy } from "../support/cluster-proxy.js";
import { probeBroker } from "../support/cluster-scenarios.js";
import { checkFanout } from "../support/driver-kit.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const { host, port } = await probeBroker({ name: "Redis", url: REDIS_URL });
const via = (proxyPort: number) => {
  const u = new URL(REDIS_URL);
  u.hostname = "127.0.0.1";
  u.port = String(proxyPort);
  return u.toString();
};

describe("RedisDriver", () => {
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  for (const sharded of [false, true]) {
    test(`${sharded ? "sharded" : "plain"} pub/sub: every driver on a channel receives every message, own included, in order, byte-exact; other channels are isolated`, async () => {
      const drivers = [0, 1, 2].map(() => new RedisDriver({ url: REDIS_URL, sharded }));
      cleanup.push(async () => void (await Promise.all(drivers.map((d) => d.close()))));
      await checkFanout(drivers[0]!, drivers[1]!, drivers[2]!, `sockjet-fanout-${randomUUID()}`, `sockjet-other-${randomUUID()}`);
    });
  }

  test("sharded pub/sub (SPUBLISH/SSUBSCRIBE): two servers, emit, call", async () => {
    const channel = `sockjet-sharded-${randomUUID()}`;
    const cluster: InProcessCluster = await startInProcessCluster(2, () => new RedisDriver({ url: REDIS_URL, sharded: true }), undefined, channel);
    cleanup.push(() => cluster.close());
    const a = await cluster.connect(0);
    const b = await cluster.connect(1);
    await cluster.servers[0]!.sio.emit("hello", 1);
    await cluster.flush();
    assert.deepEqual([a.count("hello"), b.count("hello")], [1, 1]);
    assert.equal(await cluster.servers[0]!.sio.call("double", 4, { to: b.id, timeout: 5000 }), 8);
  });

  test("a server started while Redis is unreachable serves locally, reports, and joins once Redis is up", async () => {
    const proxy = await new TcpProxy(host, port).start();
    cleanup.push(() => proxy.close());
    proxy.cut();
    const channel = `sockjet-late-${randomUUID()}`;
    const errors: ClusterErrorEvent[] = [];
    const late = new RedisManager({ url: via(proxy.port), channel, reconnect: { minDelay: 20, maxDelay: 200 }, onError: (e) => errors.push(e) });
    const sio = new Server({ clientManager: late });
    sio.on("ask", () => "local");
    cleanup.push(() => sio.close());
    const other = await startInProcessCluster(1, () => new RedisDriver({ url: REDIS_URL }), undefined, channel);
    cleanup.push(() => other.close());

    assert.equal(late.connected, false);
    await sio.emit("early", null); // resolves; reported lost
    assert.ok(errors.some((e) => e.stage === "publish" && e.operation?.type === "emit"));
    await eventually(() => errors.some((e) => e.stage === "connect"), "a connect error report");

    proxy.restore();
    await late.ready;
    assert.equal(late.connected, true);
    // Now joined: an emit from the late server reaches the other server's client.
    const client = await other.connect(0);
    await sio.emit("joined", 1);
    await client.received("joined");
  });

  test("while disconnected, publish rejects at once (no offline queue) and nothing is replayed later", async () => {
    const proxy = await new TcpProxy(host, port).start();
    cleanup.push(() => proxy.close());
    const events: string[] = [];
    const received: Buffer[] = [];
    const driver = new RedisDriver({ url: via(proxy.port), reconnect: { minDelay: 20, maxDelay: 200 } });
    cleanup.push(() => driver.close());
    const channel = `sockjet-driver-${randomUUID()}`;
    await driver.start(channel, (p) => received.push(Buffer.from(p)), {
      onError: (e, stage) => events.push(`error:${stage}`),
      onDisconnect: () => events.push("disconnect"),
      onReconnect: () => events.push("reconnect"),
    });
    await driver.publish(channel, Buffer.from("one"));
    await eventually(() => received.length === 1, "own message back");

    proxy.cut();
    await eventually(() => events.includes("disconnect"), "disconnect");
    await assert.rejects(driver.publish(channel, Buffer.from("lost")));
    proxy.restore();
    await eventually(() => events.includes("reconnect"), "reconnect");
    await driver.publish(channel, Buffer.from("two"));
    await eventually(() => received.length === 2, "second message");
    assert.deepEqual(received.map(String), ["one", "two"]);
    assert.equal(events.filter((e) => e === "disconnect").length, 1);
    assert.equal(events.filter((e) => e === "reconnect").length, 1);
  });
});
