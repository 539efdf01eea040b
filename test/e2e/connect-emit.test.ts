// End-to-end: events a connect handler emits to its own sid leave right behind the namespace's
// CONNECT packet, whether the handler is async and awaits the emit, emits without awaiting, or is
// synchronous; with socket.io-client v4 and with socket.io-client 2 (Engine.IO v3, `allowEIO3`,
// whose main namespace is joined implicitly with the session), over every transport mode.
//
// Both official clients keep an event that arrives before their namespace's CONNECT and hand it to
// the application while they process the CONNECT, *before* their "connect" event (other clients
// drop it). So the order the application sees, "connect" first and then every "welcome" in the
// order emitted, shows that the events left after the CONNECT.
// The Python client is tested in test/cluster/python-client.test.ts.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { io, type Socket as ClientSocket } from "socket.io-client";
import { MODES, TRANSPORT_MODES, startServer, waitConnect, waitUpgrade, type TestServer, type TransportMode } from "../support/harness.js";
import { ioV2, v2Connected, v2EmitAck, v2Upgraded, type V2Options, type V2Socket } from "../support/v2-client.js";
import { emitAck, within } from "./_util.js";

const WAIT = 10_000;
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The v2 client's transport modes (the same three as the v4 client's). */
const V2_MODES: Record<TransportMode, V2Options> = {
  websocket: { transports: ["websocket"] },
  polling: { transports: ["polling"] },
  "polling+upgrade": { transports: ["polling", "websocket"] },
};

/** What the application of a client sees, in order: "connect" and "welcome <step>". */
type Seen = string[];

/** The welcomes the server sends on "/" (async handler) and "/sync" (synchronous handler). */
const ROOT_STEPS = ["unawaited", "awaited", "after a turn", "after the room"];
const SYNC_STEPS = ["sync", "sync 2"];

function expected(steps: string[]): Seen {
  return ["connect", ...steps.map((s) => `welcome ${s}`)];
}

describe("connect handlers that emit to their own sid: the events follow CONNECT", () => {
  let ts: TestServer;
  /** The sid each welcome carried, by sid, so a client can check the welcomes were its own. */
  const welcomed = new Map<string, string[]>();
  const v2Sockets: V2Socket[] = [];

  before(async () => {
    ts = await startServer({ allowEIO3: true }, (sio) => {
      const note = (sid: string, step: string) => welcomed.set(sid, [...(welcomed.get(sid) ?? []), step]);
      // Async, on "/": an emit not awaited, one awaited right away, one a turn later, one after
      // entering a room. Each is sent while the connect handler runs, before the verdict.
      sio.on("connect", async (sid: string) => {
        void sio.emit("welcome", { sid, step: ROOT_STEPS[0] }, { to: sid });
        note(sid, ROOT_STEPS[0]!);
        await sio.emit("welcome", { sid, step: ROOT_STEPS[1] }, { to: sid });
        note(sid, ROOT_STEPS[1]!);
        await tick();
        await sio.emit("welcome", { sid, step: ROOT_STEPS[2] }, { to: sid });
        note(sid, ROOT_STEPS[2]!);
        await sio.enterRoom(sid, `room of ${sid}`);
        await sio.emit("welcome", { sid, step: ROOT_STEPS[3] }, { room: `room of ${sid}` });
        note(sid, ROOT_STEPS[3]!);
      });
      // Synchronous, on "/sync": emits without awaiting, then returns (no promise).
      sio.on(
        "connect",
        (sid: string) => {
          void sio.emit("welcome", { sid, step: SYNC_STEPS[0] }, { to: sid, namespace: "/sync" });
          void sio.of("/sync").emit("welcome", { sid, step: SYNC_STEPS[1] }, { to: sid });
          note(sid, "sync");
        },
        "/sync",
      );
      sio.on("whoami", (sid: string) => sid);
      sio.on("whoami", (sid: string) => sid, "/sync");
    });
  });

  after(async () => {
    for (const s of v2Sockets) s.close();
    await ts.close();
  });

  /** Records "connect" and "welcome <step>" (with the sid the welcome carried) as the application sees them. */
  function watch(socket: { on(event: string, listener: (...args: never[]) => void): unknown }): { seen: Seen; sids: string[] } {
    const seen: Seen = [];
    const sids: string[] = [];
    socket.on("connect", () => void seen.push("connect"));
    socket.on("welcome", ((data: { sid: string; step: string }) => {
      seen.push(`welcome ${data.step}`);
      sids.push(data.sid);
    }) as (...args: never[]) => void);
    return { seen, sids };
  }

  async function until(check: () => boolean, what: string, seen: Seen): Promise<void> {
    const start = Date.now();
    while (!check()) {
      if (Date.now() - start > WAIT) throw new Error(`timed out waiting for ${what}; seen ${JSON.stringify(seen)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  for (const mode of MODES) {
    test(`socket.io-client v4 over ${mode}: async (awaited and not) and synchronous handlers`, async () => {
      const opts = { ...TRANSPORT_MODES[mode], forceNew: true, reconnection: false };
      const root = io(ts.url, opts);
      const rootSeen = watch(root);
      const sync = root.io.socket("/sync");
      const syncSeen = watch(sync);
      try {
        await within(Promise.all([waitConnect(root), waitConnect(sync)]), WAIT, "connect");
        if (mode === "polling+upgrade") await within(waitUpgrade(root), WAIT, "upgrade");
        await until(() => rootSeen.seen.length >= 5 && syncSeen.seen.length >= 3, "every welcome", [...rootSeen.seen, ...syncSeen.seen]);
        assert.deepEqual(rootSeen.seen, expected(ROOT_STEPS));
        assert.deepEqual(syncSeen.seen, expected(SYNC_STEPS));
        // Each welcome was the client's own, and the sid is the one the client learnt from CONNECT.
        assert.deepEqual(rootSeen.sids, ROOT_STEPS.map(() => root.id));
        assert.deepEqual(syncSeen.sids, SYNC_STEPS.map(() => sync.id));
        assert.deepEqual(await emitAck(root as ClientSocket, "whoami"), [root.id]);
        assert.deepEqual(welcomed.get(root.id!), ROOT_STEPS);
        assert.deepEqual(ts.sio.rooms(root.id!), [root.id, `room of ${root.id}`]);
      } finally {
        root.disconnect();
        sync.disconnect();
      }
    });

    test(`socket.io-client 2 (EIO=3) over ${mode}: the implicit "/" connect and a namespace connect`, async () => {
      const root = ioV2(ts.url, { forceNew: true, reconnection: false, ...V2_MODES[mode] });
      v2Sockets.push(root);
      const rootSeen = watch(root);
      const sync = root.io.socket("/sync");
      v2Sockets.push(sync);
      const syncSeen = watch(sync);
      await within(Promise.all([v2Connected(root), v2Connected(sync)]), WAIT, "v2 connect");
      if (mode === "polling+upgrade") await within(v2Upgraded(root), WAIT, "v2 upgrade");
      await until(() => rootSeen.seen.length >= 5 && syncSeen.seen.length >= 3, "every welcome", [...rootSeen.seen, ...syncSeen.seen]);
      assert.deepEqual(rootSeen.seen, expected(ROOT_STEPS));
      assert.deepEqual(syncSeen.seen, expected(SYNC_STEPS));
      // The welcomes carried the server's sid of each namespace of this connection.
      const [rootSid] = await within(v2EmitAck(root, "whoami"), WAIT, "whoami");
      const [syncSid] = await within(v2EmitAck(sync, "whoami"), WAIT, "whoami /sync");
      assert.deepEqual(rootSeen.sids, ROOT_STEPS.map(() => rootSid));
      assert.deepEqual(syncSeen.sids, SYNC_STEPS.map(() => syncSid));
      assert.deepEqual(welcomed.get(rootSid as string), ROOT_STEPS);
      assert.equal(ts.sio.getEnviron(rootSid as string)?.query.EIO, "3");
      root.close();
      sync.close();
    });
  }
});
