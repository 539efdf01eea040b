// Mixed clusters with socket.io: a sockjet server (SocketIORedisManager) and a socket.io server
// (@socket.io/redis-adapter on ioredis) share a real Redis (REDIS_URL, default 127.0.0.1:6379), in
// the adapter's classic format (also with publishOnSpecificResponseChannel) and in its sharded one
// (SPUBLISH/SSUBSCRIBE, Redis 7, here on a standalone Redis) in its three subscription modes.
// Clients of both receive each other's broadcasts (all, room, except, binary); room operations,
// remote disconnects, broadcasts with acknowledgements and the queries (fetchSockets, allRooms,
// serverSideEmit with and without acks) cross in both directions; @socket.io/redis-emitter
// (classic only: the emitter has no sharded mode) reaches sockjet clients; and the sockjet server
// loses Redis mid-run and comes back.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { Emitter } from "@socket.io/redis-emitter";
import { io } from "socket.io-client";
import { args, ClusterQueryError } from "../../src/index.js";
import { TcpProxy } from "../support/cluster-proxy.js";
import { startRedisCluster, type RedisClusterNodes } from "../support/redis-cluster-nodes.js";
import { probeBroker } from "../support/cluster-scenarios.js";
import { eventually, type Recorder } from "../support/cluster-harness.js";
import { REDIS_URL, startMixedCluster, type MixedCluster, type MixedOptions } from "../support/socketio-mixed.js";

const { host: redisHost, port: redisPort } = await probeBroker({ name: "Redis", url: REDIS_URL });

const sorted = (list: Iterable<string>): string[] => [...list].sort();

const CONFIGS: Array<{ name: string; options: MixedOptions }> = [
  { name: "classic pub/sub", options: { sharded: false } },
  { name: "classic pub/sub, publishOnSpecificResponseChannel", options: { sharded: false, specificResponseChannel: true } },
  { name: "sharded pub/sub, dynamic", options: { sharded: true } },
  { name: "sharded pub/sub, static", options: { sharded: true, subscriptionMode: "static" } },
  { name: "sharded pub/sub, dynamic-private", options: { sharded: true, subscriptionMode: "dynamic-private" } },
];

for (const { name, options } of CONFIGS) {
  const sharded = options.sharded;
  describe(`mixed cluster with socket.io (${name})`, () => {
    let c: MixedCluster;
    let sj1: Recorder, sj2: Recorder, io1: Recorder, io2: Recorder;

    before(async () => {
      c = await startMixedCluster(options);
      c.io.on("connection", (socket) => {
        socket.on("join", (room: string, ack: () => void) => {
          socket.join(room);
          ack();
        });
      });
      c.sockjet.on("join", async (sid: string, room: string) => {
        await c.sockjet.enterRoom(sid, room);
        return "ok";
      });
      [sj1, sj2, io1, io2] = await Promise.all([c.connect("sj"), c.connect("sj"), c.connect("io"), c.connect("io")]);
    });

    after(async () => {
      await c.close();
    });

    test("broadcasts from sockjet reach socket.io clients: all, room, except", async () => {
      await io1.socket.emitWithAck("join", "red");
      await sj1.socket.emitWithAck("join", "red");
      await c.sockjet.emit("all", { n: 1 });
      await c.sockjet.emit("red", "r", { room: "red" });
      await c.sockjet.emit("not-sj1", 2, { skipSid: sj1.id });
      await c.sockjet.emit("to-io2", args("a", 3), { to: io2.id });
      await c.flush();
      for (const r of [sj1, sj2, io1, io2]) assert.deepEqual(r.all("all"), [[{ n: 1 }]]);
      assert.deepEqual(io1.all("red"), [["r"]]);
      assert.deepEqual(sj1.all("red"), [["r"]]);
      assert.equal(io2.count("red") + sj2.count("red"), 0);
      assert.equal(sj1.count("not-sj1"), 0);
      for (const r of [sj2, io1, io2]) assert.deepEqual(r.all("not-sj1"), [[2]]);
      assert.deepEqual(io2.all("to-io2"), [["a", 3]]);
      assert.equal(io1.count("to-io2") + sj1.count("to-io2") + sj2.count("to-io2"), 0);
      assert.deepEqual(c.errors, []);
    });

    test("broadcasts from socket.io reach sockjet clients: all, room, except, a sid, binary", async () => {
      await sj2.socket.emitWithAck("join", "blue");
      await io2.socket.emitWithAck("join", "blue");
      c.io.emit("hello", "world", 42);
      c.io.to("blue").emit("blue", { deep: [1, { x: null }] });
      c.io.except("blue").emit("not-blue");
      c.io.except(sj1.id).emit("not-sj1-io");
      c.io.to(sj1.id).emit("just-sj1", true);
      c.io.to(["blue", sj1.id]).emit("union");
      c.io.emit("bin", Buffer.from([1, 2, 3]), { nested: Buffer.from("xyz") });
      await c.flush();
      for (const r of [sj1, sj2, io1, io2]) assert.deepEqual(r.all("hello"), [["world", 42]]);
      assert.deepEqual(sj2.all("blue"), [[{ deep: [1, { x: null }] }]]);
      assert.deepEqual(io2.all("blue"), [[{ deep: [1, { x: null }] }]]);
      assert.equal(sj1.count("blue") + io1.count("blue"), 0);
      assert.deepEqual([sj1.count("not-blue"), sj2.count("not-blue"), io1.count("not-blue"), io2.count("not-blue")], [1, 0, 1, 0]);
      assert.deepEqual([sj1.count("not-sj1-io"), sj2.count("not-sj1-io"), io1.count("not-sj1-io"), io2.count("not-sj1-io")], [0, 1, 1, 1]);
      assert.deepEqual(sj1.all("just-sj1"), [[true]]);
      assert.equal(sj2.count("just-sj1") + io1.count("just-sj1") + io2.count("just-sj1"), 0);
      assert.deepEqual([sj1.count("union"), sj2.count("union"), io1.count("union"), io2.count("union")], [1, 1, 0, 1]);
      const [bin, nested] = sj1.all("bin")[0]! as [ArrayBuffer, { nested: ArrayBuffer }];
      assert.deepEqual([...new Uint8Array(bin)], [1, 2, 3]);
      assert.equal(Buffer.from(nested.nested).toString(), "xyz");
      assert.deepEqual(c.errors, []);
    });

    test("binary from sockjet reaches socket.io clients as binary", async () => {
      await c.sockjet.emit("bin-sj", args(new Uint8Array([9, 8, 7]), { buf: Buffer.from("abc"), u16: new Uint16Array([258]) }));
      await c.flush();
      const [bin, obj] = io1.all("bin-sj")[0]! as [ArrayBuffer, { buf: ArrayBuffer; u16: ArrayBuffer }];
      assert.deepEqual([...new Uint8Array(bin)], [9, 8, 7]);
      assert.equal(Buffer.from(obj.buf).toString(), "abc");
      assert.deepEqual([...new Uint8Array(obj.u16)], [...new Uint8Array(new Uint16Array([258]).buffer)]);
    });

    test("room operations cross both ways: enterRoom/leaveRoom/closeRoom of a socket.io sid, socketsJoin/socketsLeave of sockjet sids", async () => {
      const ioRooms = (sid: string) => c.io.of("/").sockets.get(sid)?.rooms ?? new Set<string>();
      await c.sockjet.enterRoom(io1.id, "green");
      await eventually(() => ioRooms(io1.id).has("green"), "io1 in green");
      await c.sockjet.emit("green", 1, { room: "green" });
      await c.sockjet.leaveRoom(io1.id, "green");
      await eventually(() => !ioRooms(io1.id).has("green"), "io1 out of green");

      c.io.in(sj1.id).socketsJoin(["yellow", "pink"]);
      await eventually(() => c.sockjet.rooms(sj1.id).includes("pink"), "sj1 in pink");
      assert.deepEqual(sorted(c.sockjet.rooms(sj1.id)), sorted([sj1.id, "red", "yellow", "pink"]));
      c.io.to("yellow").emit("yellow", "y");
      c.io.in("pink").socketsLeave("pink");
      await eventually(() => !c.sockjet.rooms(sj1.id).includes("pink"), "sj1 out of pink");

      await c.sockjet.enterRoom(io2.id, "purple");
      c.io.in(sj2.id).socketsJoin("purple");
      await eventually(() => ioRooms(io2.id).has("purple") && c.sockjet.rooms(sj2.id).includes("purple"), "both in purple");
      await c.sockjet.closeRoom("purple");
      await eventually(() => !ioRooms(io2.id).has("purple") && !c.sockjet.rooms(sj2.id).includes("purple"), "purple closed on both");
      await c.flush();
      assert.deepEqual(io1.all("green"), [[1]]);
      assert.deepEqual(sj1.all("yellow"), [["y"]]);
      assert.deepEqual(c.errors, []);
    });

    test("fetchSockets, allRooms and serverSideEmit cross both ways", async () => {
      c.sockjet.saveSession(sj1.id, { user: "ann" });
      c.io.of("/").sockets.get(io1.id)!.data = { user: "bob" };
      await c.sockjet.enterRoom(sj1.id, "shared");
      await c.sockjet.enterRoom(io1.id, "shared");
      await eventually(() => c.io.of("/").sockets.get(io1.id)!.rooms.has("shared"), "io1 in shared");

      // socket.io asks.
      const remote = await c.io.in("shared").fetchSockets();
      assert.deepEqual(sorted(remote.map((s) => s.id)), sorted([sj1.id, io1.id]));
      const ann = remote.find((s) => s.id === sj1.id)!;
      assert.deepEqual(ann.data, { user: "ann" });
      assert.ok(ann.rooms.has("shared") && ann.rooms.has(sj1.id));
      const everyone = await c.io.fetchSockets();
      assert.equal(everyone.length, 4);
      if (!sharded) {
        // The classic adapter's own method (not on socket.io's Adapter type).
        const adapter = c.io.of("/").adapter as unknown as { allRooms(): Promise<Set<string>> };
        const rooms = await adapter.allRooms();
        for (const room of ["shared", sj1.id, sj2.id, io1.id, "red", "blue"]) assert.ok(rooms.has(room), room);
      }

      // sockjet asks.
      const found = await c.sockjet.fetchSockets({ room: "shared" });
      assert.deepEqual(sorted(found.map((s) => s.sid)), sorted([sj1.id, io1.id]));
      assert.deepEqual(found.find((s) => s.sid === io1.id)!.data, { user: "bob" });
      assert.ok(found.find((s) => s.sid === io1.id)!.rooms.includes("shared"));
      assert.deepEqual(sorted(await c.sockjet.fetchParticipants("/", "blue")), sorted([sj2.id, io2.id]));
      const all = await c.sockjet.allRooms();
      for (const room of ["shared", "blue", io1.id, io2.id, sj1.id]) assert.ok(all.includes(room), room);
      assert.deepEqual(await c.sockjet.fetchRooms(io2.id), [io2.id, "blue"]);
      assert.equal(c.sockjet.serverCount(), 2);

      // serverSideEmit, both ways, with and without acks.
      const heardByIo: unknown[][] = [];
      c.io.on("ping-io", (...a: unknown[]) => void heardByIo.push(a));
      c.io.on("ask-io", (x: number, cb: (v: unknown) => void) => cb({ io: x + 1 }));
      const heardBySj: Array<{ data: unknown; from: string }> = [];
      c.sockjet.onServerSideEvent("ping-sj", (data, from) => void heardBySj.push({ data, from }));
      c.sockjet.onServerSideEvent("ask-sj", (data) => ({ sj: (data as number) * 10 }));

      await c.sockjet.serverSideEmit("ping-io", args(1, "two"));
      await eventually(() => heardByIo.length === 1, "socket.io heard ping-io");
      assert.deepEqual(heardByIo[0], [1, "two"]);
      assert.deepEqual(await c.sockjet.serverSideEmitWithAck("ask-io", 4), [{ io: 5 }]);

      c.io.serverSideEmit("ping-sj", { hi: true });
      await eventually(() => heardBySj.length === 1, "sockjet heard ping-sj");
      assert.deepEqual(heardBySj[0]!.data, { hi: true });
      assert.deepEqual(await c.io.serverSideEmitWithAck("ask-sj", 3), [{ sj: 30 }]);
      assert.deepEqual(c.errors, []);
    });

    test("broadcasts with acknowledgements cross both ways", async () => {
      // socket.io waits for every server's client count, then every client's acknowledgement.
      const replies = await c.io.timeout(10_000).emitWithAck("double", 21);
      assert.deepEqual(replies, [42, 42, 42, 42]);
      // sockjet calls a socket.io client, and collects acknowledgements from a room spanning both servers.
      assert.equal(await c.sockjet.call("double", 5, { to: io2.id, timeout: 10_000 }), 10);
      const acks: unknown[] = [];
      await c.sockjet.emit("double", 7, { room: "blue", callback: (v: unknown) => void acks.push(v) });
      await eventually(() => acks.length === 2, "two acknowledgements from blue");
      assert.deepEqual(acks, [14, 14]);
    });

    test("remote disconnects cross both ways", async () => {
      const extraSj = await c.connect("sj");
      const extraIo = await c.connect("io");
      const gone = (r: Recorder) => new Promise<string>((resolve) => r.socket.once("disconnect", (reason) => resolve(reason)));
      const ioGone = gone(extraIo);
      await c.sockjet.disconnect(extraIo.id);
      assert.equal(await ioGone, "io server disconnect");
      const sjGone = gone(extraSj);
      c.io.in(extraSj.id).disconnectSockets();
      assert.equal(await sjGone, "io server disconnect");
      await eventually(() => c.sockjet.participants("/").length === 2, "sockjet lost its extra client");
      assert.deepEqual(c.errors, []);
    });

    test("a namespace other than / crosses too", async () => {
      const sjChat = await c.connect("sj", "/chat");
      const ioChat = await c.connect("io", "/chat");
      c.io.of("/chat").emit("chat", "from io");
      await c.sockjet.emit("chat", "from sj", { namespace: "/chat" });
      await c.flush("/chat");
      // Two publishers: each client gets both, in either order.
      assert.deepEqual(sorted(sjChat.all("chat").map((a) => String(a[0]))), ["from io", "from sj"]);
      assert.deepEqual(sorted(ioChat.all("chat").map((a) => String(a[0]))), ["from io", "from sj"]);
      assert.equal(sj1.count("chat"), 0);
    });
  });
}

describe("@socket.io/redis-emitter reaches sockjet clients (classic format)", () => {
  let c: MixedCluster;
  let redis: Redis;
  let emitter: Emitter;
  let sj1: Recorder, sj2: Recorder, io1: Recorder;

  before(async () => {
    c = await startMixedCluster({ sharded: false });
    redis = new Redis(REDIS_URL);
    emitter = new Emitter(redis, { key: c.key });
    [sj1, sj2, io1] = await Promise.all([c.connect("sj"), c.connect("sj"), c.connect("io")]);
    await c.sockjet.enterRoom(sj1.id, "room1");
  });

  after(async () => {
    await c.close();
    await redis.quit();
  });

  test("emit to the namespace, a room, except a room, binary payloads, another namespace", async () => {
    const chat = await c.connect("sj", "/chat");
    emitter.emit("all", 1, "x");
    emitter.to("room1").emit("room", { r: 1 });
    emitter.except("room1").emit("except");
    emitter.emit("bin", Buffer.from([0, 255]), { b: Buffer.from("hey") });
    emitter.of("/chat").emit("chat", "c");
    await c.flush();
    await c.flush("/chat");
    for (const r of [sj1, sj2, io1]) assert.deepEqual(r.all("all"), [[1, "x"]]);
    assert.deepEqual(sj1.all("room"), [[{ r: 1 }]]);
    assert.equal(sj2.count("room"), 0);
    assert.deepEqual([sj1.count("except"), sj2.count("except"), io1.count("except")], [0, 1, 1]);
    const [bin, obj] = sj2.all("bin")[0]! as [ArrayBuffer, { b: ArrayBuffer }];
    assert.deepEqual([...new Uint8Array(bin)], [0, 255]);
    assert.equal(Buffer.from(obj.b).toString(), "hey");
    assert.deepEqual(chat.all("chat"), [["c"]]);
    assert.equal(sj1.count("chat"), 0);
    assert.deepEqual(c.errors, []);
  });

  test("serverSideEmit, socketsJoin, socketsLeave and disconnectSockets from the emitter", async () => {
    const heard: unknown[] = [];
    c.sockjet.onServerSideEvent("job-done", (data, from) => void heard.push([data, from]));
    emitter.serverSideEmit("job-done", { id: 7 });
    await eventually(() => heard.length === 1, "sockjet heard the emitter");
    assert.deepEqual(heard[0], [{ id: 7 }, "emitter"]);

    emitter.in(sj2.id).socketsJoin("room2");
    await eventually(() => c.sockjet.rooms(sj2.id).includes("room2"), "sj2 joined room2");
    emitter.in("room2").socketsLeave("room2");
    await eventually(() => !c.sockjet.rooms(sj2.id).includes("room2"), "sj2 left room2");

    const bye = new Promise<string>((resolve) => sj2.socket.once("disconnect", (reason) => resolve(reason)));
    emitter.in(sj2.id).disconnectSockets(true);
    // close: true closes the whole connection (sockjet sends DISCONNECT first, then closes the transport).
    assert.equal(await bye, "io server disconnect");
    await eventually(() => sj2.socket.io.engine.readyState === "closed", "sj2's connection closed");
    assert.ok(sj1.socket.connected);
    assert.deepEqual(c.errors, []);
  });
});

for (const sharded of [false, true]) {
  describe(`mixed cluster, Redis taken away from the sockjet server and given back (${sharded ? "sharded" : "classic"})`, () => {
    let c: MixedCluster;
    let proxy: TcpProxy;
    let sj: Recorder, io1: Recorder;

    before(async () => {
      proxy = await new TcpProxy(redisHost, redisPort).start();
      c = await startMixedCluster({ sharded, namespaces: ["/"], sockjetRedisUrl: `redis://127.0.0.1:${proxy.port}` });
      [sj, io1] = await Promise.all([c.connect("sj"), c.connect("io")]);
      await c.sockjet.enterRoom(sj.id, "lobby");
    });

    after(async () => {
      await c.close();
      await proxy.close();
    });

    test("operations during the outage are reported lost, local clients keep being served, and everything crosses again after", async () => {
      let disconnected = false;
      let reconnected = false;
      c.manager.on("disconnect", () => void (disconnected = true)).on("reconnect", () => void (reconnected = true));
      proxy.cut();
      await eventually(() => disconnected, "the manager's disconnect event");
      await c.sockjet.emit("during", 1);
      await c.sockjet.enterRoom(io1.id, "lobby");
      await sj.received("during");
      await eventually(() => c.errors.filter((e) => e.stage === "publish").length >= 2, "two lost operations reported");
      const lost = c.errors.filter((e) => e.stage === "publish").map((e) => e.operation?.type);
      assert.deepEqual(lost.slice(0, 2), ["emit", "enter_room"]);
      await assert.rejects(c.sockjet.fetchSockets({ timeout: 2000 }), ClusterQueryError);

      proxy.restore();
      await eventually(() => reconnected, "the manager's reconnect event", 20_000);
      // Subscribed again: socket.io's broadcasts (to all and to the room, which the sharded dynamic mode sends on the room's channel) arrive.
      c.io.emit("after-io", 2);
      c.io.to("lobby").emit("lobby-io", 3);
      await c.sockjet.emit("after-sj", 4);
      await c.flush();
      assert.deepEqual(sj.all("after-io"), [[2]]);
      assert.deepEqual(sj.all("lobby-io"), [[3]]);
      assert.deepEqual(io1.all("after-sj"), [[4]]);
      assert.equal(io1.count("during"), 0);
      const found = await c.sockjet.fetchSockets();
      assert.deepEqual(sorted(found.map((s) => s.sid)), sorted([sj.id, io1.id]));
    });
  });
}

describe("mixed cluster: a sockjet client with connection state recovery gets what a socket.io server broadcast while it was away", () => {
  let c: MixedCluster;
  let front: TcpProxy;

  before(async () => {
    c = await startMixedCluster({ sharded: false, namespaces: ["/"], serverOptions: { pingInterval: 300, pingTimeout: 600, connectionStateRecovery: {} } });
    front = await new TcpProxy("127.0.0.1", Number(new URL(c.sockjetUrl).port)).start();
  });

  after(async () => {
    await front.close();
    await c.close();
  });

  test("the default per-server store logs broadcasts that arrive from socket.io servers and replays them", async () => {
    const socket = io(`http://127.0.0.1:${front.port}`, { forceNew: true, transports: ["websocket"], reconnectionDelay: 100, reconnectionDelayMax: 200 });
    const ticks: number[] = [];
    socket.on("tick", (n: number) => void ticks.push(n));
    try {
      await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
      const sid = socket.id!;
      c.io.emit("tick", 1);
      await eventually(() => ticks.length === 1, "tick 1");
      front.cut();
      await eventually(() => !c.sockjet.participants("/").includes(sid), "the sockjet server noticed the lost connection", 20_000);
      c.io.emit("tick", 2);
      c.io.emit("tick", 3);
      // Both arrived at the sockjet server (and were logged there) before the client comes back.
      const probe = await c.connect("sj");
      c.io.emit("probe-done");
      await probe.received("probe-done");
      front.restore();
      await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
      assert.equal(socket.recovered, true);
      assert.equal(socket.id, sid);
      await eventually(() => ticks.length === 3, "ticks 2 and 3 replayed");
      assert.deepEqual(ticks, [1, 2, 3]);
    } finally {
      socket.disconnect();
    }
  });
});

describe("mixed cluster on a Redis Cluster (three masters)", () => {
  let nodes: RedisClusterNodes;

  before(async () => {
    nodes = await startRedisCluster();
  });

  after(() => {
    nodes.close();
  });

  // Sharded in the "static" mode: the dynamic modes send a room's broadcasts on the room's own
  // channel, in another slot than the join that precedes them, so they promise no order between
  // the two (socket.io's own servers neither); the static mode keeps a namespace on one channel.
  for (const sharded of [false, true]) {
    test(`${sharded ? "sharded (static)" : "classic"} pub/sub: broadcasts, room operations in order, fetchSockets and serverSideEmit both ways`, async () => {
      const c = await startMixedCluster({ sharded, subscriptionMode: "static", namespaces: ["/"], redisCluster: nodes.ports });
      try {
        const [sj, io1] = await Promise.all([c.connect("sj"), c.connect("io")]);
        c.io.emit("from-io", 1);
        await c.sockjet.emit("from-sj", 2, { skipSid: sj.id });
        await c.flush();
        // socket.io's adapter sends each classic PUBLISH on a Redis Cluster to whichever node
        // ioredis picks, so its emit and its flush marker may cross: wait for the emit itself.
        await sj.when(() => sj.all("from-io").length > 0);
        assert.deepEqual([sj.all("from-io"), io1.all("from-io")], [[[1]], [[1]]]);
        assert.deepEqual([sj.count("from-sj"), io1.all("from-sj")], [0, [[2]]]);
        // One server's operations keep their order across the cluster's nodes: a remote join
        // published just before an emit to that room is applied first, every time.
        for (let k = 0; k < 20; k++) {
          await c.sockjet.enterRoom(io1.id, `r${k}`);
          await c.sockjet.emit("in-order", k, { room: `r${k}` });
        }
        await c.flush();
        assert.deepEqual(io1.all("in-order").map((a) => a[0]), Array.from({ length: 20 }, (_, k) => k));
        c.io.in(sj.id).socketsJoin("joined");
        await eventually(() => c.sockjet.rooms(sj.id).includes("joined"), "sj joined");
        assert.deepEqual(sorted((await c.io.fetchSockets()).map((s) => s.id)), sorted([sj.id, io1.id]));
        assert.deepEqual(sorted((await c.sockjet.fetchSockets()).map((s) => s.sid)), sorted([sj.id, io1.id]));
        c.io.on("ask-io", (x: number, cb: (v: unknown) => void) => cb(x + 1));
        c.sockjet.onServerSideEvent("ask-sj", (x) => (x as number) * 10);
        assert.deepEqual(await c.sockjet.serverSideEmitWithAck("ask-io", 1), [2]);
        assert.deepEqual(await c.io.serverSideEmitWithAck("ask-sj", 3), [30]);
        assert.deepEqual(c.errors, []);
      } finally {
        await c.close();
      }
    });
  }
});
