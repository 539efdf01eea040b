// The Admin UI's pieces without a network: the auth option's checks, logins and their bounds,
// session ids, the per-second traffic counts, and the served page's routing and bootstrap script.

import { test } from "node:test";
import assert from "node:assert/strict";
import bcrypt from "bcryptjs";
import { AdminAuthenticator, INVALID_CREDENTIALS, TOO_MANY_LOGINS, validateAuth } from "../../src/admin/auth.js";
import { EventBuffer } from "../../src/admin/stats.js";
import { bootstrapScript, UiPages } from "../../src/admin/ui.js";
import { OutPacket } from "../../src/engine/out-packet.js";
import { PacketType } from "../../src/engine/protocol/packet.js";
import { sleep } from "../support/harness.js";

const HASH = bcrypt.hashSync("pw", 4);
const LIMITS = { maxConcurrentLogins: 2, sessionDuration: 3600_000, maxSessions: 10 };

test("validateAuth: required, and a basic password must be a whole bcrypt hash", () => {
  assert.throws(() => validateAuth(undefined), /required/);
  assert.throws(() => validateAuth(null), /invalid `auth`/);
  assert.throws(() => validateAuth(true), /invalid `auth`/);
  assert.throws(() => validateAuth({ type: "basic", username: "", password: HASH }), /username/);
  for (const password of ["pw", "$2a$10$abc", HASH + "x", HASH.slice(0, -1), undefined, 42]) {
    assert.throws(() => validateAuth({ type: "basic", username: "a", password }), /bcrypt hash/, String(password));
  }
  assert.deepEqual(validateAuth({ type: "basic", username: "a", password: HASH, extra: 1 }), { type: "basic", username: "a", password: HASH });
  assert.equal(validateAuth(false), false);
});

test("basic auth: credentials, then the session id alone; other shapes are refused", async () => {
  const auth = new AdminAuthenticator({ type: "basic", username: "admin", password: HASH }, LIMITS);
  for (const given of [undefined, null, "admin", {}, { username: "admin" }, { username: "admin", password: 1 }, { username: "x", password: "pw" }, { username: "admin", password: "no" }]) {
    assert.deepEqual(await auth.check(given), { ok: false, message: INVALID_CREDENTIALS }, JSON.stringify(given));
  }
  const verdict = await auth.check({ username: "admin", password: "pw" });
  assert.ok(verdict.ok && typeof verdict.sessionId === "string" && verdict.sessionId.length >= 40);
  assert.deepEqual(await auth.check({ sessionId: verdict.sessionId }), { ok: true });
  assert.deepEqual(await auth.check({ sessionId: verdict.sessionId + "x" }), { ok: false, message: INVALID_CREDENTIALS });
});

test("at most maxConcurrentLogins bcrypt comparisons at once; the others are refused meanwhile", async () => {
  const auth = new AdminAuthenticator({ type: "basic", username: "admin", password: HASH }, { ...LIMITS, maxConcurrentLogins: 1 });
  const [first, second] = await Promise.all([auth.check({ username: "admin", password: "pw" }), auth.check({ username: "admin", password: "pw" })]);
  assert.equal(first.ok, true);
  assert.deepEqual(second, { ok: false, message: TOO_MANY_LOGINS });
  assert.equal((await auth.check({ username: "admin", password: "pw" })).ok, true, "free again once the first is done");
});

test("session ids expire after sessionDuration, and past maxSessions the oldest is forgotten", async () => {
  const short = new AdminAuthenticator({ type: "basic", username: "admin", password: HASH }, { ...LIMITS, sessionDuration: 1 });
  const expiring = await short.check({ username: "admin", password: "pw" });
  assert.ok(expiring.ok);
  await sleep(20);
  assert.equal((await short.check({ sessionId: expiring.sessionId })).ok, false);

  const small = new AdminAuthenticator({ type: "basic", username: "admin", password: HASH }, { ...LIMITS, maxSessions: 2 });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const v = await small.check({ username: "admin", password: "pw" });
    assert.ok(v.ok && v.sessionId !== undefined);
    ids.push(v.sessionId);
  }
  assert.equal((await small.check({ sessionId: ids[0] })).ok, false);
  assert.equal((await small.check({ sessionId: ids[1] })).ok, true);
  assert.equal((await small.check({ sessionId: ids[2] })).ok, true);
});

test("a function decides (python-socketio's callable auth); false lets everyone in", async () => {
  const seen: unknown[] = [];
  const auth = new AdminAuthenticator(async (given) => (seen.push(given), given.token === "t"), LIMITS);
  assert.deepEqual(await auth.check({ token: "t" }), { ok: true });
  assert.deepEqual(await auth.check("not an object"), { ok: false, message: INVALID_CREDENTIALS });
  assert.deepEqual(seen, [{ token: "t" }, {}]);
  assert.deepEqual(await new AdminAuthenticator(false, LIMITS).check(undefined), { ok: true });
});

test("EventBuffer: counts by second and type; written packets count when they carry data, in UTF-8 bytes", () => {
  const buffer = new EventBuffer();
  buffer.push("rawConnection");
  buffer.push("rawDisconnection", 1, "ping timeout");
  buffer.push("rawDisconnection", 1, "ping timeout");
  buffer.received("héllo");
  buffer.sent([new OutPacket(PacketType.PING), new OutPacket(PacketType.MESSAGE, "2[\"é\"]"), new OutPacket(PacketType.MESSAGE, new Uint8Array(7))]);
  const events = buffer.takeAll();
  const total = (type: string) => events.filter((e) => e.type === type).reduce((n, e) => n + e.count, 0);
  assert.equal(total("rawConnection"), 1);
  assert.equal(total("rawDisconnection"), 2);
  assert.ok(events.filter((e) => e.type === "rawDisconnection").every((e) => e.subType === "ping timeout"));
  assert.equal(total("packetsIn"), 1);
  assert.equal(total("bytesIn"), 6);
  assert.equal(total("packetsOut"), 2);
  assert.equal(total("bytesOut"), 7 + 7);
  for (const e of events) assert.equal(e.timestamp % 1000, 0);
  assert.deepEqual(buffer.takeAll(), [], "emptied by each report");
});

test("UiPages: exact file names under the prefix only, a redirect to the folder, GET and HEAD", () => {
  const pages = new UiPages({ path: "/admin/" }, { enginePath: "/socket.io", namespace: "/admin", autoConnect: false });
  assert.equal(pages.page("GET", "/"), null);
  assert.equal(pages.page("GET", "/administrator"), null);
  assert.equal(pages.page("GET", "/socket.io/"), null);
  assert.deepEqual(pages.page("GET", "/admin")?.headers.Location, "/admin/");
  assert.equal(pages.page("GET", "/admin/")?.status, 200);
  assert.equal(pages.page("HEAD", "/admin/index.html")?.status, 200);
  assert.equal(pages.page("PUT", "/admin/")?.status, 405);
  for (const path of ["/admin/../package.json", "/admin/js/../index.html", "/admin//index.html", "/admin/js/app.js.map", "/admin/%2e%2e/x"]) {
    assert.equal(pages.page("GET", path)?.status, 404, path);
  }
  const maps = [...(pages as unknown as { files: Map<string, unknown> }).files.keys()].filter((name) => name.endsWith(".map"));
  assert.deepEqual(maps, [], "source maps are not served");
  assert.throws(() => new UiPages({ path: "admin" }, { enginePath: "/socket.io", namespace: "/admin", autoConnect: false }), /URL path/);
  assert.throws(() => new UiPages({ path: "/admin", directory: "/nonexistent" }, { enginePath: "/socket.io", namespace: "/admin", autoConnect: false }));
});

test("the bootstrap script carries its settings as JSON that cannot close the script element", () => {
  const script = bootstrapScript({ enginePath: "/io", namespace: "/</script><script>alert(1)//", autoConnect: true });
  assert.equal(script.match(/<\/script>/g)?.length, 1, "only its own end tag");
  assert.match(script, /"namespace":"\/\\u003c\/script>\\u003cscript>alert\(1\)\/\/"/);
});

test("a server that is not instrumented keeps its own functions and no meter: nothing runs per packet for the Admin UI", async () => {
  const { Server } = await import("../../src/index.js");
  const steps = ["acceptConnect", "closeSocket", "handleEvent"];
  const plain = new Server();
  const host = (server: object) => (server as unknown as { managerHost: Record<string, unknown> }).managerHost;
  const plainDeliver = host(plain).deliver;
  assert.equal(plain.engine.meter, null);
  assert.equal(plain.engine.pages, null);
  for (const name of steps) assert.equal(Object.hasOwn(plain, name), false, name);

  const instrumented = new Server();
  const before = host(instrumented).deliver;
  assert.equal(typeof plainDeliver, "function");
  instrumented.instrument({ auth: false, mode: "development" });
  assert.notEqual(instrumented.engine.meter, null);
  assert.notEqual(host(instrumented).deliver, before);
  for (const name of steps) assert.equal(Object.hasOwn(instrumented, name), true, name);
  await plain.close();
  await instrumented.close();
  assert.equal(instrumented.engine.meter, null, "close() takes the meter away");
});
