// The in-memory connection state recovery store and the option checks, without ports: which logged
// events a session gets back (its rooms, its sid, skipSid, its namespace, after its offset, in
// order), that a session is taken once, and each bound that turns a recovery into a fresh session.

import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryRecoveryStore } from "../../src/socket/recovery-memory.js";
import { Recovery, type RecoveryLimits, type RecoverySession, type MissedEvent } from "../../src/socket/recovery.js";
import { OutPacket } from "../../src/engine/out-packet.js";
import { PacketType } from "../../src/engine/protocol/packet.js";
import type { EmitOperation } from "../../src/manager/manager.js";
import { silentLogger } from "../../src/util/logger.js";

const LIMITS: RecoveryLimits = {
  maxDisconnectionDuration: 60_000,
  retention: 120_000,
  maxMissedPackets: 1000,
  maxMissedBytes: 1024 * 1024,
  maxLogBytes: 16 * 1024 * 1024,
  maxSessions: 10_000,
};

function store(limits: Partial<RecoveryLimits> = {}): MemoryRecoveryStore {
  const s = new MemoryRecoveryStore();
  s.start({
    logger: silentLogger,
    limits: { ...LIMITS, ...limits },
    encode: (namespace, event, args) => [new OutPacket(PacketType.MESSAGE, `2${namespace},${JSON.stringify([event, ...args])}`)],
  });
  return s;
}

function emit(s: MemoryRecoveryStore, n: number, options: Partial<EmitOperation> = {}): string {
  const args = s.record({ type: "emit", namespace: "/", event: "ev", args: [n], rooms: null, skip: [], ...options });
  assert.equal(args[0], n);
  const offset = args[args.length - 1];
  assert.equal(typeof offset, "string");
  return offset as string;
}

const session = (over: Partial<RecoverySession> = {}): RecoverySession => ({ namespace: "/", sid: "S", pid: "P", rooms: ["r"], data: { a: 1 }, ...over });

/** The event numbers of missed events (each packet's text is `2/,["ev",n,"offset"]`). */
function numbers(missed: MissedEvent[]): number[] {
  return missed.map((m) => {
    assert.ok("packets" in m);
    const text = m.packets[0]!.data as string;
    return (JSON.parse(text.slice(text.indexOf(",") + 1)) as [string, number])[1];
  });
}

test("a session gets back, in order, the events after its offset that its sid or rooms would have received", async () => {
  const s = store();
  emit(s, 1);
  const offset = emit(s, 2, { rooms: ["r"] });
  s.persist(session());
  emit(s, 3); // namespace-wide
  emit(s, 4, { rooms: ["r"] });
  emit(s, 5, { rooms: ["other"] });
  emit(s, 6, { rooms: ["S"] }); // to the sid
  emit(s, 7, { rooms: ["r"], skip: ["S"] });
  emit(s, 8, { namespace: "/chat" });
  emit(s, 9, { rooms: ["other", "r"] });
  const restored = s.restore("/", "P", offset);
  assert.ok(restored !== null);
  assert.deepEqual(restored.session, session());
  assert.deepEqual(numbers(restored.missed), [3, 4, 6, 9]);
  assert.equal(s.restore("/", "P", offset), null, "a session is taken once");
  await s.close();
});

test("delivery and replay use the packets the store encoded (encode once)", async () => {
  const s = store();
  const offset = emit(s, 0);
  s.persist(session());
  const args = s.record({ type: "emit", namespace: "/", event: "ev", args: [1], rooms: null, skip: [] });
  const packets = s.packetsFor(args);
  assert.ok(packets !== undefined);
  assert.equal(s.packetsFor([...args]), undefined, "looked up by the very arguments array, not by value");
  const restored = s.restore("/", "P", offset);
  assert.ok(restored !== null && restored.missed.length === 1);
  const [missed] = restored.missed;
  assert.ok("packets" in missed!);
  assert.equal(missed.packets, packets, "the replay is the same packets object");
  await s.close();
});

test("offsets of another store, malformed, or ahead of the log are refused", async () => {
  const s = store();
  const other = store();
  const foreign = emit(other, 1);
  const own = emit(s, 1);
  for (const offset of [foreign, "", "x", own + "0", own.replace(/[^.]*$/, "-1"), own.replace(/[^.]*$/, "zzzzzzzzzzzz")]) {
    s.persist(session());
    assert.equal(s.restore("/", "P", offset), null, offset);
  }
  s.persist(session());
  assert.equal(s.restore("/chat", "P", own), null, "another namespace");
  await s.close();
  await other.close();
});

test("more than maxMissedPackets missed: refused; exactly that many: restored", async () => {
  const s = store({ maxMissedPackets: 3 });
  const offset = emit(s, 0);
  for (let n = 1; n <= 3; n++) emit(s, n);
  s.persist(session());
  assert.deepEqual(numbers(s.restore("/", "P", offset)!.missed), [1, 2, 3]);
  emit(s, 4);
  s.persist(session());
  assert.equal(s.restore("/", "P", offset), null);
  await s.close();
});

test("maxMissedBytes counts the encoded events a session would get", async () => {
  const s = store({ maxMissedBytes: 100 });
  const offset = emit(s, 0);
  emit(s, 1, { rooms: ["elsewhere"], args: [1, "x".repeat(500)] }); // not for this session: not counted
  emit(s, 2);
  s.persist(session());
  assert.deepEqual(numbers(s.restore("/", "P", offset)!.missed), [2]);
  emit(s, 3, { args: [3, "x".repeat(200)] });
  s.persist(session());
  assert.equal(s.restore("/", "P", offset), null);
  await s.close();
});

test("maxLogBytes: an event after the offset pushed out means a fresh session; the offset's own event pushed out does not", async () => {
  const s = store({ maxLogBytes: 1000 });
  const old = emit(s, 0);
  let last = old;
  for (let n = 1; n <= 20; n++) last = emit(s, n); // about 90 bytes each: the first ones leave
  assert.ok(s.stats.bytes <= 1000);
  s.persist(session());
  assert.equal(s.restore("/", "P", old), null, "events after this offset have left the log");
  const recent = emit(s, 21);
  void last;
  // Events after `recent` until `recent` itself leaves the log (the log then holds only those).
  let after = 0;
  while (s.stats.events > after) emit(s, 22 + after++);
  assert.equal(s.stats.events, after, "equal-sized events: each one pushed out exactly one");
  s.persist(session());
  const restored = s.restore("/", "P", recent);
  assert.ok(restored !== null, "the offset's own event has left, but nothing after it");
  assert.deepEqual(numbers(restored.missed), Array.from({ length: after }, (_, i) => 22 + i));
  await s.close();
});

test("maxSessions: past it the oldest session is dropped", async () => {
  const s = store({ maxSessions: 2 });
  const offset = emit(s, 0);
  s.persist(session({ pid: "A", sid: "a" }));
  s.persist(session({ pid: "B", sid: "b" }));
  s.persist(session({ pid: "C", sid: "c" }));
  assert.equal(s.stats.sessions, 2);
  assert.equal(s.restore("/", "A", offset), null);
  assert.equal(s.restore("/", "B", offset)?.session.sid, "b");
  assert.equal(s.restore("/", "C", offset)?.session.sid, "c");
  await s.close();
});

test("the option: limits checked, maxMissedBytes capped by the engine's buffer, claims read from the auth", () => {
  const engine = { maxBufferedBytes: 4096, pingInterval: 25_000, pingTimeout: 20_000 };
  const r = new Recovery({}, engine);
  assert.deepEqual(r.limits, { ...LIMITS, maxDisconnectionDuration: 120_000, retention: 165_000, maxMissedBytes: 4096 });
  assert.equal(r.scope, "server");
  for (const bad of [0, -1, 1.5, Number.NaN, Infinity]) {
    assert.throws(() => new Recovery({ maxDisconnectionDuration: bad }, engine), RangeError);
    assert.throws(() => new Recovery({ maxMissedPackets: bad }, engine), RangeError);
    assert.throws(() => new Recovery({ maxLogBytes: bad }, engine), RangeError);
  }
  assert.deepEqual(Recovery.claimOf({ pid: "p", offset: "o", token: 1 }), { pid: "p", offset: "o" });
  assert.equal(Recovery.claimOf({ pid: "p" }), null, "a client that received no event sends no offset");
  assert.equal(Recovery.claimOf({ pid: 1, offset: "o" }), null);
  assert.equal(Recovery.claimOf({ pid: "p".repeat(65), offset: "o" }), null, "ids longer than any handed out are not looked up");
  assert.equal(Recovery.claimOf(null), null);
  assert.equal(Recovery.claimOf("pid"), null);
  assert.ok(Recovery.recoverable("transport close") && Recovery.recoverable("ping timeout"));
  assert.ok(!Recovery.recoverable("client disconnect") && !Recovery.recoverable("server disconnect") && !Recovery.recoverable("buffer full"));
});
