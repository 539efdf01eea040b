// End-to-end: user sessions — getSession/saveSession, the scoped session(sid, fn) helper, one
// session per namespace connection, sessions readable in the disconnect handler, UNKNOWN_SID.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { io, type Socket as ClientSocket } from "socket.io-client";
import { MODES, TRANSPORT_MODES, startServer, until, waitConnect, waitUpgrade, type TestServer } from "../support/harness.js";
import { SockjetError } from "../../src/index.js";
import { emitAck } from "./_util.js";

const unknownSid = (err: unknown): boolean => {
  assert.ok(err instanceof SockjetError, `expected a SockjetError, got ${String(err)}`);
  assert.equal(err.code, "UNKNOWN_SID");
  return true;
};

for (const mode of MODES) {
  describe(`sessions over ${mode}`, () => {
    let ts: TestServer;
    const atDisconnect: Array<{ namespace: string; sid: string; reason: string; session: unknown }> = [];
    const extra: ClientSocket[] = [];

    before(async () => {
      ts = await startServer({}, (sio) => {
        for (const namespace of ["/", "/other"]) {
          sio.on("login", (sid: string, user: string) => sio.saveSession(sid, { user }, namespace), namespace);
          sio.on("whoami", (sid: string) => sio.getSession(sid, namespace), namespace);
          sio.on(
            "count",
            (sid: string) =>
              sio.session<{ user?: string; count?: number }, number>(
                sid,
                async (session) => {
                  await new Promise((resolve) => setImmediate(resolve));
                  session.count = (session.count ?? 0) + 1;
                  return session.count;
                },
                namespace,
              ),
            namespace,
          );
          sio.on(
            "disconnect",
            (sid, reason) => void atDisconnect.push({ namespace, sid, reason, session: structuredClone(sio.getSession(sid, namespace)) }),
            namespace,
          );
        }
        // An async disconnect handler: the session stays readable until it has finished.
        sio.on("login", (sid: string, user: string) => sio.saveSession(sid, { user }, "/async"), "/async");
        sio.on(
          "disconnect",
          async (sid, reason) => {
            await new Promise((resolve) => setTimeout(resolve, 20));
            atDisconnect.push({ namespace: "/async", sid, reason, session: structuredClone(sio.getSession(sid, "/async")) });
          },
          "/async",
        );
      });
    });

    after(async () => {
      for (const c of extra) c.disconnect();
      await ts.close();
    });

    test("a fresh client has an empty session; saveSession/getSession round-trip", async () => {
      const c = await ts.connect(mode);
      assert.deepEqual(ts.sio.getSession(c.id!), {});
      assert.deepEqual(await emitAck(c, "whoami"), [{}]);
      await emitAck(c, "login", "ann");
      assert.deepEqual(ts.sio.getSession(c.id!), { user: "ann" });
      assert.deepEqual(await emitAck(c, "whoami"), [{ user: "ann" }]);
      // Saved from outside a handler, replacing the object.
      ts.sio.saveSession(c.id!, { user: "bob", admin: true });
      assert.deepEqual(await emitAck(c, "whoami"), [{ user: "bob", admin: true }]);
    });

    test("session(sid, fn) hands fn the session, saves it on exit and returns fn's result", async () => {
      const c = await ts.connect(mode);
      await emitAck(c, "login", "carol");
      assert.deepEqual(await emitAck(c, "count"), [1]);
      assert.deepEqual(await emitAck(c, "count"), [2]);
      assert.deepEqual(await emitAck(c, "whoami"), [{ user: "carol", count: 2 }]);

      const result = await ts.sio.session<{ user?: string; tags?: string[] }, string>(c.id!, (session) => {
        assert.equal(session.user, "carol");
        session.tags = ["x"];
        return "done";
      });
      assert.equal(result, "done");
      assert.deepEqual(ts.sio.getSession(c.id!), { user: "carol", count: 2, tags: ["x"] });
      // A session saved with saveSession in between is the one session() works on next.
      ts.sio.saveSession(c.id!, { user: "dave" });
      await ts.sio.session<{ user?: string; seen?: boolean }>(c.id!, (session) => {
        assert.deepEqual({ ...session }, { user: "dave" });
        session.seen = true;
      });
      assert.deepEqual(await emitAck(c, "whoami"), [{ user: "dave", seen: true }]);
      // On exit the object fn worked on is saved, even if the stored session was replaced meanwhile.
      await ts.sio.session<{ user?: string; step?: number }>(c.id!, async (session) => {
        ts.sio.saveSession(c.id!, { user: "intruder" });
        await new Promise((resolve) => setImmediate(resolve));
        session.step = 1;
      });
      assert.deepEqual(await emitAck(c, "whoami"), [{ user: "dave", seen: true, step: 1 }]);
      // A failing fn rejects the promise.
      await assert.rejects(
        ts.sio.session(c.id!, () => {
          throw new Error("inside");
        }),
        /inside/,
      );
    });

    test("sessions are per client and per namespace", async () => {
      const opts = { ...TRANSPORT_MODES[mode], reconnection: false };
      // One connection, two namespaces (multiplexed): two sids, two sessions.
      const root = io(ts.url + "/", opts);
      const other = io(ts.url + "/other", opts);
      extra.push(root, other);
      assert.equal(root.io, other.io);
      await Promise.all([waitConnect(root), waitConnect(other)]);
      if (mode === "polling+upgrade") await waitUpgrade(root);
      const second = await ts.connect(mode);

      await emitAck(root, "login", "root-user");
      await emitAck(other, "login", "other-user");
      assert.deepEqual(await emitAck(second, "whoami"), [{}]);
      assert.deepEqual(await emitAck(root, "whoami"), [{ user: "root-user" }]);
      assert.deepEqual(await emitAck(other, "whoami"), [{ user: "other-user" }]);
      assert.deepEqual(ts.sio.getSession(other.id!, "/other"), { user: "other-user" });
      assert.deepEqual(ts.sio.of("/other").getSession(other.id!), { user: "other-user" });
      assert.deepEqual(await emitAck(other, "count"), [1]);
      assert.deepEqual(ts.sio.getSession(root.id!), { user: "root-user" });
      // A sid is only known in its own namespace.
      assert.throws(() => ts.sio.getSession(other.id!), unknownSid);
      assert.throws(() => ts.sio.getSession(root.id!, "/other"), unknownSid);
      ts.sio.of("/other").saveSession(other.id!, { replaced: true });
      assert.deepEqual(await emitAck(other, "whoami"), [{ replaced: true }]);
      assert.equal(await ts.sio.of("/other").session<{ replaced?: boolean }, boolean>(other.id!, (s) => s.replaced === true), true);
      root.disconnect();
      other.disconnect();
    });

    test("getSession works in the disconnect handler (client and server disconnect)", async () => {
      const c = await ts.connect(mode);
      await emitAck(c, "login", "erin");
      await emitAck(c, "count");
      const sid = c.id!;
      c.disconnect();
      await until(() => atDisconnect.some((d) => d.sid === sid), 5000, "disconnect handler");
      assert.deepEqual(
        atDisconnect.filter((d) => d.sid === sid),
        [{ namespace: "/", sid, reason: "client disconnect", session: { user: "erin", count: 1 } }],
      );

      const d = await ts.connect(mode, "/other");
      await emitAck(d, "login", "frank");
      await ts.sio.disconnect(d.id!, "/other");
      await until(() => atDisconnect.some((x) => x.sid === d.id), 5000, "disconnect handler");
      assert.deepEqual(
        atDisconnect.filter((x) => x.sid === d.id),
        [{ namespace: "/other", sid: d.id, reason: "server disconnect", session: { user: "frank" } }],
      );
      const e = await ts.connect(mode, "/async");
      await emitAck(e, "login", "gina");
      const sidE = e.id!;
      e.disconnect();
      await until(() => atDisconnect.some((x) => x.sid === sidE), 5000, "async disconnect handler");
      assert.deepEqual(
        atDisconnect.filter((x) => x.sid === sidE),
        [{ namespace: "/async", sid: sidE, reason: "client disconnect", session: { user: "gina" } }],
      );
      // Once the disconnect is over the sid is unknown.
      await until(() => !ts.sio.participants("/").includes(sid), 5000, "forgotten");
      assert.throws(() => ts.sio.getSession(sid), unknownSid);
    });

    test("getSession, saveSession and session() of an unknown sid fail with UNKNOWN_SID", async () => {
      assert.throws(() => ts.sio.getSession("no-such-sid"), unknownSid);
      assert.throws(() => ts.sio.saveSession("no-such-sid", {}), unknownSid);
      await assert.rejects(
        ts.sio.session("no-such-sid", () => {}),
        unknownSid,
      );
      assert.throws(() => ts.sio.of("/other").getSession("no-such-sid"), unknownSid);
    });
  });
}
