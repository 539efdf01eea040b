// The msgpack packet codec (src/socket/protocol/msgpack.ts) against socket.io-msgpack-parser, the
// official client-side parser: bytes its Encoder produces decode to the same packets here, bytes
// encoded here pass its Decoder (including its checkPacket), and bad input is a value, never a throw.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { MsgpackCodec } from "../../src/socket/protocol/msgpack.js";
import { DECODE_ERROR_CODES, MAX_DEPTH, PacketType, type DecodeErrorCode, type Packet } from "../../src/socket/protocol/packet.js";

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

test("malformed input is an error value with its documented code and a message for the log", () => {
  const bad: Array<[string, Uint8Array | string, DecodeErrorCode]> = [
    ["text message", "2[\"ev\"]", "INVALID_FORMAT"],
    ["empty", new Uint8Array(0), "INVALID_JSON"],
    ["truncated array", hex("92 c1"), "INVALID_JSON"],
    ["trailing bytes", hex("c0 c0"), "INVALID_JSON"],
    ["not a map", hex("93 01 02 03"), "INVALID_FORMAT"],
    ["array32 declaring 4 billion items", hex("dd ffffffff 01"), "INVALID_JSON"],
    ["map32 declaring 4 billion entries", hex("df ffffffff"), "INVALID_JSON"],
    ["str32 declaring 4 GiB", hex("db ffffffff 41"), "INVALID_JSON"],
    ["bin32 declaring 4 GiB", hex("c6 ffffffff 00"), "INVALID_JSON"],
  ];
  const encode = (packet: object) => new Uint8Array(new official.Encoder().encode(packet)[0]!);
  const packets: Array<[string, object, DecodeErrorCode]> = [
    ["type 5", { type: 5, nsp: "/", data: ["x"] }, "INVALID_TYPE"],
    ["type -1", { type: -1, nsp: "/", data: ["x"] }, "INVALID_TYPE"],
    ["type 1.5", { type: 1.5, nsp: "/" }, "INVALID_TYPE"],
    ["type as string", { type: "2", nsp: "/", data: ["x"] }, "INVALID_TYPE"],
    ["no namespace", { type: 2, data: ["x"] }, "INVALID_FORMAT"],
    ["namespace not a string", { type: 2, nsp: 1, data: ["x"] }, "INVALID_FORMAT"],
    ["negative id", { type: 2, nsp: "/", data: ["x"], id: -1 }, "INVALID_FORMAT"],
    ["fractional id", { type: 2, nsp: "/", data: ["x"], id: 1.5 }, "INVALID_FORMAT"],
    ["id as string", { type: 2, nsp: "/", data: ["x"], id: "1" }, "INVALID_FORMAT"],
    ["id beyond 2^53", { type: 2, nsp: "/", data: ["x"], id: 2 ** 53 }, "INVALID_FORMAT"],
    ["event without a name", { type: 2, nsp: "/", data: [] }, "INVALID_PAYLOAD"],
    ["event named by an object", { type: 2, nsp: "/", data: [{ name: "x" }] }, "INVALID_PAYLOAD"],
    ["reserved event name", { type: 2, nsp: "/", data: ["disconnect"] }, "INVALID_PAYLOAD"],
    ["event data not an array", { type: 2, nsp: "/", data: "x" }, "INVALID_PAYLOAD"],
    ["event data absent", { type: 2, nsp: "/" }, "INVALID_PAYLOAD"],
    ["ack without id", { type: 3, nsp: "/", data: [] }, "INVALID_FORMAT"],
    ["ack data not an array", { type: 3, nsp: "/", data: { a: 1 }, id: 1 }, "INVALID_PAYLOAD"],
    ["ack data absent", { type: 3, nsp: "/", id: 1 }, "INVALID_PAYLOAD"],
    ["CONNECT with an array", { type: 0, nsp: "/", data: [1] }, "INVALID_PAYLOAD"],
    ["DISCONNECT with data", { type: 1, nsp: "/", data: { a: 1 } }, "INVALID_PAYLOAD"],
  ];
  for (const [what, packet, code] of packets) bad.push([what, encode(packet), code]);
  for (const [what, input, code] of bad) {
    const result = decoder.add(input);
    assert.equal(result.ok, false, what);
    if (!result.ok) {
      assert.equal(result.code, code, what);
      assert.ok(DECODE_ERROR_CODES.includes(result.code), what);
      // What the server logs when it closes the connection: never an empty line.
      assert.ok(result.message.length > 10, `${what}: ${result.message}`);
    }
  }
  assert.equal(decoder.pending, false);
});

test("what the decoder accepts at the edges: number event names, CONNECT_ERROR, 64-bit ids, long shallow messages", () => {
  const encode = (packet: object) => new Uint8Array(new official.Encoder().encode(packet)[0]!);
  const accepted: Array<[string, Uint8Array, Packet]> = [
    // socket.io-parser accepts a number as the event name; so does this decoder.
    ["number event name", encode({ type: 2, nsp: "/", data: [42, "x"] }), { type: PacketType.EVENT, nsp: "/", data: [42, "x"] }],
    // Type 4 is in the packet-type range; the server, not the decoder, closes the connection.
    ["CONNECT_ERROR", encode({ type: 4, nsp: "/", data: { message: "m" } }), { type: PacketType.CONNECT_ERROR, nsp: "/", data: { message: "m" } }],
    // An id written as uint64 (cf) is a number, not a BigInt: msgpackr's int64AsType "number".
    [
      "uint64 id",
      hex("84 a474797065 03 a464617461 90 a36e7370 a12f a26964 cf 0000000000000007"),
      { type: PacketType.ACK, nsp: "/", data: [], id: 7 },
    ],
    // More bytes than MAX_DEPTH, nested one level: the depth walk runs and finds nothing deep.
    ["2 KB event", encode({ type: 2, nsp: "/", data: ["ev", "x".repeat(2048)] }), { type: PacketType.EVENT, nsp: "/", data: ["ev", "x".repeat(2048)] }],
  ];
  for (const [what, bytes, expected] of accepted) {
    const result = decoder.add(bytes);
    assert.ok(result.ok, what);
    assert.deepEqual(result.packet, expected, what);
  }
  assert.equal(decoder.pending, false);
});

test("packets without data or id: the keys are left out, as socket.io writes them", () => {
  // fixmap would be 82; msgpackr writes map16 (de 0002): type 1, nsp "/"
  const disconnect = "de0002a47479706501a36e7370a12f";
  for (const packet of [
    { type: PacketType.DISCONNECT, nsp: "/" },
    { type: PacketType.DISCONNECT, nsp: "/", data: null },
    { type: PacketType.DISCONNECT, nsp: "/", data: undefined, id: undefined },
    { type: PacketType.DISCONNECT, nsp: "/", id: null as unknown as number },
  ]) {
    const encoded = codec.encode(packet);
    assert.ok(encoded.ok);
    assert.equal(Buffer.from(encoded.bytes).toString("hex"), disconnect, JSON.stringify(packet));
  }
  // id 0 is an id: written.
  const ack = codec.encode({ type: PacketType.ACK, nsp: "/", data: [], id: 0 });
  assert.ok(ack.ok);
  assert.equal(Buffer.from(ack.bytes).toString("hex"), "de0004a47479706503a46461746190a36e7370a12fa2696400");
});

test("the encoded counter counts packets encoded, not refusals", () => {
  const own = new MsgpackCodec();
  assert.equal(own.encoded, 0);
  assert.ok(own.encode({ type: PacketType.EVENT, nsp: "/", data: ["a"] }).ok);
  assert.ok(own.encode({ type: PacketType.EVENT, nsp: "/", data: ["b"] }).ok);
  assert.equal(own.encode({ type: PacketType.EVENT, nsp: "/", data: ["c", Symbol("s")] }).ok, false);
  assert.equal(own.encoded, 2);
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

test("depth counts arrays and objects alike; a binary is a leaf; the checks are not fooled by the fast path", () => {
  const inArrays = (depth: number, leaf: unknown): unknown => {
    let value = leaf;
    for (let i = 0; i < depth; i++) value = [value];
    return value;
  };
  const inObjects = (depth: number, leaf: unknown): unknown => {
    let value = leaf;
    for (let i = 0; i < depth; i++) value = { a: value };
    return value;
  };
  const tooDeep = (data: unknown, what: string) => {
    const result = codec.encode({ type: PacketType.EVENT, nsp: "/", data, id: 1 });
    assert.equal(result.ok, false, what);
    assert.equal(!result.ok && result.code, "TOO_DEEP", what);
    assert.match(!result.ok ? result.message : "", /deeper than 1000/, what);
  };
  const fine = (data: unknown, what: string) => {
    const result = codec.encode({ type: PacketType.EVENT, nsp: "/", data });
    assert.ok(result.ok, what);
    const back = decoder.add(result.bytes);
    assert.ok(back.ok, what);
  };
  // The event array is level 1.
  fine(["ev", inObjects(MAX_DEPTH - 1, 1)], "objects at the limit");
  tooDeep(["ev", inObjects(MAX_DEPTH, 1)], "objects one level over");
  tooDeep(["ev", { a: inArrays(MAX_DEPTH - 1, 1) }], "an object over a deep array");
  // Nothing shallow beside the deep part (an ACK's only argument).
  tooDeep([inArrays(MAX_DEPTH, 1)], "an array whose only item is too deep");
  tooDeep({ a: inArrays(MAX_DEPTH, 1) }, "an object whose only value is too deep");
  // A binary at the deepest level allowed is a leaf, not one more level, in both directions.
  fine(["ev", inArrays(MAX_DEPTH - 1, Buffer.from([1, 2, 3]))], "a Buffer at the limit");
  fine(["ev", inArrays(MAX_DEPTH - 1, new Uint8Array(4))], "a Uint8Array at the limit");
  const decoded = decoder.add(hex("83 a474797065 02 a36e7370 a12f a464617461 92 a26576" + "91".repeat(MAX_DEPTH - 1) + "c403010203"));
  assert.ok(decoded.ok, "bin8 inside the deepest array allowed");
  const refused = decoder.add(hex("83 a474797065 02 a36e7370 a12f a464617461 92 a26576" + "91".repeat(MAX_DEPTH) + "c403010203"));
  assert.equal(!refused.ok && refused.code, "TOO_DEEP");
  assert.match(!refused.ok ? refused.message : "", /deeper than 1000/);
});

test("a codec with a maxDepth below the fast path's 4 levels refuses one level more, both ways", () => {
  const shallow = new MsgpackCodec(2);
  assert.ok(shallow.encode({ type: PacketType.EVENT, nsp: "/", data: ["e", [1]] }).ok);
  const refused = shallow.encode({ type: PacketType.EVENT, nsp: "/", data: ["e", [[1]]] });
  assert.equal(!refused.ok && refused.code, "TOO_DEEP");
  const bytes = codec.encode({ type: PacketType.EVENT, nsp: "/", data: ["e", [[1]]] });
  assert.ok(bytes.ok);
  const decoded = shallow.decoder().add(bytes.bytes);
  assert.equal(!decoded.ok && decoded.code, "TOO_DEEP");
});

test("data that cannot be encoded is an error value", () => {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  // A cycle is not "too deep" (each object is measured once): msgpackr's stack overflow says what it is.
  const a = codec.encode({ type: PacketType.EVENT, nsp: "/", data: ["ev", cycle] });
  assert.equal(a.ok, false);
  assert.equal(!a.ok && a.code, "UNSERIALIZABLE");
  const b = codec.encode({ type: PacketType.EVENT, nsp: "/", data: ["ev", Symbol("s")] });
  assert.equal(b.ok, false);
  assert.equal(!b.ok && b.code, "UNSERIALIZABLE");
  if (!b.ok) {
    assert.ok(b.cause instanceof Error);
    assert.equal(b.message, b.cause.message);
  }
});

test("a map key __proto__ does not change the decoded object's prototype", () => {
  const bytes = new Uint8Array(new official.Encoder().encode({ type: 2, nsp: "/", data: ["ev", JSON.parse('{"__proto__": {"polluted": true}}')] })[0]!);
  const result = decoder.add(bytes);
  assert.ok(result.ok && result.packet !== null);
  const arg = (result.packet.data as unknown[])[1] as object;
  assert.equal(Object.getPrototypeOf(arg), Object.prototype);
  assert.equal((arg as { polluted?: unknown }).polluted, undefined);
});
