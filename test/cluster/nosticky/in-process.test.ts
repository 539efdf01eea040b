// No sticky sessions, in one process: three servers on the in-memory broker behind the
// round-robin proxy (test/support/round-robin-proxy.ts), with the official v4 client and
// socket.io-client 2 (Engine.IO v3). The edges that the multi-process runs over real brokers
// (./redis.test.ts...) do not reach one by one: a second concurrent GET through another server is
// still the protocol's 400, an upgrade that reaches another server completes, an unknown sid is
// answered by its owner, the local case never touches the broker, an owner that leaves ends its
// clients' waiting requests and relayed WebSockets, a front that leaves ends the sessions it
// carried, and a broker that is away turns a forwarded request into a 503.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { request } from "node:http";
import { io, type Socket } from "socket.io-client";
import { WebSocket } from "ws";
import { Server } from "../../../src/index.js";
import { InMemoryBroker, PubSubManager } from "../../../src/manager/pubsub/index.js";
import { NoStickySessions } from "../../../src/manager/nosticky/index.js";
import { encodeWire } from "../../../src/manager/nosticky/wire.js";
import { RoundRobinProxy } from "../../support/round-robin-proxy.js";
import { ioV2, v2Connected, v2Upgraded } from "../../support/v2-client.js";

interface Node {
  sio: Server;
  sessions: NoStickySessions;
  port: number;
}

async function startNode(broker: InMemoryBroker): Promise<Node> {
  const sio = new Server({ clientManager: new PubSubManager({ driver: broker.driver() }), pingInterval: 2000, pingTimeout: 2000, allowEIO3: true });
  sio.on("echo", (_sid: string, x: unknown) => x);
  sio.on("join", async (sid: string, room: string) => {
    await sio.enterRoom(sid, room);
    return true;
  });
  sio.on("say", async (sid: string, room: string, text: string) => {
    await sio.emit("said", { from: sid, text }, { room });
    return true;
  });
  const sessions = new NoStickySessions({ driver: broker.driver(), heartbeatInterval: 200, peerTimeout: 1000 });
  await sessions.attach(sio);
  const http = await sio.listen(0, "127.0.0.1");
  return { sio, sessions, port: (http.address() as AddressInfo).port };
}

function raw(port: number, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers: body === undefined ? {} : { "Content-Type": "text/plain;charset=UTF-8" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

function connect(url: string, transports: string[], upgrade = true): Promise<Socket> {
  const socket = io(url, { forceNew: true, reconnection: false, transports, upgrade });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

async function eventually(check: () => boolean, what: string, limit = 15_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > limit) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("no sticky sessions, in-memory broker, 3 servers", () => {
  const broker = new InMemoryBroker();
  let nodes: Node[];
  let proxy: RoundRobinProxy;

  before(async () => {
    nodes = [await startNode(broker), await startNode(broker), await startNode(broker)];
    proxy = await new RoundRobinProxy(nodes.map((n) => n.port)).start();
  });

  after(async () => {
    await proxy.close();
    for (const n of nodes) {
      await n.sio.close();
      await n.sessions.close();
    }
  });

  test("a sid starts with its owner's node id", async () => {
    const r = await raw(nodes[1]!.port, "GET", "/socket.io/?EIO=4&transport=polling");
    const sid = (JSON.parse(r.body.slice(1)) as { sid: string }).sid;
    assert.ok(sid.startsWith(nodes[1]!.sessions.nodeId), sid);
    assert.equal(sid.length, 28);
  });

  test("polling only: every request of the session lands on the next server, and messages flow both ways in order", async () => {
    const socket = await connect(proxy.url, ["polling"]);
    const replies: number[] = [];
    for (let i = 0; i < 30; i++) replies.push((await socket.emitWithAck("echo", i)) as number);
    assert.deepEqual(replies, [...Array(30).keys()]);
    const sid = (socket.io.engine as unknown as { id: string }).id;
    assert.equal(proxy.backendsBySid().get(sid)?.size, 3, "requests of one session on every server");
    socket.disconnect();
  });

  test("polling with upgrade: the WebSocket may land on another server than the owner and carries the session", async () => {
    const sockets: Socket[] = [];
    for (let i = 0; i < 6; i++) sockets.push(await connect(proxy.url, ["polling", "websocket"]));
    await eventually(() => sockets.every((s) => s.io.engine.transport.name === "websocket"), "upgrades");
    for (const s of sockets) assert.equal(await s.emitWithAck("join", "r"), true);
    await Promise.all(sockets.map((s, i) => s.emitWithAck("say", "r", `m${i}`)));
    const got = sockets.map(() => [] as string[]);
    sockets.forEach((s, i) => s.on("said", (m: { text: string }) => got[i]!.push(m.text)));
    for (let k = 0; k < 5; k++) await sockets[k % 6]!.emitWithAck("say", "r", `x${k}`);
    await eventually(() => got.every((g) => g.length === 5), "room messages");
    for (const g of got) assert.deepEqual(g, ["x0", "x1", "x2", "x3", "x4"]);
    // Some WebSocket was accepted by a server that does not own its session (6 upgrades, round robin).
    const relayed = nodes.reduce((n, node) => n + node.sessions.inFlight.front, 0);
    assert.ok(relayed > 0, "some WebSocket is relayed");
    for (const s of sockets) s.disconnect();
    await eventually(() => nodes.every((n) => n.sessions.inFlight.front === 0 && n.sessions.inFlight.owner === 0), "relays released");
  });

  for (const transports of [["polling"], ["polling", "websocket"]] as const) {
    test(`Engine.IO v3 (socket.io-client 2), ${transports.join("+")}: the same, with v3's framing forwarded as it is`, async () => {
      const socket = ioV2(proxy.url, { forceNew: true, reconnection: false, transports: [...transports] });
      await v2Connected(socket);
      if (transports.length === 2) await v2Upgraded(socket);
      const replies: unknown[] = [];
      for (let i = 0; i < 12; i++) replies.push(await new Promise((resolve) => socket.emit("echo", i, resolve)));
      assert.deepEqual(replies, [...Array(12).keys()]);
      const sid = socket.io.engine.id;
      assert.ok(nodes.some((n) => sid.startsWith(n.sessions.nodeId)));
      assert.ok((proxy.backendsBySid().get(sid)?.size ?? 0) >= 2, "requests of one session on several servers");
      socket.close();
      await eventually(() => nodes.every((n) => n.sio.engine.sessions.get(sid) === undefined), "the session closed at its owner");
    });
  }

  test("a second concurrent GET through another server is the protocol's 400, cluster-wide", async () => {
    const open = await raw(nodes[0]!.port, "GET", "/socket.io/?EIO=4&transport=polling");
    const sid = (JSON.parse(open.body.slice(1)) as { sid: string }).sid;
    await raw(nodes[0]!.port, "POST", `/socket.io/?EIO=4&transport=polling&sid=${sid}`, "40");
    const connected = await raw(nodes[1]!.port, "GET", `/socket.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.match(connected.body, /^40/);
    const first = raw(nodes[1]!.port, "GET", `/socket.io/?EIO=4&transport=polling&sid=${sid}`);
    await eventually(() => nodes[0]!.sessions.inFlight.owner === 1, "the first GET waits at the owner");
    const second = await raw(nodes[2]!.port, "GET", `/socket.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(second.status, 400);
    assert.deepEqual(JSON.parse(second.body), { code: 3, message: "Bad request" });
    // The session is over (reference behaviour): the first poll is released with CLOSE.
    assert.equal((await first).body, "1");
  });

  test("an unknown sid with a live owner's prefix is answered by the owner", async () => {
    const sid = nodes[2]!.sessions.nodeId + "AAAAAAAAAAAAAAAAAAAA";
    const r = await raw(nodes[0]!.port, "GET", `/socket.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.body), { code: 1, message: "Session ID unknown" });
  });

  test("a local session's requests publish nothing on the no-sticky channels", async () => {
    await eventually(() => nodes.every((n) => n.sessions.inFlight.front === 0 && n.sessions.inFlight.owner === 0), "earlier sessions' requests settled");
    const before = nodes.map((n) => n.sessions.stats.published);
    const socket = await connect(`http://127.0.0.1:${nodes[0]!.port}`, ["polling"]);
    for (let i = 0; i < 5; i++) await socket.emitWithAck("echo", i);
    socket.disconnect();
    assert.deepEqual(nodes.map((n) => n.sessions.stats.published), before);
  });
});

describe("no sticky sessions: the owner leaves", () => {
  test("a long-poll and a relayed WebSocket waiting through a front are answered (400 unknown sid, closed socket), and later requests at once", async () => {
    const broker = new InMemoryBroker();
    const nodes = [await startNode(broker), await startNode(broker)];
    const owner = nodes[1]!;
    const front = nodes[0]!;
    try {
      const open = async () => {
        const r = await raw(owner.port, "GET", "/socket.io/?EIO=4&transport=polling");
        const sid = (JSON.parse(r.body.slice(1)) as { sid: string }).sid;
        assert.equal((await raw(front.port, "POST", `/socket.io/?EIO=4&transport=polling&sid=${sid}`, "40")).body, "ok");
        assert.match((await raw(front.port, "GET", `/socket.io/?EIO=4&transport=polling&sid=${sid}`)).body, /^40/);
        return sid;
      };
      const pollSid = await open();
      const waiting = raw(front.port, "GET", `/socket.io/?EIO=4&transport=polling&sid=${pollSid}`);
      // A second session upgrades to a WebSocket accepted by the front.
      const wsSid = await open();
      const ws = new WebSocket(`ws://127.0.0.1:${front.port}/socket.io/?EIO=4&transport=websocket&sid=${wsSid}`);
      const frames: string[] = [];
      ws.on("message", (data: Buffer) => frames.push(data.toString()));
      const closed = new Promise<number>((resolve) => ws.on("close", (code: number) => resolve(code)));
      await new Promise<void>((resolve, reject) => ws.on("open", () => resolve()).on("error", reject));
      ws.send("2probe");
      await eventually(() => frames.includes("3probe"), "the probe answer, relayed");
      ws.send("5");
      await eventually(() => owner.sio.engine.sessions.get(wsSid)?.transportName === "websocket", "the upgrade at the owner");
      await eventually(() => front.sessions.inFlight.front === 2, "the front waits on the owner");
      // The owner's server goes away.
      await owner.sio.close();
      await owner.sessions.close();
      const answer = await waiting;
      assert.ok(answer.status === 200 ? answer.body === "1" : JSON.parse(answer.body).code === 1, `the poll ends: ${answer.status} ${answer.body}`);
      await closed;
      // Later requests for its sessions are answered at once by the front.
      const later = await raw(front.port, "GET", `/socket.io/?EIO=4&transport=polling&sid=${pollSid}`);
      assert.equal(later.status, 400);
      assert.deepEqual(JSON.parse(later.body), { code: 1, message: "Session ID unknown" });
      assert.equal(front.sessions.inFlight.front, 0);
    } finally {
      for (const n of nodes) {
        await n.sio.close();
        await n.sessions.close();
      }
    }
  });
});

describe("no sticky sessions: a front leaves, the broker goes away", () => {
  test("the owner ends a session whose long-poll a gone front carried; with the broker away, forwarded requests get 503", async () => {
    const broker = new InMemoryBroker();
    const nodes = [await startNode(broker), await startNode(broker)];
    const [owner, front] = nodes as [Node, Node];
    const closed: string[] = [];
    owner.sio.on("disconnect", (_sid: string, reason: string) => void closed.push(reason));
    try {
      const open = async () => {
        const r = await raw(owner.port, "GET", "/socket.io/?EIO=4&transport=polling");
        const sid = (JSON.parse(r.body.slice(1)) as { sid: string }).sid;
        assert.equal((await raw(front.port, "POST", `/socket.io/?EIO=4&transport=polling&sid=${sid}`, "40")).body, "ok");
        assert.match((await raw(front.port, "GET", `/socket.io/?EIO=4&transport=polling&sid=${sid}`)).body, /^40/);
        return sid;
      };
      const sid = await open();
      void raw(front.port, "GET", `/socket.io/?EIO=4&transport=polling&sid=${sid}`).catch(() => {});
      await eventually(() => owner.sessions.inFlight.owner === 1, "the long-poll waits at the owner");
      await front.sessions.close();
      await eventually(() => owner.sio.engine.sessions.get(sid) === undefined, "the session ended at the owner");
      assert.deepEqual(closed, ["transport close"]);

      // A third server, then the broker goes away: its forwarded requests cannot reach the owner.
      const third = await startNode(broker);
      nodes.push(third);
      const other = await (async () => {
        const r = await raw(owner.port, "GET", "/socket.io/?EIO=4&transport=polling");
        return (JSON.parse(r.body.slice(1)) as { sid: string }).sid;
      })();
      broker.stop();
      const refused = await raw(third.port, "POST", `/socket.io/?EIO=4&transport=polling&sid=${other}`, "40");
      assert.equal(refused.status, 503);
      assert.deepEqual(JSON.parse(refused.body), { code: 3, message: "Session owner unreachable" });
      broker.restart();
    } finally {
      for (const n of nodes) {
        await n.sio.close();
        await n.sessions.close();
      }
    }
  });
});

describe("no sticky sessions: a server wrongly declared gone, a request given up after its answer", () => {
  // A server is declared gone on silence: on a loaded machine, one that was only slow. Nothing of
  // the sessions the two share may then vanish silently: each waiting long-poll is answered (its
  // client reconnects) and the session ends at its owner, so no packet is handed to a request that
  // nobody answers any more.
  test("a front that declares a live owner gone answers the long-poll and the owner ends the session; an owner that declares a live front gone answers through it", async () => {
    const broker = new InMemoryBroker();
    const nodes = [await startNode(broker), await startNode(broker)];
    const [owner, front] = nodes as [Node, Node];
    const closed: string[] = [];
    owner.sio.on("disconnect", (_sid: string, reason: string) => void closed.push(reason));
    const open = async () => {
      const r = await raw(owner.port, "GET", "/socket.io/?EIO=4&transport=polling");
      const sid = (JSON.parse(r.body.slice(1)) as { sid: string }).sid;
      assert.equal((await raw(front.port, "POST", `/socket.io/?EIO=4&transport=polling&sid=${sid}`, "40")).body, "ok");
      assert.match((await raw(front.port, "GET", `/socket.io/?EIO=4&transport=polling&sid=${sid}`)).body, /^40/);
      return sid;
    };
    try {
      // The front gives up on the owner: its client is answered, and the owner hears of it.
      const first = await open();
      const poll = raw(front.port, "GET", `/socket.io/?EIO=4&transport=polling&sid=${first}`);
      await eventually(() => owner.sessions.inFlight.owner === 1, "the long-poll waits at the owner");
      front.sessions.links.declareLost(owner.sessions.nodeId);
      const answered = await poll;
      assert.equal(answered.status, 400);
      assert.deepEqual(JSON.parse(answered.body), { code: 1, message: "Session ID unknown" });
      await eventually(() => owner.sio.engine.sessions.get(first) === undefined, "the session ended at the owner");
      assert.deepEqual(closed, ["transport close"], "ended as its request was given up, not by a ping timeout later");
      owner.sessions.links.heard(front.sessions.nodeId);
      front.sessions.links.heard(owner.sessions.nodeId);

      // The owner gives up on the front: the session ends, and the front's client is told at once.
      const second = await open();
      const poll2 = raw(front.port, "GET", `/socket.io/?EIO=4&transport=polling&sid=${second}`);
      await eventually(() => owner.sessions.inFlight.owner === 1, "the long-poll waits at the owner");
      owner.sessions.links.declareLost(front.sessions.nodeId);
      const told = await poll2;
      assert.equal(told.status, 400, "answered through the front, not left to its timeout");
      assert.deepEqual(JSON.parse(told.body), { code: 1, message: "Session ID unknown" });
      assert.equal(owner.sio.engine.sessions.get(second), undefined);
      assert.deepEqual(closed, ["transport close", "transport close"]);
      owner.sessions.links.heard(front.sessions.nodeId);

      // A front gave up on a long-poll the owner had answered already (the answer crossed the
      // front's "abort" and is dropped there): the packets it carried never reach the client, so
      // the session ends. (The crossing itself is a matter of timing; its abort is sent here as the front sends it.)
      const third = await open();
      const driver = broker.driver();
      await driver.start("nosticky-probe-unused", () => {}, { onError: () => {}, onDisconnect: () => {}, onReconnect: () => {} });
      await driver.publish(`sockjet-nosticky.${owner.sessions.nodeId}`, encodeWire({ t: "abort", f: front.sessions.nodeId, id: "answered-before", sid: third }));
      await eventually(() => owner.sio.engine.sessions.get(third) === undefined, "the session ended at the owner");
      assert.deepEqual(closed, ["transport close", "transport close", "transport error"]);
      await driver.close();
    } finally {
      for (const n of nodes) {
        await n.sio.close();
        await n.sessions.close();
      }
    }
  });
});
