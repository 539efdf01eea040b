// The package as a new user installs it: src/ built with tsconfig.build.json's settings, packed by
// `npm pack` (package.json's `files`), and the tarball installed into new projects beside the
// packages a user would add. Versions are the ones in this repository's node_modules and npm
// installs them with --prefer-offline, so the test runs from npm's cache.
//
// - Node: every `exports` entry, the README's seed example and docs/runtimes.md's Express snippet,
//   type-checked by `tsc` with `strict` and without `skipLibCheck` (so every .d.ts the package
//   publishes is checked as the user's compiler sees it), then the two snippets run with node and
//   answer the official socket.io-client.
// - Bun: docs/runtimes.md's Bun snippet type-checked the same way against @types/bun, then run by `bun`.
// - Deno: docs/runtimes.md's two Deno snippets (node:http, the default there, and Deno.serve) checked
//   by `deno check`, then run by `deno run` with the permissions their comments give.
//
// The snippets are read from README.md and docs/runtimes.md, so an example that stops compiling or
// working fails here. Only their port is changed (to a free one), and the snippets that
// docs/runtimes.md calls "complete apart from `const sio = new Server()` and the handlers" get those.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { io, type Socket } from "socket.io-client";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const README = "README.md";
const RUNTIMES = "docs/runtimes.md";
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; exports: Record<string, unknown> };
const BUN = join(ROOT, "node_modules/.bin/bun");
const DENO = join(ROOT, "node_modules/.bin/deno");
// The consumer projects are compiled by this repository's TypeScript (a user's of the same
// version): the compiler is a tool, and installing it again into each project only costs time.
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
// Children die with this process, even when the test runner kills it at its timeout.
const ORPHAN_GUARD = existsSync("/usr/bin/setpriv") ? ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--"] : [];
const ENV = { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };

const children = new Set<ChildProcess>();

/** spawn(), with the orphan guard. */
function start(command: string, args: string[], cwd: string): ChildProcess {
  const argv = [...ORPHAN_GUARD, command, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { cwd, env: ENV, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** `name@version` as installed in this repository. */
function pinned(name: string): string {
  const { version } = JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string };
  return `${name}@${version}`;
}

/** The first ```ts block after a heading of a markdown file of the repository. */
function snippet(file: string, heading: string): string {
  const text = readFileSync(join(ROOT, file), "utf8");
  const at = text.indexOf(`\n${heading}\n`);
  assert.notEqual(at, -1, `${file} has the heading "${heading}"`);
  const match = /```ts\n([\s\S]*?)```/.exec(text.slice(at));
  assert.ok(match, `a ts block follows "${heading}" in ${file}`);
  return match[1]!;
}

/** The snippet listening on `port` instead of the documented 3000 or 8000 (exactly one of them). */
function onPort(code: string, port: number): string {
  const ports = code.match(/\b(3000|8000)\b/g) ?? [];
  assert.equal(ports.length, 1, `one port in:\n${code}`);
  return code.replace(/\b(3000|8000)\b/, String(port));
}

interface Result {
  code: number | null;
  output: string;
}

function run(command: string, args: string[], cwd: string, limitMs = 180_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = start(command, args, cwd);
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), limitMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface App {
  url: string;
  /** Resolves once the app's output (stdout and stderr) matches. */
  printed(pattern: RegExp): Promise<void>;
  /** A socket.io-client connected to the namespace, once the app listens (it is retried until then). */
  connect(namespace?: string): Promise<Socket>;
  stop(): Promise<void>;
}

/** Starts `command args` in `cwd`, an app that listens on `port`. */
function startApp(command: string, args: string[], cwd: string, port: number): App {
  const child = start(command, args, cwd);
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const sockets: Socket[] = [];
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    async printed(pattern) {
      for (let waited = 0; !pattern.test(output); waited += 20) {
        if (waited > 10_000) throw new Error(`${command} ${args.join(" ")} did not print ${pattern}; its output:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    connect(namespace = "/") {
      const socket = io(url + namespace, { forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 250 });
      sockets.push(socket);
      return new Promise((resolve, reject) => {
        let settled = false;
        const fail = (why: string) => {
          if (settled) return;
          settled = true;
          socket.disconnect();
          reject(new Error(`${why}; its output:\n${output}`));
        };
        const timer = setTimeout(() => fail(`${command} ${args.join(" ")} did not accept a connection within 30 s`), 30_000);
        void exited.then(() => (clearTimeout(timer), fail(`${command} ${args.join(" ")} exited (${child.exitCode ?? child.signalCode})`)));
        socket.once("connect", () => {
          settled = true;
          clearTimeout(timer);
          resolve(socket);
        });
      });
    },
    async stop() {
      for (const socket of sockets) socket.disconnect();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

function once<T extends unknown[]>(socket: Socket, event: string): Promise<T> {
  return new Promise((resolve) => socket.once(event, (...args: unknown[]) => resolve(args as T)));
}

/** A `package.json` for a new ESM project. */
function newProject(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "sockjet-consumer", version: "1.0.0", private: true, type: "module" }, null, 2));
  return dir;
}

/** npm install, as a user would, from npm's cache where it can. */
async function npmInstall(dir: string, specs: string[]): Promise<void> {
  const r = await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error", ...specs], dir);
  assert.equal(r.code, 0, `npm install ${specs.join(" ")} in ${dir}:\n${r.output}`);
}

/** The strict compiler settings of the consumer projects: no skipLibCheck. */
const STRICT = { strict: true, skipLibCheck: false };

let dir = "";
let nodeProject = "";
let bunProject = "";
let denoProject = "";

before(
  async () => {
    dir = mkdtempSync(join(tmpdir(), "sockjet-consumer-"));
    // The package directory `npm pack` sees in a built checkout: package.json, README.md, dist/.
    const stage = join(dir, "package");
    mkdirSync(stage);
    for (const file of ["package.json", "README.md", "LICENSE"]) if (existsSync(join(ROOT, file))) copyFileSync(join(ROOT, file), join(stage, file));
    const compilerOptions = { rootDir: join(ROOT, "src"), outDir: join(stage, "dist"), typeRoots: [join(ROOT, "node_modules/@types")] };
    const config = { extends: join(ROOT, "tsconfig.build.json"), compilerOptions, include: [join(ROOT, "src")] };
    writeFileSync(join(stage, "tsconfig.json"), JSON.stringify(config));
    const build = await run(process.execPath, [TSC, "-p", join(stage, "tsconfig.json")], ROOT);
    assert.equal(build.code, 0, `build:\n${build.output}`);
    const pack = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], stage);
    assert.equal(pack.code, 0, `npm pack:\n${pack.output}`);
    const tarball = join(dir, (JSON.parse(pack.output.slice(pack.output.indexOf("["))) as Array<{ filename: string }>)[0]!.filename);

    nodeProject = newProject(join(dir, "node"));
    bunProject = newProject(join(dir, "bun"));
    await Promise.all([
      // A Node user: the runtime's types, Express for the snippet, and the optional peers whose
      // types the entry points' declarations import (tsc fails on an import of one not listed).
      npmInstall(nodeProject, [tarball, ...["@types/node", "express", "@types/express", "amqplib", "fastify", "ioredis", "nats"].map(pinned)]),
      // A Bun user: @types/bun brings the @types/node it is written against (not the repository's).
      npmInstall(bunProject, [tarball, pinned("@types/bun")]),
    ]);
    // A Deno user: Deno resolves `npm:sockjet` from node_modules beside a package.json.
    denoProject = nodeProject;
  },
  { timeout: 300_000 },
);

after(async () => {
  for (const child of children) child.kill("SIGKILL");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ports: Record<string, number> = {};

test("Node: every entry point, the README's seed example and the Express snippet type-check with tsc, strict, no skipLibCheck", { timeout: 120_000 }, async () => {
  const entries = Object.keys(pkg.exports).map((entry, i) => `export * as entry${i} from "${entry === "." ? pkg.name : `${pkg.name}/${entry.slice(2)}`}";`);
  writeFileSync(join(nodeProject, "entries.ts"), entries.join("\n") + "\n");
  ports.node = await freePort();
  writeFileSync(join(nodeProject, "seed.ts"), onPort(snippet(README, "## The seed example, in TypeScript"), ports.node));
  ports.express = await freePort();
  const handlers = 'import { Server } from "sockjet";\n\nconst sio = new Server();\nsio.on("add", (sid: string, a: number, b: number) => a + b);\n\n';
  writeFileSync(join(nodeProject, "express.ts"), handlers + onPort(snippet(RUNTIMES, "### Express 5"), ports.express));
  const tsconfig = { compilerOptions: { ...STRICT, target: "es2022", module: "nodenext", outDir: "out" }, files: ["entries.ts", "seed.ts", "express.ts"] };
  writeFileSync(join(nodeProject, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  const tsc = await run(process.execPath, [TSC, "-p", "tsconfig.json"], nodeProject);
  assert.equal(tsc.code, 0, tsc.output);
});

test("Node: the README's seed example runs and answers the official client", async () => {
  assert.ok(existsSync(join(nodeProject, "out/seed.js")), "compiled by the type-check test");
  const app = startApp(process.execPath, ["out/seed.js"], nodeProject, ports.node!);
  try {
    const socket = await app.connect("/chat");
    const reply = once(socket, "reply");
    socket.emit("chat message", "hello from a consumer");
    assert.deepEqual(await reply, []);
    await app.printed(/message hello from a consumer/); // the handler's console.log, on its own pipe
  } finally {
    await app.stop();
  }
});

test("Node: docs/runtimes.md's Express snippet runs, serves the app, and answers the official client", async () => {
  assert.ok(existsSync(join(nodeProject, "out/express.js")), "compiled by the type-check test");
  const app = startApp(process.execPath, ["out/express.js"], nodeProject, ports.express!);
  try {
    const socket = await app.connect();
    assert.equal(await socket.timeout(10_000).emitWithAck("add", 2, 3), 5);
    const page = await fetch(`${app.url}/`);
    assert.equal(await page.text(), "hello");
  } finally {
    await app.stop();
  }
});

test("Bun: docs/runtimes.md's snippet type-checks against @types/bun (strict, no skipLibCheck) and runs under bun", { timeout: 120_000 }, async () => {
  const port = await freePort();
  const code = onPort(snippet(RUNTIMES, "### Bun"), port) + '\nsio.on("add", (sid: string, a: number, b: number) => a + b);\n';
  writeFileSync(join(bunProject, "app.ts"), code);
  mkdirSync(join(bunProject, "public"));
  writeFileSync(join(bunProject, "public/index.html"), "<p>index</p>\n");
  // What `bun init` writes, with skipLibCheck off.
  const compilerOptions = { ...STRICT, lib: ["ESNext"], target: "ESNext", module: "Preserve", moduleResolution: "bundler", moduleDetection: "force", noEmit: true, types: ["bun"] };
  writeFileSync(join(bunProject, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["app.ts"] }, null, 2));
  const tsc = await run(process.execPath, [TSC, "-p", "tsconfig.json"], bunProject);
  assert.equal(tsc.code, 0, tsc.output);

  const app = startApp(BUN, ["app.ts"], bunProject, port);
  try {
    const socket = await app.connect();
    assert.equal(await socket.timeout(10_000).emitWithAck("add", 2, 3), 5);
    assert.equal(await (await fetch(`${app.url}/`)).text(), "<p>index</p>\n");
    assert.equal(await (await fetch(`${app.url}/other`)).text(), "hello");
  } finally {
    await app.stop();
  }
});

/**
 * A Deno snippet of docs/runtimes.md: `deno check`, then `deno run` with the permissions its comment
 * gives; it answers the official client and serves the app's "hello" beside Socket.IO.
 */
async function denoSnippet(heading: string, file: string): Promise<void> {
  const port = await freePort();
  const documented = snippet(RUNTIMES, heading);
  const permissions = /\/\/ deno run ((?:--allow-[a-z-]+ ?)+)$/m.exec(documented);
  assert.ok(permissions, `the snippet says how to run it:\n${documented}`);
  const code = onPort(documented, port) + '\nsio.on("add", (sid: string, a: number, b: number) => a + b);\n';
  writeFileSync(join(denoProject, file), code);
  const check = await run(DENO, ["check", file], denoProject);
  assert.equal(check.code, 0, check.output);

  const app = startApp(DENO, ["run", ...permissions[1]!.trim().split(" "), file], denoProject, port);
  try {
    const socket = await app.connect();
    assert.equal(await socket.timeout(10_000).emitWithAck("add", 2, 3), 5);
    assert.equal(await (await fetch(`${app.url}/other`)).text(), "hello");
  } finally {
    await app.stop();
  }
}

test("Deno: docs/runtimes.md's default snippet (node:http) passes deno check and runs with the permissions its comment gives", { timeout: 120_000 }, () =>
  denoSnippet("### Deno", "deno-app.ts"),
);

test("Deno: docs/runtimes.md's Deno.serve snippet (sockjet/deno) passes deno check and runs with the permissions its comment gives", { timeout: 120_000 }, () =>
  denoSnippet("#### Deno.serve (`sockjet/deno`)", "deno-serve-app.ts"),
);
