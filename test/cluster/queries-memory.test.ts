// The cluster seen whole (docs/cluster.md) in one process: the in-memory manager's local answers,
// then three servers on the in-memory broker: fetchSockets, fetchRooms, fetchParticipants,
// allRooms, serverSideEmit with and without replies, a server that does not answer
// (CLUSTER_INCOMPLETE with the partial answer), a handler that throws, a server that leaves, and
// a broker outage (queries fail at once, membership comes back with the broker).

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { io } from "socket.io-client";
import { Server, ClusterQueryError, SockjetError, args } from "../../src/index.js";
import { InMemoryBroker, PubSubManager, type DriverEvents, type PubSubDriver } from "../../src/manager/pubsub/index.js";
import { Recorder, eventually } from "../support/cluster-harness.js";

async function connect(url: string, namespace = "/"): Promise<Recorder> {
  const socket = io(url + namespace, { forceNew: true, reconnection: false, transports: ["websocket"] });
  const recorder = new Recorder(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
  return recorder;
}

const sorted = (list: readonly string[]) => [...list].sort();

/** A broker connection whose link can go silent: nothing in, nothing out, no error (a hung link, as TcpProxy.stall). */
class SilenceableDriver implements PubSubDriver {
  silent = false;
  constructor(private readonly inner: PubSubDriver) {}
  start(channel: string, onMessage: (payload: Uint8Array) => void, events: DriverEvents): Promise<void> {
    return this.inner.start(channel, (payload) => this.silent || onMessage(payload), events);
  }
  async publish(channel: string, payload: Uint8Array): Promise<void> {
    if (!this.silent) await this.inner.publish(channel, payload);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe("in-memory manager: every cluster query answers locally", () => {
  let sio: Server;
  let url: string;
  let a: Recorder;
  let b: Recorder;

  before(async () => {
    sio = new Server({ namespaces: "*" });
    sio.onServerSideEvent("never", () => assert.fail("a server's own handlers do not run"));
    const http = await sio.listen(0, "127.0.0.1");
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    a = await connect(url);
    b = await connect(url);
  });
  after(async () => {
    a.socket.disconnect();
    b.socket.disconnect();
    await sio.close();
  });

  test("fetchSockets, fetchRooms, fetchParticipants, allRooms, serverCount, serverSideEmit", async () => {
    await sio.enterRoom(a.id, "red");
    sio.saveSession(a.id, { user: "ann" });
    const all = await sio.fetchSockets();
    assert.deepEqual(
      all.sort((x, y) => x.sid.localeCompare(y.sid)),
      [
        { sid: a.id, namespace: "/", rooms: [a.id, "red"], data: { user: "ann" }, server: "local" },
        { sid: b.id, namespace: "/", rooms: [b.id], data: undefined, server: "local" },
      ].sort((x, y) => x.sid.localeCompare(y.sid)),
    );
    assert.deepEqual((await sio.fetchSockets({ room: "red" })).map((s) => s.sid), [a.id]);
    assert.deepEqual((await sio.fetchSockets({ except: "red" })).map((s) => s.sid), [b.id]);
    assert.deepEqual((await sio.fetchSockets({ room: "red", data: false }))[0]!.data, undefined);
    assert.deepEqual(await sio.fetchSockets({ namespace: "/none" }), []);
    assert.deepEqual(await sio.fetchRooms(a.id), [a.id, "red"]);
    assert.deepEqual(await sio.fetchRooms("nobody"), []);
    assert.deepEqual(sorted(await sio.fetchParticipants()), sorted([a.id, b.id]));
    assert.deepEqual(await sio.fetchParticipants("/", "red"), [a.id]);
    assert.deepEqual(sorted(await sio.allRooms()), sorted([a.id, b.id, "red"]));
    assert.equal(sio.serverCount(), 1);
    assert.deepEqual(await sio.serverSideEmitWithAck("never", 1), []);
    await sio.serverSideEmit("never", 1);
    // The sync local views are unchanged.
    assert.deepEqual(sio.rooms(a.id), [a.id, "red"]);
    assert.deepEqual(sorted(sio.participants()), sorted([a.id, b.id]));
  });

  test("a bad event name or handler is INVALID_ARGUMENT", async () => {
    await assert.rejects(sio.serverSideEmit(""), (e: unknown) => e instanceof SockjetError && e.code === "INVALID_ARGUMENT");
    assert.throws(() => sio.onServerSideEvent("x", 1 as unknown as () => void), (e: unknown) => e instanceof SockjetError && e.code === "INVALID_ARGUMENT");
  });
});

describe("in-memory broker, 3 servers: the cluster seen whole", () => {
  const broker = new InMemoryBroker();
  const servers: Array<{ sio: Server; manager: PubSubManager; url: string; events: unknown[][] }> = [];
  const clients: Recorder[] = [];

  async function addServer(channel = "queries", heartbeatTimeout = 4000): Promise<(typeof servers)[number] & { driver: SilenceableDriver }> {
    const driver = new SilenceableDriver(broker.driver());
    const manager = new PubSubManager({ driver, channel, heartbeatInterval: 100, heartbeatTimeout, queryTimeout: 5000, onError: () => {} });
    const sio = new Server({ clientManager: manager, namespaces: "*" });
    const events: unknown[][] = [];
    sio.onServerSideEvent("hello", (data, from) => void events.push([data, from]));
    sio.onServerSideEvent("who", (data) => ({ host: manager.hostId, data }));
    sio.onServerSideEvent("who", (data) => ({ host: manager.hostId, data, ns: "/chat" }), "/chat");
    sio.onServerSideEvent("fails", () => {
      throw new Error("handler failure (expected by the test)");
    });
    const http = await sio.listen(0, "127.0.0.1");
    await manager.ready;
    const server = { sio, manager, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, events, driver };
    if (channel === "queries") servers.push(server);
    return server;
  }

  before(async () => {
    for (let i = 0; i < 3; i++) await addServer();
    // Two clients on server 0, one on server 1, two on server 2; one on "/chat" on server 1.
    for (const i of [0, 0, 1, 2, 2]) clients.push(await connect(servers[i]!.url));
    clients.push(await connect(servers[1]!.url, "/chat"));
    await eventually(() => servers.every((s) => s.sio.serverCount() === 3), "every server knows the other two");
  });
  after(async () => {
    for (const c of clients) c.socket.disconnect();
    for (const s of servers) await s.sio.close();
  });

  const sio = (i: number) => servers[i]!.sio;
  const c = (i: number) => clients[i]!;

  test("fetchSockets across servers: every socket with its rooms, session data and server", async () => {
    await sio(0).enterRoom(c(3).id, "red"); // on server 2
    await sio(0).enterRoom(c(0).id, "red"); // local
    await sio(1).enterRoom(c(4).id, "blue"); // on server 2
    await eventually(() => sio(2).rooms(c(3).id).includes("red") && sio(2).rooms(c(4).id).includes("blue"), "rooms applied");
    sio(2).saveSession(c(3).id, { user: "zoe", bytes: Buffer.from([1, 2]) });

    const all = await sio(1).fetchSockets();
    assert.deepEqual(sorted(all.map((s) => s.sid)), sorted([0, 1, 2, 3, 4].map((i) => c(i).id)));
    const zoe = all.find((s) => s.sid === c(3).id)!;
    assert.deepEqual(zoe.rooms, [c(3).id, "red"]);
    assert.deepEqual(zoe.data, { user: "zoe", bytes: Buffer.from([1, 2]) });
    assert.equal(zoe.server, servers[2]!.manager.hostId);
    assert.equal(all.find((s) => s.sid === c(2).id)!.server, servers[1]!.manager.hostId);

    assert.deepEqual(sorted((await sio(1).fetchSockets({ room: "red" })).map((s) => s.sid)), sorted([c(0).id, c(3).id]));
    assert.deepEqual(sorted((await sio(1).fetchSockets({ room: ["red", "blue"], except: c(0).id })).map((s) => s.sid)), sorted([c(3).id, c(4).id]));
    const chat = await sio(0).fetchSockets({ namespace: "/chat" });
    assert.deepEqual(chat.map((s) => [s.sid, s.namespace]), [[c(5).id, "/chat"]]);
  });

  test("fetchRooms of a sid on another server, fetchParticipants and allRooms across the cluster", async () => {
    assert.deepEqual(await sio(0).fetchRooms(c(3).id), [c(3).id, "red"]);
    assert.deepEqual(sio(0).rooms(c(3).id), [], "the sync view stays local");
    assert.deepEqual(await sio(0).fetchRooms("no-such-sid"), []);
    assert.deepEqual(sorted(await sio(1).fetchParticipants("/", "red")), sorted([c(0).id, c(3).id]));
    assert.deepEqual(sorted(await sio(1).fetchParticipants()), sorted([0, 1, 2, 3, 4].map((i) => c(i).id)));
    assert.deepEqual(await sio(2).fetchParticipants("/chat"), [c(5).id]);
    assert.deepEqual(sorted(await sio(1).allRooms()), sorted([...[0, 1, 2, 3, 4].map((i) => c(i).id), "red", "blue"]));
  });

  test("serverSideEmit reaches every other server's handler, never the sender's; WithAck collects one reply per server", async () => {
    await sio(0).serverSideEmit("hello", args("a", 1));
    await eventually(() => servers[1]!.events.length === 1 && servers[2]!.events.length === 1, "both other servers handled it");
    assert.deepEqual(servers[1]!.events, [[args("a", 1), servers[0]!.manager.hostId]]);
    assert.equal(servers[0]!.events.length, 0);

    const replies = (await sio(1).serverSideEmitWithAck("who", { b: Buffer.from([9]) })) as Array<{ host: string; data: unknown }>;
    assert.deepEqual(sorted(replies.map((r) => r.host)), sorted([servers[0]!.manager.hostId, servers[2]!.manager.hostId]));
    for (const r of replies) assert.deepEqual(r.data, { b: Buffer.from([9]) });
    const chat = (await sio(0).serverSideEmitWithAck("who", null, { namespace: "/chat" })) as Array<{ ns: string }>;
    assert.deepEqual(chat.map((r) => r.ns), ["/chat", "/chat"]);
    // No handler for the event: each server answers undefined.
    assert.deepEqual(await sio(2).serverSideEmitWithAck("unhandled"), [undefined, undefined]);
  });

  test("a query sees the operations its server published before it (one publisher's messages arrive in order)", async () => {
    await sio(0).enterRoom(c(2).id, "green"); // on server 1, published
    assert.deepEqual(await sio(0).fetchRooms(c(2).id), [c(2).id, "green"]);
    await sio(0).leaveRoom(c(2).id, "green");
    assert.deepEqual(await sio(0).fetchParticipants("/", "green"), []);
  });

  test("timeouts and heartbeat options are checked", async () => {
    assert.throws(() => new PubSubManager({ driver: broker.driver(), heartbeatInterval: 1000, heartbeatTimeout: 1000 }), RangeError);
    assert.throws(() => new PubSubManager({ driver: broker.driver(), queryTimeout: 0 }), RangeError);
    assert.throws(() => new PubSubManager({ driver: broker.driver(), heartbeatInterval: Number.NaN }), RangeError);
    await assert.rejects(sio(0).fetchSockets({ timeout: -1 }), RangeError);
  });

  test("the same queries scoped to a namespace: server.of(namespace)", async () => {
    const chat = sio(0).of("/chat");
    assert.deepEqual((await chat.fetchSockets()).map((s) => s.sid), [c(5).id]);
    assert.deepEqual(await chat.fetchParticipants(), [c(5).id]);
    assert.deepEqual(await chat.fetchRooms(c(5).id), [c(5).id]);
    assert.deepEqual(await chat.allRooms(), [c(5).id]);
    sio(2).of("/chat").onServerSideEvent("scoped", (data) => ["scoped", data]);
    const replies = await chat.serverSideEmitWithAck("scoped", 3);
    // Server 2 has a handler on "/chat"; server 1 has none there and answers undefined (arrival order varies).
    assert.equal(replies.length, 2);
    assert.deepEqual(replies.find((r) => r !== undefined), ["scoped", 3]);
    assert.ok(replies.includes(undefined));
    // Not on "/": no handler there on any server.
    assert.deepEqual(await sio(0).serverSideEmitWithAck("scoped", 3), [undefined, undefined]);
  });

  test("a handler that throws sends no reply: CLUSTER_INCOMPLETE with expected, answered and the partial replies", async () => {
    await assert.rejects(sio(0).serverSideEmitWithAck("fails", null, { timeout: 300 }), (e: unknown) => {
      assert.ok(e instanceof ClusterQueryError);
      assert.equal(e.code, "CLUSTER_INCOMPLETE");
      assert.equal(e.expected, 2);
      assert.equal(e.answered, 0);
      assert.deepEqual(e.partial, []);
      return true;
    });
  });

  test("a server that does not answer: the query rejects with the others' answers; once it is silent long enough it is no longer expected", async () => {
    const extra = await addServer();
    const lone = await connect(extra.url);
    await eventually(() => servers.every((s) => s.sio.serverCount() === 4), "four servers");
    // The fourth server's link goes silent without an error and without a goodbye (a hung link or process).
    extra.driver.silent = true;
    // Sent together, while the silent server is still expected (heard from less than 4 s ago).
    const [all, rooms, loneRooms, participants] = [
      sio(0).fetchSockets({ timeout: 1000 }),
      sio(0).fetchRooms(c(3).id, "/", { timeout: 1000 }),
      sio(0).fetchRooms(lone.id, "/", { timeout: 1000 }),
      sio(0).fetchParticipants("/", null, { timeout: 1000 }),
    ];
    await assert.rejects(all, (e: unknown) => {
      assert.ok(e instanceof ClusterQueryError);
      assert.equal(e.expected, 3);
      assert.equal(e.answered, 2);
      assert.match(e.message, new RegExp(extra.manager.hostId));
      const partial = e.partial as Array<{ sid: string }>;
      assert.deepEqual(sorted(partial.map((s) => s.sid)), sorted([0, 1, 2, 3, 4].map((i) => c(i).id)));
      return true;
    });
    // fetchRooms of a sid whose server answered is complete even though another did not.
    assert.deepEqual(await rooms, [c(3).id, "red"]);
    await assert.rejects(loneRooms, ClusterQueryError);
    await assert.rejects(participants, (e: unknown) => e instanceof ClusterQueryError && (e.partial as string[]).length === 5);
    // Its heartbeats stopped: the others notice its absence and stop waiting for it.
    await eventually(() => [0, 1, 2].every((i) => sio(i).serverCount() === 3), "the silent server dropped", 20_000);
    assert.equal((await sio(0).fetchSockets()).length, 5);
    lone.socket.disconnect();
    await extra.sio.close();
    servers.pop();
  });

  test("a server that closes says so: the others drop it without waiting for its heartbeats to stop", async () => {
    // On their own channel, with a heartbeat timeout far beyond the test: only 'leave' can drop it.
    const observer = await addServer("leave", 600_000);
    const leaver = await addServer("leave", 600_000);
    await eventually(() => observer.sio.serverCount() === 2 && leaver.sio.serverCount() === 2, "two servers");
    await leaver.sio.close();
    await eventually(() => observer.sio.serverCount() === 1, "the closed server dropped");
    assert.deepEqual(await observer.sio.serverSideEmitWithAck("unhandled"), []);
    await observer.sio.close();
  });

  test("cut from the broker, a server's queries reject at once; with the broker back, membership is rebuilt", async () => {
    broker.stop();
    await eventually(() => servers.every((s) => !s.manager.connected), "every server lost the broker");
    await assert.rejects(sio(0).fetchSockets(), (e: unknown) => {
      assert.ok(e instanceof ClusterQueryError);
      assert.equal(e.answered, 0);
      assert.match(e.message, /not connected/);
      // This server's own answer is there.
      assert.equal((e.partial as unknown[]).length, 2);
      return true;
    });
    await assert.rejects(sio(1).serverSideEmit("hello", 1), ClusterQueryError);
    broker.restart();
    await eventually(() => servers.every((s) => s.manager.connected && s.sio.serverCount() === 3), "membership back", 20_000);
    assert.equal((await sio(2).fetchSockets()).length, 5);
  });
});
