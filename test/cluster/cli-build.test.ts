// The `sockjet` bin as users get it: compiled with tsconfig.build.json's settings into a temporary
// package directory, then the bin run through a symlink (as npm's .bin shim is), with its shebang,
// against a server on the real Redis (REDIS_URL).

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { RedisDriver } from "../../src/manager/drivers/redis.js";
import { startInProcessCluster, type InProcessCluster } from "../support/cluster-harness.js";
import { run } from "../support/cluster-process.js";
import { probeBroker } from "../support/cluster-scenarios.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
await probeBroker({ name: "Redis", url: REDIS_URL });

describe("the built sockjet bin", () => {
  let dir = "";
  let cluster: InProcessCluster;
  const channel = `sockjet-bin-${randomUUID()}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sockjet-bin-"));
    copyFileSync(join(ROOT, "package.json"), join(dir, "package.json"));
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    // The build's settings, limited to what the bin imports (so work in progress elsewhere in src/ cannot break it).
    const config = {
      extends: join(ROOT, "tsconfig.build.json"),
      compilerOptions: { rootDir: join(ROOT, "src"), outDir: join(dir, "dist") },
      include: [],
      files: ["cli.ts", "manager/drivers/amqp.ts", "manager/drivers/nats.ts"].map((f) => join(ROOT, "src", f)),
    };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(config));
    const tsc = await run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.json")], { limit: 120_000 });
    assert.equal(tsc.code, 0, tsc.stdout + tsc.stderr);
    mkdirSync(join(dir, "bin"));
    chmodSync(join(dir, "dist/cli.js"), 0o755);
    symlinkSync(join(dir, "dist/cli.js"), join(dir, "bin/sockjet"));
    cluster = await startInProcessCluster(1, () => new RedisDriver({ url: REDIS_URL }), undefined, channel);
  });

  after(async () => {
    await cluster?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("emit and call through the bin shim", async () => {
    const client = await cluster.connect(0);
    const emitted = await run(join(dir, "bin/sockjet"), ["emit", "--redis", REDIS_URL, "--channel", channel, "--to", client.id, "from-bin", '{"ok":true}']);
    assert.equal(emitted.code, 0, emitted.stderr);
    await client.received("from-bin");
    assert.deepEqual(client.all("from-bin"), [[{ ok: true }]]);
    const called = await run(join(dir, "bin/sockjet"), ["call", "--redis", REDIS_URL, "--channel", channel, "--to", client.id, "double", "21"]);
    assert.equal(called.code, 0, called.stderr);
    assert.equal(called.stdout.trim(), "42");
    const usage = await run(join(dir, "bin/sockjet"), ["help"]);
    assert.equal(usage.code, 0);
    assert.match(usage.stdout, /^usage:/);
  });
});
