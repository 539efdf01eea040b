// The msgpack parser in a cluster over a real Redis (REDIS_URL, default redis://127.0.0.1:6379):
// servers exchange events and arguments, not encoded packets, so a broadcast from any server reaches
// each client in the format of the server it is connected to, binaries included; a call to a client
// on another server gets its msgpack acknowledgement back.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { io, type Socket } from "socket.io-client";
import { Server } from "../../src/index.js";
import { RedisManager } from "../../src/manager/pubsub/redis.js";
import { waitConnect } from "../support/harness.js";
import { bytesOf, Inbox } from "../e2e/_util.js";

const require = createRequire(import.meta.url);
const parser: unknown = require("socket.io-msgpack-parser");
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describe("msgpack parser across a Redis cluster", () => {
  const channel = `sockjet-msgpack-${randomUUID()}`;
  const servers: Server[] = [];
  const clients: Socket[] = [];
  const inboxes: Inbox[] = [];

  before(async () => {
    // Servers 0 and 1 speak msgpack, server 2 JSON (a mixed cluster delivers; see docs/server-api.md, msgpack).
    for (const format of ["msgpack", "msgpack", "json"] as const) {
      const manager = new RedisManager({ url, channel });
      const sio = new Server({ clientManager: manager, parser: format });
      sio.on("join", async (sid: string, room: string) => void (await sio.enterRoom(sid, room)));
      const http = await sio.listen(0, "127.0.0.1");
      await manager.ready;
      servers.push(sio);
      const socket = io(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, {
        forceNew: true,
        reconnection: false,
        transports: ["websocket"],
        ...(format === "msgpack" ? { parser } : {}),
      } as object);
      socket.on("double", (x: number, ack: (v: unknown) => void) => ack({ twice: x * 2, bin: Buffer.from([x]) }));
      inboxes.push(new Inbox(socket));
      clients.push(socket);
      await waitConnect(socket);
    }
  });

  after(async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(servers.map((s) => s.close()));
  });

  test("a broadcast from each server reaches every client, binary included", async () => {
    for (const [from, sio] of servers.entries()) {
      await sio.emit("news", { from, bin: Buffer.from([from, 9]) });
      for (const inbox of inboxes) {
        const [value] = await inbox.next("news");
        const v = value as { from: number; bin: unknown };
        assert.equal(v.from, from);
        assert.deepEqual(bytesOf(v.bin), [from, 9]);
      }
    }
  });

  test("a room broadcast from the JSON server reaches msgpack clients on the others", async () => {
    for (const c of clients.slice(0, 2)) await new Promise((resolve) => c.emit("join", "r", resolve));
    await servers[2]!.emit("in-room", "hello", { room: "r" });
    for (const inbox of inboxes.slice(0, 2)) assert.deepEqual(await inbox.next("in-room"), ["hello"]);
    // A marker to everyone, after which the JSON client must still have no room message.
    await servers[2]!.emit("marker", 1);
    await inboxes[2]!.next("marker");
    assert.equal(inboxes[2]!.count("in-room"), 0);
  });

  test("a call to a msgpack client on another server gets its acknowledgement back", async () => {
    const answer = await servers[2]!.call("double", 21, { to: clients[1]!.id!, timeout: 20_000 });
    const a = answer as { twice: number; bin: unknown };
    assert.equal(a.twice, 42);
    assert.deepEqual(bytesOf(a.bin), [21]);
  });
});
