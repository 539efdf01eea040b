// The runtime dimension of the benchmark: which script is each server on each runtime, how that
// runtime is started, and what the servers are called in the tables. The load generator always
// runs on Node; only the server under test changes runtime.
//
//   node: bench/servers/{sockjet,socketio,control-ws}.ts   (node --import tsx)
//   bun:  bench/servers/bun/{sockjet,socketio,control}.ts  (bun, from the `bun` npm package)
//   deno: bench/servers/deno/{sockjet,sockjet-deno-serve,socketio,control}.ts (deno run, from the `deno` npm package)
//
// `sockjet` is sockjet as a user of the runtime gets it by default: Node's http, Bun.serve, and on
// Deno node:http (`sio.listen` through Deno's Node compatibility, docs/runtimes.md). Deno also has
// `sockjet-deno-serve`, the same server on Deno.serve (serveDeno), the alternative users can pick.

import { execFileSync } from "node:child_process";
import { join } from "node:path";

export const RUNTIMES = ["node", "bun", "deno"] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

export const RUNTIME_LABELS: Record<RuntimeName, string> = { node: "Node", bun: "Bun", deno: "Deno" };

/** The kinds every runtime has: sockjet on the runtime's own server, the runtime's socket.io, its bare control. */
type CommonKind = "sockjet" | "socketio" | "control-ws";
/** The server kinds; `sockjet-deno-serve` (sockjet on Deno.serve) runs on Deno only. */
export type ServerKind = CommonKind | "sockjet-deno-serve";

/** What each kind is on each runtime, for the tables; a kind a runtime lacks has no label there. */
export const KIND_LABELS: Record<RuntimeName, Record<CommonKind, string> & Partial<Record<ServerKind, string>>> = {
  node: { sockjet: "sockjet", socketio: "socket.io", "control-ws": "control (ws)" },
  bun: { sockjet: "sockjet", socketio: "socket.io + bun-engine", "control-ws": "control (Bun.serve)" },
  deno: { sockjet: "sockjet (node:http)", "sockjet-deno-serve": "sockjet (Deno.serve)", socketio: "socket.io (node:http)", "control-ws": "control (Deno.serve)" },
};

/** Whether a server kind exists on a runtime. */
export function runsOn(kind: ServerKind, runtime: RuntimeName): boolean {
  return KIND_LABELS[runtime][kind] !== undefined;
}

/** The label of a kind on a runtime (its name where the runtime lacks it, e.g. in an error). */
export function kindLabel(runtime: RuntimeName, kind: ServerKind): string {
  return KIND_LABELS[runtime][kind] ?? kind;
}

/** The server under the `sockjet` kind on each runtime: its default (Deno's `sockjet-deno-serve` is the alternative). */
export const SOCKJET_SERVERS: Record<RuntimeName, string> = { node: "node:http", bun: "Bun.serve", deno: "node:http" };

/** The second sockjet kind of a runtime that has one: sockjet on the runtime's other server. */
export const ALT_KIND = "sockjet-deno-serve" satisfies ServerKind;
/** The server under ALT_KIND. */
export const ALT_SERVER = "Deno.serve";

/** How the control of each runtime delivers a broadcast (chart legend). */
export const CONTROL_NOTES: Record<RuntimeName, string> = {
  node: "bare ws, one write per delivery",
  bun: "bare Bun.serve, one server.publish per message",
  deno: "bare Deno.serve, one send per delivery",
};

/** The script of a server kind on a runtime. */
export function serverScript(benchDir: string, runtime: RuntimeName, kind: ServerKind): string {
  if (!runsOn(kind, runtime)) throw new Error(`server ${kind} does not run on ${runtime}`);
  if (runtime === "node") return join(benchDir, "servers", `${kind}.ts`);
  return join(benchDir, "servers", runtime, `${kind === "control-ws" ? "control" : kind}.ts`);
}

/** The binary of a runtime: Node is the one running this process; Bun and Deno come from node_modules/.bin. */
export function runtimeBinary(rootDir: string, runtime: RuntimeName): string {
  return runtime === "node" ? process.execPath : join(rootDir, "node_modules", ".bin", runtime);
}

/**
 * The command line that runs `script` on a runtime, with a collectable heap (the servers' SIGUSR2
 * hook runs a full GC). `profileDir` adds the runtime's CPU profiler where it has one.
 */
export function runtimeCommand(rootDir: string, runtime: RuntimeName, script: string, profileDir: string | null): string[] {
  const binary = runtimeBinary(rootDir, runtime);
  switch (runtime) {
    case "node":
      return [binary, "--expose-gc", ...(profileDir === null ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`]), "--import", "tsx", script];
    case "bun":
      // Bun.gc(true) needs no flag; --cpu-prof writes a V8-format .cpuprofile (Bun ≥ 1.3).
      return [binary, ...(profileDir === null ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, "--cpu-prof-interval=250"]), script];
    case "deno":
      // --unstable-sloppy-imports resolves src/'s `.js` specifiers to the `.ts` files; npm packages
      // (socket.io) resolve from node_modules through package.json. Deno has no --cpu-prof: V8's
      // tick log (--prof) is written instead, for `node --prof-process`.
      return [
        binary,
        "run",
        "-A",
        "--unstable-sloppy-imports",
        `--v8-flags=--expose-gc${profileDir === null ? "" : `,--prof,--logfile=${join(profileDir, "v8.log")}`}`,
        script,
      ];
  }
}

/** `bun --version` / `deno --version` (first line), for the report. */
export function runtimeVersion(rootDir: string, runtime: RuntimeName): string {
  if (runtime === "node") return process.version;
  try {
    const out = execFileSync(runtimeBinary(rootDir, runtime), ["--version"], { encoding: "utf8" });
    // "1.4.5" (Bun), "deno 2.9.6 (stable, release, x86_64-unknown-linux-gnu)" (Deno).
    return out.split("\n")[0]!.replace(/^deno /, "").replace(/ \(.*$/, "").trim();
  } catch {
    return "not installed";
  }
}
