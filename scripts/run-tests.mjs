// Runs every test/**/*.test.ts file with Node's test runner and tsx as the TypeScript loader.
// Node 20's `--test` does not expand globs or pick up .ts files itself, so we list them here.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = collect("test").filter((f) => filter.length === 0 || filter.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
// The timeout guards against a hung file (Node applies it to each file as a whole, too). The
// heaviest files (the package built and installed as a user does; three server processes, 150
// clients and a python process per broker behind a proxy) take 30-60 s on an idle 2-core machine
// and half as long again when it is shared, so the guard sits at 3 minutes rather than one.
const child = spawn(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=180000", ...files],
  { stdio: "inherit" },
);
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
