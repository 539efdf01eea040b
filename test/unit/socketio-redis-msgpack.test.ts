// The socket.io-compatible manager's msgpack (src/manager/socketio-redis/msgpack.ts, msgpackr)
// against notepack.io 3 itself, the encoding of @socket.io/redis-adapter and redis-emitter: the
// same bytes for the messages they exchange, and each side decodes the other's. And the two wire
// formats' decoders answer malformed input with a result, never an exception.

import { test } from "node:test";
import assert from "node:assert/strict";
import notepack from "notepack.io";
import { decodeMsgpack, encodeMsgpack } from "../../src/manager/socketio-redis/msgpack.js";
import { ClassicFormat } from "../../src/manager/socketio-redis/classic.js";
import { ShardedFormat } from "../../src/manager/socketio-redis/sharded.js";

const samples: Record<string, unknown> = {
  broadcast: ["emitter", { type: 2, data: ["ev", 1, "two", { a: 1 }], nsp: "/" }, { rooms: ["r1"], flags: {}, except: [] }],
  binary: ["abc123", { type: 2, data: ["ev", Buffer.from([1, 2, 3]), { b: Buffer.alloc(300), c: Buffer.alloc(70_000, 7) }], nsp: "/chat" }, { rooms: [], except: ["x"], flags: { volatile: true } }],
  ackRequest: { uid: "u1", requestId: "r1", type: 7, packet: { type: 2, data: ["ev", null, true, false], nsp: "/" }, opts: { rooms: [], except: [], flags: { timeout: 5000 } } },
  undefinedValues: { a: undefined, b: [undefined, null], c: 1 },
  integers: [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31)],
  floats: [1.5, -0.25, 0.1, NaN, Infinity, -Infinity],
  strings: ["", "a", "x".repeat(31), "x".repeat(32), "é".repeat(200), "ünïcode ✓ 😀", "a".repeat(70_000)],
  bigMap: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
  hugeMap: Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, i])),
  longArray: Array.from({ length: 70_000 }, (_, i) => i % 3),
  dates: [new Date(1_700_000_000_000), new Date(1_700_000_000_123)],
  withToJSON: { when: { toJSON: () => "later" } },
  functionValues: { keep: 1, drop: () => 1 },
  mapsAndSets: [new Map([["a", 1]]), new Set([1])],
};

for (const [name, value] of Object.entries(samples)) {
  test(`msgpack ${name}: the bytes of notepack.io, and both decode each other`, () => {
    const ours = Buffer.from(encodeMsgpack(value));
    const theirs = notepack.encode(value);
    assert.ok(ours.equals(theirs), `${name}: ${ours.subarray(0, 32).toString("hex")} != ${theirs.subarray(0, 32).toString("hex")}`);
    assert.deepEqual(decodeMsgpack(theirs), notepack.decode(theirs));
  });
}

test("msgpack: integers beyond 32 bits differ in width only (float 64 here, int 64 there) and decode to the same number", () => {
  for (const n of [2 ** 32, 2 ** 53 - 1, -(2 ** 31) - 1, -(2 ** 53) + 1]) {
    assert.equal(notepack.decode(Buffer.from(encodeMsgpack(n))), n);
    assert.equal(decodeMsgpack(notepack.encode(n)), n);
  }
});

test("msgpack: every kind of binary travels as its bytes (notepack.io reads them as Buffers)", () => {
  const u16 = new Uint16Array([258, 772]);
  const view = new DataView(new Uint8Array([5, 6, 7, 8]).buffer, 1, 2);
  const decoded = notepack.decode(Buffer.from(encodeMsgpack([new Uint8Array([1, 2]), u16, view, new Uint8Array([9, 9]).buffer]))) as Buffer[];
  assert.deepEqual(decoded.map((b) => [...b]), [[1, 2], [...new Uint8Array(u16.buffer)], [6, 7], [9, 9]]);
  for (const b of decoded) assert.ok(Buffer.isBuffer(b));
});

test("msgpack: a __proto__ key decodes as an own property, not a prototype", () => {
  const bytes = Buffer.from([0x81, 0xa9, ...Buffer.from("__proto__"), 0x81, 0xa1, 0x78, 0x01]);
  const decoded = decodeMsgpack(bytes) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  assert.equal((decoded as { x?: unknown }).x, undefined);
});

const none = () => undefined;

test("classic format: malformed messages are results, not exceptions", () => {
  const f = new ClassicFormat("socket.io", false);
  const cases: Array<[string, Buffer]> = [
    ["socket.io#/#", Buffer.from([0xc1])],
    ["socket.io#/#", notepack.encode({ not: "an array" })],
    ["socket.io#/#", notepack.encode(["uid", { type: 2, data: "no array" }, {}])],
    ["socket.io#/#", notepack.encode(["uid", { type: 2, data: ["ev"] }, { rooms: [{}] }])],
    ["socket.io-request#/#", Buffer.from("{not json")],
    ["socket.io-request#/#", Buffer.from(JSON.stringify({ type: 5, requestId: "x", opts: { rooms: 3 } }))],
    ["socket.io-request#/#", Buffer.from(JSON.stringify({ type: 2, sid: 1 }))],
    ["socket.io-request#/#", Buffer.from(JSON.stringify({ type: 6, data: "x" }))],
    ["socket.io-request#/#", Buffer.from(JSON.stringify({ uid: 5, type: 6, data: ["x"] }))],
    ["socket.io-response#/#", Buffer.from(JSON.stringify([1]))],
  ];
  for (const [channel, payload] of cases) {
    const decoded = f.decode(channel, payload, none);
    assert.equal(decoded.ok, false, `${channel} ${payload.toString("hex")}`);
  }
  // An unknown request type and a response to someone else are ignored, not errors.
  assert.deepEqual(f.decode("socket.io-request#/#", Buffer.from(JSON.stringify({ type: 99 })), none), { ok: true, value: { type: "ignore", reason: "request type 99" } });
  assert.equal(f.decode("socket.io-response#/#", Buffer.from(JSON.stringify({ requestId: "zz", rooms: [] })), none).ok, true);
});

test("classic format: the emitter's requests (no uid) and the adapter's requests decode as socket.io sends them", () => {
  const f = new ClassicFormat("socket.io", false);
  const join = f.decode("socket.io-request#/chat#", Buffer.from(JSON.stringify({ type: 2, opts: { rooms: ["a"], except: ["b"] }, rooms: ["c", 4] })), none);
  assert.deepEqual(join, { ok: true, value: { type: "request", request: { kind: "sockets_join", uid: "emitter", nsp: "/chat", opts: { rooms: ["a"], except: ["b"] }, rooms: ["c", "4"] } } });
  const broadcast = f.decode("socket.io#/#r#", notepack.encode(["u1", { type: 2, data: ["ev", 1] }, { rooms: ["r"], except: [], flags: {} }]), none);
  assert.deepEqual(broadcast, { ok: true, value: { type: "request", request: { kind: "broadcast", uid: "u1", nsp: "/", packet: { type: 2, data: ["ev", 1], nsp: "/" }, opts: { rooms: ["r"], except: [] }, flags: {} } } });
});

test("classic format: a broadcast on another cluster's channel (a longer key matched by the pattern k#*) is ignored", () => {
  const f = new ClassicFormat("socket.io", false);
  const message = notepack.encode(["u1", { type: 2, data: ["ev"], nsp: "/" }, { rooms: [], except: [] }]);
  assert.deepEqual(f.decode("socket.io#other#/#", message, none), { ok: true, value: { type: "ignore", reason: "broadcast of / on socket.io#other#/#" } });
  assert.equal(f.decode("socket.io#/#", message, none).ok, true);
});

test("sharded format: malformed messages are results, not exceptions", () => {
  const f = new ShardedFormat("socket.io", "dynamic");
  const cases: Buffer[] = [
    Buffer.from([0xc1]),
    Buffer.from(JSON.stringify({ uid: "u", nsp: "/", type: "3" })),
    Buffer.from(JSON.stringify({ uid: "u", nsp: "/", type: 3, data: { packet: { type: 2, data: 1 } } })),
    Buffer.from(JSON.stringify({ uid: "u", nsp: "/", type: 7, data: { opts: {} } })),
    Buffer.from(JSON.stringify({ uid: "u", nsp: "/", type: 9, data: { packet: [] } })),
    notepack.encode({ uid: "u", nsp: "/", type: 4, data: { opts: { rooms: [null] }, rooms: [] } }),
  ];
  for (const payload of cases) assert.equal(f.decode("socket.io#/#", payload, none).ok, false, payload.toString("hex"));
  assert.deepEqual(f.decode("socket.io#/#", Buffer.from(JSON.stringify({ uid: "u", nsp: "/", type: 2 })), none), { ok: true, value: { type: "ignore", reason: "message type 2 on socket.io#/#" } });
});

test("sharded format: a one-room broadcast goes to the room's channel as socket.io's computeChannel decides", () => {
  const packet = { type: 2, data: ["ev"], nsp: "/" };
  const broadcast = (mode: "static" | "dynamic" | "dynamic-private", room: string) =>
    new ShardedFormat("p", mode).encodeRequest({ kind: "broadcast", uid: "u", nsp: "/", packet, opts: { rooms: [room], except: [] } }).channel;
  assert.equal(broadcast("dynamic", "lobby"), "p#/#lobby#");
  assert.equal(broadcast("dynamic", "x".repeat(20)), "p#/#");
  assert.equal(broadcast("dynamic-private", "x".repeat(20)), "p#/#" + "x".repeat(20) + "#");
  assert.equal(broadcast("static", "lobby"), "p#/#");
});
