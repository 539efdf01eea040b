// What the two conformance files share: the server of a file (started before its tests, its
// connections and itself closed after them) with the raw-client helpers its tests use, and the
// Engine.IO suite's cases that the socket.io-protocol suite replays against the Socket.IO server
// (handshakes, heartbeat, CLOSE while a GET waits, requests after an upgrade). engine-io.test.ts runs them against the echo
// server, socket-io.test.ts against the Socket.IO server; each case is written here once.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { MAX_PAYLOAD, PING_INTERVAL, PING_TIMEOUT, type Fixture } from "./server.js";
import {
  E,
  Wire,
  assertError,
  hasPing,
  http,
  openPacketRe,
  pollingHandshake,
  unlessPinged,
  until,
  within,
  wsHandshake,
  type Polling,
} from "./wire.js";

export const OPEN_POLLING = openPacketRe(["websocket"], PING_INTERVAL, PING_TIMEOUT, MAX_PAYLOAD);
export const OPEN_WEBSOCKET = openPacketRe([], PING_INTERVAL, PING_TIMEOUT, MAX_PAYLOAD);

/** A test file's server and the helpers its tests open connections with. */
export interface Conformance {
  /** The server's fixture; its fields are filled in by the file's `before` hook. */
  readonly f: Fixture;
  /** Registers a WebSocket to be terminated after the file's tests. */
  track(w: Wire): Wire;
  /** A long-polling session (handshake done). */
  session(): Promise<Polling>;
  /** A ws:// URL for an Engine.IO v4 WebSocket, `query` (e.g. `&sid=...`) appended. */
  wsUrl(query?: string): string;
  /** Waits until the server holds a long-poll GET of this session. */
  untilPollWaiting(sid: string): Promise<void>;
  /** Opens a WebSocket-only session (pings answered automatically unless autoPong is false). */
  wsSession(autoPong?: boolean): Promise<{ wire: Wire; open: string; sid: string }>;
  /** Opens the upgrade's probe WebSocket for a polling session: 2probe -> 3probe. */
  probe(sid: string): Promise<Wire>;
  /** A second WebSocket with the sid of a session being or having been upgraded: accepted (101), sent nothing and closed. */
  assertSecondWebSocketClosed(sid: string): Promise<void>;
}

/** Starts the server before the file's tests (root hooks: call at the top of a test file). */
export function serve(start: () => Promise<Fixture>): Conformance {
  const f = {} as Fixture;
  const sockets: Wire[] = [];
  before(async () => {
    Object.assign(f, await start());
  });
  after(async () => {
    for (const s of sockets) s.terminate();
    await f.close();
  });
  const track = (w: Wire): Wire => (sockets.push(w), w);
  const wsUrl = (query = "") => f.wsUrl(`EIO=4&transport=websocket${query}`);
  return {
    f,
    track,
    session: async () => (await pollingHandshake(f.port, f.poll)).session,
    wsUrl,
    untilPollWaiting: (sid) => until(() => f.pollWaiting(sid), 5000, "the server to hold the GET"),
    async wsSession(autoPong = true) {
      const s = await wsHandshake(wsUrl(), { autoPong });
      track(s.wire);
      return s;
    },
    async probe(sid) {
      const wire = track(new Wire(wsUrl(`&sid=${sid}`)));
      await within(wire.opened, 5000, "probe WebSocket open");
      wire.send("2probe");
      assert.equal(await wire.next(), "3probe");
      return wire;
    },
    async assertSecondWebSocketClosed(sid) {
      const second = track(new Wire(wsUrl(`&sid=${sid}`)));
      const outcome = await within(
        Promise.race([second.opened.then(() => "101" as const), second.refused.then((r) => `HTTP ${r.status} ${r.body}`)]),
        5000,
        "second WebSocket outcome",
      );
      assert.equal(outcome, "101", "the second WebSocket handshake completes");
      await second.waitClose();
      assert.deepEqual(second.frames, [], "nothing is sent on the second WebSocket");
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The Engine.IO suite's cases. Each function registers its tests in the caller's describe; `prefix`
// goes before each test's name (where one describe holds both transports).

/** Handshake over HTTP long-polling: the OPEN packet, and the refusals with their error codes. */
export function pollingHandshakeCases({ f }: Conformance, prefix = ""): void {
  test(`${prefix}a GET opens a session: 200, OPEN packet with sid, upgrades [websocket], 300/200, maxPayload 1e6`, async () => {
    const reply = await http(f.port, f.poll);
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers["content-type"]), /^text\/plain; ?charset=UTF-8$/i);
    const match = OPEN_POLLING.exec(reply.text);
    assert.ok(match, `OPEN packet: ${reply.text}`);
    assert.ok(match[1]!.length > 0);
    const open = JSON.parse(reply.text.slice(1)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(open).sort(), ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
  });

  test(`${prefix}missing or non-numeric EIO: 400 code 5`, async () => {
    for (const query of ["transport=polling", "EIO=abc&transport=polling"]) {
      assertError(await http(f.port, `${f.path}?${query}`), 400, E.version, query);
    }
  });

  test(`${prefix}missing or unknown transport: 400 code 0`, async () => {
    for (const query of ["EIO=4", "EIO=4&transport=abc"]) {
      assertError(await http(f.port, `${f.path}?${query}`), 400, E.transport, query);
    }
  });

  test(`${prefix}a handshake that is not a GET (POST, PUT): 400 code 2`, async () => {
    for (const method of ["POST", "PUT"]) {
      assertError(await http(f.port, f.poll, { method }), 400, E.method, method);
    }
  });
}

/** Handshake over WebSocket: the OPEN packet, and the connections that end without a session. */
export function websocketHandshakeCases({ f, track, wsSession }: Conformance, prefix = ""): void {
  test(`${prefix}a WebSocket opens a session: first frame is the OPEN packet, upgrades []`, async () => {
    const { open } = await wsSession();
    const match = OPEN_WEBSOCKET.exec(open);
    assert.ok(match, `OPEN packet: ${open}`);
    const keys = Object.keys(JSON.parse(open.slice(1)) as object).sort();
    assert.deepEqual(keys, ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
  });

  // The suite only requires that these connections end without a session. The reference refuses
  // an unknown transport with HTTP 400 before the WebSocket handshake; for a bad EIO it completes
  // the WebSocket handshake and then drops the connection without sending any packet.
  test(`${prefix}missing or non-numeric EIO: no session, no packet, the connection ends`, async () => {
    for (const query of ["transport=websocket", "EIO=abc&transport=websocket"]) {
      const wire = track(new Wire(f.wsUrl(query)));
      await wire.waitClose();
      assert.deepEqual(wire.frames, [], `${query}: no frame`);
      if (!wire.openedAt101) assert.equal((await within(wire.refused, 5000, "refusal")).status, 400, query);
    }
  });

  test(`${prefix}missing or unknown transport: HTTP 400, no WebSocket`, async () => {
    for (const query of ["EIO=4", "EIO=4&transport=abc"]) {
      const wire = track(new Wire(f.wsUrl(query)));
      const refused = await within(wire.refused, 5000, "refusal");
      assert.equal(refused.status, 400, query);
      assert.equal(wire.openedAt101, false);
    }
  });
}

/** How the heartbeat cases open their sessions, and what differs between the two servers. */
export interface HeartbeatSessions {
  /** A long-polling session whose pings the test answers (or not) by hand. */
  polling(): Promise<Polling>;
  /** A WebSocket session without autoPong, and how many frames it has read so far. */
  websocket(): Promise<{ wire: Wire; sid: string; framesRead: number }>;
  /**
   * Also checks that the WebSocket is still open after the three rounds and that the session is
   * gone once the server closed it (the Engine.IO file's checks, which the Socket.IO replay does not make).
   */
  sessionChecks: boolean;
}

/** The heartbeat: three PING/PONG rounds, and the close of a session that never answers a PING. */
export function heartbeatCases({ f }: Conformance, open: HeartbeatSessions): void {
  test("long-polling: three rounds of GET -> 2 (PING) and POST 3 (PONG) -> 200 ok", async () => {
    const s = await open.polling();
    for (let i = 0; i < 3; i++) {
      const poll = await within(s.get(), 5000, `ping ${i + 1}`);
      assert.equal(poll.status, 200);
      assert.equal(poll.text, "2", `ping ${i + 1}`);
      const pong = await s.post("3");
      assert.equal(pong.status, 200);
      assert.equal(pong.text, "ok");
    }
  });

  test("long-polling: a session that never answers the ping is closed (GET -> 400 code 1)", async () => {
    const s = await open.polling();
    await until(() => !f.hasSession(s.sid), 5000, "the ping timeout");
    assertError(await s.get(), 400, E.sid);
  });

  test("WebSocket: three rounds of 2 (PING) from the server and 3 (PONG) from the client", async () => {
    const { wire } = await open.websocket();
    for (let i = 0; i < 3; i++) {
      assert.equal(await wire.nextFrame(), "2", `ping ${i + 1}`);
      wire.send("3");
    }
    if (open.sessionChecks) assert.equal(wire.ws.readyState, wire.ws.OPEN);
  });

  test("WebSocket: a session that never answers the ping is closed by the server", async () => {
    const { wire, sid, framesRead } = await open.websocket();
    await wire.waitClose();
    assert.deepEqual(wire.frames.slice(framesRead), ["2"], "one PING, then the close");
    if (open.sessionChecks) assert.equal(f.hasSession(sid), false);
  });
}

/** CLOSE from a polling client while its GET waits: that GET ends with a NOOP, not a CLOSE. */
export function closeWhileGetWaitsCase({ session, untilPollWaiting }: Conformance): void {
  test("long-polling: POST 1 (CLOSE) while a GET waits: the GET gets 6 (NOOP), then the session is gone", async () => {
    const { s, reply, released } = await unlessPinged(async () => {
      const s = await session();
      const waiting = s.get();
      await untilPollWaiting(s.sid);
      const reply = await s.post("1");
      const released = await within(waiting, 5000, "the waiting GET");
      return hasPing(released.text) ? null : { s, reply, released };
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.text, "ok");
    assert.equal(released.status, 200);
    assert.equal(released.text, "6", "a client-initiated close releases the waiting GET with a NOOP, not a CLOSE");
    assertError(await s.get(), 400, E.sid, "GET after CLOSE");
  });
}

/** What the after-upgrade cases need from the server under test. */
export interface Upgraded {
  /** A polling session upgraded to WebSocket (whatever else the server needs done on it). */
  upgraded(): Promise<{ polling: Polling; wire: Wire }>;
  /** A packet to POST with the upgraded session's sid. */
  post: string;
  /** Proves the WebSocket still carries messages both ways. */
  assertWorks(wire: Wire): Promise<void>;
}

/** After an upgrade: the sid's polling requests are refused, a second WebSocket is closed, the WebSocket goes on. */
export function afterUpgradeCases({ assertSecondWebSocketClosed }: Conformance, u: Upgraded): void {
  test("a GET or POST with the sid after the upgrade: 400 code 3; the WebSocket keeps working", async () => {
    const { polling, wire } = await u.upgraded();
    assertError(await polling.get(), 400, E.bad, "GET");
    assertError(await polling.post(u.post), 400, E.bad, "POST");
    await u.assertWorks(wire);
  });

  // Reference: the WebSocket handshake completes (101) and the server closes that socket at once;
  // the session goes on over the first WebSocket.
  test("a second WebSocket with the sid after the upgrade is accepted (101) and closed at once", async () => {
    const { polling, wire } = await u.upgraded();
    await assertSecondWebSocketClosed(polling.sid);
    await u.assertWorks(wire);
  });
}

// ---------------------------------------------------------------------------------------------
// CORS for the suite's browser run (test-suite/index.html), which reaches the server from another
// origin: the reference server is configured with cors { origin: "*" }.

/** The Origin the tests send (a page opened from a file). */
export const CORS_ORIGIN = "null";

/** Access-Control-Allow-Origin lets CORS_ORIGIN read the answer. */
export const allowsOrigin = (value: unknown) => value === "*" || value === CORS_ORIGIN;

/** The preflight of a PUT handshake is allowed, so that the browser sends the PUT. */
export async function assertPutPreflightAllowed(f: Fixture): Promise<void> {
  const preflight = await http(f.port, f.poll, {
    method: "OPTIONS",
    headers: { Origin: CORS_ORIGIN, "Access-Control-Request-Method": "PUT" },
  });
  assert.ok(preflight.status === 200 || preflight.status === 204, `preflight status ${preflight.status}`);
  assert.ok(allowsOrigin(preflight.headers["access-control-allow-origin"]), "preflight ACAO");
  const methods = String(preflight.headers["access-control-allow-methods"] ?? "").split(/\s*,\s*/);
  assert.ok(methods.includes("PUT"), `Access-Control-Allow-Methods: ${preflight.headers["access-control-allow-methods"]}`);
}
