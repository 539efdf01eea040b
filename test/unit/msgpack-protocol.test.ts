// The msgpack packet codec (src/socket/protocol/msgpack.ts) against socket.io-msgpack-parser, the
// official client-side parser: bytes its Encoder produces decode to the same packets here, bytes
// encoded here pass its Decoder (including its checkPacket), and bad input is a value, never a throw.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { MsgpackCodec } from "../../src/socket/protocol/msgpack.js";
import { MAX_DEPTH, PacketType, type Packet } from "../../src/socket/protocol/packet.js";

const require = createRequire(import.meta.url);
interface OfficialDecoder {
  add(bytes: Uint8Array): void;
  on(event: "decoded", fn: (packet: unknown) => void): void;
}
const official = require("socket.io-msgpack-parser") as {
  Encoder: new () => { encode(packet: object): Uint8Array[] };
  Decoder: new () => OfficialDecoder;
};

/** What the official parser makes of some bytes (throws what it throws). */
function officialDecode(bytes: Uint8Array): unknown {
  const decoder = new official.Decoder();
  let out: unknown;
  decoder.on("decoded", (packet) => (out = packet));
  decoder.add(bytes);
  return out;
}

const codec = new MsgpackCodec();
const decoder = codec.decoder();

function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ""), "hex"));
}

test("client packets, as the official encoder writes them, decode to the same packet", () => {
  const cases: Array<[object, Packet]> = [
    [{ type: 0, nsp: "/" }, { type: PacketType.CONNECT, nsp: "/" }],
    [{ type: 0, nsp: "/admin", data: { token: "t" } }, { type: PacketType.CONNECT, nsp: "/admin", data: { token: "t" } }],
    [{ type: 1, nsp: "/" }, { type: PacketType.DISCONNECT, nsp: "/" }],
    // socket.io-client adds `options`; it is not part of the packet.
    [{ type: 2, data: ["ev", 1, "two", { three: [3] }], options: { compress: true }, nsp: "/" }, { type: PacketType.EVENT, nsp: "/", data: ["ev", 1, "two", { three: [3] }] }],
    [{ type: 2, data: ["ev"], id: 12, nsp: "/" }, { type: PacketType.EVENT, nsp: "/", id: 12, data: ["ev"] }],
    [{ type: 3, data: [null, "ok"], id: 0, nsp: "/x" }, { type: PacketType.ACK, nsp: "/x", id: 0, data: [null, "ok"] }],
  ];
  for (const [raw, expected] of cases) {
    const [bytes] = new official.Encoder().encode(raw);
    const result = decoder.add(new Uint8Array(bytes!));
    assert.ok(result.ok, JSON.stringify(raw));
    assert.deepEqual(result.packet, expected);
  }
});

test("a Buffer from the client arrives as bytes, in place, with no placeholder", () => {
  const [bytes] = new official.Encoder().encode({ type: 2, data: ["file", { blob: Buffer.from([1, 2, 3]) }], nsp: "/" });
  // fixmap(3) "type" 2 "data" [ "file", { "blob": bin8(3) 01 02 03 } ] "nsp" "/"
  assert.equal(Buffer.from(bytes!).toString("hex"), "83a47479706502a46461746192a466696c6581a4626c6f62c403010203a36e7370a12f");
  const result = decoder.add(new Uint8Array(bytes!));
  assert.ok(result.ok && result.packet !== null);
  const blob = (result.packet.data as [string, { blob: unknown }])[1].blob;
  assert.ok(blob instanceof Uint8Array);
  assert.deepEqual([...blob], [1, 2, 3]);
});

test("server packets pass the official decoder and read back as sent", () => {
  const packets: Array<[Packet, object]> = [
    [{ type: PacketType.CONNECT, nsp: "/", data: { sid: "abc" } }, { type: 0, nsp: "/", data: { sid: "abc" } }],
    [{ type: PacketType.DISCONNECT, nsp: "/chat" }, { type: 1, nsp: "/chat" }],
    [{ type: PacketType.CONNECT_ERROR, nsp: "/", data: { message: "no", data: { code: 1 } } }, { type: 4, nsp: "/", data: { message: "no", data: { code: 1 } } }],
    [{ type: PacketType.EVENT, nsp: "/", data: ["news", "x"], id: 7 }, { type: 2, nsp: "/", data: ["news", "x"], id: 7 }],
    [{ type: PacketType.ACK, nsp: "/", data: [1], id: 3 }, { type: 3, nsp: "/", data: [1], id: 3 }],
    // BINARY_* types do not exist in this format: binary travels inside an EVENT/ACK.
    [{ type: PacketType.BINARY_EVENT, nsp: "/", data: ["bin", Buffer.from([4, 5])] }, { type: 2, nsp: "/", data: ["bin", Buffer.from([4, 5])] }],
    [{ type: PacketType.BINARY_ACK, nsp: "/", data: [new Uint8Array([6])], id: 1 }, { type: 3, nsp: "/", data: [Buffer.from([6])], id: 1 }],
  ];
  for (const [packet, expected] of packets) {
    const encoded = codec.encode(packet);
    assert.ok(encoded.ok);
    assert.deepEqual(officialDecode(encoded.bytes), expected);
  }
});

test("an event's bytes: the map socket.io writes, keys type, data, nsp, id", () => {
  const encoded = codec.encode({ type: PacketType.EVENT, nsp: "/", data: ["a", 1], id: 2 });
  assert.ok(encoded.ok);
  // msgpackr writes maps with a 16-bit count (de 0004); notepack.io reads either form.
  assert.equal(Buffer.from(encoded.bytes).toString("hex"), "de0004a47479706502a46461746192a16101a36e7370a12fa2696402");
});

test("malformed input is an error value", () => {
  const bad: Array<[string, Uint8Array | string]> = [
    ["text message", "2[\"ev\"]"],
    ["empty", new Uint8Array(0)],
    ["truncated array", hex("92 c1")],
    ["trailing bytes", hex("c0 c0")],
    ["not a map", hex("93 01 02 03")],
    ["array32 declaring 4 billion items", hex("dd ffffffff 01")],
    ["map32 declaring 4 billion entries", hex("df ffffffff")],
    ["str32 declaring 4 GiB", hex("db ffffffff 41")],
    ["bin32 declaring 4 GiB", hex("c6 ffffffff 00")],
  ];
  const encode = (packet: object) => new Uint8Array(new official.Encoder().encode(packet)[0]!);
  const packets: Array<[string, object]> = [
    ["type 5", { type: 5, nsp: "/", data: ["x"] }],
    ["type as string", { type: "2", nsp: "/", data: ["x"] }],
    ["no namespace", { type: 2, data: ["x"] }],
    ["negative id", { type: 2, nsp: "/", data: ["x"], id: -1 }],
    ["fractional id", { type: 2, nsp: "/", data: ["x"], id: 1.5 }],
    ["event without a name", { type: 2, nsp: "/", data: [] }],
    ["reserved event name", { type: 2, nsp: "/", data: ["disconnect"] }],
    ["event data not an array", { type: 2, nsp: "/", data: "x" }],
    ["ack without id", { type: 3, nsp: "/", data: [] }],
    ["CONNECT with an array", { type: 0, nsp: "/", data: [1] }],
    ["DISCONNECT with data", { type: 1, nsp: "/", data: { a: 1 } }],
  ];
  for (const [what, packet] of packets) bad.push([what, encode(packet)]);
  for (const [what, input] of bad) {
    const result = decoder.add(input);
    assert.equal(result.ok, false, what);
  }
});

test("depth is bounded as for JSON, and nesting that overflows msgpackr's stack is an error too", () => {
  const nested = (depth: number) => hex("83 a474797065 02 a36e7370 a12f a464617461" + "91".repeat(depth) + "c0");
  // data nests MAX_DEPTH + 1 arrays: refused for its depth (TOO_DEEP), before the payload rules.
  const deep = decoder.add(nested(MAX_DEPTH + 1));
  assert.equal(deep.ok, false);
  assert.equal(!deep.ok && deep.code, "TOO_DEEP");
  const overflow = decoder.add(nested(200_000));
  assert.equal(overflow.ok, false);
  // An event whose argument nests MAX_DEPTH - 1 levels is fine (the event array is the first level).
  let value: unknown = 1;
  for (let i = 0; i < MAX_DEPTH - 1; i++) value = [value];
  const fine = codec.encode({ type: PacketType.EVENT, nsp: "/", data: ["ev", value] });
  assert.ok(fine.ok);
  const back = decoder.add(fine.bytes);
  assert.ok(back.ok);
  const tooDeep = codec.encode({ type: PacketType.EVENT, nsp: "/", data: ["ev", [value]] });
  assert.equal(tooDeep.ok, false);
  assert.equal(!tooDeep.ok && tooDeep.code, "TOO_DEEP");
});

test("data that cannot be encoded is an error value", () => {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const a = codec.encode({ type: PacketType.EVENT, nsp: "/", data: ["ev", cycle] });
  assert.equal(a.ok, false);
  const b = codec.encode({ type: PacketType.EVENT, nsp: "/", data: ["ev", Symbol("s")] });
  assert.equal(b.ok, false);
  assert.equal(!b.ok && b.code, "UNSERIALIZABLE");
});

test("a map key __proto__ does not change the decoded object's prototype", () => {
  const bytes = new Uint8Array(new official.Encoder().encode({ type: 2, nsp: "/", data: ["ev", JSON.parse('{"__proto__": {"polluted": true}}')] })[0]!);
  const result = decoder.add(bytes);
  assert.ok(result.ok && result.packet !== null);
  const arg = (result.packet.data as unknown[])[1] as object;
  assert.equal(Object.getPrototypeOf(arg), Object.prototype);
  assert.equal((arg as { polluted?: unknown }).polluted, undefined);
});
