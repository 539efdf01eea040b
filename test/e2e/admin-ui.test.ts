// The Admin UI protocol (sio.instrument()) against the official socket.io-client v4, playing the
// UI's part as @socket.io/admin-ui's page does: auth, the session id, config, all_sockets, the
// development-mode reports, server_stats, the actions and readonly. The page itself is driven in
// test/browser/admin-ui.test.ts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import bcrypt from "bcryptjs";
import type { Socket as ClientSocket } from "socket.io-client";
import { Server, type AdminOptions } from "../../src/index.js";
import { startServer, waitConnect, deferred, type TestServer } from "../support/harness.js";
import { Inbox, emitAck, within } from "./_util.js";

const WAIT = 20_000;
const PASSWORD_HASH = bcrypt.hashSync("s3cret", 4);
const BASIC = { type: "basic", username: "admin", password: PASSWORD_HASH } as const;

interface Serialized {
  id: string;
  clientId: string;
  transport: string;
  nsp: string;
  data: unknown;
  handshake: { address: string; headers: Record<string, string>; query: Record<string, string>; url: string; issued: number; secure: boolean };
  rooms: string[];
}

async function nextMatching(inbox: Inbox, event: string, match: (args: unknown[]) => boolean, what = event): Promise<unknown[]> {
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

function admin(server: TestServer, auth: Record<string, unknown>): { socket: ClientSocket; inbox: Inbox } {
  const socket = server.client("websocket", "/admin", { auth });
  return { socket, inbox: new Inbox(socket) };
}

async function instrumented(options: Partial<AdminOptions> = {}, setup?: (sio: Server) => void): Promise<TestServer> {
  return startServer({}, (sio) => {
    sio.on("join", async (sid: string, room: string) => {
      await sio.enterRoom(sid, room);
      return "joined";
    });
    sio.on("echo", (_sid: string, value: unknown) => value);
    setup?.(sio);
    sio.instrument({ auth: BASIC, serverId: "test-server", statsInterval: 200, ...options });
  });
}

test("auth is required: instrument() without it, or with a password that is not a bcrypt hash, throws", () => {
  const sio = new Server();
  assert.throws(() => sio.instrument({} as AdminOptions), /`auth` option is required/);
  assert.throws(() => sio.instrument({ auth: { type: "basic", username: "admin", password: "plain" } }), /bcrypt hash/);
  assert.throws(() => sio.instrument({ auth: { type: "digest" } as unknown as AdminOptions["auth"] }), /invalid `auth` option/);
});

test("the admin namespace is instrument()'s alone: no connect handler can replace the one that authenticates", async () => {
  const before = new Server();
  before.on("connect", () => true, "/admin");
  assert.throws(() => before.instrument({ auth: BASIC }), /already has a "connect" handler/);
  const sio = new Server();
  const admin = sio.instrument({ auth: BASIC });
  assert.throws(() => sio.on("connect", () => true, "/admin"), /is the Admin UI's/);
  assert.throws(() => sio.of("/admin").on("join", () => undefined), /is the Admin UI's/);
  assert.throws(() => sio.instrument({ auth: BASIC }), /already called/);
  admin.close();
  await before.close();
  await sio.close();
});

test("a wrong password is refused with the message the UI recognises; the right one gets a session id that logs in alone", async () => {
  const server = await instrumented();
  try {
    const wrong = server.client("websocket", "/admin", { auth: { username: "admin", password: "nope" } });
    const refused = await within(
      new Promise<Error>((resolve) => wrong.once("connect_error", resolve)),
      WAIT,
      "connect_error",
    );
    assert.equal(refused.message, "invalid credentials");
    const noAuth = server.client("websocket", "/admin");
    assert.equal((await within(new Promise<Error>((resolve) => noAuth.once("connect_error", resolve)), WAIT, "connect_error")).message, "invalid credentials");

    const { socket, inbox } = admin(server, { username: "admin", password: "s3cret" });
    await within(waitConnect(socket), WAIT, "admin connect");
    const [sessionId] = (await within(inbox.next("session"), WAIT, "session")) as [string];
    assert.equal(typeof sessionId, "string");
    const [config] = (await within(inbox.next("config"), WAIT, "config")) as [{ supportedFeatures: string[] }];
    assert.deepEqual([...config.supportedFeatures].sort(), ["AGGREGATED_EVENTS", "ALL_EVENTS", "DISCONNECT", "EMIT", "JOIN", "LEAVE", "MDISCONNECT", "MJOIN", "MLEAVE"]);

    const again = server.client("websocket", "/admin", { auth: { sessionId } });
    await within(waitConnect(again), WAIT, "connect with the session id");
    const forged = server.client("websocket", "/admin", { auth: { sessionId: sessionId + "x" } });
    assert.equal((await within(new Promise<Error>((resolve) => forged.once("connect_error", resolve)), WAIT, "connect_error")).message, "invalid credentials");
  } finally {
    await server.close();
  }
});

test("development mode: all_sockets with handshake and rooms, then connections, rooms, events received and sent, disconnections", async () => {
  const server = await instrumented();
  try {
    const first = await server.connect("websocket", "/", { query: { user: "ann" } });
    await emitAck(first, "join", "lobby");
    const { socket, inbox } = admin(server, { username: "admin", password: "s3cret" });
    await within(waitConnect(socket), WAIT, "admin connect");
    const [all] = (await within(inbox.next("all_sockets"), WAIT, "all_sockets")) as [Serialized[]];
    const listed = all.find((s) => s.id === first.id);
    assert.ok(listed, "the connected client is listed");
    assert.equal(listed.nsp, "/");
    assert.equal(listed.transport, "websocket");
    assert.deepEqual([...listed.rooms].sort(), [first.id!, "lobby"].sort());
    assert.equal(listed.handshake.query.user, "ann");
    assert.equal(listed.clientId, first.io.engine.id.slice(0, 12));
    assert.equal(typeof listed.handshake.headers["user-agent"] === "string" || typeof listed.handshake.headers.host === "string", true);
    assert.ok(all.some((s) => s.nsp === "/admin" && s.id === socket.id), "the admin socket itself is listed, as socket.io's instrument lists it");

    const second = await server.connect("polling", "/");
    const [connected] = await nextMatching(inbox, "socket_connected", (a) => (a[0] as Serialized).id === second.id);
    assert.equal((connected as Serialized).transport, "polling");

    await emitAck(second, "join", "room-2");
    await nextMatching(inbox, "room_joined", (a) => a[0] === "/" && a[1] === "room-2" && a[2] === second.id);

    assert.deepEqual(await emitAck(second, "echo", { n: 1 }), [{ n: 1 }]);
    await nextMatching(inbox, "event_received", (a) => a[0] === "/" && a[1] === second.id && JSON.stringify(a[2]) === JSON.stringify(["echo", { n: 1 }]));

    await server.sio.emit("news", "hello", { room: "room-2" });
    await nextMatching(inbox, "event_sent", (a) => a[0] === "/" && a[1] === second.id && JSON.stringify(a[2]) === JSON.stringify(["news", "hello"]));
    await server.sio.emit("everyone", 7);
    await nextMatching(inbox, "event_sent", (a) => a[1] === first.id && JSON.stringify(a[2]) === JSON.stringify(["everyone", 7]));

    // A connection that upgrades: reported once it is on WebSocket (socket_updated).
    const third = await server.connect("polling+upgrade", "/");
    await nextMatching(inbox, "socket_updated", (a) => JSON.stringify(a[0]) === JSON.stringify({ id: third.id, nsp: "/", transport: "websocket" }));

    const secondId = second.id;
    second.disconnect();
    await nextMatching(inbox, "socket_disconnected", (a) => a[0] === "/" && a[1] === secondId && a[2] === "client disconnect");
  } finally {
    await server.close();
  }
});

test("server_stats carries the fields the UI shows, with traffic counted per second", async () => {
  const server = await instrumented();
  try {
    const client = await server.connect("websocket", "/");
    const { socket, inbox } = admin(server, { username: "admin", password: "s3cret" });
    await within(waitConnect(socket), WAIT, "admin connect");
    await emitAck(client, "echo", "x".repeat(100));
    type Stats = {
      serverId: string;
      hostname: string;
      pid: number;
      uptime: number;
      clientsCount: number;
      pollingClientsCount: number;
      aggregatedEvents: Array<{ timestamp: number; type: string; count: number }>;
      namespaces: Array<{ name: string; socketsCount: number }>;
    };
    const seen = new Set<string>();
    let last: Stats | null = null;
    await nextMatching(inbox, "server_stats", (a) => {
      last = a[0] as Stats;
      for (const e of last.aggregatedEvents) seen.add(e.type);
      return ["rawConnection", "packetsIn", "packetsOut", "bytesIn", "bytesOut"].every((t) => seen.has(t));
    }, "server_stats with every traffic figure");
    const stats = last! as Stats;
    assert.equal(stats.serverId, "test-server");
    assert.equal(stats.pid, process.pid);
    assert.equal(typeof stats.hostname, "string");
    assert.ok(stats.uptime > 0);
    assert.equal(stats.clientsCount, 2);
    assert.equal(stats.pollingClientsCount, 0);
    assert.deepEqual(
      stats.namespaces.find((n) => n.name === "/"),
      { name: "/", socketsCount: 1 },
    );
    assert.deepEqual(stats.namespaces.find((n) => n.name === "/admin"), { name: "/admin", socketsCount: 1 });
    for (const e of stats.aggregatedEvents) assert.equal(e.timestamp % 1000, 0);
  } finally {
    await server.close();
  }
});

test("actions: join, leave, emit and _disconnect reach the client; the disconnect handler runs", async () => {
  const reasons = new Map<string, ReturnType<typeof deferred<string>>>();
  const server = await instrumented({}, (sio) => {
    sio.on("disconnect", (sid: string, reason: string) => reasons.get(sid)?.resolve(reason));
  });
  try {
    const client = await server.connect("websocket", "/");
    const { socket } = admin(server, { username: "admin", password: "s3cret" });
    await within(waitConnect(socket), WAIT, "admin connect");
    assert.deepEqual(await emitAck(socket, "join", "/", "vip", client.id), [{ ok: true }]);
    assert.deepEqual(server.sio.rooms(client.id!).sort(), [client.id!, "vip"].sort());
    assert.deepEqual(await emitAck(socket, "leave", "/", "vip", client.id), [{ ok: true }]);
    assert.deepEqual(server.sio.rooms(client.id!), [client.id!]);
    // MJOIN: every socket of the namespace.
    assert.deepEqual(await emitAck(socket, "join", "/", "all"), [{ ok: true }]);
    assert.deepEqual(server.sio.participants("/", "all"), [client.id!]);

    const got = new Promise<unknown[]>((resolve) => client.once("from-admin", (...a: unknown[]) => resolve(a)));
    assert.deepEqual(await emitAck(socket, "emit", "/", client.id, "from-admin", 1, "two"), [{ ok: true }]);
    assert.deepEqual(await within(got, WAIT, "the admin's emit"), [1, "two"]);

    assert.deepEqual(await emitAck(socket, "join", 42, "vip"), [{ error: "invalid arguments" }]);

    const reason = deferred<string>();
    reasons.set(client.id!, reason);
    const clientSide = new Promise<string>((resolve) => client.once("disconnect", resolve));
    assert.deepEqual(await emitAck(socket, "_disconnect", "/", false, client.id), [{ ok: true }]);
    assert.equal(await within(reason.promise, WAIT, "the server's disconnect handler"), "server disconnect");
    assert.equal(await within(clientSide, WAIT, "the client's disconnect"), "io server disconnect");
  } finally {
    await server.close();
  }
});

test("readonly: no actions in the config, and each action is refused", async () => {
  const server = await instrumented({ readonly: true });
  try {
    const client = await server.connect("websocket", "/");
    const { socket, inbox } = admin(server, { username: "admin", password: "s3cret" });
    await within(waitConnect(socket), WAIT, "admin connect");
    const [config] = (await within(inbox.next("config"), WAIT, "config")) as [{ supportedFeatures: string[] }];
    assert.deepEqual([...config.supportedFeatures].sort(), ["AGGREGATED_EVENTS", "ALL_EVENTS"]);
    assert.deepEqual(await emitAck(socket, "_disconnect", "/", true, client.id), [{ error: "read-only" }]);
    assert.deepEqual(await emitAck(socket, "join", "/", "vip", client.id), [{ error: "read-only" }]);
    assert.deepEqual(await emitAck(socket, "leave", "/", client.id, client.id), [{ error: "read-only" }]);
    assert.deepEqual(await emitAck(socket, "emit", "/", null, "x"), [{ error: "read-only" }]);
    // Still connected and still in its own room only, after a round trip.
    assert.deepEqual(await emitAck(client, "echo", 1), [1]);
    assert.ok(client.connected);
    assert.deepEqual(server.sio.rooms(client.id!), [client.id!]);
  } finally {
    await server.close();
  }
});

test("production mode: stats only (no socket list, no ALL_EVENTS); a function as auth (python-socketio's callable)", async () => {
  const server = await instrumented({ mode: "production", auth: (auth) => auth.token === "t0k3n" });
  try {
    await server.connect("websocket", "/");
    const refused = server.client("websocket", "/admin", { auth: { token: "bad" } });
    assert.equal((await within(new Promise<Error>((resolve) => refused.once("connect_error", resolve)), WAIT, "connect_error")).message, "invalid credentials");
    const { socket, inbox } = admin(server, { token: "t0k3n" });
    await within(waitConnect(socket), WAIT, "admin connect");
    const [config] = (await within(inbox.next("config"), WAIT, "config")) as [{ supportedFeatures: string[] }];
    assert.ok(!config.supportedFeatures.includes("ALL_EVENTS"));
    await within(inbox.next("server_stats"), WAIT, "server_stats");
    await within(inbox.next("server_stats"), WAIT, "a second server_stats");
    assert.equal(inbox.all("all_sockets").length, 0);
    assert.equal(inbox.all("socket_connected").length, 0);
  } finally {
    await server.close();
  }
});

function get(url: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    })
      .on("error", reject)
      .end();
  });
}

test("serveUi: the installed @socket.io/admin-ui page at /admin/, pointed at this server; other paths untouched", async () => {
  const server = await instrumented({ serveUi: "/admin" });
  try {
    const redirect = await get(server.url + "/admin");
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, "/admin/");
    const index = await get(server.url + "/admin/");
    assert.equal(index.status, 200);
    assert.match(String(index.headers["content-type"]), /text\/html/);
    assert.match(index.body, /<title>Socket.IO Admin UI<\/title>/);
    assert.match(index.body, /"path":"\/socket.io","namespace":"\/admin","auto":false/);
    const script = /src="(js\/app\.[0-9a-f]+\.js)"/.exec(index.body);
    assert.ok(script, "the page's script");
    const app = await get(server.url + "/admin/" + script[1]);
    assert.equal(app.status, 200);
    assert.match(String(app.headers["content-type"]), /javascript/);
    assert.equal((await get(server.url + "/admin/js/../../package.json")).status, 404);
    assert.equal((await get(server.url + "/admin/nothing.js")).status, 404);
    assert.equal((await get(server.url + "/administrator")).status, 404);
    // Socket.IO itself is still served.
    const client = await server.connect("polling", "/");
    assert.ok(client.connected);
  } finally {
    await server.close();
  }
});

test("serveUi through the fetch handler (Bun, Deno, Hono): the same page; the app still gets the rest", async () => {
  const sio = new Server();
  sio.instrument({ auth: false, serveUi: "/ops/admin/" });
  try {
    const handler = sio.fetchHandler({ app: () => new Response("app", { status: 200 }) });
    const index = (await handler(new Request("http://localhost/ops/admin/")))!;
    assert.equal(index.status, 200);
    // Authentication off: the page stores its own origin as the server URL and connects at once.
    assert.match(await index.text(), /"path":"\/socket.io","namespace":"\/admin","auto":true/);
    assert.equal((await handler(new Request("http://localhost/ops/admin")))!.headers.get("location"), "/ops/admin/");
    assert.equal((await handler(new Request("http://localhost/ops/admin/favicon.png")))!.headers.get("content-type"), "image/png");
    assert.equal((await handler(new Request("http://localhost/ops/admin/", { method: "POST" })))!.status, 405);
    assert.equal(await (await handler(new Request("http://localhost/elsewhere")))!.text(), "app");
  } finally {
    await sio.close();
  }
});
