// Sockjet servers as child processes (test/cluster/fixtures/server.ts), joined through a real
// broker, and helpers to run other processes (the CLI, an emitter script, Python) to completion.
// Every child is killed when the test process exits, whatever happens.

import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { io } from "socket.io-client";
import { Recorder } from "./cluster-harness.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURE = fileURLToPath(new URL("../cluster/fixtures/server.ts", import.meta.url));

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

export interface FixtureConfig {
  url: string;
  channel: string;
  pythonCompatible?: boolean;
  sharded?: boolean;
}

export interface FixtureEvent {
  name: "error" | "disconnect" | "reconnect";
  stage?: string;
  operation?: string;
  message?: string;
}

type Reply = { kind: "reply"; id: number; ok: boolean; result?: unknown; error?: string; code?: string };
type ChildMessage = { kind: "ready"; port: number; hostId: string } | Reply | ({ kind: "event" } & FixtureEvent);

export class ServerProcess {
  readonly events: FixtureEvent[] = [];
  url = "";
  hostId = "";
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly eventWaiters: Array<() => void> = [];
  private exited = false;

  constructor(private readonly child: ChildProcess) {
    children.add(child);
    child.on("exit", () => {
      this.exited = true;
      children.delete(child);
      for (const p of this.pending.values()) p.reject(new Error("server process exited"));
      this.pending.clear();
    });
    child.on("message", (message: ChildMessage) => {
      if (message.kind === "reply") {
        const p = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.ok) p?.resolve(message.result);
        else p?.reject(Object.assign(new Error(message.error), { code: message.code }));
      } else if (message.kind === "event") {
        this.events.push(message);
        for (const wake of this.eventWaiters.splice(0)) wake();
      }
    });
  }

  /** Sends a command to the server process and resolves with its result. */
  request<T = unknown>(command: Record<string, unknown>): Promise<T> {
    if (this.exited) return Promise.reject(new Error("server process exited"));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...command, id });
    });
  }

  /** Resolves once an event matching `test` has been reported (past or future). */
  async waitEvent(test: (e: FixtureEvent) => boolean, what: string, limit = 20_000): Promise<FixtureEvent> {
    const start = Date.now();
    for (;;) {
      const found = this.events.find(test);
      if (found) return found;
      if (Date.now() - start > limit) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.eventWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Connects an official client to this server. */
  async connect(namespace = "/"): Promise<Recorder> {
    const socket = io(this.url + namespace, { forceNew: true, reconnection: false, transports: ["websocket"] });
    const recorder = new Recorder(socket);
    socket.on("double", (x: number, ack: (v: number) => void) => ack(x * 2));
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", reject);
    });
    return recorder;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    try {
      await Promise.race([this.request({ op: "exit" }).catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
    } finally {
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
    }
  }
}

/** Starts a server process and waits until it is listening and connected to the broker. */
export function startServerProcess(config: FixtureConfig): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", FIXTURE], {
    cwd: ROOT,
    env: { ...process.env, SOCKJET_FIXTURE: JSON.stringify(config) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    serialization: "advanced",
  });
  const server = new ServerProcess(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("server process did not become ready"));
    }, 30_000);
    child.on("message", (message: ChildMessage) => {
      if (message.kind !== "ready") return;
      clearTimeout(timer);
      server.url = `http://127.0.0.1:${message.port}`;
      server.hostId = message.hostId;
      resolve(server);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server process exited early (code ${code})`));
    });
  });
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killed after `limit` ms). */
export function run(command: string, argv: string[], options: { env?: NodeJS.ProcessEnv; limit?: number } = {}): Promise<RunResult> {
  const child = spawn(command, argv, { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.limit ?? 30_000);
  return new Promise((resolve) => {
    child.on("close", (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The CLI in the repository, through tsx (what `npx sockjet` runs after a build). */
export function runCli(argv: string[]): Promise<RunResult> {
  return run(process.execPath, ["--import", "tsx", "src/cli.ts", ...argv]);
}
