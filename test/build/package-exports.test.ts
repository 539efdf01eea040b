// The package as users install it: src/ compiled with tsconfig.build.json into a temporary package
// directory (package.json and node_modules beside it), then every entry of package.json's
// `exports` imported by the package's own name (a self-reference resolves through `exports`, as a
// dependant's import does). A moved module or a stale export map fails here, not in a user's build.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { run } from "../support/cluster-process.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  bin: Record<string, string>;
  exports: Record<string, { types: string; import: string }>;
};

/** What each entry point must export (the names the examples of the README and docs/ import). */
const EXPECTED: Record<string, string[]> = {
  ".": ["Server", "Namespace", "InMemoryManager", "ConnectionRefusedError", "args"],
  "./engine": ["EngineServer", "NodeEngineAdapter", "FetchEngineAdapter"],
  "./cluster": ["PubSubManager", "InMemoryBroker"],
  "./redis": ["RedisManager", "RedisDriver", "SocketIORedisManager"],
  "./amqp": ["AmqpManager", "AmqpDriver"],
  "./nats": ["NatsManager", "NatsDriver"],
  "./emitter": ["Emitter"],
  "./bun": ["serveBun", "bunHandler"],
  "./deno": ["serveDeno", "denoHandler"],
  "./express": ["attachExpress"],
  "./koa": ["attachKoa"],
  "./fastify": ["sockjetPlugin", "default"],
  "./hono": ["serveHono"],
};

let dir = "";

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "sockjet-package-"));
  copyFileSync(join(ROOT, "package.json"), join(dir, "package.json"));
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  const config = { extends: join(ROOT, "tsconfig.build.json"), compilerOptions: { rootDir: join(ROOT, "src"), outDir: join(dir, "dist") }, include: [join(ROOT, "src")] };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(config));
  const tsc = await run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.json")], { limit: 120_000 });
  assert.equal(tsc.code, 0, tsc.stdout + tsc.stderr);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("every export's files exist, and the bin", () => {
  for (const [entry, target] of Object.entries(pkg.exports)) {
    assert.ok(existsSync(join(dir, target.import)), `${entry}: ${target.import} was not built`);
    assert.ok(existsSync(join(dir, target.types)), `${entry}: ${target.types} was not built`);
  }
  for (const file of Object.values(pkg.bin)) assert.ok(existsSync(join(dir, file)), `bin ${file} was not built`);
});

test("every export imports by the package's name and has its documented names", async () => {
  assert.deepEqual(Object.keys(pkg.exports).sort(), Object.keys(EXPECTED).sort(), "EXPECTED lists every export");
  // A module inside the package directory, so that `import("sockjet/...")` is a self-reference.
  const probe = join(dir, "probe.mjs");
  writeFileSync(
    probe,
    `const out = {};\nfor (const entry of ${JSON.stringify(Object.keys(pkg.exports))}) {\n` +
      `  const specifier = entry === "." ? "${pkg.name}" : "${pkg.name}/" + entry.slice(2);\n` +
      `  out[entry] = Object.keys(await import(specifier));\n}\nexport default out;\n`,
  );
  const names = (await import(pathToFileURL(probe).href)).default as Record<string, string[]>;
  for (const [entry, expected] of Object.entries(EXPECTED)) {
    for (const name of expected) assert.ok(names[entry]!.includes(name), `${entry} does not export ${name} (has ${names[entry]!.join(", ")})`);
  }
});
