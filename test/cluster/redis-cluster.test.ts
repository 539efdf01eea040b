// RedisManager on a Redis Cluster (three masters that test/support/redis-cluster-nodes.ts starts
// with `redis-server --cluster-enabled yes` and joins with `redis-cli --cluster create`), with
// plain and with sharded pub/sub (SPUBLISH/SSUBSCRIBE through ioredis's sharded subscribers).
// Fails, saying what to install, when the Redis binaries are missing.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { RedisDriver } from "../../src/manager/drivers/redis.js";
import { startInProcessCluster } from "../support/cluster-harness.js";
import { startRedisCluster, type RedisClusterNodes } from "../support/redis-cluster-nodes.js";

describe("Redis Cluster", () => {
  let nodes: RedisClusterNodes;
  let ports: number[] = [];

  before(async () => {
    nodes = await startRedisCluster();
    ports = nodes.ports;
  });

  after(() => {
    nodes?.close();
  });

  for (const sharded of [false, true]) {
    test(`two servers through the cluster, ${sharded ? "sharded" : "plain"} pub/sub: emit, rooms, call`, async () => {
      const channel = `sockjet-cluster-${randomUUID()}`;
      const cluster = await startInProcessCluster(2, () => new RedisDriver({ cluster: { nodes: [{ host: "127.0.0.1", port: ports[0]! }] }, sharded }), undefined, channel);
      try {
        const a = await cluster.connect(0);
        const b = await cluster.connect(1);
        await cluster.servers[0]!.sio.enterRoom(b.id, "room");
        await cluster.servers[1]!.sio.emit("all", 1);
        await cluster.flush();
        await cluster.servers[0]!.sio.emit("to-room", 2, { room: "room" });
        await cluster.flush();
        assert.deepEqual([a.count("all"), b.count("all")], [1, 1]);
        assert.deepEqual([a.count("to-room"), b.count("to-room")], [0, 1]);
        assert.equal(await cluster.servers[0]!.sio.call("double", 21, { to: b.id, timeout: 5000 }), 42);
        // One server's operations stay in order even though a cluster has several nodes: a room
        // join published just before an emit to that room must be applied first, every time.
        for (let k = 0; k < 30; k++) {
          await cluster.servers[0]!.sio.enterRoom(b.id, `r${k}`);
          await cluster.servers[0]!.sio.emit("in-order", k, { room: `r${k}` });
        }
        await cluster.flush();
        assert.deepEqual(b.all("in-order").map((args) => args[0]), Array.from({ length: 30 }, (_, k) => k));
        assert.deepEqual(cluster.servers.flatMap((s) => s.errors.map((e) => e.error.message)), []);
      } finally {
        await cluster.close();
      }
    });
  }

  test("redisOptions reach every node connection of a Redis Cluster, as on a single Redis", async () => {
    const name = `sockjet-${randomUUID().slice(0, 8)}`;
    const channel = `sockjet-cluster-${randomUUID()}`;
    const driver = () => new RedisDriver({ cluster: { nodes: [{ host: "127.0.0.1", port: ports[0]! }] }, redisOptions: { connectionName: name } });
    const cluster = await startInProcessCluster(1, driver, undefined, channel);
    try {
      await cluster.servers[0]!.sio.emit("all", 1);
      await cluster.flush();
      const { Redis } = await import("ioredis");
      let named = 0;
      for (const port of ports) {
        const admin = new Redis(port, "127.0.0.1");
        try {
          const list = String(await admin.call("CLIENT", "LIST"));
          named += list.split("\n").filter((line) => line.includes(` name=${name} `)).length;
        } finally {
          admin.disconnect();
        }
      }
      assert.ok(named >= 2, `connections named ${name}: ${named}`);
    } finally {
      await cluster.close();
    }
  });
});
