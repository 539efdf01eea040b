// RedisManager on a Redis Cluster (three masters started by this test with `redis-server
// --cluster-enabled yes` and joined by `redis-cli --cluster create`), with plain and with sharded
// pub/sub (SPUBLISH/SSUBSCRIBE through ioredis's sharded subscribers). Fails, saying what to
// install, when the Redis binaries are missing.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { randomUUID } from "node:crypto";
import { RedisDriver } from "../../src/manager/drivers/redis.js";
import { startInProcessCluster } from "../support/cluster-harness.js";

const haveBinaries = ["redis-server", "redis-cli"].every((bin) => spawnSync(bin, ["--version"]).status === 0);
if (!haveBinaries) throw new Error("redis-server and redis-cli are not installed: apt-get install -y redis-server (`npm test` installs it when run as root)");

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** Three ports p whose cluster-bus ports (p + 10000) are free too. */
async function clusterPorts(): Promise<number[]> {
  const ports: number[] = [];
  for (let p = 21000 + Math.floor(Math.random() * 8000); ports.length < 3; p++) {
    if ((await isFree(p)) && (await isFree(p + 10000))) ports.push(p);
  }
  return ports;
}

describe("Redis Cluster", () => {
  const nodes: ChildProcess[] = [];
  let ports: number[] = [];
  let dir = "";

  before(async () => {
    ports = await clusterPorts();
    dir = mkdtempSync(join(tmpdir(), "sockjet-redis-cluster-"));
    for (const port of ports) {
      const node = spawn(
        "redis-server",
        ["--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`), "--save", "", "--appendonly", "no", "--dir", dir],
        { stdio: "ignore" },
      );
      nodes.push(node);
    }
    for (const port of ports) {
      for (let k = 0; spawnSync("redis-cli", ["-p", String(port), "ping"]).stdout?.toString().trim() !== "PONG"; k++) {
        if (k > 200) throw new Error(`redis-server on ${port} did not start`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const create = spawnSync("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"], { timeout: 30_000 });
    assert.equal(create.status, 0, create.stdout?.toString());
    for (let k = 0; !spawnSync("redis-cli", ["-p", String(ports[0]), "cluster", "info"]).stdout?.toString().includes("cluster_state:ok"); k++) {
      if (k > 300) throw new Error("the cluster did not become ok");
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  after(() => {
    for (const node of nodes) node.kill("SIGKILL");
    if (dir) rmSync(dir, { recursive: true, force: true });
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
});
