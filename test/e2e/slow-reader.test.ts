// Slow readers on every runtime: Node (node:http + ws), Bun (Bun.serve, native publish), Deno
// (Deno.serve) and Deno on node:http, each serving bench/servers/slow-reader (one room, a broadcast
// on request, the server's own backlog accounting sampled after every emit) in a child process with
// maxBufferedBytes = 256 KiB. In the room: a WebSocket client whose TCP socket is paused (the kernel
// buffers fill, then the server's), a long-polling client that never polls again, and two healthy
// WebSocket members. The room receives 1000-byte messages until both slow
// clients are gone. (The healthy members are WebSockets: each 200 KB step of the broadcast runs as fast
// as the server can emit, and a healthy poller's backlog between two polls could pass the limit.) Asserted: each was closed with "buffer full"; the largest backlog the server
// held for it was within one message of the limit (never more than limit + one message); the
// healthy members got every message, in order, including those after the closes.
// A second test per runtime: a poller that stops polling with a backlog under the limit is ended
// by its ping timeout (the documented outcome when little is sent).
// bench/tools/slow-reader.ts measures the memory this holds the server to.
// No timing assertions: every wait is bounded only so that a failure does not hang the run.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PollingClient, WsClient } from "../../bench/lib/slow-reader-clients.js";
import { runtimeCommand } from "../../bench/lib/runtimes.js";
import type { ServerStats } from "../../bench/servers/slow-reader/app.js";
import { within } from "./_util.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SERVE = fileURLToPath(new URL("../../bench/servers/slow-reader/serve.ts", import.meta.url));
const LIMIT = 256 * 1024;
const SIZE = 1000;
/** The largest message on the wire: `42["msg",k,"x...x"]` with k below 10^7, plus a frame header. */
const MESSAGE = SIZE + 32;
const CHUNK = 200;
/** The kernel buffers of a paused localhost connection take a few MB; 40 MB is far past that. */
const MAX_CHUNKS = 200;
const WAIT = 30_000;

type Runtime = "node" | "bun" | "deno" | "deno-node";

async function start(runtime: Runtime, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; url: string }> {
  const argv = runtimeCommand(ROOT, runtime === "deno-node" ? "deno" : runtime, SERVE, null);
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", SLOW_READER_LIMIT: String(LIMIT), SLOW_READER_STDIN: "1", ...extraEnv };
  if (runtime === "deno-node") env.SLOW_READER_HTTP = "node";
  const child = spawn(argv[0]!, [...argv.slice(1), "--port", "0"], { cwd: ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const port = await within(
    new Promise<number>((resolve, reject) => {
      let out = "";
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        out += chunk;
        const match = /ready (\d+)\n/.exec(out);
        if (match !== null) resolve(Number(match[1]));
      });
      child.once("exit", (code) => reject(new Error(`${runtime} server exited (${code}): ${stderr}`)));
    }),
    WAIT,
    `${runtime} server start`,
  );
  return { child, url: `http://127.0.0.1:${port}` };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.stdin!.end();
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

for (const runtime of ["node", "bun", "deno", "deno-node"] as const) {
  describe(`slow readers on ${runtime}`, () => {
    test("a WebSocket that stops reading and a poller that stops polling are closed with 'buffer full' at the limit; the room keeps receiving", async () => {
      const { child, url } = await start(runtime);
      const clients: (WsClient | PollingClient)[] = [];
      try {
        const healthy = [await within(WsClient.open(url), WAIT, "ws open"), await within(WsClient.open(url), WAIT, "ws open")];
        clients.push(...healthy);
        const slowWs = await within(WsClient.open(url), WAIT, "slow ws open");
        slowWs.stopReading();
        const slowPolling = await within(PollingClient.open(url, false), WAIT, "slow polling open");
        clients.push(slowWs, slowPolling);
        const control = healthy[0]!;
        const stats = async () => (await within(control.call("stats", {}), WAIT, "stats"))[0] as ServerStats;
        const slowSids = new Set([slowWs.sid, slowPolling.sid]);

        let sent = 0;
        let closes = (await stats()).closes;
        for (let chunk = 0; chunk < MAX_CHUNKS && closes.filter((c) => slowSids.has(c.sid)).length < 2; chunk++) {
          await within(control.call("blast", { n: CHUNK, size: SIZE, batch: 20 }), WAIT, "blast");
          sent += CHUNK;
          // Paced as an application's traffic is: a server that emits faster than its readers
          // read closes them too, by design (Deno counts ~1 KB per pending send on top).
          await within(Promise.all(healthy.map((c) => c.waitFor(sent))), WAIT, "healthy members keep up");
          closes = (await stats()).closes;
        }
        // One more after the closes: the room goes on without them.
        await within(control.call("blast", { n: CHUNK, size: SIZE, batch: 20 }), WAIT, "blast");
        sent += CHUNK;
        await within(Promise.all(healthy.map((c) => c.waitFor(sent))), WAIT, "healthy members receive everything");
        const final = await stats();

        assert.equal(final.limit, LIMIT);
        // On Deno.serve a pending send also counts what Deno holds for it (frameOverhead, 2 KB; the
        // backlog's count of sends is estimated, so up to one more).
        const message = runtime === "deno" ? MESSAGE + 2 * 2048 : MESSAGE;
        for (const [name, client] of [["WebSocket", slowWs], ["long-polling", slowPolling]] as const) {
          const close = final.closes.find((c) => c.sid === client.sid);
          assert.equal(close?.reason, "buffer full", `${name} slow reader closed with "buffer full" (closes: ${JSON.stringify(final.closes)})`);
          const held = final.maxBuffered[client.engineSid] ?? 0;
          assert.ok(held <= LIMIT + message, `${name}: the server held ${held} bytes for it, more than the limit ${LIMIT} + one message`);
          assert.ok(held > LIMIT - message, `${name}: closed at ${held} bytes held, before its backlog reached the limit ${LIMIT}`);
        }
        assert.equal(final.closes.filter((c) => !slowSids.has(c.sid)).length, 0, `no healthy member closed: ${JSON.stringify(final.closes)}`);
        for (const client of healthy) {
          assert.equal(client.error, null);
          assert.equal(client.received, sent, "a healthy member got every message");
          assert.equal(client.closed, false);
        }
      } finally {
        for (const client of clients) client.close();
        await stop(child);
      }
    });

    test("a poller that stops polling with a backlog under the limit is ended by its ping timeout; what it held stays under the limit", async () => {
      // A short heartbeat, so that the timeout comes within the test (the healthy member answers pings).
      const { child, url } = await start(runtime, { SLOW_READER_PING_INTERVAL: "300", SLOW_READER_PING_TIMEOUT: "300" });
      const clients: (WsClient | PollingClient)[] = [];
      try {
        const healthy = await within(WsClient.open(url), WAIT, "ws open");
        const slow = await within(PollingClient.open(url, false), WAIT, "slow polling open");
        clients.push(healthy, slow);
        await within(healthy.call("blast", { n: 50, size: SIZE, batch: 20 }), WAIT, "blast");
        await within(healthy.waitFor(50), WAIT, "the healthy member receives everything");
        let stats: ServerStats;
        do {
          await new Promise((resolve) => setTimeout(resolve, 100));
          stats = (await within(healthy.call("stats", {}), WAIT, "stats"))[0] as ServerStats;
        } while (!stats.closes.some((c) => c.sid === slow.sid));
        assert.equal(stats.closes.find((c) => c.sid === slow.sid)?.reason, "ping timeout");
        const held = stats.maxBuffered[slow.engineSid] ?? 0;
        assert.ok(held >= 50 * SIZE && held <= LIMIT, `the poller's backlog (${held} bytes) held the 50 messages and stayed under the limit`);
        assert.equal(stats.closes.length, 1, `only the poller closed: ${JSON.stringify(stats.closes)}`);
        assert.equal(healthy.error, null);
      } finally {
        for (const client of clients) client.close();
        await stop(child);
      }
    });
  });
}
