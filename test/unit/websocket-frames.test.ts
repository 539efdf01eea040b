// WebSocketTransport.onFrame (src/engine/transports/websocket.ts) with a recording peer and session:
// the maxHttpBufferSize bound on each incoming frame (in UTF-16 units for text, bytes for binary),
// parse errors, and the probe handshake of an upgrade, all decided before any packet reaches the
// session. test/engine/raw-websocket.test.ts checks the same over a real WebSocket.

import { test } from "node:test";
import assert from "node:assert/strict";
import { WebSocketTransport } from "../../src/engine/transports/websocket.js";
import type { EngineSocket } from "../../src/engine/socket.js";
import type { SessionHost } from "../../src/engine/session-host.js";
import type { OutFrame, WebSocketPeer } from "../../src/engine/http.js";
import type { Packet } from "../../src/engine/protocol/packet.js";

const LIMIT = 10;

function rig(probe: boolean, protocol: 3 | 4 = 4, upgradeAccepted = true) {
  const events: string[] = [];
  const packets: Packet[] = [];
  const sent: Array<string | Uint8Array> = [];
  const peer = {
    bufferedAmount: 0,
    sendFrames(frames: readonly OutFrame[]) {
      for (const f of frames) sent.push(f.frame);
    },
    close(code?: number, reason?: string) {
      events.push(`ws.close ${code ?? ""} ${reason ?? ""}`.trim());
    },
  } as WebSocketPeer;
  const session = {
    onTransportClose: (_t: unknown, reason: string) => events.push(`session.close ${reason}`),
    onPacket: (packet: Packet) => packets.push(packet),
    onProbe: () => events.push("session.probe"),
    onProbeClosed: () => events.push("session.probeClosed"),
    completeUpgrade: () => (events.push("session.upgrade"), upgradeAccepted),
  } as unknown as EngineSocket;
  const host = { options: { maxHttpBufferSize: LIMIT } } as unknown as SessionHost;
  const transport = new WebSocketTransport(host, peer, probe, protocol);
  transport.socket = session;
  return { transport, events, packets, sent };
}

test("a frame of exactly maxHttpBufferSize is delivered; one unit more closes with 1009 and a transport error", () => {
  const ok = rig(false);
  ok.transport.onFrame("4" + "x".repeat(LIMIT - 1));
  ok.transport.onFrame(Uint8Array.from(new Array<number>(LIMIT).fill(7)));
  assert.deepEqual(ok.packets, [
    { type: 4, data: "x".repeat(LIMIT - 1) },
    { type: 4, data: Uint8Array.from(new Array<number>(LIMIT).fill(7)) },
  ]);
  assert.deepEqual(ok.events, []);
  for (const frame of ["4" + "x".repeat(LIMIT), new Uint8Array(LIMIT + 1)]) {
    const big = rig(false);
    big.transport.onFrame(frame);
    assert.deepEqual(big.packets, []);
    assert.deepEqual(big.events, ["ws.close 1009 message too big", "session.close transport error"]);
  }
});

test("text is measured in UTF-16 units: 10 'é' (20 UTF-8 bytes) pass a limit of 10", () => {
  const r = rig(false);
  r.transport.onFrame("4" + "é".repeat(LIMIT - 1));
  assert.equal(r.packets.length, 1);
});

test("an oversized frame on a probe closes the WebSocket only; the polling session lives on", () => {
  const r = rig(true);
  r.transport.onFrame("2" + "p".repeat(LIMIT));
  assert.deepEqual(r.events, ["ws.close 1009 message too big"]);
});

test("a malformed frame is a parse error on an open transport, and closes a probe", () => {
  const open = rig(false);
  open.transport.onFrame("9");
  assert.deepEqual(open.events, ["session.close parse error"]);
  const probe = rig(true);
  probe.transport.onFrame("");
  assert.deepEqual(probe.events, ["ws.close 1000", "session.probeClosed"]);
  const v3 = rig(false, 3);
  v3.transport.onFrame("x");
  assert.deepEqual(v3.events, ["session.close parse error"]);
  const v3ok = rig(false, 3);
  v3ok.transport.onFrame("4abc");
  assert.deepEqual(v3ok.packets, [{ type: 4, data: "abc" }]);
});

test("v3 and v4 decode differently: a v4 binary frame is a message, a v3 one carries its type byte", () => {
  const v4 = rig(false, 4);
  v4.transport.onFrame(Uint8Array.from([4, 1]));
  assert.deepEqual(v4.packets, [{ type: 4, data: Uint8Array.from([4, 1]) }]);
  const v3 = rig(false, 3);
  v3.transport.onFrame(Uint8Array.from([4, 1]));
  assert.deepEqual(v3.packets, [{ type: 4, data: Uint8Array.from([1]) }]);
});

test("probe: 2probe is answered 3probe, 5 completes the upgrade, anything else closes the probe", () => {
  const r = rig(true);
  r.transport.onFrame("2probe");
  assert.deepEqual(r.sent, ["3probe"]);
  assert.deepEqual(r.events, ["session.probe"]);
  r.transport.onFrame("5");
  assert.deepEqual(r.events, ["session.probe", "session.upgrade"]);
  assert.equal(r.transport.probe, false);
  r.transport.onFrame("4after");
  assert.deepEqual(r.packets, [{ type: 4, data: "after" }]);

  for (const frame of ["2", "2other", "3probe", "4probe", "6"]) {
    const other = rig(true);
    other.transport.onFrame(frame);
    assert.deepEqual(other.sent, [], frame);
    assert.deepEqual(other.events, ["ws.close 1000", "session.probeClosed"], frame);
    assert.deepEqual(other.packets, [], frame);
  }
  const refused = rig(true, 4, false);
  refused.transport.onFrame("5");
  assert.deepEqual(refused.events, ["session.upgrade", "ws.close 1000", "session.probeClosed"]);
  assert.equal(refused.transport.probe, true);
});

test("frames after the close, or before a session is attached, are ignored", () => {
  const r = rig(false);
  r.transport.onClose();
  r.transport.onFrame("4late");
  assert.deepEqual(r.packets, []);
  assert.deepEqual(r.events, ["session.close transport close"]);
  const detached = rig(false);
  detached.transport.socket = null;
  detached.transport.onFrame("4x");
  detached.transport.onFrame("4" + "x".repeat(LIMIT * 2));
  assert.deepEqual(detached.packets, []);
  assert.deepEqual(detached.events, []);
});
