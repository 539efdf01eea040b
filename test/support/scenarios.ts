// The shared end-to-end scenario set, run against every runtime and integration (one test file per
// fixture in test/integrations). A fixture starts the server of test/integrations/fixtures/app.ts on
// its integration (in-process for the Node frameworks, a child process for Bun and Deno) and says
// what its runtime can do; the scenarios drive it with the official socket.io-client v4 over
// websocket-only and polling-with-upgrade, and with raw HTTP/WebSocket requests for the features
// of the integrations table (CORS, cookies, compression, maxHttpBufferSize, permessage-deflate).
// scenarios-hostile.ts adds hostile input (origins, chunked bodies, path traversal, packet counts,
// deep data), partly on a second server of the same integration.
// scenarios-http-limits.ts sends request heads past every runtime's header and URL limits.
// The server also accepts Engine.IO v3: scenarios-eio3.ts drives it with socket.io-client 2.x.
// No timing assertions: every wait is bounded only so that a failure does not hang the run.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { request as httpRequest, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { io, type ManagerOptions, type Socket as ClientSocket, type SocketOptions } from "socket.io-client";
import { ALLOWED_ORIGIN, APP_WEBSOCKET_PATH, HELLO_PATH, MAX_HTTP_BUFFER_SIZE, SUBSCRIBERS_PATH, helloText, type FixtureProfile } from "../integrations/fixtures/app.js";
import { bytesOf, emitAck, float32Of, Inbox, within } from "../e2e/_util.js";
import { disconnectReasons, sleep, TRANSPORT_MODES, waitConnect, waitUpgrade, type TransportMode } from "./harness.js";
import { runEio3Scenarios } from "./scenarios-eio3.js";
import { runHostileScenarios } from "./scenarios-hostile.js";
import { runHttpLimitScenarios } from "./scenarios-http-limits.js";

export interface RunningFixture {
  /** `http://127.0.0.1:PORT` */
  url: string;
  close(): Promise<void>;
}

export interface Fixture {
  /** The fixture's name; its app answers `GET /hello` with `hello from <name>`. */
  name: string;
  /** Starts the scenario server (fixtures/app.ts) on this integration, with the main profile unless told otherwise. */
  start(options: { perMessageDeflate: boolean; profile?: FixtureProfile }): Promise<RunningFixture>;
  /** `true` when the runtime negotiates permessage-deflate; otherwise the start-up error it must raise. */
  perMessageDeflate: true | { error: RegExp };
  /** Whether the fixture serves test/integrations/fixtures/static under `/static` (fetch handler `staticFiles`). */
  staticFiles?: boolean;
  /** Whether the fixture's app has a WebSocket route of its own at APP_WEBSOCKET_PATH. */
  appWebSocket?: boolean;
  /**
   * Bun only: whether broadcasts go through Bun's native topic publish (the default) or the general
   * per-socket path. The same scenarios run both ways; the fixture answers SUBSCRIBERS_PATH.
   */
  nativePublish?: boolean;
  /** Shown in the test names instead of `name` (e.g. "bun, general path"). */
  label?: string;
}

/** The transport modes of the shared set: the two a deployment actually uses. */
export const SCENARIO_MODES: readonly TransportMode[] = ["websocket", "polling+upgrade"];

const WAIT = 10_000;
const ENGINE = "/socket.io/?EIO=4";

type ConnectError = Error & { data?: unknown };
type ClientOptions = Partial<ManagerOptions & SocketOptions>;

export function runScenarios(fixture: Fixture): void {
  describe(`${fixture.label ?? fixture.name}: shared scenarios`, () => {
    let server: RunningFixture;
    let observer: ClientSocket;
    const clients: ClientSocket[] = [];
    /** Disconnect reasons reported by the server, by sid. */
    const reasons = disconnectReasons(WAIT);
    const serverReason = reasons.reasonOf;

    const client = (mode: TransportMode, options: ClientOptions = {}, namespace = "/"): ClientSocket => {
      const socket = io(server.url + namespace, { forceNew: true, reconnection: false, ...TRANSPORT_MODES[mode], ...options });
      clients.push(socket);
      return socket;
    };
    const open = async (mode: TransportMode, options: ClientOptions = {}): Promise<ClientSocket> => {
      const socket = client(mode, options);
      await within(waitConnect(socket), WAIT, `${mode} connect`);
      if (mode === "polling+upgrade") await within(waitUpgrade(socket), WAIT, "upgrade to websocket");
      return socket;
    };

    before(async () => {
      server = await fixture.start({ perMessageDeflate: fixture.perMessageDeflate === true });
      observer = io(server.url + "/observer", { forceNew: true, reconnection: false, transports: ["websocket"] });
      observer.on("left", (info: { sid: string; reason: string }) => reasons.record(info.sid, info.reason));
      await within(waitConnect(observer), WAIT, "observer connect");
    });

    after(async () => {
      for (const socket of clients) socket.disconnect();
      observer?.disconnect();
      await server?.close();
    });

    for (const mode of SCENARIO_MODES) {
      describe(`over ${mode}`, () => {
        test("connect with auth: the handler sees auth, headers and the transport", async () => {
          const socket = await open(mode, { auth: { token: "ok", user: "ana" }, extraHeaders: { "x-fixture": "yes" } });
          const [info] = (await within(emitAck(socket, "whoami"), WAIT, "whoami")) as [Record<string, unknown>];
          assert.deepEqual(info.auth, { token: "ok", user: "ana" });
          assert.equal(info.transport, mode === "websocket" ? "websocket" : "polling");
          assert.equal(info.now, "websocket");
          assert.equal(info.path, "/socket.io/");
          assert.equal(info.eio, "4");
          assert.equal(info.header, "yes");
          assert.match(String(info.remoteAddress), /127\.0\.0\.1$/);
        });

        test("a rejected connect reaches the client as connect_error with message and data", async () => {
          const refused = await within(connectError(client(mode, { auth: { token: "refuse" } })), WAIT, "connect_error");
          assert.equal(refused.message, "refused by fixture");
          assert.deepEqual(refused.data, { code: 42 });
          const declined = await within(connectError(client(mode, { auth: { token: "false" } })), WAIT, "connect_error");
          assert.equal(declined.message, "Connection rejected by server");
        });

        test("events both ways with binary", async () => {
          const socket = await open(mode);
          const inbox = new Inbox(socket);
          const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
          const floats = new Float32Array([1.5, -2.25]);
          socket.emit("echo", "text", { nested: { bytes }, list: [1, bytes] }, floats);
          const [text, object, echoedFloats] = await within(inbox.next("echo"), WAIT, "echo event");
          assert.equal(text, "text");
          const { nested, list } = object as { nested: { bytes: unknown }; list: unknown[] };
          assert.deepEqual(bytesOf(nested.bytes), [...bytes]);
          assert.equal(list[0], 1);
          assert.deepEqual(bytesOf(list[1]), [...bytes]);
          assert.deepEqual(float32Of(echoedFloats), [1.5, -2.25]);
        });

        test("acknowledgements both ways, with binary", async () => {
          const socket = await open(mode);
          const ack = await within(emitAck(socket, "echo", 7, Buffer.from([5, 6])), WAIT, "echo ack");
          assert.equal(ack[0], 7);
          assert.deepEqual(bytesOf(ack[1]), [5, 6]);
          // The server calls the client (sio.call) and acknowledges with the client's answer.
          socket.on("question", (value: number, bytes: unknown, reply: (answer: unknown) => void) => {
            reply({ double: value * 2, bytes: Buffer.from(bytesOf(bytes)).reverse() });
          });
          const [answer] = (await within(emitAck(socket, "ask", 21), WAIT, "ask ack")) as [{ double: number; bytes: unknown }];
          assert.equal(answer.double, 42);
          assert.deepEqual(bytesOf(answer.bytes), [7, 8, 9]);
        });

        test("a room broadcast reaches the room's members, skipping the sender", async () => {
          const room = `room-${mode}`;
          const [sender, member, outsider] = await Promise.all([open(mode), open(mode), open(mode)]);
          const inboxes = { sender: new Inbox(sender), member: new Inbox(member), outsider: new Inbox(outsider) };
          await within(Promise.all([emitAck(sender, "join", room), emitAck(member, "join", room)]), WAIT, "join");
          await within(emitAck(sender, "shout", room, { bytes: Buffer.from([42]) }), WAIT, "shout ack");
          const [payload] = await within(inboxes.member.next("shout"), WAIT, "shout at the member");
          assert.deepEqual(bytesOf((payload as { bytes: unknown }).bytes), [42]);
          // "shouted" goes to everyone after the shout: whoever has it and no shout got none.
          await within(Promise.all([inboxes.sender.next("shouted"), inboxes.outsider.next("shouted")]), WAIT, "shouted");
          assert.equal(inboxes.sender.count("shout"), 0);
          assert.equal(inboxes.outsider.count("shout"), 0);
        });

        test("delivery order across direct emits and room/namespace broadcasts, within a turn and across turns", async () => {
          const room = `order-${mode}`;
          const [a, b] = await Promise.all([open(mode), open(mode)]);
          // A member that stays on long-polling: the general path beside the native one.
          const c = await open("polling");
          const seen = new Map<ClientSocket, number[]>([[a, []], [b, []], [c, []]]);
          const badBinary: number[] = [];
          for (const [socket, list] of seen) {
            socket.on("seq", (i: number, bytes?: unknown) => {
              list.push(i);
              if (i % 8 === 4 && bytesOf(bytes).join() !== `${Math.floor(i / 8) & 255},1,2`) badBinary.push(i);
            });
          }
          await within(Promise.all([a, b, c].map((socket) => emitAck(socket, "join", room))), WAIT, "join");
          await within(Promise.all([a, b].map((socket) => emitAck(socket, "join", `${room}-ws`))), WAIT, "join");
          const rounds = 30;
          const [total] = (await within(emitAck(a, "sequence", room, rounds, b.id), WAIT, "sequence ack")) as [number];
          assert.equal(total, rounds * 8);
          const all = Array.from({ length: total }, (_, i) => i);
          // Per round of 8: 0 direct to a, 1 room, 2 direct, 3 namespace, 4 room with binary,
          // 5 room skipping b, 6 direct, 7 the room of a and b only (all on WebSocket).
          const forB = all.filter((i) => [1, 3, 4, 7].includes(i % 8));
          const forC = all.filter((i) => [1, 3, 4, 5].includes(i % 8));
          // The ack left after every "seq" to a, on the same connection.
          assert.deepEqual(seen.get(a), all);
          await within(until(() => seen.get(b)!.length >= forB.length && seen.get(c)!.length >= forC.length), WAIT, "broadcasts at b and c");
          assert.deepEqual(seen.get(b), forB);
          assert.deepEqual(seen.get(c), forC);
          assert.deepEqual(badBinary, []);
        });

        test("a server disconnect reaches the client", async () => {
          const socket = await open(mode);
          const sid = socket.id!;
          const gone = onceEvent<[string]>(socket, "disconnect");
          socket.emit("kick-me");
          const [reason] = await within(gone, WAIT, "disconnect");
          assert.equal(reason, "io server disconnect");
          assert.equal(await serverReason(sid), "server disconnect");
        });

        test("an oversized message closes that connection only (transport error)", async () => {
          const [socket, bystander] = await Promise.all([open(mode), open(mode)]);
          const sid = socket.id!;
          const gone = onceEvent<[string]>(socket, "disconnect");
          socket.emit("echo", "y".repeat(MAX_HTTP_BUFFER_SIZE + 1000));
          const [reason] = await within(gone, WAIT, "disconnect");
          assert.equal(reason, "transport close");
          assert.equal(await serverReason(sid), "transport error");
          const ack = await within(emitAck(bystander, "echo", "still here"), WAIT, "bystander echo");
          assert.deepEqual(ack, ["still here"]);
        });
      });
    }

    runEio3Scenarios({ url: () => server.url, serverReason, openV4: (mode) => open(mode) });

    runHostileScenarios({ fixture, url: () => server.url, serverReason });

    runHttpLimitScenarios({ url: () => server.url });

    describe("HTTP features", () => {
      test("the app's own route answers while Socket.IO clients are connected", async () => {
        const sockets = await Promise.all([open("websocket"), open("polling+upgrade")]);
        const response = await fetch(server.url + HELLO_PATH);
        assert.equal(response.status, 200);
        assert.equal(await response.text(), helloText(fixture.name));
        assert.ok(sockets.every((socket) => socket.connected));
        const ack = await within(emitAck(sockets[1]!, "echo", "after"), WAIT, "echo");
        assert.deepEqual(ack, ["after"]);
      });

      if (fixture.staticFiles === true) {
        test("static files are served beside Socket.IO and the app", async () => {
          const response = await fetch(server.url + "/static/hello.txt");
          assert.equal(response.status, 200);
          assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
          assert.equal(await response.text(), "static hello\n");
          assert.equal((await fetch(server.url + "/static/../app.ts")).status, 404);
        });
      }

      if (fixture.appWebSocket === true) {
        test("the app's own WebSocket route works beside Socket.IO's", async () => {
          await open("websocket");
          const ws = new WebSocket(server.url.replace(/^http/, "ws") + APP_WEBSOCKET_PATH);
          try {
            await within(new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject)), WAIT, "app WebSocket open");
            const reply = nextMessage(ws);
            ws.send("ping");
            assert.equal(await within(reply, WAIT, "app WebSocket reply"), "app:ping");
          } finally {
            ws.close();
          }
        });
      }

      if (fixture.name === "bun") {
        const native = fixture.nativePublish !== false;
        test(`native publish ${native ? "on" : "off"}: Bun's room topics follow joins, upgrades, leaves and disconnects`, async () => {
          const room = "topics";
          const topic = "\u0000sockjet:1:/:" + room;
          const subscribers = async () => Number(await (await fetch(`${server.url}${SUBSCRIBERS_PATH}?topic=${encodeURIComponent(topic)}`)).text());
          const [a, b] = await Promise.all([open("websocket"), open("polling+upgrade")]);
          await within(Promise.all([emitAck(a, "join", room), emitAck(b, "join", room)]), WAIT, "join");
          // b connected on long-polling: it joins the topic at the first room broadcast after its upgrade.
          assert.equal(await subscribers(), native ? 1 : 0);
          await within(emitAck(a, "sequence", room, 1, ""), WAIT, "sequence");
          assert.equal(await subscribers(), native ? 2 : 0);
          await within(emitAck(b, "leave", room), WAIT, "leave");
          assert.equal(await subscribers(), native ? 1 : 0);
          a.disconnect();
          await within(until(async () => (await subscribers()) === 0), WAIT, "unsubscribed on disconnect");
        });
      }

      test("CORS: preflight and allowed origin get CORS headers; other origins get 403, upgrades too", async () => {
        const preflight = await fetch(`${server.url}${ENGINE}&transport=polling`, {
          method: "OPTIONS",
          headers: { origin: ALLOWED_ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
        });
        assert.equal(preflight.status, 204);
        assert.equal(preflight.headers.get("access-control-allow-origin"), ALLOWED_ORIGIN);
        assert.equal(preflight.headers.get("access-control-allow-credentials"), "true");
        assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /POST/);

        const allowed = await fetch(`${server.url}${ENGINE}&transport=polling`, { headers: { origin: ALLOWED_ORIGIN } });
        assert.equal(allowed.status, 200);
        assert.equal(allowed.headers.get("access-control-allow-origin"), ALLOWED_ORIGIN);
        await allowed.text();

        const refused = await fetch(`${server.url}${ENGINE}&transport=polling`, { headers: { origin: "http://evil.example" } });
        assert.equal(refused.status, 403);
        assert.equal(refused.headers.get("access-control-allow-origin"), null);
        assert.deepEqual(await refused.json(), { code: 4, message: "Forbidden" });

        const status = await within(upgradeRefusal(wsUrl(server.url), { origin: "http://evil.example" }), WAIT, "refused upgrade");
        assert.equal(status, 403);
      });

      test("cookies: the handshake sets io=<sid> on long-polling and on a WebSocket handshake", async () => {
        const response = await fetch(`${server.url}${ENGINE}&transport=polling`);
        const open = JSON.parse((await response.text()).slice(1)) as { sid: string };
        assert.equal(response.headers.get("set-cookie"), `io=${open.sid}; Path=/; HttpOnly; SameSite=Lax`);

        const ws = new WebSocket(wsUrl(server.url));
        try {
          const cookie = new Promise<string | undefined>((resolve) => ws.once("upgrade", (res) => resolve(res.headers["set-cookie"]?.[0])));
          const first = await within(nextMessage(ws), WAIT, "open packet");
          const sid = (JSON.parse(first.slice(1)) as { sid: string }).sid;
          assert.equal(await cookie, `io=${sid}; Path=/; HttpOnly; SameSite=Lax`);
        } finally {
          ws.close();
        }
      });

      test("compression: long-polling responses above the threshold are gzipped, smaller ones are not", async () => {
        const poll = await pollingSession(server.url);
        try {
          assert.equal(await poll.post("40"), "ok");
          const small = await poll.get({ "accept-encoding": "gzip" });
          assert.match(small.body, /^40\{"sid":/);
          assert.equal(small.encoding, null);
          assert.equal(await poll.post('42["big",5000]'), "ok");
          const large = await poll.get({ "accept-encoding": "gzip" });
          assert.equal(large.encoding, "gzip");
          assert.equal(large.body, `42["big","${"x".repeat(5000)}"]`);
        } finally {
          await poll.post("1");
        }
      });

      test("maxHttpBufferSize: announced as maxPayload; a larger POST gets 413", async () => {
        const poll = await pollingSession(server.url);
        assert.equal(poll.open.maxPayload, MAX_HTTP_BUFFER_SIZE);
        const response = await fetch(poll.url, { method: "POST", body: "4" + "z".repeat(MAX_HTTP_BUFFER_SIZE + 10) });
        assert.equal(response.status, 413);
        assert.deepEqual(await response.json(), { code: 3, message: "Payload too large" });
      });

      test("a long-poll abandoned by its client ends the session (transport close)", async () => {
        const poll = await pollingSession(server.url);
        assert.equal(await poll.post("40"), "ok");
        const connected = await poll.get();
        const sid = (JSON.parse(connected.body.slice(2)) as { sid: string }).sid;
        const request = httpRequest(poll.url);
        request.on("error", () => {});
        request.end();
        await new Promise<void>((resolve) => request.once("finish", () => resolve()));
        // Let the server take the poll before the client goes (there is no event to wait for).
        await sleep(100);
        request.destroy();
        assert.equal(await serverReason(sid), "transport close");
      });

      if (fixture.perMessageDeflate === true) {
        test("perMessageDeflate: negotiated, and large messages travel compressed both ways", async () => {
          const ws = new WebSocket(wsUrl(server.url), { perMessageDeflate: true });
          try {
            const inbox = messages(ws);
            assert.match(await within(inbox.next(), WAIT, "open packet"), /^0\{/);
            assert.match(ws.extensions, /permessage-deflate/);
            ws.send("40");
            assert.match(await within(inbox.next(), WAIT, "connect"), /^40\{/);
            const socket = (ws as unknown as { _socket: { bytesRead: number } })._socket;
            const before = socket.bytesRead;
            const payload = `42["echo","${"z".repeat(5000)}"]`;
            ws.send(payload);
            assert.equal(await within(inbox.next(), WAIT, "echo"), payload);
            // 5000 bytes of text arrived in far fewer bytes on the wire.
            assert.ok(socket.bytesRead - before < 1000, `read ${socket.bytesRead - before} bytes for a 5 kB message`);
          } finally {
            ws.close();
          }
        });
      } else {
        const expected = fixture.perMessageDeflate.error;
        test("perMessageDeflate: not supported, so asking for it fails clearly at start-up", async () => {
          await assert.rejects(fixture.start({ perMessageDeflate: true }), expected);
        });
      }
    });
  });
}

// ---- helpers -------------------------------------------------------------------------------------

/** Polls `check` (sync or async) every 20 ms until it holds; bounded by the caller's `within`. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await sleep(20);
}

function connectError(socket: ClientSocket): Promise<ConnectError> {
  return new Promise((resolve, reject) => {
    socket.once("connect_error", (err: ConnectError) => resolve(err));
    socket.once("connect", () => reject(new Error("connected, but a connect_error was expected")));
  });
}

function onceEvent<T extends unknown[]>(socket: ClientSocket, event: string): Promise<T> {
  return new Promise((resolve) => socket.once(event, (...values: unknown[]) => resolve(values as T)));
}

function wsUrl(url: string): string {
  return `${url.replace(/^http/, "ws")}${ENGINE}&transport=websocket`;
}

/** The HTTP status of a refused WebSocket handshake. */
function upgradeRefusal(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once("open", () => {
      ws.close();
      reject(new Error("the upgrade was accepted"));
    });
    ws.once("error", () => {});
  });
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once("message", (data: Buffer) => resolve(data.toString())));
}

/** Every text message of a raw WebSocket, in order. */
function messages(ws: WebSocket): { next(): Promise<string> } {
  const queue: string[] = [];
  const waiters: Array<(message: string) => void> = [];
  ws.on("message", (data: Buffer) => {
    const waiter = waiters.shift();
    if (waiter) waiter(data.toString());
    else queue.push(data.toString());
  });
  return {
    next: () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiters.push(resolve))),
  };
}

/** A raw long-polling session: the handshake, then GET/POST on its URL. */
async function pollingSession(base: string) {
  const response = await fetch(`${base}${ENGINE}&transport=polling`);
  const open = JSON.parse((await response.text()).slice(1)) as { sid: string; maxPayload: number };
  const url = `${base}${ENGINE}&transport=polling&sid=${encodeURIComponent(open.sid)}`;
  return {
    open,
    url,
    async post(body: string): Promise<string> {
      const res = await fetch(url, { method: "POST", body, headers: { "content-type": "text/plain;charset=UTF-8" } });
      return res.text();
    },
    async get(headers: Record<string, string> = {}): Promise<{ body: string; encoding: string | null }> {
      const res = await fetch(url, { headers });
      return { body: await res.text(), encoding: res.headers.get("content-encoding") };
    },
  };
}

// ---- fixtures ------------------------------------------------------------------------------------

/** Listens on an ephemeral port of 127.0.0.1 and resolves with the URL. */
export function listenNode(server: HttpServer): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

export function closeNode(server: HttpServer): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const NATIVE_FIXTURE = fileURLToPath(new URL("../integrations/fixtures/serve-native.ts", import.meta.url));
const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/**
 * Runs fixtures/serve-native.ts under Bun or Deno. The binaries come from the `bun` and `deno`
 * npm packages (node_modules/.bin); they are started directly rather than through `npx`, so that
 * the process killed at the end is the runtime itself.
 */
export function nativeFixture(runtime: "bun" | "deno", perMessageDeflate: Fixture["perMessageDeflate"], options: { nativePublish?: boolean } = {}): Fixture {
  const binary = `${REPO}node_modules/.bin/${runtime}`;
  // Deno: --unstable-sloppy-imports resolves src/'s `.js` specifiers to the `.ts` files.
  const args = runtime === "bun" ? [NATIVE_FIXTURE] : ["run", "-A", "--unstable-sloppy-imports", NATIVE_FIXTURE];
  const nativePublish = runtime === "bun" ? (options.nativePublish ?? true) : undefined;
  const env: Record<string, string> = nativePublish === false ? { SOCKJET_NATIVE_PUBLISH: "0" } : {};
  return {
    name: runtime,
    ...(nativePublish === undefined ? {} : { nativePublish, label: `${runtime}, ${nativePublish ? "native publish" : "general path"}` }),
    perMessageDeflate,
    staticFiles: true,
    appWebSocket: true,
    start: (start) => startChild(runtime, binary, args, { ...env, SOCKJET_PMD: start.perMessageDeflate ? "1" : "0", SOCKJET_PROFILE: start.profile ?? "main" }),
  };
}

const NODE_ON_DENO_FIXTURE = fileURLToPath(new URL("../integrations/fixtures/serve-node-on-deno.ts", import.meta.url));

/** The core's node:http adapter (`sio.attach`) run by Deno through its Node compatibility. */
export function nodeOnDenoFixture(): Fixture {
  const binary = `${REPO}node_modules/.bin/deno`;
  return {
    name: "deno, node:http",
    perMessageDeflate: true,
    start: (start) =>
      startChild("deno (node:http)", binary, ["run", "-A", "--unstable-sloppy-imports", NODE_ON_DENO_FIXTURE], {
        SOCKJET_PMD: start.perMessageDeflate ? "1" : "0",
        SOCKJET_PROFILE: start.profile ?? "main",
      }),
  };
}

/** Starts a fixture in a child process (killed when this process exits) and waits for its `{"port":N}` line. */
export async function startChild(name: string, command: string, args: string[], env: Record<string, string>): Promise<RunningFixture> {
  const child = spawn(command, args, { cwd: REPO, env: { ...process.env, ...env, NO_COLOR: "1" }, stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin!.end();
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    children.delete(child);
  };
  let line: string;
  try {
    line = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        out += chunk;
        const end = out.indexOf("\n");
        if (end !== -1) resolve(out.slice(0, end));
      });
      child.once("error", reject);
      void exited.then(() => reject(new Error(`${name} fixture exited (${child.exitCode ?? child.signalCode}) before listening:\n${stderr}`)));
      setTimeout(() => reject(new Error(`${name} fixture did not start within 30 s:\n${stderr}`)), 30_000).unref();
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const message = JSON.parse(line) as { port?: number; error?: string };
  if (message.error !== undefined) {
    await stop();
    throw new Error(message.error);
  }
  return { url: `http://127.0.0.1:${message.port}`, close: stop };
}
