// Connection state recovery on one server, with the official v4 client (recovery-aware since
// 4.6): a TCP proxy between them is cut while a room broadcast runs, so the client loses its
// connection (no DISCONNECT from either side) and reconnects once the proxy lets it through. The
// client must come back with the same sid, `recovered`, its room and session, and every tick
// exactly once and in order: those lost in flight, those emitted while it was away and those
// after. Then the fresh-session cases: past the window, past the per-client bound, past the log's
// total bound, and the option off.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { Server, type ServerOptions } from "../../src/index.js";
import { MODES, sleep, until, type TransportMode } from "../support/harness.js";
import { TcpProxy } from "../support/cluster-proxy.js";
import { TickClient, closeTickClients, recoveryHandlers, stream, range, type ServerLog } from "../support/recovery-kit.js";
import type { ManagerOptions } from "socket.io-client";

// A test that fails before closing its client must not leave it reconnecting.
after(closeTickClients);

const require = createRequire(import.meta.url);

const ROOM = "feed";
/** Heartbeats short enough that a cut long-polling connection is noticed soon (by its ping timeout), long enough for a loaded machine. */
const ENGINE: ServerOptions = { pingInterval: 1000, pingTimeout: 2000 };

interface Rig {
  sio: Server;
  log: ServerLog;
  proxy: TcpProxy;
  url: string;
  close(): Promise<void>;
}

async function rig(options: ServerOptions): Promise<Rig> {
  const sio = new Server({ ...ENGINE, ...options });
  const log = recoveryHandlers(sio, ROOM);
  const http = await sio.listen(0, "127.0.0.1");
  const proxy = await new TcpProxy("127.0.0.1", (http.address() as AddressInfo).port).start();
  return {
    sio,
    log,
    proxy,
    url: `http://127.0.0.1:${proxy.port}`,
    async close() {
      await proxy.close();
      await sio.close();
    },
  };
}

/** Connects a client through the proxy, joins the room with a session; returns it and its sid. */
async function joined(r: Rig, mode: TransportMode): Promise<{ client: TickClient; sid: string }> {
  const client = new TickClient(r.url, mode);
  await client.nextConnect();
  assert.equal(await client.ask("join", "ann"), "joined");
  return { client, sid: client.socket.id! };
}

/** Cuts the proxy, waits until the server has seen the sid leave, and returns the reason. */
async function cutAndWait(r: Rig, sid: string): Promise<string> {
  r.proxy.cut();
  await until(() => r.log.disconnects.some((d) => d.sid === sid), 20_000, "the server to notice the lost connection");
  return r.log.disconnects.find((d) => d.sid === sid)!.reason;
}

for (const mode of MODES) {
  describe(`connection state recovery over ${mode}`, () => {
    let r: Rig;
    before(async () => {
      r = await rig({ connectionStateRecovery: { maxDisconnectionDuration: 60_000 } });
    });
    after(async () => {
      await r.close();
    });

    test("a client cut mid-broadcast comes back with its sid, room, session and every missed tick once, in order", async () => {
      const { client, sid } = await joined(r, mode);
      const running = stream(r.sio, ROOM, 1, 60);
      await client.waitTicks(10);
      const reason = await cutAndWait(r, sid);
      assert.ok(["transport close", "transport error", "ping timeout"].includes(reason), reason);
      await running;
      // Emitted while it is away, with nothing in flight: these can only come from the log.
      await stream(r.sio, ROOM, 61, 70);
      const back = client.nextConnect();
      r.proxy.restore();
      await back;

      assert.equal(client.socket.id, sid, "same sid");
      assert.equal(client.socket.recovered, true, "the client sees a recovered connection");
      const last = r.log.connects.at(-1)!;
      assert.deepEqual(last, { sid, recovered: true }, "the connect handler is told");
      const me = await client.ask<{ sid: string; rooms: string[]; session: { name: string } }>("whoami");
      assert.deepEqual(me, { sid, rooms: [sid, ROOM], session: { name: "ann" } });

      await stream(r.sio, ROOM, 71, 75);
      await client.waitLastTick(75);
      assert.deepEqual(client.ticks, range(1, 75), "every tick exactly once, in order");
      // Each event carries an offset as its last argument, and no two share one.
      assert.equal(new Set(client.offsets).size, 75);
      assert.ok(client.offsets.every((o) => typeof o === "string"));
      client.close();
    });
  });
}

describe("connection state recovery with the msgpack parser", () => {
  test("the offset travels in socket.io-msgpack-parser's format too", async () => {
    const r = await rig({ parser: "msgpack", connectionStateRecovery: {} });
    try {
      const client = new TickClient(r.url, "websocket", { parser: require("socket.io-msgpack-parser") as ManagerOptions["parser"] });
      await client.nextConnect();
      assert.equal(await client.ask("join", "ann"), "joined");
      const sid = client.socket.id!;
      const running = stream(r.sio, ROOM, 1, 30);
      await client.waitTicks(5);
      await cutAndWait(r, sid);
      await running;
      const back = client.nextConnect();
      r.proxy.restore();
      await back;
      assert.equal(client.socket.id, sid);
      assert.equal(client.socket.recovered, true);
      await stream(r.sio, ROOM, 31, 32);
      await client.waitLastTick(32);
      assert.deepEqual(client.ticks, range(1, 32));
      client.close();
    } finally {
      await r.close();
    }
  });
});

describe("connection state recovery: encode once", () => {
  test("a room broadcast is encoded once, offset included, and a replay encodes nothing", async () => {
    // Counts the encodings of tick events (control packets and acknowledgements are encoded too).
    let encodes = 0;
    const json = {
      stringify: (value: unknown) => {
        if (Array.isArray(value) && value[0] === "tick") encodes++;
        return JSON.stringify(value);
      },
      parse: (text: string) => JSON.parse(text) as unknown,
    };
    const r = await rig({ json, connectionStateRecovery: {} });
    try {
      const peers = [await joined(r, "websocket"), await joined(r, "polling"), await joined(r, "websocket")];
      encodes = 0;
      await r.sio.emit("tick", 1, { to: ROOM });
      assert.equal(encodes, 1, "one encoding for three recipients");
      await Promise.all(peers.map((p) => p.client.waitLastTick(1)));
      const offsets = peers.map((p) => p.client.offsets[0]);
      assert.equal(typeof offsets[0], "string");
      assert.deepEqual(offsets, [offsets[0], offsets[0], offsets[0]], "the offset belongs to the broadcast: every recipient gets the same");

      // The cut takes the three peers away at once.
      for (const p of peers) await cutAndWait(r, p.sid);
      encodes = 0;
      await stream(r.sio, ROOM, 2, 4);
      assert.equal(encodes, 3);
      const back = peers.map((p) => p.client.nextConnect());
      r.proxy.restore();
      await Promise.all(back);
      for (const p of peers) {
        await p.client.waitLastTick(4);
        assert.equal(p.client.socket.recovered, true);
        assert.deepEqual(p.client.ticks, [1, 2, 3, 4]);
      }
      // Three replays of three missed ticks: the packets logged above, not encoded again.
      assert.equal(encodes, 3);
      for (const p of peers) p.client.close();
    } finally {
      await r.close();
    }
  });
});

describe("connection state recovery: fresh sessions", () => {
  test("past maxDisconnectionDuration the client gets a fresh session", async () => {
    const r = await rig({ connectionStateRecovery: { maxDisconnectionDuration: 300 } });
    try {
      const { client, sid } = await joined(r, "websocket");
      await stream(r.sio, ROOM, 1, 3);
      await client.waitTicks(3);
      await cutAndWait(r, sid);
      await stream(r.sio, ROOM, 4, 6);
      // Past the window (not a timing assertion: the session expires once this much time has passed).
      await sleep(600);
      const back = client.nextConnect();
      r.proxy.restore();
      await back;
      await expectFresh(r, client, sid);
      client.close();
    } finally {
      await r.close();
    }
  });

  test("a client that missed more than maxMissedPackets gets a fresh session", async () => {
    const r = await rig({ connectionStateRecovery: { maxMissedPackets: 5 } });
    try {
      const { client, sid } = await joined(r, "websocket");
      await stream(r.sio, ROOM, 1, 3);
      await client.waitTicks(3);
      await cutAndWait(r, sid);
      await stream(r.sio, ROOM, 4, 9); // six missed
      const back = client.nextConnect();
      r.proxy.restore();
      await back;
      await expectFresh(r, client, sid);
      client.close();
    } finally {
      await r.close();
    }
  });

  test("exactly maxMissedPackets missed still recovers", async () => {
    const r = await rig({ connectionStateRecovery: { maxMissedPackets: 5 } });
    try {
      const { client, sid } = await joined(r, "websocket");
      await stream(r.sio, ROOM, 1, 3);
      await client.waitTicks(3);
      await cutAndWait(r, sid);
      await stream(r.sio, ROOM, 4, 8); // five missed
      const back = client.nextConnect();
      r.proxy.restore();
      await back;
      assert.equal(client.socket.recovered, true);
      await client.waitLastTick(8);
      assert.deepEqual(client.ticks, range(1, 8));
      client.close();
    } finally {
      await r.close();
    }
  });

  test("when the log's total bound pushed out a missed event, the client gets a fresh session", async () => {
    // Each tick is about 60 bytes encoded plus 64 of bookkeeping: 2000 bytes hold some 15.
    const r = await rig({ connectionStateRecovery: { maxLogBytes: 2000 } });
    try {
      const { client, sid } = await joined(r, "websocket");
      await stream(r.sio, ROOM, 1, 3);
      await client.waitTicks(3);
      await cutAndWait(r, sid);
      await stream(r.sio, ROOM, 4, 40);
      const back = client.nextConnect();
      r.proxy.restore();
      await back;
      await expectFresh(r, client, sid);
      client.close();
    } finally {
      await r.close();
    }
  });

  test("a deliberate disconnect is not recoverable", async () => {
    const r = await rig({ connectionStateRecovery: {} });
    try {
      const { client, sid } = await joined(r, "websocket");
      await stream(r.sio, ROOM, 1, 2);
      await client.waitTicks(2);
      const gone = new Promise((resolve) => client.socket.once("disconnect", resolve));
      await r.sio.disconnect(sid);
      assert.equal(await gone, "io server disconnect");
      const back = client.nextConnect();
      client.socket.connect();
      await back;
      await expectFresh(r, client, sid);
      client.close();
    } finally {
      await r.close();
    }
  });

  test("without the option: no pid, no offsets, a fresh session after a cut", async () => {
    const r = await rig({});
    try {
      const { client, sid } = await joined(r, "websocket");
      await stream(r.sio, ROOM, 1, 2);
      await client.waitTicks(2);
      assert.deepEqual(client.offsets, [undefined, undefined], "events carry no offset");
      await cutAndWait(r, sid);
      const back = client.nextConnect();
      r.proxy.restore();
      await back;
      await expectFresh(r, client, sid);
      client.close();
    } finally {
      await r.close();
    }
  });
});

/** The client is connected again, under a new sid, not recovered, in no room and with no session. */
async function expectFresh(r: Rig, client: TickClient, oldSid: string): Promise<void> {
  const sid = client.socket.id!;
  assert.notEqual(sid, oldSid, "a new sid");
  assert.ok(!client.socket.recovered, "not recovered");
  assert.deepEqual(r.log.connects.at(-1), { sid, recovered: false });
  const me = await client.ask<{ rooms: string[]; session: object }>("whoami");
  assert.deepEqual(me, { sid, rooms: [sid], session: {} });
}
