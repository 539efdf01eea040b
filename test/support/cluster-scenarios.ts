// The cluster scenarios every broker runs (test/cluster/{redis,amqp,nats}.test.ts): three sockjet
// server processes joined through a real broker, official clients spread across them, every
// cross-server operation with exactly-once delivery; a write-only emitter and the CLI from
// separate processes; a python-socketio worker where python-socketio has a manager for the
// broker; and a broker outage in the middle of traffic (a TCP proxy between the servers and the
// broker is cut and restored). socket.io-client 2 clients (Engine.IO v3; the servers have
// `allowEIO3`) share rooms with v4 clients and receive from other servers, the emitter and the
// python-socketio worker; `disconnect(sid, "/", { close: true })` closes a whole connection held
// by another server, from a server and from the emitter.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { connect as netConnect } from "node:net";
import { existsSync } from "node:fs";
import { io, type Socket as ClientSocket } from "socket.io-client";
import { startServerProcess, run, runCli, type ServerProcess } from "./cluster-process.js";
import { TcpProxy } from "./cluster-proxy.js";
import { main as cli } from "../../src/cli.js";
import { connectV2, type Recorder } from "./cluster-harness.js";

export interface BrokerUnderTest {
  /** "Redis", "RabbitMQ", "NATS" */
  name: string;
  /** The broker's URL (from the environment). */
  url: string;
  /** The CLI's option for it. */
  cliFlag: "--redis" | "--amqp" | "--nats";
  /** python-socketio's write-only manager for this broker, if it has one. */
  python?: "redis" | "kombu";
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect(port, host);
    socket.setTimeout(1000);
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
  });
}

const DEFAULT_PORTS: Record<string, number> = { "redis:": 6379, "rediss:": 6379, "amqp:": 5672, "amqps:": 5671, "nats:": 4222 };

const URL_VARIABLES: Record<string, string> = { "redis:": "REDIS_URL", "rediss:": "REDIS_URL", "amqp:": "AMQP_URL", "amqps:": "AMQP_URL", "nats:": "NATS_URL" };

/**
 * The broker's host and port. A broker that does not answer fails the test file, in CI and out of
 * it, with what to do about it: `npm test` starts the local brokers (scripts/prerequisites.mjs).
 */
export async function probeBroker(broker: Pick<BrokerUnderTest, "name" | "url">): Promise<{ host: string; port: number }> {
  const u = new URL(broker.url);
  const host = u.hostname || "127.0.0.1";
  const port = Number(u.port || DEFAULT_PORTS[u.protocol] || 0);
  if (!(await reachable(host, port))) {
    const variable = URL_VARIABLES[u.protocol] ?? "its URL variable";
    throw new Error(`${broker.name} does not answer at ${broker.url}: run \`npm test\`, which starts the local brokers (scripts/prerequisites.mjs), or set ${variable} to one that runs`);
  }
  return { host, port };
}

export const PYTHON = process.env.PYTHON ?? "/usr/bin/python3";

/** Fails, saying what to install, unless python-socketio and the broker's python client can be imported. */
export async function requirePython(kind: "redis" | "kombu"): Promise<void> {
  const modules = kind === "redis" ? "socketio, redis" : "socketio, kombu";
  if (existsSync(PYTHON) && (await run(PYTHON, ["-c", `import ${modules}`])).code === 0) return;
  throw new Error(
    `python-socketio is not importable by ${PYTHON}: apt-get install -y python3-socketio python3-redis python3-kombu ` +
      "(`npm test` installs them when run as root), or set PYTHON to a python that has them",
  );
}

export async function clusterScenarios(broker: BrokerUnderTest): Promise<void> {
  const { host: brokerHost, port: brokerPort } = await probeBroker(broker);
  const BROKER_URL = broker.url;

  describe(`${broker.name} cluster: 3 server processes`, () => {
    const channel = `sockjet-test-${randomUUID()}`;
    let proxy: TcpProxy;
    let servers: ServerProcess[] = [];
    let c: Recorder[] = []; // "/": two clients per server
    let chat: Recorder[] = []; // "/chat": one per server
    let v2: Recorder[] = []; // socket.io-client 2 on "/": server 0 over WebSocket, server 2 over polling
    let markerSeq = 0;

    const urlVia = (port: number) => {
      const u = new URL(BROKER_URL);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    };
    const counts = (clients: Recorder[], event: string) => clients.map((r) => r.count(event));
    const live = () => [...c, ...chat, ...v2].filter((r) => r.socket.connected);

    /** Every server publishes a marker after everything earlier; resolves when every live client has all three. */
    async function flush(): Promise<void> {
      const id = `m${markerSeq++}`;
      for (const [i, s] of servers.entries()) {
        for (const namespace of ["/", "/chat"]) await s.request({ op: "emit", event: "__marker", data: `${id}:${i}`, options: { namespace } });
      }
      await Promise.all(live().map((r) => r.when(() => r.all("__marker").filter((a) => String(a[0]).startsWith(`${id}:`)).length === 3)));
    }

    /** Polls a server's view of a sid's rooms until `test` holds. */
    async function waitRooms(i: number, sid: string, check: (rooms: string[]) => boolean, what: string): Promise<void> {
      for (let k = 0; !check(await servers[i]!.request<string[]>({ op: "rooms", sid })); k++) {
        if (k > 1000) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }

    before(async () => {
      proxy = await new TcpProxy(brokerHost, brokerPort).start();
      servers = await Promise.all([0, 1, 2].map(() => startServerProcess({ url: urlVia(proxy.port), channel, pythonCompatible: true })));
      for (const i of [0, 0, 1, 1, 2, 2]) c.push(await servers[i]!.connect());
      for (const i of [0, 1, 2]) chat.push(await servers[i]!.connect("/chat"));
      v2.push(await connectV2(servers[0]!.url, { transports: ["websocket"] }));
      v2.push(await connectV2(servers[2]!.url, { transports: ["polling"] }));
    });

    after(async () => {
      for (const r of [...c, ...chat, ...v2]) r.socket.disconnect();
      await Promise.all(servers.map((s) => s.stop()));
      await proxy?.close();
    });

    test("emit to everyone, a sid, rooms, with skip, per namespace: exactly once", async () => {
      await servers[0]!.request({ op: "emit", event: "all", data: 1, options: {} });
      await servers[2]!.request({ op: "emit", event: "direct", data: [1, "two"], spread: true, options: { to: c[3]!.id } });
      await servers[1]!.request({ op: "emit", event: "ns", data: "x", options: { namespace: "/chat" } });
      await servers[1]!.request({ op: "enterRoom", sid: c[0]!.id, room: "red" }); // on server 0
      await servers[1]!.request({ op: "enterRoom", sid: c[5]!.id, room: "red" }); // on server 2
      await servers[1]!.request({ op: "enterRoom", sid: c[2]!.id, room: "red" }); // local
      await servers[0]!.request({ op: "enterRoom", sid: c[5]!.id, room: "blue" });
      await waitRooms(0, c[0]!.id, (rooms) => rooms.includes("red"), "red on server 0");
      await waitRooms(2, c[5]!.id, (rooms) => rooms.includes("red") && rooms.includes("blue"), "red and blue on server 2");
      await servers[2]!.request({ op: "emit", event: "room", data: null, options: { room: "red" } });
      await servers[0]!.request({ op: "emit", event: "rooms", data: null, options: { to: ["red", "blue"] } });
      await servers[1]!.request({ op: "emit", event: "skip", data: null, options: { to: ["red", "blue"], skipSid: [c[0]!.id] } });
      await flush();
      assert.deepEqual(counts(c, "all"), [1, 1, 1, 1, 1, 1]);
      assert.deepEqual(counts(chat, "all"), [0, 0, 0]);
      assert.deepEqual(c[3]!.all("direct"), [[1, "two"]]);
      assert.deepEqual(counts(c, "direct"), [0, 0, 0, 1, 0, 0]);
      assert.deepEqual(counts(chat, "ns"), [1, 1, 1]);
      assert.deepEqual(counts(c, "ns"), [0, 0, 0, 0, 0, 0]);
      assert.deepEqual(counts(c, "room"), [1, 0, 1, 0, 0, 1]);
      assert.deepEqual(counts(c, "rooms"), [1, 0, 1, 0, 0, 1]);
      assert.deepEqual(counts(c, "skip"), [0, 0, 1, 0, 0, 1]);
    });

    test("leave_room and close_room across servers", async () => {
      await servers[2]!.request({ op: "leaveRoom", sid: c[0]!.id, room: "red" });
      await servers[0]!.request({ op: "closeRoom", room: "blue" });
      await waitRooms(0, c[0]!.id, (rooms) => !rooms.includes("red"), "leave red");
      await waitRooms(2, c[5]!.id, (rooms) => !rooms.includes("blue"), "blue closed");
      await servers[1]!.request({ op: "emit", event: "after", data: null, options: { to: ["red", "blue"] } });
      await flush();
      assert.deepEqual(counts(c, "after"), [0, 0, 1, 0, 0, 1]);
    });

    test("binary arguments between processes", async () => {
      await servers[0]!.request({ op: "emit", event: "bin", data: { b: Buffer.from([0, 255, 7]) }, options: { to: c[4]!.id } });
      await c[4]!.received("bin");
      const [payload] = c[4]!.all("bin")[0]! as [{ b: Buffer }];
      assert.deepEqual([...payload.b], [0, 255, 7]);
    });

    test("a room of v2 and v4 clients on three servers: a broadcast from a member's server and one from another server, with binary, exactly once", async () => {
      // "mixed": v2[0] and c[1] on server 0, c[2] on server 1, v2[1] on server 2; entered from elsewhere too.
      await servers[1]!.request({ op: "enterRoom", sid: v2[0]!.id, room: "mixed" });
      await servers[2]!.request({ op: "enterRoom", sid: v2[1]!.id, room: "mixed" });
      await servers[0]!.request({ op: "enterRoom", sid: c[1]!.id, room: "mixed" });
      await servers[0]!.request({ op: "enterRoom", sid: c[2]!.id, room: "mixed" });
      await waitRooms(0, v2[0]!.id, (rooms) => rooms.includes("mixed"), "mixed on server 0");
      await waitRooms(1, c[2]!.id, (rooms) => rooms.includes("mixed"), "mixed on server 1");
      await servers[0]!.request({ op: "emit", event: "mixed", data: { from: 0, b: Buffer.from([0, 1, 255]) }, options: { room: "mixed" } });
      await servers[1]!.request({ op: "emit", event: "mixed", data: { from: 1, b: Buffer.from([128, 7]) }, options: { room: "mixed" } });
      await servers[2]!.request({ op: "emit", event: "mixed-skip", data: "s", options: { room: "mixed", skipSid: [v2[1]!.id] } });
      await flush();
      assert.deepEqual(counts(v2, "mixed"), [2, 2]);
      assert.deepEqual(counts(c, "mixed"), [0, 2, 2, 0, 0, 0]);
      assert.deepEqual(counts(chat, "mixed"), [0, 0, 0]);
      assert.deepEqual(counts(v2, "mixed-skip"), [1, 0]);
      assert.deepEqual(counts(c, "mixed-skip"), [0, 1, 1, 0, 0, 0]);
      for (const r of [v2[0]!, v2[1]!, c[1]!, c[2]!]) {
        const got = r.all("mixed").map(([payload]) => {
          const { from, b } = payload as { from: number; b: Uint8Array };
          return { from, b: [...b] };
        });
        // Two publishers: a member's own server delivers at once, the other's comes through the broker.
        got.sort((x, y) => x.from - y.from);
        assert.deepEqual(got, [{ from: 0, b: [0, 1, 255] }, { from: 1, b: [128, 7] }]);
      }
      // A v2 client on another server, addressed by sid, acknowledges.
      assert.equal(await servers[1]!.request({ op: "call", event: "double", data: 7, to: v2[1]!.id, timeout: 10_000 }), 14);
    });

    test("call() a sid on another server, callbacks from a room spanning servers, timeout", async () => {
      assert.equal(await servers[0]!.request({ op: "call", event: "double", data: 21, to: c[5]!.id, timeout: 10_000 }), 42);
      for (const [i, sid] of [[0, c[1]!.id], [1, c[3]!.id], [2, c[5]!.id]] as const) await servers[(i + 1) % 3]!.request({ op: "enterRoom", sid, room: "green" });
      for (const [i, sid] of [[0, c[1]!.id], [1, c[3]!.id], [2, c[5]!.id]] as const) await waitRooms(i, sid, (rooms) => rooms.includes("green"), "green");
      const replies = await servers[1]!.request<unknown[]>({ op: "emitCollect", event: "double", data: 4, options: { room: "green" }, count: 3 });
      assert.deepEqual(replies, [8, 8, 8]);
      await assert.rejects(servers[2]!.request({ op: "call", event: "double", data: 1, to: "no-such-sid", timeout: 500 }), (err: Error & { code?: string }) => err.code === "ACK_TIMEOUT");
    });

    test("disconnect a sid on another server", async () => {
      const extra = await servers[2]!.connect();
      const gone = new Promise<string>((resolve) => extra.socket.once("disconnect", (reason: string) => resolve(reason)));
      await servers[0]!.request({ op: "disconnect", sid: extra.id });
      assert.equal(await gone, "io server disconnect");
    });

    /** A v4 client with reconnection on, on "/" and "/chat" of one connection to a server. */
    async function multiplexed(server: ServerProcess) {
      const root: ClientSocket = io(server.url, { forceNew: true, transports: ["websocket"], reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 50 });
      const chatSocket = root.io.socket("/chat");
      const attempts: number[] = [];
      root.io.on("reconnect_attempt", (n: number) => void attempts.push(n));
      const reasons = { root: [] as string[], chat: [] as string[] };
      root.on("disconnect", (reason) => void reasons.root.push(reason));
      chatSocket.on("disconnect", (reason) => void reasons.chat.push(reason));
      await Promise.all(
        [root, chatSocket].map((s) => new Promise<void>((resolve, reject) => {
          s.once("connect", () => resolve());
          s.once("connect_error", reject);
        })),
      );
      return { root, chat: chatSocket, rootSid: root.id!, chatSid: chatSocket.id!, engineId: root.io.engine.id, attempts, reasons };
    }

    /** Polls a server until `check` holds for its answer to `command`. */
    async function waitAnswer<T>(i: number, command: Record<string, unknown>, check: (answer: T) => boolean, what: string): Promise<T> {
      for (let k = 0; ; k++) {
        const answer = await servers[i]!.request<T>(command);
        if (check(answer)) return answer;
        if (k > 1000) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(answer)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }

    async function until(check: () => boolean, what: string): Promise<void> {
      for (let k = 0; !check(); k++) {
        if (k > 1000) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }

    test("disconnect(sid, \"/\", { close: true }) of a connection on another server, from a server and from the emitter; without close, one namespace", async () => {
      for (const via of ["server", "emitter"] as const) {
        const m = await multiplexed(servers[2]!);
        try {
          if (via === "server") {
            await servers[0]!.request({ op: "disconnect", sid: m.rootSid, namespace: "/", close: true });
          } else {
            const result = await run(process.execPath, ["--import", "tsx", "test/cluster/fixtures/emitter.ts"], {
              env: { SOCKJET_EMITTER: JSON.stringify({ url: BROKER_URL, channel, ops: [{ op: "disconnect", sid: m.rootSid, namespace: "/", close: true }] }) },
            });
            assert.equal(result.code, 0, result.stderr);
          }
          await until(() => m.reasons.root.length > 0 && m.reasons.chat.length > 0, `both disconnects (${via})`);
          assert.deepEqual(m.reasons, { root: ["io server disconnect"], chat: ["io server disconnect"] }, via);
          const calls = await waitAnswer<unknown[]>(2, { op: "disconnects", sids: [m.rootSid, m.chatSid] }, (a) => a.length >= 2, "disconnect handlers");
          assert.deepEqual(
            calls,
            [
              { namespace: "/", sid: m.rootSid, reason: "server disconnect" },
              { namespace: "/chat", sid: m.chatSid, reason: "server disconnect" },
            ],
            via,
          );
          await waitAnswer<boolean>(2, { op: "hasSession", engineId: m.engineId }, (open) => !open, "the session to end");
          // Longer than the reconnection delay: the client does not come back.
          await new Promise((r) => setTimeout(r, 300));
          assert.deepEqual(m.attempts, [], via);
        } finally {
          m.root.disconnect();
          m.chat.disconnect();
        }
      }

      // Without close: "/" leaves, "/chat" stays on the same connection and still receives.
      const m = await multiplexed(servers[1]!);
      try {
        await servers[0]!.request({ op: "disconnect", sid: m.rootSid, namespace: "/" });
        await until(() => m.reasons.root.length > 0, "the / disconnect");
        assert.deepEqual(m.reasons.root, ["io server disconnect"]);
        const still = new Promise<unknown>((resolve) => m.chat.once("still", resolve));
        await servers[2]!.request({ op: "emit", event: "still", data: "here", options: { to: m.chatSid, namespace: "/chat" } });
        assert.equal(await still, "here");
        assert.equal(m.chat.connected, true);
        assert.deepEqual(m.reasons.chat, []);
        assert.deepEqual(await servers[1]!.request({ op: "disconnects", sids: [m.rootSid, m.chatSid] }), [{ namespace: "/", sid: m.rootSid, reason: "server disconnect" }]);
        assert.equal(await servers[1]!.request({ op: "hasSession", engineId: m.engineId }), true);
        assert.deepEqual(m.attempts, []);
      } finally {
        m.root.disconnect();
        m.chat.disconnect();
      }
    });

    test("a burst from every server arrives exactly once, in order per server", async () => {
      await Promise.all(servers.map(async (s, i) => {
        for (let k = 0; k < 100; k++) await s.request({ op: "emit", event: "burst", data: [i, k], options: {} });
      }));
      await flush();
      const expected = Array.from({ length: 100 }, (_, k) => k);
      for (const r of c) {
        const seen = r.all("burst").map((a) => a[0] as [number, number]);
        assert.equal(seen.length, 300);
        for (const i of [0, 1, 2]) assert.deepEqual(seen.filter(([from]) => from === i).map(([, k]) => k), expected);
      }
    });

    test("the write-only emitter in its own process: emit, rooms, call", async () => {
      const ops = [
        { op: "emit", event: "emitter", data: { from: "emitter" }, options: { to: [c[1]!.id, c[4]!.id], skipSid: [c[4]!.id] } },
        { op: "emit", event: "emitter-chat", data: null, options: { namespace: "/chat" } },
        { op: "enterRoom", sid: c[3]!.id, room: "emitter-room" },
        { op: "call", event: "double", data: 50, to: c[2]!.id, timeout: 10_000 },
        { op: "call", event: "double", data: 1, to: "no-such-sid", timeout: 300 },
        { op: "emit", event: "emitter-v2", data: { to: "v2" }, options: { to: [v2[0]!.id, v2[1]!.id] } },
        { op: "emit", event: "emitter-mixed", data: null, options: { to: ["mixed"] } },
        { op: "call", event: "double", data: 21, to: v2[0]!.id, timeout: 10_000 },
      ];
      const result = await run(process.execPath, ["--import", "tsx", "test/cluster/fixtures/emitter.ts"], {
        env: { SOCKJET_EMITTER: JSON.stringify({ url: BROKER_URL, channel, ops }) },
      });
      const lines = result.stdout.trim().split("\n").map((l) => JSON.parse(l) as { ok: boolean; result?: unknown; code?: string });
      assert.equal(lines.length, 8, result.stderr);
      assert.deepEqual(lines.slice(0, 3), [{ ok: true, result: null }, { ok: true, result: null }, { ok: true, result: null }]);
      assert.deepEqual(lines[3], { ok: true, result: 100 });
      assert.equal(lines[4]!.ok, false);
      assert.equal(lines[4]!.code, "ACK_TIMEOUT");
      assert.deepEqual(lines.slice(5), [{ ok: true, result: null }, { ok: true, result: null }, { ok: true, result: 42 }]);
      await flush();
      assert.deepEqual(counts(c, "emitter"), [0, 1, 0, 0, 0, 0]);
      assert.deepEqual(counts(chat, "emitter-chat"), [1, 1, 1]);
      assert.deepEqual(counts(v2, "emitter-chat"), [0, 0]);
      assert.deepEqual(v2.map((r) => r.all("emitter-v2")), [[[{ to: "v2" }]], [[{ to: "v2" }]]]);
      assert.deepEqual(counts(v2, "emitter-mixed"), [1, 1]);
      assert.deepEqual(counts(c, "emitter-mixed"), [0, 1, 1, 0, 0, 0]);
      assert.deepEqual(await servers[1]!.request({ op: "rooms", sid: c[3]!.id }), [c[3]!.id, "green", "emitter-room"]);
    });

    test("the CLI in its own process: emit to a room and a sid, call, close-room, disconnect; usage errors", async () => {
      // The emitter process of the previous test has just exited. RabbitMQ removes its exclusive
      // queue after the exit, and nacks a publish that its fanout routes to that queue meanwhile
      // (the CLI then rightly reports the message as not confirmed). Let the broker settle first.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const base = [broker.cliFlag, BROKER_URL, "--channel", channel];
      const [room, sid, ns, call] = await Promise.all([
        runCli(["emit", ...base, "--room", "emitter-room", "cli", '{"n":1}']),
        runCli(["emit", ...base, "--to", c[0]!.id, "--spread", "cli-args", "[1,2,3]"]),
        runCli(["emit", ...base, "--namespace", "/chat", "cli-chat"]),
        runCli(["call", ...base, "--to", c[5]!.id, "--timeout", "10000", "double", "8"]),
      ]);
      for (const r of [room, sid, ns, call]) assert.equal(r.code, 0, r.stderr);
      assert.equal(call.stdout.trim(), "16");
      await flush();
      assert.deepEqual(counts(c, "cli"), [0, 0, 0, 1, 0, 0]);
      assert.deepEqual(c[3]!.all("cli"), [[{ n: 1 }]]);
      assert.deepEqual(c[0]!.all("cli-args"), [[1, 2, 3]]);
      assert.deepEqual(counts(chat, "cli-chat"), [1, 1, 1]);

      const extra = await servers[1]!.connect();
      const gone = new Promise<void>((resolve) => extra.socket.once("disconnect", () => resolve()));
      const [closed, disconnected] = await Promise.all([runCli(["close-room", ...base, "emitter-room"]), runCli(["disconnect", ...base, "--", extra.id])]);
      assert.equal(closed.code, 0, closed.stderr);
      assert.equal(disconnected.code, 0, disconnected.stderr);
      await gone;
      await waitRooms(1, c[3]!.id, (rooms) => !rooms.includes("emitter-room"), "close-room");

      // Exit statuses, in this process: 2 for usage errors, 1 when the broker cannot be reached.
      const errors: string[] = [];
      const output = { out: () => {}, err: (line: string) => errors.push(line) };
      assert.equal(await cli(["emit", ...base, "ev", "{not json"], output), 2);
      assert.equal(await cli(["emit", "ev"], output), 2);
      assert.equal(await cli(["call", ...base, "ev"], output), 2);
      // Sids may start with "-": as an option value, and after "--" as a positional, they parse (then fail to connect: 1).
      assert.equal(await cli(["call", "--redis", "redis://127.0.0.1:1", "--to", "-dashed", "ev"], output), 1);
      assert.equal(await cli(["disconnect", "--redis", "redis://127.0.0.1:1", "--", "-dashed"], output), 1);
      assert.equal(await cli(["emit", "--redis", "redis://127.0.0.1:1", "ev"], output), 1);
      assert.match(errors.at(-1)!, /ECONNREFUSED/);
    });

    // python-socketio has no manager for every broker (none for NATS): the test exists only where it applies.
    if (broker.python !== undefined) test(`a python-socketio write-only ${broker.python === "kombu" ? "KombuManager" : "RedisManager"} reaches sockjet's clients`, async () => {
      await requirePython(broker.python!);
      const ops = [
        { op: "emit", event: "py-all", data: { hello: "from python" } },
        { op: "emit", event: "py-sid", data: { __tuple__: [1, "two", { __bytes__: "00ff" }] }, room: c[1]!.id },
        { op: "emit", event: "py-room", data: null, room: "green", skip_sid: c[3]!.id },
        { op: "emit", event: "py-chat", data: "c", namespace: "/chat", room: chat[2]!.id },
        { op: "enter_room", sid: c[0]!.id, room: "py-room" },
        { op: "enter_room", sid: c[4]!.id, room: "py-room" },
        { op: "leave_room", sid: c[5]!.id, room: "green" },
        { op: "json", message: { method: "emit", event: "py-json", data: [1, 2], namespace: "/", room: null, skip_sid: [c[0]!.id], callback: null, host_id: "py" } },
        { op: "emit", event: "py-v2", data: { __tuple__: ["v2", { __bytes__: "0001ff" }] }, room: v2[1]!.id },
        { op: "emit", event: "py-mixed", data: "m", room: "mixed" },
      ];
      const r = await run(PYTHON, ["test/cluster/fixtures/python_worker.py", broker.python!, BROKER_URL, channel, JSON.stringify(ops)]);
      assert.equal(r.code, 0, r.stderr);
      await flush();
      assert.deepEqual(counts(c, "py-all"), [1, 1, 1, 1, 1, 1]);
      assert.deepEqual(c[0]!.all("py-all"), [[{ hello: "from python" }]]);
      assert.deepEqual(v2.map((r) => r.all("py-all")), [[[{ hello: "from python" }]], [[{ hello: "from python" }]]]);
      assert.deepEqual(counts(v2, "py-v2"), [0, 1]);
      const [label, v2Bytes] = v2[1]!.all("py-v2")[0]! as [string, Uint8Array];
      assert.deepEqual([label, [...v2Bytes]], ["v2", [0, 1, 255]]);
      assert.deepEqual(counts(v2, "py-mixed"), [1, 1]);
      assert.deepEqual(counts(c, "py-mixed"), [0, 1, 1, 0, 0, 0]);
      assert.deepEqual(counts(chat, "py-all"), [0, 0, 0]);
      const [one, two, bytes] = c[1]!.all("py-sid")[0]! as [number, string, Buffer];
      assert.deepEqual([one, two, [...bytes]], [1, "two", [0, 255]]);
      assert.deepEqual(counts(c, "py-sid"), [0, 1, 0, 0, 0, 0]);
      assert.deepEqual(counts(c, "py-room"), [0, 1, 0, 0, 0, 1]); // green = c1, c3 (skipped), c5
      assert.deepEqual(c[1]!.all("py-room"), [[]]); // None: no argument
      assert.deepEqual(counts(chat, "py-chat"), [0, 0, 1]);
      assert.deepEqual(counts(c, "py-json"), [0, 1, 1, 1, 1, 1]);
      assert.deepEqual(c[1]!.all("py-json"), [[[1, 2]]]);
      assert.deepEqual(await servers[0]!.request({ op: "rooms", sid: c[0]!.id }), [c[0]!.id, "py-room"]);
      assert.deepEqual(await servers[2]!.request({ op: "rooms", sid: c[4]!.id }), [c[4]!.id, "py-room"]);
      assert.deepEqual(await servers[2]!.request({ op: "rooms", sid: c[5]!.id }), [c[5]!.id, "red"]);

      const extra = await servers[2]!.connect();
      const gone = new Promise<void>((resolve) => extra.socket.once("disconnect", () => resolve()));
      const r2 = await run(PYTHON, [
        "test/cluster/fixtures/python_worker.py",
        broker.python!,
        BROKER_URL,
        channel,
        JSON.stringify([{ op: "close_room", room: "py-room" }, { op: "disconnect", sid: extra.id }]),
      ]);
      assert.equal(r2.code, 0, r2.stderr);
      await gone;
      await flush();
      assert.deepEqual(await servers[0]!.request({ op: "rooms", sid: c[0]!.id }), [c[0]!.id]);
      assert.deepEqual(await servers[2]!.request({ op: "rooms", sid: c[4]!.id }), [c[4]!.id]);
    });

    test("broker outage mid-traffic: servers keep serving local clients, report the loss, reconnect, resume", async () => {
      for (const s of servers) s.events.length = 0;
      // Traffic before, during and after.
      await servers[0]!.request({ op: "emit", event: "before", data: null, options: {} });
      // An emit resolves once handed to the broker client; cut only after it has gone through.
      await Promise.all(c.map((client) => client.received("before")));
      proxy.cut();
      await Promise.all(servers.map((s) => s.waitEvent((e) => e.name === "disconnect", "disconnect event")));

      await servers[0]!.request({ op: "emit", event: "during", data: null, options: {} }); // resolves: local part done
      await servers[1]!.request({ op: "enterRoom", sid: c[0]!.id, room: "lost" }); // lives on server 0: published only
      await assert.rejects(servers[2]!.request({ op: "call", event: "double", data: 1, to: c[0]!.id, timeout: 10_000 }));
      await c[0]!.received("during");
      await c[1]!.received("during");
      const lost0 = await servers[0]!.waitEvent((e) => e.name === "error" && e.stage === "publish" && e.operation !== undefined, "lost emit");
      assert.equal(lost0.operation, "emit");
      const lost1 = await servers[1]!.waitEvent((e) => e.name === "error" && e.stage === "publish" && e.operation !== undefined, "lost enter_room");
      assert.equal(lost1.operation, "enter_room");
      // A local call still works during the outage.
      assert.equal(await servers[2]!.request({ op: "call", event: "double", data: 2, to: c[4]!.id, timeout: 10_000 }), 4);

      proxy.restore();
      await Promise.all(servers.map((s) => s.waitEvent((e) => e.name === "reconnect", "reconnect event")));
      await servers[0]!.request({ op: "emit", event: "after-outage", data: null, options: {} });
      await flush();
      assert.deepEqual(counts(c, "before"), [1, 1, 1, 1, 1, 1]);
      assert.deepEqual(counts(c, "during"), [1, 1, 0, 0, 0, 0]);
      assert.deepEqual(counts(c, "after-outage"), [1, 1, 1, 1, 1, 1]);
      assert.deepEqual(await servers[0]!.request({ op: "rooms", sid: c[0]!.id }), [c[0]!.id]);
      assert.equal(await servers[2]!.request({ op: "call", event: "double", data: 5, to: c[0]!.id, timeout: 10_000 }), 10);
    });
  });
}
