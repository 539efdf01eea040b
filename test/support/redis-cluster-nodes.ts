// A throwaway Redis Cluster for tests: three masters started with `redis-server --cluster-enabled
// yes` on free ports (their cluster-bus ports, p + 10000, free too) and joined by `redis-cli
// --cluster create`. Fails, saying what to install, when the Redis binaries are missing.

import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";

export interface RedisClusterNodes {
  ports: number[];
  close(): void;
}

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

export async function startRedisCluster(): Promise<RedisClusterNodes> {
  const haveBinaries = ["redis-server", "redis-cli"].every((bin) => spawnSync(bin, ["--version"]).status === 0);
  if (!haveBinaries) throw new Error("redis-server and redis-cli are not installed: apt-get install -y redis-server (`npm test` installs it when run as root)");
  const ports = await clusterPorts();
  const dir = mkdtempSync(join(tmpdir(), "sockjet-redis-cluster-"));
  const nodes: ChildProcess[] = [];
  const close = (): void => {
    for (const node of nodes) node.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const args = ["--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`), "--save", "", "--appendonly", "no", "--dir", dir];
      nodes.push(spawn("redis-server", args, { stdio: "ignore" }));
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
  } catch (err) {
    close();
    throw err;
  }
  return { ports, close };
}
