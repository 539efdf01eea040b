// The cluster manager with the in-memory broker: three servers in this process, official clients
// spread across them. Every cross-server operation, exactly-once delivery, acks routed back to
// the caller, timeouts, binary arguments, and the behaviour during a broker outage.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { io } from "socket.io-client";
import { InMemoryBroker, PubSubManager } from "../../src/manager/pubsub/index.js";
import { Server, TimeoutError, SockjetError, args, Args } from "../../src/index.js";
import { startInProcessCluster, eventually, type InProcessCluster, type Recorder } from "../support/cluster-harness.js";
import { Emitter } from "../../src/emitter/index.js";

describe("in-memory broker, 3 servers", () => {
  const broker = new InMemoryBroker();
  let cluster: InProcessCluster;
  // Two clients per server on "/", one per server on "/chat".
  let c: Recorder[];
  let chat: Recorder[];

  before(async () => {
    cluster = await startInProcessCluster(3, () => broker.driver());
    c = [];
    for (const i of [0, 0, 1, 1, 2, 2]) c.push(await cluster.connect(i));
    chat = [];
    for (const i of [0, 1, 2]) chat.push(await cluster.connect(i, "/chat"));
  });
  after(async () => {
    await cluster.close();
  });

  const counts = (clients: Recorder[], event: string) => clients.map((r) => r.count(event));
  const server = (i: number) => cluster.servers[i]!.sio;

  test("emit to everyone reaches every client of the namespace exactly once", async () => {
    await server(0).emit("all", { n: 1 });
    await server(2).emit("all", { n: 2 });
    await cluster.flush(["/", "/chat"]);
    assert.deepEqual(counts(c, "all"), [2, 2, 2, 2, 2, 2]);
    assert.deepEqual(counts(chat, "all"), [0, 0, 0]);
    assert.deepEqual(c[3]!.all("all"), [[{ n: 1 }], [{ n: 2 }]]);
  });

  test("emit to a sid on another server, with several arguments", async () => {
    await server(0).emit("direct", args(1, "two", [3]), { to: c[4]!.id });
    await cluster.flush();
    assert.deepEqual(counts(c, "direct"), [0, 0, 0, 0, 1, 0]);
    assert.deepEqual(c[4]!.all("direct"), [[1, "two", [3]]]);
  });

  test("enter_room for sids on other servers, then emit to the room, to several rooms, with skip", async () => {
    await server(0).enterRoom(c[2]!.id, "red"); // lives on server 1
    await server(0).enterRoom(c[4]!.id, "red"); // server 2
    await server(0).enterRoom(c[0]!.id, "red"); // local
    await server(1).enterRoom(c[4]!.id, "blue");
    await server(1).enterRoom(c[5]!.id, "blue");
    await eventually(() => server(1).rooms(c[2]!.id).includes("red") && server(2).rooms(c[4]!.id).includes("blue") && server(2).rooms(c[5]!.id).includes("blue"), "rooms applied");
    assert.deepEqual(server(0).rooms(c[0]!.id), [c[0]!.id, "red"]);

    await server(1).emit("room", "r", { room: "red" });
    await server(0).emit("rooms", "rb", { to: ["red", "blue"] }); // c4 is in both: once
    await server(2).emit("skip", "s", { to: ["red", "blue"], skipSid: [c[4]!.id, c[0]!.id] });
    await cluster.flush();
    assert.deepEqual(counts(c, "room"), [1, 0, 1, 0, 1, 0]);
    assert.deepEqual(counts(c, "rooms"), [1, 0, 1, 0, 1, 1]);
    assert.deepEqual(counts(c, "skip"), [0, 0, 1, 0, 0, 1]);
  });

  test("leave_room for a sid on another server", async () => {
    await server(2).leaveRoom(c[2]!.id, "red");
    await eventually(() => !server(1).rooms(c[2]!.id).includes("red"), "leave applied");
    await server(2).emit("after-leave", null, { room: "red" });
    await cluster.flush();
    assert.deepEqual(counts(c, "after-leave"), [1, 0, 0, 0, 1, 0]);
  });

  test("close_room empties the room on every server", async () => {
    await server(1).closeRoom("blue");
    await eventually(() => !server(2).rooms(c[4]!.id).includes("blue") && !server(2).rooms(c[5]!.id).includes("blue"), "close applied");
    await server(0).emit("after-close", null, { room: "blue" });
    await cluster.flush();
    assert.deepEqual(counts(c, "after-close"), [0, 0, 0, 0, 0, 0]);
  });

  test("namespaces are kept apart", async () => {
    await server(1).emit("ns", "x", { namespace: "/chat" });
    await server(1).emit("ns-room", "y", { namespace: "/chat", to: chat[2]!.id });
    await server(1).emit("ns-room", "y", { namespace: "/", to: chat[2]!.id }); // a /chat sid in "/": nobody
    await cluster.flush(["/", "/chat"]);
    assert.deepEqual(counts(chat, "ns"), [1, 1, 1]);
    assert.deepEqual(counts(c, "ns"), [0, 0, 0, 0, 0, 0]);
    assert.deepEqual(counts(chat, "ns-room"), [0, 0, 1]);
  });

  test("binary arguments cross servers intact", async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    await server(0).emit("bin", { file: bytes, nested: [new Uint8Array([7, 8])] }, { to: c[5]!.id });
    await c[5]!.received("bin");
    const [payload] = c[5]!.all("bin")[0]! as [{ file: Buffer; nested: [Buffer] }];
    assert.deepEqual([...payload.file], [0, 1, 2, 250, 255]);
    assert.deepEqual([...payload.nested[0]], [7, 8]);
  });

  test("call() a sid on another server: the reply is routed back to the caller", async () => {
    const reply = await server(0).call("double", 21, { to: c[3]!.id, timeout: 5000 });
    assert.equal(reply, 42);
    const several = server(2).call("double", 5, { to: c[0]!.id, timeout: 5000 });
    assert.equal(await several, 10);
  });

  test("emit with a callback to a room spanning servers: one callback per client", async () => {
    for (const [i, sid] of [[1, c[1]!.id], [2, c[3]!.id], [0, c[5]!.id]] as const) await server(i).enterRoom(sid, "green");
    await eventually(() => server(0).rooms(c[1]!.id).includes("green") && server(1).rooms(c[3]!.id).includes("green") && server(2).rooms(c[5]!.id).includes("green"), "green");
    const replies: unknown[] = [];
    await server(1).emit("double", 4, { room: "green", callback: (v: unknown) => replies.push(v) });
    await eventually(() => replies.length === 3, "three acks");
    assert.deepEqual(replies, [8, 8, 8]);
  });

  test("call() times out when nobody answers (no such sid anywhere, or a client that never acks)", async () => {
    await assert.rejects(server(0).call("double", 1, { to: "nobody-has-this-sid", timeout: 300 }), (err: unknown) => err instanceof TimeoutError && err.code === "ACK_TIMEOUT");
    await assert.rejects(server(0).call("silent", 1, { to: c[4]!.id, timeout: 300 }), TimeoutError);
  });

  test("disconnect a sid on another server", async () => {
    const extra = await cluster.connect(2);
    const gone = new Promise<string>((resolve) => extra.socket.once("disconnect", (reason: string) => resolve(reason)));
    await server(0).disconnect(extra.id);
    assert.equal(await gone, "io server disconnect");
  });

  test("exactly once under a burst from every server", async () => {
    for (let k = 0; k < 50; k++) {
      for (const i of [0, 1, 2]) void server(i).emit("burst", [i, k]);
    }
    await cluster.flush();
    const expected = Array.from({ length: 50 }, (_, k) => k);
    for (const r of c.filter((x) => x.socket.connected)) {
      assert.equal(r.count("burst"), 150);
      // Per publisher, in publication order.
      const seen = r.all("burst").map((a) => a[0] as [number, number]);
      for (const i of [0, 1, 2]) assert.deepEqual(seen.filter(([from]) => from === i).map(([, k]) => k), expected);
    }
  });

  test("a write-only emitter reaches clients and calls a sid", async () => {
    const emitter = new Emitter({ driver: broker.driver(), channel: "test" });
    try {
      await emitter.emit("from-emitter", { ok: true }, { room: "green", skipSid: c[3]!.id });
      await emitter.emit("from-emitter-all", 1);
      await emitter.of("/chat").emit("from-emitter-chat", 2);
      const reply = await emitter.call("double", 50, { to: c[2]!.id, timeout: 5000 });
      assert.equal(reply, 100);
      await assert.rejects(emitter.call("double", 1, { to: "nobody", timeout: 200 }), TimeoutError);
      await assert.rejects(emitter.emit("connect"), (err: unknown) => err instanceof SockjetError && err.code === "INVALID_ARGUMENT");
      await emitter.enterRoom(c[0]!.id, "violet");
      await eventually(() => server(0).rooms(c[0]!.id).includes("violet"), "violet");
      await emitter.leaveRoom(c[0]!.id, "violet");
      await eventually(() => !server(0).rooms(c[0]!.id).includes("violet"), "left violet");
      // A marker from the emitter itself: it follows its own earlier messages.
      await emitter.emit("emitter-marker", null);
      await emitter.of("/chat").emit("emitter-marker", null);
      await Promise.all([...c, ...chat].map((r) => r.received("emitter-marker")));
      assert.deepEqual(counts(c, "from-emitter"), [0, 1, 0, 0, 0, 1]);
      assert.deepEqual(counts(c, "from-emitter-all"), [1, 1, 1, 1, 1, 1]);
      assert.deepEqual(counts(chat, "from-emitter-chat"), [1, 1, 1]);
    } finally {
      await emitter.close();
    }
  });

  test("broker outage: local clients keep being served, the loss is reported, delivery resumes", async () => {
    const disconnects: number[] = [];
    const reconnects: number[] = [];
    cluster.servers.forEach((s, i) => {
      s.manager.on("disconnect", () => disconnects.push(i));
      s.manager.on("reconnect", () => reconnects.push(i));
      s.errors.length = 0;
    });
    broker.stop();
    assert.deepEqual(disconnects.sort(), [0, 1, 2]);
    assert.ok(cluster.servers.every((s) => !s.manager.connected));

    await server(0).emit("during", "x"); // resolves: local delivery happened, the rest is reported
    await server(1).enterRoom(c[0]!.id, "lost-room"); // sid on server 0: can only be published
    await assert.rejects(server(1).call("double", 1, { to: c[4]!.id, timeout: 5000 }), /broker unavailable/);
    await c[0]!.received("during");
    await c[1]!.received("during");
    const lost = cluster.servers[0]!.errors.filter((e) => e.stage === "publish");
    assert.equal(lost.length, 1);
    assert.equal(lost[0]!.operation?.type, "emit");
    const lost1 = cluster.servers[1]!.errors.filter((e) => e.stage === "publish").map((e) => e.operation?.type);
    assert.deepEqual(lost1, ["enter_room", "emit"]);

    broker.restart();
    assert.deepEqual(reconnects.sort(), [0, 1, 2]);
    await server(0).emit("resumed", "y");
    await cluster.flush();
    assert.deepEqual(counts(c, "during"), [1, 1, 0, 0, 0, 0]);
    assert.deepEqual(counts(c, "resumed"), [1, 1, 1, 1, 1, 1]);
    assert.equal(await server(1).call("double", 3, { to: c[4]!.id, timeout: 5000 }), 6);
  });

  test("several ack values come back as Args", async () => {
    const extra = await cluster.connect(1);
    extra.socket.on("pair", (ack: (...v: unknown[]) => void) => ack("a", 2));
    const reply = await server(0).call("pair", undefined, { to: extra.id, timeout: 5000 });
    assert.ok(reply instanceof Args);
    assert.deepEqual(reply.values, ["a", 2]);
  });
});

describe("in-memory broker, python-socketio messages", () => {
  test("a python server's emit with a callback gets python-socketio's callback message back", async () => {
    const broker = new InMemoryBroker();
    const cluster = await startInProcessCluster(1, () => broker.driver());
    // A second, python-compatible server on the same broker (the harness's managers are not).
    const manager = new PubSubManager({ driver: broker.driver(), channel: "test", pythonCompatible: true });
    const sio = new Server({ clientManager: manager });
    const http = await sio.listen(0, "127.0.0.1");
    await manager.ready;
    const port = (http.address() as AddressInfo).port;
    const socket = io(`http://127.0.0.1:${port}`, { forceNew: true, reconnection: false, transports: ["websocket"] });
    socket.on("double", (x: number, ack: (v: number) => void) => ack(x * 2));
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));

    // A raw participant that speaks python-socketio's JSON format.
    const python = broker.driver();
    const seen: Uint8Array[] = [];
    await python.start("test", (p) => seen.push(p), { onError() {}, onDisconnect() {}, onReconnect() {} });
    const message = { method: "emit", event: "double", data: 21, namespace: "/", room: socket.id, skip_sid: null, callback: [socket.id, "/", 7], host_id: "py-host" };
    await python.publish("test", new TextEncoder().encode(JSON.stringify(message)));
    // The broker hands the participant its own emit too (it has a "callback" field): wait for the reply.
    await eventually(() => seen.some((p) => p[0] === 0x7b && new TextDecoder().decode(p).includes('"method":"callback"')), "python callback");
    const reply = seen.map((p) => new TextDecoder().decode(p)).find((t) => t.includes('"method":"callback"'))!;
    assert.deepEqual(JSON.parse(reply), { method: "callback", host_id: "py-host", sid: socket.id, namespace: "/", id: 7, args: [42] });
    // The non-python server reported the python message it cannot read instead of dropping it silently.
    assert.ok(cluster.servers[0]!.errors.some((e) => e.stage === "receive" && /pythonCompatible/.test(e.error.message)));

    socket.disconnect();
    await python.close();
    await sio.close();
    await cluster.close();
  });
});

describe("in-memory broker, listeners that throw", () => {
  test("a throwing onError, error, disconnect or reconnect listener never reaches the driver: the cluster recovers", async () => {
    const broker = new InMemoryBroker();
    const calls: string[] = [];
    const servers = [0, 1].map(() => {
      const manager = new PubSubManager({
        driver: broker.driver(),
        onError: (event) => {
          calls.push(`onError:${event.stage}`);
          throw new Error("onError failed on purpose");
        },
      });
      for (const event of ["error", "disconnect", "reconnect"] as const) {
        manager.on(event, () => {
          calls.push(event);
          throw new Error(`${event} listener failed on purpose`);
        });
      }
      return { manager, sio: new Server({ clientManager: manager }) };
    });
    try {
      const http = await servers[1]!.sio.listen(0, "127.0.0.1");
      await Promise.all(servers.map((s) => s.manager.ready));
      const client = io(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { forceNew: true, reconnection: false, transports: ["websocket"] });
      await new Promise<void>((resolve, reject) => client.once("connect", resolve).once("connect_error", reject));
      const received: string[] = [];
      client.on("news", (text: string) => received.push(text));

      broker.stop(); // disconnect listeners throw
      await servers[0]!.sio.emit("news", "lost"); // the publish fails: onError and error listeners throw
      broker.restart(); // reconnect listeners throw
      assert.ok(servers.every((s) => s.manager.connected));
      await servers[0]!.sio.emit("news", "after");
      await eventually(() => received.includes("after"));
      assert.deepEqual(received, ["after"]);
      for (const expected of ["disconnect", "onError:publish", "error", "reconnect"]) assert.ok(calls.includes(expected), `${expected} was called (${calls.join(", ")})`);
      client.close();
    } finally {
      for (const s of servers) await s.sio.close();
    }
  });
});
