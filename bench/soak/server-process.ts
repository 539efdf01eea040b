// Starts bench/soak/server.ts in a child process on Node, Bun or Deno, with a collectable heap, and
// talks to it over its stdin/stdout line channel (see server.ts).

import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runtimeCommand, type RuntimeName } from "../lib/runtimes.js";
import type { Stats } from "./protocol.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SCRIPT = fileURLToPath(new URL("./server.ts", import.meta.url));

export interface SoakServer {
  readonly url: string;
  readonly pid: number;
  /** Stats, after forced collections when `gc` is true. */
  stats(gc: boolean): Promise<Stats>;
  /** Writes a V8 heap snapshot (Node, Deno) after forced collections; resolves with its path. */
  snapshot(file: string): Promise<string>;
  /** Everything the process wrote on stderr (kept to the last 20 KB). */
  stderr(): string;
  close(): Promise<void>;
}

export async function startSoakServer(runtime: RuntimeName = "node"): Promise<SoakServer> {
  const [command, ...args] = runtimeCommand(ROOT, runtime, SCRIPT, null);
  const child: ChildProcess = spawn(command!, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  // Answers come back in request order, one line each.
  const waiting: Array<{ resolve: (line: string) => void; reject: (err: Error) => void }> = [];
  let buffered = "";
  let first: ((line: string) => void) | null = null;
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (first !== null) {
        const f = first;
        first = null;
        f(line);
      } else waiting.shift()?.resolve(line);
    }
  });
  void exited.then(() => {
    const err = new Error(`soak server (${runtime}) exited (${child.exitCode ?? child.signalCode}):\n${stderr}`);
    for (const w of waiting.splice(0)) w.reject(err);
  });

  const ready = await new Promise<string>((resolve, reject) => {
    first = resolve;
    void exited.then(() => reject(new Error(`soak server (${runtime}) exited before listening:\n${stderr}`)));
    setTimeout(() => reject(new Error(`soak server (${runtime}) did not start within 60 s:\n${stderr}`)), 60_000).unref();
  });
  const { port } = JSON.parse(ready) as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stats(gc) {
      return new Promise<string>((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin!.write(JSON.stringify({ op: "stats", gc }) + "\n");
      }).then((line) => JSON.parse(line) as Stats);
    },
    snapshot(file) {
      return new Promise<string>((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin!.write(JSON.stringify({ op: "snapshot", file }) + "\n");
      }).then((line) => (JSON.parse(line) as { file: string }).file);
    },
    stderr: () => stderr,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.end();
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
