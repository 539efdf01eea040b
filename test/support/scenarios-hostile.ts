// Hostile input, on every runtime and integration (part of the shared scenario set, run from
// scenarios.ts): what a client that does not follow the protocol sends, written byte for byte
// where a library client would normalise it.
//
// On the main fixture server: origins that a prefix comparison with the allowed one would admit
// (polling, preflight, POST, new WebSocket and upgrade); chunked POST bodies (no Content-Length,
// several chunks) past maxHttpBufferSize; static-file path traversal (fixtures that serve files);
// WebSocket messages and POSTs at and over maxHttpBufferSize, and binary attachments that lie
// (scenarios-limits.ts).
// On a second server of the same integration ("hostile" profile of fixtures/app.ts): an origin
// function that answers synchronously, asynchronously, throws or rejects; maxPayloadPackets;
// data nested 100,000 levels deep, sent by a client (decoded) and emitted by the server (encoded);
// and hooks and handlers that throw, whose text must reach no client (scenarios-failures.ts).
// No timing assertions: every wait is bounded only so that a failure does not hang the run.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { io, type Socket as ClientSocket } from "socket.io-client";
import { MAX_DEPTH } from "../../src/socket/protocol/packet.js";
import { ALLOWED_ORIGIN, CORS_FUNCTION_ORIGINS, HOSTILE_MAX_PAYLOAD_PACKETS, MAX_HTTP_BUFFER_SIZE, nestedArray, ORIGIN_PATTERNS } from "../integrations/fixtures/app.js";
import { emitAck, Inbox, within } from "../e2e/_util.js";
import { disconnectReasons, sleep, TRANSPORT_MODES, waitConnect, type TransportMode } from "./harness.js";
import { parseResponse, rawRequest, traversalProbes, type RawHttpResponse } from "./raw-request.js";
import type { Fixture, RunningFixture } from "./scenarios.js";
import { wsRefusal } from "../engine/raw-client.js";
import { runFailureScenarios } from "./scenarios-failures.js";
import { runLimitScenarios } from "./scenarios-limits.js";

const WAIT = 10_000;
const ENGINE = "/socket.io/?EIO=4";
const POLLING = `${ENGINE}&transport=polling`;
const FORBIDDEN = { code: 4, message: "Forbidden" };

export interface HostileContext {
  fixture: Fixture;
  /** The main fixture server's URL (once started). */
  url(): string;
  /** The main server's disconnect reason for a Socket.IO sid. */
  serverReason(sid: string): Promise<string>;
}

/** Origins that a prefix or substring comparison with ALLOWED_ORIGIN would admit, and other near misses. */
const NEAR_MISSES = [
  `${ALLOWED_ORIGIN}.evil.test`,
  ALLOWED_ORIGIN.slice(0, -1),
  `${ALLOWED_ORIGIN}:8080`,
  ALLOWED_ORIGIN.replace("http:", "https:"),
  `${ALLOWED_ORIGIN}/`,
  ALLOWED_ORIGIN.replace("//", "//sub."),
  "null",
];

export function runHostileScenarios(ctx: HostileContext): void {
  const { fixture } = ctx;

  describe("hostile input, main server", () => {
    test("CORS: the listed origin matches exactly; origins it prefixes or that prefix it are refused (polling, preflight, POST, WebSocket, upgrade)", async () => {
      const url = ctx.url();
      for (const origin of NEAR_MISSES) await expectRefused(url, origin);
      // The listed origin itself still passes everywhere, upgrades included.
      await expectAllowed(url, ALLOWED_ORIGIN);
    });

    test("CORS: RegExps in the list, anchored (nothing around the match), unanchored (matches anywhere) and with the g flag (same answer every time)", async () => {
      const url = ctx.url();
      assert.ok(ORIGIN_PATTERNS.anchored.test("https://app.pattern.example"));
      await expectAllowed(url, "https://app.pattern.example");
      for (const origin of ["https://app.pattern.example.evil.test", "http://app.pattern.example", "https://pattern.example", "https://app.pattern.exampl"]) {
        await expectRefused(url, origin);
      }
      // An unanchored pattern allows any origin that contains it: what docs/server-api.md (cors) warns about.
      await expectAllowed(url, "http://substring.example");
      await expectAllowed(url, "http://substring.example.evil.test");
      await expectRefused(url, "http://substring.exampl");
      // The g flag: every request gets the same answer (a stateful test() would refuse every other one).
      for (let i = 0; i < 4; i++) {
        const res = await fetch(url + POLLING, { headers: { origin: "http://global.example" } });
        assert.equal(res.status, 200, `request ${i}`);
        await res.text();
      }
      await expectAllowed(url, "http://global.example");
      await expectRefused(url, "http://global.example.evil.test");
    });

    test("maxHttpBufferSize: a chunked POST (no Content-Length, several chunks) past the limit gets 413 and the session closes", async () => {
      const url = ctx.url();
      const session = await pollingSession(url);
      const chunk = "z".repeat(8_000);
      // Each chunk is below the limit; together they pass it on the third.
      const chunks = ['4["echo","', chunk, chunk, chunk, chunk, '"]'];
      assert.ok(chunks.join("").length > MAX_HTTP_BUFFER_SIZE);
      const res = await within(chunkedPost(url, session.path, chunks), WAIT, "the 413");
      assert.equal(res.status, 413, res.body);
      assert.deepEqual(JSON.parse(res.body), { code: 3, message: "Payload too large" });
      assert.equal(await ctx.serverReason(session.nsSid), "transport error");
      const after = await fetch(url + session.path);
      assert.equal(after.status, 400);
      assert.deepEqual(await after.json(), { code: 1, message: "Session ID unknown" });
    });

    test("maxHttpBufferSize: a chunked POST below the limit, in several chunks, is taken whole", async () => {
      const url = ctx.url();
      const session = await pollingSession(url);
      const res = await within(chunkedPost(url, session.path, ['421["ec', 'ho","in ', "three chunks", '"]']), WAIT, "the POST");
      assert.equal(res.status, 200, res.body);
      assert.equal(res.body, "ok");
      // The echo handler emits the event, then acknowledges.
      let polled = "";
      while (!polled.includes('431["in three chunks"]')) polled += await within((async () => (await fetch(url + session.path)).text())(), WAIT, "the echo");
      assert.equal(polled, '42["echo","in three chunks"]\x1e431["in three chunks"]');
    });

    if (fixture.staticFiles === true) {
      const fixtures = fileURLToPath(new URL("../integrations/fixtures/", import.meta.url));
      const repo = fileURLToPath(new URL("../../", import.meta.url));
      // Files outside the static directory (fixtures/static), with a text that only they contain.
      const targets: Array<{ relative: string; absolute: string; marker: string }> = [
        { relative: "../app.ts", absolute: `${fixtures}app.ts`, marker: "createFixtureServer" },
        // A sibling directory named like the static one: a containment check without a separator would take it for the inside.
        { relative: "../static-sibling/not-public.txt", absolute: `${fixtures}static-sibling/not-public.txt`, marker: "NOT-PUBLIC-7c1e" },
        { relative: "../../../../package.json", absolute: `${repo}package.json`, marker: '"name": "sockjet"' },
      ];
      const probes = targets.flatMap(({ relative, absolute, marker }) => traversalProbes("/static", relative, absolute).map((probe) => ({ probe, marker })));

      test(`static files: ${probes.length} path-traversal probes, sent unnormalised on a raw socket, each get 404 and never the file`, async () => {
        const url = ctx.url();
        const served = await rawRequest(url, "/static/hello.txt");
        assert.equal(served.status, 200);
        assert.equal(served.body, "static hello\n");
        for (const { probe, marker } of probes) {
          const res = await rawRequest(url, probe);
          assert.ok(!res.body.includes(marker), `${probe} returned the file outside the static directory`);
          // Not a static file: the app's own 404 (the fixtures' apps answer 404 for unknown routes).
          // Hono on Node: @hono/node-server answers 400 itself to a backslash in the path, before
          // any handler (Bun and Deno turn a backslash into a slash, as URL parsing does).
          const expected = fixture.name === "hono" && probe.includes("\\") ? 400 : 404;
          assert.equal(res.status, expected, `${probe}: ${res.status} ${res.body.slice(0, 100)}`);
        }
      });
    }
  });

  describe("hostile input, main server: limits and lying attachments", () => {
    runLimitScenarios({ url: ctx.url, serverReason: ctx.serverReason });
  });

  describe("hostile input, second server (origin function, maxPayloadPackets, deep data, failing hooks)", () => {
    let server: RunningFixture;
    let observer: ClientSocket;
    const clients: ClientSocket[] = [];
    const reasons = disconnectReasons(WAIT);
    const serverReason = reasons.reasonOf;
    const open = async (mode: TransportMode): Promise<ClientSocket> => {
      const socket = io(server.url, { forceNew: true, reconnection: false, ...TRANSPORT_MODES[mode] });
      clients.push(socket);
      await within(waitConnect(socket), WAIT, `${mode} connect`);
      return socket;
    };

    before(async () => {
      server = await fixture.start({ perMessageDeflate: false, profile: "hostile" });
      observer = io(server.url + "/observer", { forceNew: true, reconnection: false, transports: ["websocket"] });
      observer.on("left", (info: { sid: string; reason: string }) => reasons.record(info.sid, info.reason));
      await within(waitConnect(observer), WAIT, "observer connect");
    });

    after(async () => {
      for (const socket of clients) socket.disconnect();
      observer?.disconnect();
      await server?.close();
    });

    let bystander: ClientSocket | null = null;
    runFailureScenarios({ url: () => server.url, serverReason, bystander: async () => (bystander ??= await open("websocket")) });

    test("CORS origin function: true and a promise of true allow; false, a promise of false, a throw and a rejection refuse with 403 code 4 (polling and upgrades)", async () => {
      await expectAllowed(server.url, CORS_FUNCTION_ORIGINS.sync);
      await expectAllowed(server.url, CORS_FUNCTION_ORIGINS.async);
      for (const origin of [CORS_FUNCTION_ORIGINS.asyncRefused, CORS_FUNCTION_ORIGINS.throws, CORS_FUNCTION_ORIGINS.rejects, "http://unknown.example"]) {
        await expectRefused(server.url, origin);
      }
      // The server goes on: a client still connects and echoes.
      const socket = await open("websocket");
      assert.deepEqual(await within(emitAck(socket, "echo", "after"), WAIT, "echo"), ["after"]);
    });

    test(`maxPayloadPackets (${HOSTILE_MAX_PAYLOAD_PACKETS}): a POST at the limit is taken; one packet more is 400 code 3 and the session closes ("parse error")`, async () => {
      const ok = await pollingSession(server.url);
      const atLimit = await post(server.url + ok.path, Array(HOSTILE_MAX_PAYLOAD_PACKETS).fill("6").join("\x1e"));
      assert.equal(atLimit.status, 200);
      assert.equal(atLimit.body, "ok");

      const victim = await pollingSession(server.url);
      const over = await post(server.url + victim.path, Array(HOSTILE_MAX_PAYLOAD_PACKETS + 1).fill("6").join("\x1e"));
      assert.equal(over.status, 400);
      assert.deepEqual(JSON.parse(over.body), { code: 3, message: "Bad request" });
      assert.equal(await serverReason(victim.nsSid), "parse error");
      assert.equal((await post(server.url + ok.path, '421["echo","still open"]')).body, "ok");
    });

    test(`maxPayloadPackets: a real client's burst below the limit (socket.io-client on long-polling, ${HOSTILE_MAX_PAYLOAD_PACKETS - 50} emits in one loop) all arrive`, async () => {
      const socket = await open("polling");
      const count = HOSTILE_MAX_PAYLOAD_PACKETS - 50;
      let echoed = 0;
      const all = new Promise<void>((resolve) =>
        socket.on("echo", () => {
          if (++echoed === count) resolve();
        }),
      );
      for (let i = 0; i < count; i++) socket.emit("echo", i);
      await within(all, WAIT, `${count} echoes`);
      assert.equal(socket.connected, true);
    });

    test("a raw WebSocket client sending a 100,000-deep array is closed with 'parse error'; other clients are unaffected", async () => {
      const bystander = await open("websocket");
      const ws = new WebSocket(server.url.replace(/^http/, "ws") + ENGINE + "&transport=websocket");
      const inbox = wsInbox(ws);
      assert.match(await within(inbox.next(), WAIT, "open packet"), /^0\{/);
      ws.send("40");
      const connected = await within(inbox.next(), WAIT, "CONNECT");
      const nsSid = (JSON.parse(connected.slice(2)) as { sid: string }).sid;
      const closed = new Promise<void>((resolve) => ws.once("close", () => resolve()));
      ws.send(`421["echo",${"[".repeat(100_000)}${"]".repeat(100_000)}]`);
      await within(closed, WAIT, "the socket to close");
      assert.equal(await serverReason(nsSid), "parse error");
      assert.deepEqual(await within(emitAck(bystander, "echo", "still here"), WAIT, "bystander echo"), ["still here"]);
    });

    test("a 100,000-deep array in a long-polling POST: taken, then the session closes with 'parse error'", async () => {
      const session = await pollingSession(server.url);
      const res = await post(server.url + session.path, `421["echo",${"[".repeat(100_000)}${"]".repeat(100_000)}]`);
      assert.equal(res.status, 200);
      assert.equal(await serverReason(session.nsSid), "parse error");
    });

    for (const mode of ["websocket", "polling"] as const) {
      test(`over ${mode}: data as deep as the limit (${MAX_DEPTH} levels with the event array) travels both ways`, async () => {
        const socket = await open(mode);
        const inbox = new Inbox(socket);
        const [acked] = await within(emitAck(socket, "echo", nestedArray(MAX_DEPTH - 1)), WAIT, "echo ack");
        assert.equal(depthOf(acked), MAX_DEPTH - 1);
        assert.equal(depthOf((await within(inbox.next("echo"), WAIT, "echo event"))[0]), MAX_DEPTH - 1);
        assert.deepEqual(await within(emitAck(socket, "deep", MAX_DEPTH - 1, "emit"), WAIT, "deep emit"), ["sent"]);
        assert.equal(depthOf((await within(inbox.next("deep"), WAIT, "deep event"))[0]), MAX_DEPTH - 1);
      });
    }

    for (const how of ["emit", "broadcast", "callback", "call"]) {
      test(`the server's ${how} of a 100,000-deep array rejects with SockjetError ENCODE_FAILED; nothing is sent, the connection goes on`, async () => {
        const socket = await open("websocket");
        const inbox = new Inbox(socket);
        socket.on("deep", (...values: unknown[]) => {
          const reply = values.at(-1);
          if (typeof reply === "function") (reply as (value: string) => void)("answered");
        });
        const [outcome] = (await within(emitAck(socket, "deep", 100_000, how), WAIT, `${how} outcome`)) as [Record<string, unknown>];
        assert.equal(outcome.sockjetError, true, JSON.stringify(outcome));
        assert.equal(outcome.code, "ENCODE_FAILED");
        // Same connection, same order: a "deep" event would have arrived before this ack.
        assert.deepEqual(await within(emitAck(socket, "echo", "after"), WAIT, "echo after"), ["after"]);
        assert.equal(inbox.count("deep"), 0);
      });
    }

    test("an acknowledgement the server cannot encode (100,000 levels) is logged as ENCODE_FAILED and not sent; the connection goes on", async () => {
      const socket = await open("websocket");
      let acked = false;
      socket.emit("deep", 100_000, "ack", () => (acked = true));
      const expected = { message: "acknowledgement could not be encoded; none sent", code: "ENCODE_FAILED", sid: socket.id };
      for (;;) {
        const [logged] = (await within(emitAck(socket, "logged-errors", socket.id), WAIT, "logged errors")) as [unknown[]];
        if (logged.some((entry) => JSON.stringify(entry) === JSON.stringify(expected))) break;
        await sleep(20);
      }
      assert.equal(acked, false);
      assert.equal(socket.connected, true);
    });
  });
}

// ---- helpers -------------------------------------------------------------------------------------

/** How deep `value` nests arrays (following the first element). */
function depthOf(value: unknown): number {
  let depth = 0;
  while (Array.isArray(value)) {
    depth++;
    value = value[0];
  }
  return depth;
}

/** A long-polling session joined to "/": its path (with the sid) and its Socket.IO sid. */
async function pollingSession(url: string): Promise<{ path: string; nsSid: string }> {
  const handshake = await fetch(url + POLLING);
  const sid = (JSON.parse((await handshake.text()).slice(1)) as { sid: string }).sid;
  const path = `${POLLING}&sid=${encodeURIComponent(sid)}`;
  assert.equal((await post(url + path, "40")).body, "ok");
  const connected = await (await fetch(url + path)).text();
  const match = /^40(\{.*\})$/.exec(connected);
  assert.ok(match, connected);
  return { path, nsSid: (JSON.parse(match[1]!) as { sid: string }).sid };
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url, { method: "POST", body, headers: { "content-type": "text/plain;charset=UTF-8", ...headers } });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/**
 * A POST with `Transfer-Encoding: chunked` and no Content-Length, each string its own chunk, written
 * on a raw socket with a pause between chunks (so that they arrive separately). Writing stops once
 * the server answers (a 413 comes before the body is complete).
 */
function chunkedPost(url: string, target: string, chunks: string[]): Promise<RawHttpResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const received: Buffer[] = [];
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      socket.destroy();
      try {
        resolve(parseResponse(Buffer.concat(received)));
      } catch (err) {
        reject(err);
      }
    };
    const socket = connect(Number(port), hostname, async () => {
      socket.write(
        `POST ${target} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: text/plain;charset=UTF-8\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
      );
      for (const chunk of chunks) {
        await sleep(20);
        if (received.length > 0 || socket.destroyed || !socket.writable) return;
        socket.write(`${Buffer.byteLength(chunk).toString(16)}\r\n${chunk}\r\n`);
      }
      if (received.length === 0 && socket.writable) socket.write("0\r\n\r\n");
    });
    socket.on("data", (chunk: Buffer) => {
      received.push(chunk);
      // A complete response (its length is known) need not wait for the server to close.
      try {
        const bytes = Buffer.concat(received);
        const head = bytes.indexOf("\r\n\r\n");
        const length = /\r\ncontent-length: *(\d+)/i.exec(bytes.subarray(0, head).toString("latin1"))?.[1];
        if (head !== -1 && length !== undefined && bytes.length >= head + 4 + Number(length)) finish();
      } catch {
        // not complete yet
      }
    });
    socket.on("end", finish);
    socket.on("close", finish);
    socket.on("error", (err) => (received.length > 0 ? finish() : reject(err)));
  });
}

/** Everything a permitted origin may do: handshake, preflight, POST to a session, new WebSocket, upgrade probe. */
async function expectAllowed(url: string, origin: string): Promise<void> {
  const handshake = await fetch(url + POLLING, { headers: { origin } });
  assert.equal(handshake.status, 200, `handshake from ${origin}`);
  assert.equal(handshake.headers.get("access-control-allow-origin"), origin);
  const sid = (JSON.parse((await handshake.text()).slice(1)) as { sid: string }).sid;
  const preflight = await fetch(url + POLLING, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
  assert.equal(preflight.status, 204, `preflight from ${origin}`);
  assert.equal(preflight.headers.get("access-control-allow-origin"), origin);
  const posted = await post(`${url}${POLLING}&sid=${encodeURIComponent(sid)}`, "40", { origin });
  assert.equal(posted.status, 200, `POST from ${origin}`);
  assert.equal(posted.body, "ok");
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}${ENGINE}&transport=websocket`, { headers: { origin } });
  try {
    assert.match(await within(wsInbox(ws).next(), WAIT, `WebSocket open packet for ${origin}`), /^0\{"sid":/);
  } finally {
    ws.terminate();
  }
  const probe = new WebSocket(`${url.replace(/^http/, "ws")}${ENGINE}&transport=websocket&sid=${encodeURIComponent(sid)}`, { headers: { origin } });
  try {
    const inbox = wsInbox(probe);
    await within(new Promise((resolve, reject) => probe.once("open", resolve).once("error", reject)), WAIT, `upgrade probe for ${origin}`);
    probe.send("2probe");
    assert.equal(await within(inbox.next(), WAIT, "3probe"), "3probe");
  } finally {
    probe.terminate();
  }
}

/** A refused origin: 403 code 4 without CORS headers on every request, and on both kinds of WebSocket handshake. */
async function expectRefused(url: string, origin: string): Promise<void> {
  // A session opened without an Origin (a non-browser client): the refused origin may not use it either.
  const sid = (JSON.parse((await (await fetch(url + POLLING)).text()).slice(1)) as { sid: string }).sid;
  const sessionUrl = `${url}${POLLING}&sid=${encodeURIComponent(sid)}`;
  const answers: Array<[string, Response]> = [
    ["handshake", await fetch(url + POLLING, { headers: { origin } })],
    ["preflight", await fetch(url + POLLING, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } })],
    ["POST to a session", await fetch(sessionUrl, { method: "POST", body: "40", headers: { origin, "content-type": "text/plain;charset=UTF-8" } })],
  ];
  for (const [what, res] of answers) {
    assert.equal(res.status, 403, `${what} from ${origin}`);
    assert.equal(res.headers.get("access-control-allow-origin"), null, `${what} from ${origin}`);
    assert.deepEqual(await res.json(), FORBIDDEN, `${what} from ${origin}`);
  }
  const wsBase = `${url.replace(/^http/, "ws")}${ENGINE}&transport=websocket`;
  for (const [what, wsUrl] of [
    ["WebSocket", wsBase],
    ["upgrade of a polling session", `${wsBase}&sid=${encodeURIComponent(sid)}`],
  ] as const) {
    const refusal = await within(wsRefusal(wsUrl, { origin }), WAIT, `${what} refusal for ${origin}`);
    assert.equal(refusal.status, 403, `${what} from ${origin}`);
    assert.deepEqual(refusal.body, FORBIDDEN, `${what} from ${origin}`);
  }
}

/** The text messages of a raw WebSocket, in order. */
function wsInbox(ws: WebSocket): { next(): Promise<string> } {
  const queue: string[] = [];
  const waiters: Array<(message: string) => void> = [];
  ws.on("message", (data: Buffer) => {
    const waiter = waiters.shift();
    if (waiter) waiter(data.toString());
    else queue.push(data.toString());
  });
  return { next: () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiters.push(resolve))) };
}
