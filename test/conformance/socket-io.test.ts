// Socket.IO v5 conformance, on the wire: every behaviour checked by the test suite of
// socketio/socket.io-protocol (test-suite/test-suite.js: its Engine.IO part, run on /socket.io/
// against the Socket.IO server, then connect, disconnect and message), against a sockjet Server
// configured as that suite's reference server (see ./server.ts), with raw HTTP and raw WebSocket
// frames. Also: the CONNECT packet comes before anything a connect handler emits to its own sid,
// however the handler emits (sync, returned promise, awaited), over WebSocket and long-polling;
// a close the server starts (connect timeout) still ends a waiting GET with CLOSE (1).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { EMIT_IN_CONNECT, startSocketFixture } from "./server.js";
import {
  CORS_ORIGIN,
  afterUpgradeCases,
  allowsOrigin,
  assertPutPreflightAllowed,
  closeWhileGetWaitsCase,
  heartbeatCases,
  pollingHandshakeCases,
  serve,
  websocketHandshakeCases,
} from "./engine-cases.js";
import { E, Wire, assertError, bytes, hasPing, http, unlessPinged, within, type Polling } from "./wire.js";

const PH0 = '{"_placeholder":true,"num":0}';
const PH1 = '{"_placeholder":true,"num":1}';

const server = serve(startSocketFixture);
const { f, track, session, wsUrl, untilPollWaiting, wsSession, probe } = server;

/** The CONNECT reply for a namespace ("" for "/"): `40` [nsp `,`] `{"sid":"..."}`; returns the sid. */
function assertConnect(frame: string, nsp = ""): string {
  const prefix = nsp === "" ? "40" : `40${nsp},`;
  assert.ok(frame.startsWith(prefix), `CONNECT for ${nsp || "/"}: ${frame}`);
  const body = JSON.parse(frame.slice(prefix.length)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), ["sid"], `CONNECT payload keys: ${frame}`);
  assert.equal(typeof body.sid, "string");
  assert.match(frame, new RegExp(`^${prefix.replace(/[/]/g, "\\/")}\\{"sid":"[^"]+"\\}$`));
  return body.sid as string;
}

/** WebSocket session joined to "/", its "auth" event consumed. */
async function sioConnect(): Promise<Wire> {
  const { wire } = await wsSession();
  wire.send("40");
  assertConnect(await wire.nextText());
  assert.equal(await wire.nextText(), '42["auth",{}]');
  return wire;
}

/** Long-polling session joined to "/", its "auth" event consumed and pings answered: nothing left to read. */
async function pollingJoined(): Promise<Polling> {
  const s = await session();
  await s.send("40");
  assertConnect(await s.nextPacket());
  assert.equal(await s.nextPacket(), '42["auth",{}]');
  await s.answerBufferedPings();
  assert.deepEqual(s.buffered, []);
  return s;
}

/** After a malformed packet: the server closes the WebSocket and sends nothing but pings. */
async function assertClosedWithoutReply(wire: Wire, framesBefore: number): Promise<void> {
  await wire.waitClose();
  assert.deepEqual(
    wire.frames.slice(framesBefore).filter((fr) => fr !== "2"),
    [],
    "nothing is sent in reply",
  );
}

// ---------------------------------------------------------------------------------------------
// The suite's "Engine.IO protocol" part, on the Socket.IO server

describe("Engine.IO handshake on the Socket.IO server", () => {
  pollingHandshakeCases(server, "long-polling: ");
  websocketHandshakeCases(server, "WebSocket: ");
});

describe("Engine.IO heartbeat on the Socket.IO server", () => {
  // The suite runs these on connections that join no namespace; three rounds then take about
  // 3 x pingInterval, some 100 ms short of the 1000 ms connectTimeout, which a loaded machine can
  // overrun. Joining "/" first leaves the heartbeat alone to decide (engine-io.test.ts runs the
  // same cases on bare Engine.IO sessions), and makes the ping timeout the only possible cause of
  // a close.
  async function wsJoined(): Promise<{ wire: Wire; sid: string }> {
    const { wire, sid } = await wsSession(false);
    wire.send("40");
    assertConnect((await wire.nextFrame()) as string);
    assert.equal(await wire.nextFrame(), '42["auth",{}]');
    return { wire, sid };
  }

  heartbeatCases(server, {
    polling: pollingJoined,
    websocket: async () => ({ ...(await wsJoined()), framesRead: 3 }),
    sessionChecks: false,
  });
});

describe("Engine.IO close on the Socket.IO server", () => {
  closeWhileGetWaitsCase(server);

  test("long-polling, joined to '/': POST 1 while a GET waits: the GET gets 6, then the session is gone", async () => {
    const { s, released } = await unlessPinged(async () => {
      const s = await pollingJoined();
      const waiting = s.get();
      await untilPollWaiting(s.sid);
      await s.send("1");
      const released = await within(waiting, 5000, "the waiting GET");
      return hasPing(released.text) ? null : { s, released };
    });
    assert.equal(released.status, 200);
    assert.equal(released.text, "6");
    assertError(await s.get(), 400, E.sid, "GET after CLOSE");
  });

  // A close the server starts (here: no namespace joined within connectTimeout) ends the waiting
  // GET with CLOSE (1), unlike a close the client asked for.
  test("long-polling: when the server closes (connect timeout), the waiting GET gets 1 (CLOSE)", async () => {
    const s = await session();
    let last = "";
    await within(
      (async () => {
        for (;;) {
          const poll = await s.get();
          assert.equal(poll.status, 200, `GET -> ${poll.status} ${poll.text}`);
          if (poll.text !== "2") {
            last = poll.text;
            return;
          }
          await s.send("3");
        }
      })(),
      10_000,
      "the server-initiated close",
    );
    assert.equal(last, "1");
    assertError(await s.get(), 400, E.sid);
  });

  // Pongs are answered and "/" is joined (no connect timeout), so only the CLOSE can end the
  // session; see the same test in engine-io.test.ts about the reference server.
  test("WebSocket: 1 (CLOSE) from the client closes the socket", async () => {
    const wire = await sioConnect();
    const seen = wire.frames.length;
    wire.send("1");
    await assertClosedWithoutReply(wire, seen);
  });
});

describe("Engine.IO upgrade on the Socket.IO server", () => {
  /** Upgrades a polling session (2probe and 5 sent at once, as a client does) and joins "/" over the WebSocket. */
  async function upgradedJoined(): Promise<{ polling: Polling; wire: Wire }> {
    const s = await session();
    const wire = track(new Wire(wsUrl(`&sid=${s.sid}`)));
    await within(wire.opened, 5000, "probe WebSocket open");
    wire.send("2probe");
    wire.send("5");
    wire.send("40");
    assert.equal(await wire.next(), "3probe");
    assertConnect(await wire.nextText());
    assert.equal(await wire.nextText(), '42["auth",{}]');
    return { polling: s, wire };
  }

  test("2probe -> 3probe, the GET gets 6, 5 completes it; then the Socket.IO handshake runs over the WebSocket", async () => {
    const s = await session();
    const wire = await probe(s.sid);
    assert.equal(await within(s.nextPacket(), 5000, "the GET during the upgrade"), "6");
    assert.deepEqual(s.buffered.filter((p) => p !== "2"), []);
    wire.send("5");
    wire.send("40");
    assertConnect(await wire.nextText());
    assert.equal(await wire.nextText(), '42["auth",{}]');
  });

  afterUpgradeCases(server, {
    upgraded: upgradedJoined,
    post: "40",
    async assertWorks(wire) {
      wire.send('42["message","still here"]');
      assert.equal(await wire.nextText(), '42["message-back","still here"]');
    },
  });
});

// The suite's browser run (test-suite/index.html) reaches the server from another origin; the
// reference is configured with cors { origin: "*" } (see the same checks in engine-io.test.ts).
describe("CORS for the suite's browser run (cors: { origin: '*' })", () => {
  test("handshake and error replies carry Access-Control-Allow-Origin", async () => {
    const hs = await http(f.port, f.poll, { headers: { Origin: CORS_ORIGIN } });
    assert.equal(hs.status, 200);
    assert.ok(allowsOrigin(hs.headers["access-control-allow-origin"]), "handshake ACAO");
    const bad = await http(f.port, `${f.path}?EIO=abc&transport=polling`, { headers: { Origin: CORS_ORIGIN } });
    assertError(bad, 400, E.version);
    assert.ok(allowsOrigin(bad.headers["access-control-allow-origin"]), "error ACAO");
  });

  test("the preflight of a PUT handshake is allowed, so that the browser sends it and sees 400", async () => {
    await assertPutPreflightAllowed(f);
  });
});

// ---------------------------------------------------------------------------------------------
// The suite's "Socket.IO protocol" part

describe("Socket.IO connect", () => {
  test("40: CONNECT {sid} for '/', then the auth event with {}", async () => {
    const { wire } = await wsSession();
    wire.send("40");
    assertConnect(await wire.nextText());
    assert.equal(await wire.nextText(), '42["auth",{}]');
  });

  test('40{"token":"123"}: CONNECT for "/", then the auth event with that payload', async () => {
    const { wire } = await wsSession();
    wire.send('40{"token":"123"}');
    assertConnect(await wire.nextText());
    assert.equal(await wire.nextText(), '42["auth",{"token":"123"}]');
  });

  test("40/custom,: CONNECT for /custom, then the auth event in /custom", async () => {
    const { wire } = await wsSession();
    wire.send("40/custom,");
    assertConnect(await wire.nextText(), "/custom");
    assert.equal(await wire.nextText(), '42/custom,["auth",{}]');
  });

  test('40/custom,{"token":"abc"}: CONNECT for /custom, then the auth event with that payload', async () => {
    const { wire } = await wsSession();
    wire.send('40/custom,{"token":"abc"}');
    assertConnect(await wire.nextText(), "/custom");
    assert.equal(await wire.nextText(), '42/custom,["auth",{"token":"abc"}]');
  });

  test('40/random (unknown namespace): 44/random,{"message":"Invalid namespace"}', async () => {
    const { wire } = await wsSession();
    wire.send("40/random");
    assert.equal(await wire.nextText(), '44/random,{"message":"Invalid namespace"}');
  });

  test("4abc instead of a CONNECT: the server closes the connection", async () => {
    const { wire } = await wsSession();
    const seen = wire.frames.length;
    wire.send("4abc");
    await assertClosedWithoutReply(wire, seen);
  });

  test("no CONNECT at all: the server closes the connection (connectTimeout)", async () => {
    const { wire } = await wsSession();
    await wire.waitClose(10_000);
    assert.deepEqual(wire.frames.slice(1).filter((fr) => fr !== "2"), []);
  });
});

describe("Socket.IO disconnect", () => {
  test("41 leaves '/': nothing is sent in reply; the connection stays up (next frame is a PING)", async () => {
    const wire = await sioConnect();
    wire.dropQueuedPings();
    wire.send("41");
    assert.equal(await wire.nextFrame(), "2");
  });

  test("40/custom then 41/custom: '/' still works (message -> message-back)", async () => {
    const wire = await sioConnect();
    assert.equal(await wire.nextFrame(), "2", "a PING first, as in the suite");
    wire.send("40/custom");
    assertConnect(await wire.nextText(), "/custom");
    assert.equal(await wire.nextText(), '42/custom,["auth",{}]');
    wire.send("41/custom");
    wire.send('42["message","message to main namespace"]');
    assert.equal(await wire.nextText(), '42["message-back","message to main namespace"]');
  });
});

describe("Socket.IO messages", () => {
  test("an EVENT is answered with message-back and the same arguments", async () => {
    const wire = await sioConnect();
    wire.send('42["message",1,"2",{"3":[true]}]');
    assert.equal(await wire.nextText(), '42["message-back",1,"2",{"3":[true]}]');
  });

  test("a BINARY_EVENT with two attachments comes back as 452- with the same two binary frames", async () => {
    const wire = await sioConnect();
    wire.send(`452-["message",${PH0},${PH1}]`);
    wire.send(Uint8Array.from([1, 2, 3]));
    wire.send(Uint8Array.from([4, 5, 6]));
    assert.equal(await wire.nextText(), `452-["message-back",${PH0},${PH1}]`);
    assert.deepEqual(bytes(await wire.next()), [1, 2, 3]);
    assert.deepEqual(bytes(await wire.next()), [4, 5, 6]);
  });

  test("an EVENT with ack id 456 is acknowledged with 43456 and the same arguments", async () => {
    const wire = await sioConnect();
    wire.send('42456["message-with-ack",1,"2",{"3":[false]}]');
    assert.equal(await wire.nextText(), '43456[1,"2",{"3":[false]}]');
  });

  test("a BINARY_EVENT with ack id 789 is acknowledged with 462-789 and the same two binary frames", async () => {
    const wire = await sioConnect();
    wire.send(`452-789["message-with-ack",${PH0},${PH1}]`);
    wire.send(Uint8Array.from([1, 2, 3]));
    wire.send(Uint8Array.from([4, 5, 6]));
    assert.equal(await wire.nextText(), `462-789[${PH0},${PH1}]`);
    assert.deepEqual(bytes(await wire.next()), [1, 2, 3]);
    assert.deepEqual(bytes(await wire.next()), [4, 5, 6]);
  });

  for (const [name, packet] of [
    ["unknown packet type", "4abc"],
    ["payload not an array", "42{}"],
    ["invalid ack id", '42abc["message-with-ack",1,"2",{"3":[false]}]'],
  ] as const) {
    test(`invalid format (${name}: ${packet}) closes the connection`, async () => {
      const wire = await sioConnect();
      const seen = wire.frames.length;
      wire.send(packet);
      await assertClosedWithoutReply(wire, seen);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// A connect handler that emits to its own sid: CONNECT first, then the events, in order.

const expectedHello: Record<string, string[]> = {
  [EMIT_IN_CONNECT.sync]: ["1"],
  [EMIT_IN_CONNECT.returned]: ["1"],
  [EMIT_IN_CONNECT.awaited]: ["1"],
  [EMIT_IN_CONNECT.awaitedTwice]: ["1", "2"],
  [EMIT_IN_CONNECT.room]: ['"lobby"'],
};

describe("events emitted by a connect handler to its own sid arrive after CONNECT", () => {
  for (const [kind, nsp] of Object.entries(EMIT_IN_CONNECT)) {
    const hellos = expectedHello[nsp]!.map((arg) => `42${nsp},["hello",${arg}]`);

    test(`WebSocket, ${kind} (${nsp})`, async () => {
      const { wire } = await wsSession();
      wire.send(`40${nsp},`);
      assertConnect(await wire.nextText(), nsp);
      for (const hello of hellos) assert.equal(await wire.nextText(), hello);
      // Nothing else comes for this namespace: the next frames are those of joining "/".
      wire.send("40");
      assertConnect(await wire.nextText());
      assert.equal(await wire.nextText(), '42["auth",{}]');
      wire.send('42["message","marker"]');
      assert.equal(await wire.nextText(), '42["message-back","marker"]');
    });

    test(`long-polling, ${kind} (${nsp})`, async () => {
      const s = await session();
      await s.send(`40${nsp},`);
      assertConnect(await within(s.nextPacket(), 5000, "CONNECT"), nsp);
      for (const hello of hellos) assert.equal(await within(s.nextPacket(), 5000, "hello"), hello);
      assert.deepEqual(s.buffered.filter((p) => p !== "2"), [], "nothing else");
    });
  }
});
