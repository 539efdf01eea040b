// The cluster seen whole on a real broker (test/cluster/queries-{redis,amqp,nats}.test.ts): four
// sockjet server processes (test/cluster/fixtures/query-server.ts), three through one TCP proxy to
// the broker and the fourth through its own, so that its link alone can be stalled or cut.
// Cluster-wide fetchSockets, fetchRooms, fetchParticipants and allRooms; serverSideEmit with and
// without replies; a server whose link goes silent (the query rejects with CLUSTER_INCOMPLETE and
// the others' answers, then the server is no longer expected, then it is back); a server cut from
// the broker (its own queries reject at once); a killed server (not answering, then noticed gone).

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ServerProcess, type FixtureEvent } from "./cluster-process.js";
import { TcpProxy } from "./cluster-proxy.js";
import { probeBroker, type BrokerUnderTest } from "./cluster-scenarios.js";
import type { Recorder } from "./cluster-harness.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURE = fileURLToPath(new URL("../cluster/fixtures/query-server.ts", import.meta.url));

/**
 * Heartbeats every 250 ms; a server silent for 8 s is gone; a query that is meant to miss a server
 * waits 3 s (generous for the servers that do answer on a loaded machine, and short of 8 s, so
 * the missing server is still expected when it is sent).
 */
const TIMINGS = { heartbeatInterval: 250, heartbeatTimeout: 8000, queryTimeout: 20_000 };
const SHORT = 3000;

interface Described {
  sid: string;
  namespace: string;
  rooms: string[];
  data: unknown;
  server: string;
}
interface Failed<T> {
  failed: string;
  expected: number;
  answered: number;
  partial: T;
  message: string;
}

function isFailed<T>(value: unknown): value is Failed<T> {
  return typeof value === "object" && value !== null && "failed" in value;
}

/** Starts a query-server process; resolves once it listens and its broker connection is up. */
function startQueryServer(url: string, channel: string): Promise<{ server: ServerProcess; kill: () => void }> {
  const child = spawn(process.execPath, ["--import", "tsx", FIXTURE], {
    cwd: ROOT,
    env: { ...process.env, SOCKJET_FIXTURE: JSON.stringify({ url, channel, ...TIMINGS }) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    serialization: "advanced",
  });
  const server = new ServerProcess(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("query server process did not become ready"));
    }, 30_000);
    child.on("message", (message: { kind: string; port?: number; hostId?: string }) => {
      if (message.kind !== "ready") return;
      clearTimeout(timer);
      server.url = `http://127.0.0.1:${message.port}`;
      server.hostId = message.hostId!;
      resolve({ server, kill: () => child.kill("SIGKILL") });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`query server process exited early (code ${code})`));
    });
  });
}

/** Polls until `check` holds for the value `read` gives (no timing assertion: fails after a generous limit). */
async function until<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string, limit = 30_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() - start > limit) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(value)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sorted = (list: readonly string[]) => [...list].sort();

export async function clusterQueryScenarios(broker: BrokerUnderTest): Promise<void> {
  const { host: brokerHost, port: brokerPort } = await probeBroker(broker);

  describe(`${broker.name}: the cluster seen whole, 4 server processes`, () => {
    const channel = `sockjet-queries-${randomUUID()}`;
    let shared: TcpProxy; // servers 0-2
    let own: TcpProxy; // server 3 alone
    const servers: ServerProcess[] = [];
    let killLast: () => void = () => {};
    const clients: Recorder[] = []; // two on server 0, one on each other server
    const urlVia = (port: number) => {
      const u = new URL(broker.url);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    };
    const s = (i: number) => servers[i]!;
    const sid = (i: number) => clients[i]!.id;
    const count = (i: number) => s(i).request<number>({ op: "serverCount" });

    before(async () => {
      shared = await new TcpProxy(brokerHost, brokerPort).start();
      own = await new TcpProxy(brokerHost, brokerPort).start();
      const started = await Promise.all([0, 1, 2, 3].map((i) => startQueryServer(urlVia(i < 3 ? shared.port : own.port), channel)));
      for (const { server } of started) servers.push(server);
      killLast = started[3]!.kill;
      for (const i of [0, 0, 1, 2, 3]) clients.push(await s(i).connect());
      for (const i of [0, 1, 2, 3]) await until(() => count(i), (n) => n === 4, `server ${i} knows the other three`);
    });

    after(async () => {
      for (const c of clients) c.socket.disconnect();
      await Promise.all(servers.map((server) => server.stop()));
      await shared?.close();
      await own?.close();
    });

    test("fetchSockets, fetchRooms, fetchParticipants and allRooms see every server", async () => {
      await s(0).request({ op: "enterRoom", sid: sid(3), room: "red" }); // on server 2
      await s(1).request({ op: "enterRoom", sid: sid(0), room: "red" }); // on server 0
      await s(2).request({ op: "enterRoom", sid: sid(4), room: "blue" }); // on server 3
      await s(2).request({ op: "saveSession", sid: sid(3), data: { user: "zoe" } });
      await until(() => s(2).request<string[]>({ op: "rooms", sid: sid(3) }), (rooms) => rooms.includes("red"), "red applied on server 2");
      await until(() => s(0).request<string[]>({ op: "rooms", sid: sid(0) }), (rooms) => rooms.includes("red"), "red applied on server 0");
      await until(() => s(3).request<string[]>({ op: "rooms", sid: sid(4) }), (rooms) => rooms.includes("blue"), "blue applied on server 3");

      const all = await s(1).request<Described[]>({ op: "fetchSockets", options: {} });
      assert.deepEqual(sorted(all.map((d) => d.sid)), sorted([0, 1, 2, 3, 4].map(sid)));
      const zoe = all.find((d) => d.sid === sid(3))!;
      assert.deepEqual(zoe, { sid: sid(3), namespace: "/", rooms: [sid(3), "red"], data: { user: "zoe" }, server: s(2).hostId });
      assert.equal(all.find((d) => d.sid === sid(4))!.server, s(3).hostId);

      const red = await s(3).request<Described[]>({ op: "fetchSockets", options: { room: "red" } });
      assert.deepEqual(sorted(red.map((d) => d.sid)), sorted([sid(0), sid(3)]));
      const except = await s(3).request<Described[]>({ op: "fetchSockets", options: { room: ["red", "blue"], except: "red", data: false } });
      assert.deepEqual(except.map((d) => [d.sid, d.data]), [[sid(4), undefined]]);

      assert.deepEqual(await s(0).request({ op: "fetchRooms", sid: sid(3) }), [sid(3), "red"]);
      assert.deepEqual(await s(0).request({ op: "rooms", sid: sid(3) }), [], "the sync view stays local");
      assert.deepEqual(await s(0).request({ op: "fetchRooms", sid: "no-such-sid" }), []);
      assert.deepEqual(sorted(await s(3).request<string[]>({ op: "fetchParticipants", room: "red" })), sorted([sid(0), sid(3)]));
      assert.deepEqual(sorted(await s(1).request<string[]>({ op: "fetchParticipants" })), sorted([0, 1, 2, 3, 4].map(sid)));
      assert.deepEqual(sorted(await s(2).request<string[]>({ op: "allRooms" })), sorted([...[0, 1, 2, 3, 4].map(sid), "red", "blue"]));
    });

    test("serverSideEmit reaches every other server once; serverSideEmitWithAck has one reply from each", async () => {
      await s(0).request({ op: "serverSideEmit", event: "hello", data: { n: 1 } });
      for (const i of [1, 2, 3]) {
        const got = await until(() => s(i).request<unknown[]>({ op: "received" }), (list) => list.length > 0, `hello on server ${i}`);
        assert.deepEqual(got, [{ event: "hello", data: { n: 1 }, from: s(0).hostId }]);
      }
      const replies = await s(1).request<Array<{ host: string; data: unknown }>>({ op: "serverSideEmitWithAck", event: "who", data: "x" });
      assert.deepEqual(sorted(replies.map((r) => r.host)), sorted([s(0).hostId, s(2).hostId, s(3).hostId]));
      for (const r of replies) assert.equal(r.data, "x");
      // Exactly once: the sender did not handle its own event, and nobody handled it twice.
      assert.deepEqual(await s(0).request({ op: "received" }), []);
      for (const i of [1, 2, 3]) assert.equal((await s(i).request<unknown[]>({ op: "received" })).length, 1);
    });

    test("handlers that never reply: CLUSTER_INCOMPLETE, nobody answered", async () => {
      const result = await s(2).request({ op: "serverSideEmitWithAck", event: "slow", timeout: SHORT });
      assert.ok(isFailed<unknown[]>(result), JSON.stringify(result));
      assert.deepEqual([result.failed, result.expected, result.answered, result.partial], ["CLUSTER_INCOMPLETE", 3, 0, []]);
    });

    test("a server whose link goes silent: queries reject with the others' answers, then it is no longer expected, then it is back", async () => {
      own.stall();
      // Sent together, while server 3 is still expected.
      const [pending, rooms] = [s(0).request({ op: "fetchSockets", options: {}, timeout: SHORT }), s(0).request({ op: "fetchRooms", sid: sid(3), timeout: SHORT })];
      const result = await pending;
      assert.ok(isFailed<Described[]>(result), JSON.stringify(result));
      assert.equal(result.failed, "CLUSTER_INCOMPLETE");
      assert.equal(result.expected, 3);
      assert.equal(result.answered, 2);
      assert.ok(result.message.includes(s(3).hostId), result.message);
      assert.deepEqual(sorted(result.partial.map((d) => d.sid)), sorted([0, 1, 2, 3].map(sid)));
      // fetchRooms of a sid whose server answered is complete anyway.
      assert.deepEqual(await rooms, [sid(3), "red"]);

      await until(() => count(0), (n) => n === 3, "server 3 no longer expected by server 0");
      assert.deepEqual(sorted((await s(0).request<Described[]>({ op: "fetchSockets", options: {} })).map((d) => d.sid)), sorted([0, 1, 2, 3].map(sid)));

      own.restore();
      for (const i of [0, 1, 2]) await until(() => count(i), (n) => n === 4, `server 3 back for server ${i}`);
      // Counted again is not yet answering: a heartbeat the silent link held back arrives late, and
      // RabbitMQ's driver, which dropped that connection, resubscribes on a new one; a query in
      // between misses server 3 (CLUSTER_INCOMPLETE, as documented). It answers once resubscribed.
      await until(
        () => s(1).request<Described[] | Failed<Described[]>>({ op: "fetchSockets", options: {}, timeout: SHORT }),
        (r) => Array.isArray(r) && r.length === 5,
        "a complete answer with server 3 back",
        60_000,
      );
    });

    test("a server cut from the broker: its queries reject at once with its own answer; after reconnecting it is counted again", async () => {
      const mark = s(3).events.length;
      const since = (name: string) => (e: FixtureEvent) => e.name === name && s(3).events.indexOf(e) >= mark;
      own.cut();
      await s(3).waitEvent(since("disconnect"), "server 3 disconnect event");
      const result = await s(3).request({ op: "fetchSockets", options: {} });
      assert.ok(isFailed<Described[]>(result), JSON.stringify(result));
      assert.equal(result.answered, 0);
      assert.match(result.message, /not connected/);
      assert.deepEqual(result.partial.map((d) => d.sid), [sid(4)]);
      own.restore();
      await s(3).waitEvent(since("reconnect"), "server 3 reconnect event", 60_000);
      for (const i of [0, 3]) await until(() => count(i), (n) => n === 4, `four servers again for server ${i}`, 60_000);
      assert.equal((await s(3).request<Described[]>({ op: "fetchSockets", options: {} })).length, 5);
    });

    test("a killed server: the next query misses its answer; then its absence is noticed and queries are complete again", async () => {
      const gone = sid(4);
      killLast();
      const result = await s(1).request({ op: "allRooms", timeout: SHORT });
      assert.ok(isFailed<string[]>(result), JSON.stringify(result));
      assert.deepEqual([result.expected, result.answered], [3, 2]);
      assert.ok(result.partial.includes(sid(3)) && !result.partial.includes(gone));
      for (const i of [0, 1, 2]) await until(() => count(i), (n) => n === 3, `server ${i} noticed the killed server`);
      assert.deepEqual(sorted(await s(1).request<string[]>({ op: "fetchParticipants" })), sorted([0, 1, 2, 3].map(sid)));
      servers.pop();
    });
  });
}
