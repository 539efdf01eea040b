// The Admin UI protocol over a cluster, shared by the Redis, RabbitMQ and NATS tests
// (test/cluster/admin-ui-*.test.ts): two instrumented servers on a real broker, an admin client
// (official socket.io-client v4, playing the UI's part) on the first. It sees both servers' stats
// under their own ids and the sockets of both, the second server's events, and its actions reach
// the second server's clients.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import bcrypt from "bcryptjs";
import { io, type Socket as ClientSocket } from "socket.io-client";
import { Server } from "../../src/index.js";
import type { PubSubManager } from "../../src/manager/pubsub/manager.js";
import { deferred, waitConnect } from "./harness.js";
import { Inbox, emitAck, within } from "../e2e/_util.js";

export interface Broker {
  name: string;
  url: string;
  /** A manager on this broker and channel. */
  manager(channel: string): PubSubManager;
}
const WAIT = 20_000;
const AUTH = { type: "basic", username: "admin", password: bcrypt.hashSync("s3cret", 4) } as const;

interface Node {
  sio: Server;
  url: string;
  disconnects: Map<string, ReturnType<typeof deferred<string>>>;
}

async function startNode(broker: Broker, channel: string, serverId: string): Promise<Node> {
  const manager = broker.manager(channel);
  const sio = new Server({ clientManager: manager });
  const disconnects = new Map<string, ReturnType<typeof deferred<string>>>();
  sio.on("join", async (sid: string, room: string) => {
    await sio.enterRoom(sid, room);
    return "joined";
  });
  sio.on("ping", () => "pong");
  sio.on("disconnect", (sid: string, reason: string) => disconnects.get(sid)?.resolve(reason));
  sio.instrument({ auth: AUTH, serverId, statsInterval: 200 });
  await within(manager.ready, WAIT, `${serverId}'s connection to ${broker.name} (is it running at ${broker.url}?)`);
  const http = await sio.listen(0, "127.0.0.1");
  return { sio, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, disconnects };
}

async function nextMatching(inbox: Inbox, event: string, match: (args: unknown[]) => boolean, what: string): Promise<unknown[]> {
  return within(
    (async () => {
      for (;;) {
        const args = await inbox.next(event);
        if (match(args)) return args;
      }
    })(),
    WAIT,
    what,
  );
}

export function adminUiClusterScenario(broker: Broker): void {
  test(`two servers on ${broker.name}: the admin client sees both under their server ids, and acts on both`, () => twoServers(broker));
}

async function twoServers(broker: Broker): Promise<void> {
  const channel = "sockjet-admin-ui-test-" + Math.random().toString(36).slice(2);
  const a = await startNode(broker, channel, "server-a");
  const b = await startNode(broker, channel, "server-b");
  const clients: ClientSocket[] = [];
  const connect = async (url: string, opts: Record<string, unknown> = {}, namespace = "/") => {
    const socket = io(url + namespace, { forceNew: true, reconnection: false, transports: ["websocket"], ...opts });
    clients.push(socket);
    await within(waitConnect(socket), WAIT, "connect");
    return socket;
  };
  try {
    const onA = await connect(a.url);
    const onB = await connect(b.url);
    assert.deepEqual(await emitAck(onA, "join", "room-a"), ["joined"]);
    assert.deepEqual(await emitAck(onB, "join", "room-b"), ["joined"]);

    const admin = io(a.url + "/admin", { forceNew: true, reconnection: false, transports: ["websocket"], auth: { username: "admin", password: "s3cret" } });
    clients.push(admin);
    const inbox = new Inbox(admin);
    await within(waitConnect(admin), WAIT, "admin connect");

    // This server's sockets in all_sockets; the other's follow as socket_connected, rooms included.
    const [all] = (await within(inbox.next("all_sockets"), WAIT, "all_sockets")) as [Array<{ id: string; rooms: string[] }>];
    assert.deepEqual(all.find((s) => s.id === onA.id)?.rooms.sort(), [onA.id!, "room-a"].sort());
    assert.ok(!all.some((s) => s.id === onB.id), "all_sockets holds the first server's sockets only");
    // server-b's report of onB's own connection (before it joined room-b) may still be crossing the
    // broker when the admin client connects, and then arrives first: the answer to the admin's
    // login is the one with the rooms as they are now.
    const [fromB] = (await nextMatching(
      inbox,
      "socket_connected",
      (args) => (args[0] as { id: string; rooms: string[] }).id === onB.id && (args[0] as { rooms: string[] }).rooms.includes("room-b"),
      "server-b's socket with its room",
    )) as [{ rooms: string[]; nsp: string }];
    assert.equal(fromB.nsp, "/");
    assert.deepEqual([...fromB.rooms].sort(), [onB.id!, "room-b"].sort());

    // Stats from both, each under its own id.
    const ids = new Set<string>();
    await nextMatching(inbox, "server_stats", (args) => {
      ids.add((args[0] as { serverId: string }).serverId);
      return ids.has("server-a") && ids.has("server-b");
    }, "server_stats of both servers");

    // server-b's client's events reach the admin on server-a.
    assert.deepEqual(await emitAck(onB, "ping"), ["pong"]);
    await nextMatching(inbox, "event_received", (args) => args[1] === onB.id && JSON.stringify(args[2]) === '["ping"]', "server-b's event_received");

    // MJOIN over the cluster: every socket of "/" on both servers joins.
    assert.deepEqual(await emitAck(admin, "join", "/", "everyone"), [{ ok: true }]);
    await nextMatching(inbox, "room_joined", (args) => args[1] === "everyone" && args[2] === onB.id, "server-b's room_joined");
    assert.ok(a.sio.rooms(onA.id!).includes("everyone"));
    assert.ok(b.sio.rooms(onB.id!).includes("everyone"));

    // Disconnecting server-b's client from the admin on server-a runs server-b's disconnect handler.
    const reason = deferred<string>();
    b.disconnects.set(onB.id!, reason);
    const onBId = onB.id!;
    assert.deepEqual(await emitAck(admin, "_disconnect", "/", false, onBId), [{ ok: true }]);
    assert.equal(await within(reason.promise, WAIT, "server-b's disconnect handler"), "server disconnect");
    await nextMatching(inbox, "socket_disconnected", (args) => args[1] === onBId && args[2] === "server disconnect", "server-b's socket_disconnected");
    assert.ok(onA.connected, "server-a's client stays");
  } finally {
    for (const c of clients) c.disconnect();
    await a.sio.close();
    await b.sio.close();
  }
}
