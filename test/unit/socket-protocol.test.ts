import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DECODE_ERROR_CODES,
  Decoder,
  PacketType,
  defaultJson,
  encodePacket,
  hasBinary,
  MAX_DEPTH,
  type DecodeErrorCode,
  type DecodeResult,
  type EncodedPacket,
  type JsonCodec,
  type Packet,
} from "../../src/socket/protocol/packet.js";
import { deconstruct, exceedsDepth } from "../../src/socket/protocol/binary.js";

// ---------------------------------------------------------------------------------------------
// helpers

/** encodePacket, which must succeed: the text and the attachments. */
function encode(packet: Packet, json?: JsonCodec): EncodedPacket {
  const result = encodePacket(packet, json);
  assert.ok(result.ok, result.ok ? "" : `${result.code}: ${result.message}`);
  return { text: result.text, attachments: result.attachments };
}

function decodeOne(text: string, decoder = new Decoder()): DecodeResult {
  return decoder.add(text);
}

function expectPacket(result: DecodeResult): Packet {
  assert.equal(result.ok, true, result.ok ? "" : `${result.code}: ${result.message}`);
  assert.ok(result.ok && result.packet !== null, "expected a complete packet");
  return result.packet;
}

function expectError(result: DecodeResult, code: DecodeErrorCode): void {
  assert.equal(result.ok, false, `expected ${code}, got a packet`);
  if (!result.ok) {
    assert.equal(result.code, code, result.message);
    // What the server logs when it closes the connection: never an empty line.
    assert.equal(typeof result.message, "string");
    assert.ok(result.message.length > 0, `${code} without a message`);
  }
}

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

// The literal wire vectors from the Socket.IO v5 protocol document, both directions.
const vectors: Array<[string, Packet]> = [
  ["0", { type: PacketType.CONNECT, nsp: "/" }],
  ["0/admin,", { type: PacketType.CONNECT, nsp: "/admin" }],
  ['0{"token":"123"}', { type: PacketType.CONNECT, nsp: "/", data: { token: "123" } }],
  ['0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}', { type: PacketType.CONNECT, nsp: "/admin", data: { sid: "oSO0OpakMV_3jnilAAAA" } }],
  ["1/admin,", { type: PacketType.DISCONNECT, nsp: "/admin" }],
  ["1", { type: PacketType.DISCONNECT, nsp: "/" }],
  ['2["hello",1]', { type: PacketType.EVENT, nsp: "/", data: ["hello", 1] }],
  ['2/admin,456["project:delete",123]', { type: PacketType.EVENT, nsp: "/admin", id: 456, data: ["project:delete", 123] }],
  ["3/admin,456[]", { type: PacketType.ACK, nsp: "/admin", id: 456, data: [] }],
  ['31["ok"]', { type: PacketType.ACK, nsp: "/", id: 1, data: ["ok"] }],
  ['4{"message":"Not authorized"}', { type: PacketType.CONNECT_ERROR, nsp: "/", data: { message: "Not authorized" } }],
  ['4/admin,{"message":"Invalid namespace"}', { type: PacketType.CONNECT_ERROR, nsp: "/admin", data: { message: "Invalid namespace" } }],
  ['4"plain reason"', { type: PacketType.CONNECT_ERROR, nsp: "/", data: "plain reason" }],
];

// ---------------------------------------------------------------------------------------------
// text packets

test("encodes the spec's text vectors exactly", () => {
  for (const [wire, packet] of vectors) {
    assert.deepEqual(encode(packet), { text: wire, attachments: [] }, wire);
  }
});

test("decodes the spec's text vectors exactly", () => {
  const decoder = new Decoder();
  for (const [wire, packet] of vectors) {
    assert.deepEqual(expectPacket(decoder.add(wire)), packet, wire);
    assert.equal(decoder.pending, false);
  }
});

test("encoder omits null/undefined data and id, and the default namespace", () => {
  assert.equal(encode({ type: PacketType.CONNECT, nsp: "/", data: null }).text, "0");
  assert.equal(encode({ type: PacketType.CONNECT, nsp: "" }).text, "0");
  assert.equal(encode({ type: PacketType.EVENT, nsp: "/", id: 0, data: ["a"] }).text, '20["a"]');
  // a Buffer inside CONNECT_ERROR/CONNECT is not turned into an attachment (only EVENT/ACK are)
  assert.equal(encode({ type: PacketType.CONNECT, nsp: "/", data: { a: bytes(1) } }).text, '0{"a":{"0":1}}');
});

test("a namespace without a trailing comma runs to the end of the text", () => {
  assert.deepEqual(expectPacket(decodeOne("0/admin")), { type: PacketType.CONNECT, nsp: "/admin" });
  assert.deepEqual(expectPacket(decodeOne("1/a/b")), { type: PacketType.DISCONNECT, nsp: "/a/b" });
});

test("decoder accepts what socket.io-parser accepts: numeric event names, leading-zero ids, ids on CONNECT", () => {
  assert.deepEqual(expectPacket(decodeOne('2[42,"x"]')), { type: PacketType.EVENT, nsp: "/", data: [42, "x"] });
  assert.deepEqual(expectPacket(decodeOne('3007["x"]')), { type: PacketType.ACK, nsp: "/", id: 7, data: ["x"] });
  assert.deepEqual(expectPacket(decodeOne("012{}")), { type: PacketType.CONNECT, nsp: "/", id: 12, data: {} });
  assert.deepEqual(expectPacket(decodeOne(`3${Number.MAX_SAFE_INTEGER}[]`)), {
    type: PacketType.ACK,
    nsp: "/",
    id: Number.MAX_SAFE_INTEGER,
    data: [],
  });
});

test("a custom JsonCodec is used in both directions", () => {
  const calls: string[] = [];
  const json: JsonCodec = {
    stringify(value) {
      calls.push("stringify");
      return defaultJson.stringify(value);
    },
    parse(text) {
      calls.push("parse");
      return JSON.parse(text, (_key, value: unknown) => (value === "$date" ? "revived" : value)) as unknown;
    },
  };
  const { text } = encode({ type: PacketType.EVENT, nsp: "/", data: ["e", "$date"] }, json);
  assert.equal(text, '2["e","$date"]');
  assert.deepEqual(expectPacket(new Decoder({ json }).add(text)).data, ["e", "revived"]);
  assert.deepEqual(calls, ["stringify", "parse"]);
});

// ---------------------------------------------------------------------------------------------
// binary packets

test("encodes BINARY_EVENT with the exact attachment object", () => {
  const file = bytes(1, 2, 3);
  const encoded = encode({ type: PacketType.EVENT, nsp: "/", data: ["hello", file] });
  assert.equal(encoded.text, '51-["hello",{"_placeholder":true,"num":0}]');
  assert.equal(encoded.attachments.length, 1);
  assert.equal(encoded.attachments[0], file);
});

test("encodes BINARY_ACK with namespace and id (61-/admin,456[...])", () => {
  const buf = Buffer.from("hi"); // a Buffer is a Uint8Array, possibly at an offset inside a pool
  const encoded = encode({ type: PacketType.ACK, nsp: "/admin", id: 456, data: [buf] });
  assert.equal(encoded.text, '61-/admin,456[{"_placeholder":true,"num":0}]');
  assert.equal(encoded.attachments[0], buf);
});

test("binary nested in objects and arrays is numbered depth-first; the input is not mutated", () => {
  const a = bytes(0xa);
  const b = bytes(0xb);
  const c = bytes(0xc);
  const d = bytes(0xd);
  const meta = { kind: "x", when: new Date(0) };
  const data = ["upload", { file: { name: "f", chunks: [a, b] }, meta, extra: [[c]] }, d];
  const encoded = encode({ type: PacketType.EVENT, nsp: "/up", id: 9, data });
  assert.equal(
    encoded.text,
    '54-/up,9["upload",{"file":{"name":"f","chunks":[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]},' +
      '"meta":{"kind":"x","when":"1970-01-01T00:00:00.000Z"},"extra":[[{"_placeholder":true,"num":2}]]},{"_placeholder":true,"num":3}]',
  );
  assert.deepEqual(encoded.attachments, [a, b, c, d]);
  encoded.attachments.forEach((att, i) => assert.equal(att, [a, b, c, d][i]));
  // caller's data untouched
  assert.equal(data[2], d);
  assert.equal((data[1] as { meta: unknown }).meta, meta);
  assert.deepEqual((data[1] as { file: { chunks: unknown[] } }).file.chunks, [a, b]);
});

test("ArrayBuffer, Float32Array and DataView are sent as their exact bytes", () => {
  const ab = new Uint8Array([9, 8, 7]).buffer;
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const floats = new Float32Array([0, 1.5, 2]).subarray(1, 2); // non-zero byteOffset
  const backing = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]);
  const view = new DataView(backing.buffer, 2, 3);
  const encoded = encode({ type: PacketType.EVENT, nsp: "/", data: ["bin", { ab, floats }, view] });
  assert.equal(
    encoded.text,
    '53-["bin",{"ab":{"_placeholder":true,"num":0},"floats":{"_placeholder":true,"num":1}},{"_placeholder":true,"num":2}]',
  );
  const [first, second, third] = encoded.attachments;
  assert.ok(first instanceof Uint8Array && second instanceof Uint8Array && third instanceof Uint8Array);
  assert.deepEqual([...first], [9, 8, 7]);
  assert.equal(first.buffer, ab); // a view, not a copy
  const f15 = [0x00, 0x00, 0xc0, 0x3f]; // IEEE-754 1.5
  assert.deepEqual([...second], littleEndian ? f15 : f15.reverse());
  assert.deepEqual([...third], [2, 3, 4]);
});

test("toJSON results are searched for binary, like socket.io-parser", () => {
  const blob = bytes(5);
  class Attachment {
    toJSON(): unknown {
      return { name: "a.bin", content: blob };
    }
  }
  assert.equal(hasBinary(new Attachment()), true);
  const encoded = encode({ type: PacketType.EVENT, nsp: "/", data: ["file", new Attachment()] });
  assert.equal(encoded.text, '51-["file",{"name":"a.bin","content":{"_placeholder":true,"num":0}}]');
  assert.equal(encoded.attachments[0], blob);
});

test("a BINARY_* packet without binary is encoded as plain EVENT/ACK", () => {
  assert.equal(encode({ type: PacketType.BINARY_EVENT, nsp: "/", data: ["x"] }).text, '2["x"]');
  assert.equal(encode({ type: PacketType.BINARY_ACK, nsp: "/", id: 3, data: [] }).text, "33[]");
});

test("hasBinary", () => {
  assert.equal(hasBinary(null), false);
  assert.equal(hasBinary("abc"), false);
  assert.equal(hasBinary([1, { a: [{}] }]), false);
  assert.equal(hasBinary(new Date()), false);
  assert.equal(hasBinary(new ArrayBuffer(0)), true);
  assert.equal(hasBinary([1, { a: [{ b: new DataView(new ArrayBuffer(1)) }] }]), true);
  assert.equal(hasBinary({ deep: { deeper: Buffer.alloc(1) } }), true);
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  assert.equal(hasBinary(cyclic), false);
  cyclic.bin = bytes(1);
  assert.equal(hasBinary(cyclic), true);
});

test("decodes BINARY_EVENT: packet:null until the last attachment, then the exact objects", () => {
  const decoder = new Decoder();
  let result = decoder.add('51-["hello",{"_placeholder":true,"num":0}]');
  assert.deepEqual(result, { ok: true, packet: null });
  assert.equal(decoder.pending, true);
  const att = bytes(1, 2, 3);
  const packet = expectPacket(decoder.add(att));
  assert.deepEqual(packet, { type: PacketType.BINARY_EVENT, nsp: "/", data: ["hello", att] });
  assert.equal((packet.data as unknown[])[1], att);
  assert.equal(decoder.pending, false);
  // and the decoder continues normally
  result = decoder.add("0");
  assert.deepEqual(expectPacket(result), { type: PacketType.CONNECT, nsp: "/" });
});

test("decodes BINARY_ACK 61-/admin,456[...]", () => {
  const decoder = new Decoder();
  assert.deepEqual(decoder.add('61-/admin,456[{"_placeholder":true,"num":0}]'), { ok: true, packet: null });
  const att = bytes(0xff);
  const packet = expectPacket(decoder.add(att));
  assert.deepEqual(packet, { type: PacketType.BINARY_ACK, nsp: "/admin", id: 456, data: [att] });
});

test("multiple attachments are matched by num, not by position in the JSON", () => {
  const decoder = new Decoder();
  const text = '53-["multi",{"x":{"_placeholder":true,"num":2}},[{"_placeholder":true,"num":0}],{"_placeholder":true,"num":1}]';
  assert.deepEqual(decoder.add(text), { ok: true, packet: null });
  const [b0, b1, b2] = [bytes(0), bytes(1), bytes(2)];
  assert.deepEqual(decoder.add(b0), { ok: true, packet: null });
  assert.deepEqual(decoder.add(b1), { ok: true, packet: null });
  const packet = expectPacket(decoder.add(b2));
  const data = packet.data as [string, { x: unknown }, unknown[], unknown];
  assert.equal(data[1].x, b2);
  assert.equal(data[2][0], b0);
  assert.equal(data[3], b1);
});

test("round trip of nested binary through encode and decode", () => {
  const data = ["deep", { a: [bytes(1), { b: bytes(2, 3) }], c: "text" }, bytes()];
  const encoded = encode({ type: PacketType.EVENT, nsp: "/chat", id: 77, data });
  const decoder = new Decoder();
  let last: DecodeResult = decoder.add(encoded.text);
  for (const att of encoded.attachments) last = decoder.add(att);
  assert.deepEqual(expectPacket(last), { type: PacketType.BINARY_EVENT, nsp: "/chat", id: 77, data });
});

test("a __proto__ key cannot pollute prototypes during reconstruction", () => {
  const decoder = new Decoder();
  assert.equal(decoder.add('51-["e",{"__proto__":{"_placeholder":true,"num":0}}]').ok, true);
  const att = bytes(1);
  const packet = expectPacket(decoder.add(att));
  const holder = (packet.data as unknown[])[1] as object;
  assert.equal(Object.getPrototypeOf(holder), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(holder, "__proto__")?.value, att);

  assert.equal(decoder.add('51-["e",{"__proto__":{"polluted":{"_placeholder":true,"num":0}}},{"constructor":{"prototype":{"polluted2":1}}}]').ok, true);
  expectPacket(decoder.add(bytes(2)));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(({} as Record<string, unknown>).polluted2, undefined);
  assert.equal(Object.hasOwn(Object.prototype, "polluted"), false);
});

test("encoding data with an own __proto__ key keeps it as data", () => {
  const data = JSON.parse('["e",{"__proto__":{"x":1},"bin":0}]') as [string, Record<string, unknown>];
  data[1].bin = bytes(1);
  const encoded = encode({ type: PacketType.EVENT, nsp: "/", data });
  assert.equal(encoded.text, '51-["e",{"__proto__":{"x":1},"bin":{"_placeholder":true,"num":0}}]');
});

test("deeply nested binary payloads neither overflow nor throw (without the depth limit)", () => {
  const depth = 50_000;
  const text = `51-["deep",${"[".repeat(depth)}{"_placeholder":true,"num":0}${"]".repeat(depth)}]`;
  const decoder = new Decoder({ maxDepth: Number.POSITIVE_INFINITY });
  const result = decoder.add(text);
  if (result.ok) {
    const att = bytes(1);
    const packet = expectPacket(decoder.add(att));
    let node: unknown = (packet.data as unknown[])[1];
    for (let i = 0; i < depth; i++) node = (node as unknown[])[0];
    assert.equal(node, att);
  } else {
    expectError(result, "INVALID_JSON"); // an engine whose JSON.parse is recursive
  }
});

// ---------------------------------------------------------------------------------------------
// errors

test("INVALID_TYPE", () => {
  for (const text of ["", "7", "9[]", "a", " 0", "-1", '["x"]']) expectError(decodeOne(text), "INVALID_TYPE");
});

test("INVALID_FORMAT: attachments prefix, ack id", () => {
  for (const text of [
    '5-["a",{"_placeholder":true,"num":0}]', // no count
    '51["a",{"_placeholder":true,"num":0}]', // no "-" (count read as digits, then "[")
    "51", // count runs to the end
    '5a-["a"]',
    '51e0-["a"]', // socket.io-parser lets this through via loose equality
    '50-["a"]', // zero attachments (socket.io-parser: "Illegal attachments")
    '6/admin,1["a"]', // no count at all
    "3[]", // ACK without id
    '3/admin,["x"]',
    '61-[{"_placeholder":true,"num":0}]', // BINARY_ACK without id
    `3${Number.MAX_SAFE_INTEGER + 1}[]`,
    `3${"9".repeat(17)}[]`,
  ]) {
    expectError(decodeOne(text), "INVALID_FORMAT");
  }
});

// Under mutation testing (npm run mutate) every statement of the decoder is counted, about 30
// times slower: a shorter run keeps each mutant's test affordable, and Stryker's own timeout and
// hit limit take the place of the clock (quadratic work on 200,000 digits still never ends).
const MUTATING = process.env.STRYKER_NAMESPACE !== undefined;

// No clock here (the machines are shared): a parser that went back over the digits for each one
// would not finish 10 MB within the runner's per-test timeout, which is the check.
test("a 10 MB run of digits is rejected", () => {
  const length = MUTATING ? 200_000 : 10_000_000;
  const digits = "1".repeat(length);
  expectError(decodeOne(`3${digits}[]`), "INVALID_FORMAT");
  expectError(decodeOne(`5${digits}`), "INVALID_FORMAT"); // no "-"
  expectError(decodeOne(`5${digits}-[]`), "TOO_MANY_ATTACHMENTS");
  expectError(decodeOne(`5${"0".repeat(length)}-[]`), "INVALID_FORMAT"); // zero
});

test("INVALID_JSON", () => {
  for (const text of ['2["a"', "0{bad}", "2/admin,abc", "31 ", '4{"message":}', "0/admin,{", "2undefined"]) {
    expectError(decodeOne(text), "INVALID_JSON");
  }
});

test("INVALID_PAYLOAD: per-type rules", () => {
  for (const text of [
    "0[]", // CONNECT: object or absent
    '0"token"',
    "0null",
    "1{}", // DISCONNECT: absent
    "1/admin,{}",
    '1"bye"',
    "4", // CONNECT_ERROR: string or object
    "4[]",
    "41",
    "2", // EVENT: non-empty array, first element a name
    "2[]",
    '2{"a":1}',
    "2[null]",
    "2[true]",
    "2[[]]",
    '2["connect"]', // reserved names, as in socket.io-parser
    '2["connect_error"]',
    '2["disconnect",1]',
    '2["disconnecting"]',
    '2["newListener"]',
    '2["removeListener"]',
    '51-[{"_placeholder":true,"num":0}]', // BINARY_EVENT needs a name too
    '51-["disconnect",{"_placeholder":true,"num":0}]',
    "31", // ACK: array
    "31{}",
    '31"x"',
    '61-1{"_placeholder":true,"num":0}',
  ]) {
    expectError(decodeOne(text), "INVALID_PAYLOAD");
  }
});

test("UNEXPECTED_BINARY", () => {
  const decoder = new Decoder();
  expectError(decoder.add(bytes(1, 2)), "UNEXPECTED_BINARY");
  expectPacket(decoder.add('2["ok"]'));
  expectError(decoder.add(bytes()), "UNEXPECTED_BINARY");
});

test("INVALID_ATTACHMENTS: text while attachments are pending resets the decoder", () => {
  const decoder = new Decoder();
  assert.equal(decoder.add('52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]').ok, true);
  assert.deepEqual(decoder.add(bytes(1)), { ok: true, packet: null });
  expectError(decoder.add('2["b"]'), "INVALID_ATTACHMENTS");
  assert.equal(decoder.pending, false);
  expectError(decoder.add(bytes(2)), "UNEXPECTED_BINARY");
});

test("INVALID_ATTACHMENTS: bad placeholders or count mismatch", () => {
  for (const text of [
    '51-["a",{"_placeholder":true,"num":1}]', // out of range
    '51-["a",{"_placeholder":true,"num":-1}]',
    '51-["a",{"_placeholder":true,"num":0.5}]',
    '51-["a",{"_placeholder":true,"num":"0"}]',
    '51-["a",{"_placeholder":true}]',
    '51-["a"]', // announces 1, references 0
    '52-["a",{"_placeholder":true,"num":0}]', // announces 2, references 1
    '52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]', // same num twice
    '51-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', // more than announced
    '61-/x,1[{"_placeholder":true,"num":3}]',
  ]) {
    const decoder = new Decoder();
    expectError(decoder.add(text), "INVALID_ATTACHMENTS");
    assert.equal(decoder.pending, false, text);
  }
  // "_placeholder" must be exactly true to count as a placeholder
  const decoder = new Decoder();
  expectError(decoder.add('51-["a",{"_placeholder":"true","num":0}]'), "INVALID_ATTACHMENTS");
});

test("TOO_MANY_ATTACHMENTS", () => {
  const eleven = Array.from({ length: 11 }, (_, i) => `{"_placeholder":true,"num":${i}}`).join(",");
  expectError(decodeOne(`511-["a",${eleven}]`), "TOO_MANY_ATTACHMENTS");
  const ten = Array.from({ length: 10 }, (_, i) => `{"_placeholder":true,"num":${i}}`).join(",");
  assert.deepEqual(decodeOne(`510-["a",${ten}]`), { ok: true, packet: null });
  const strict = new Decoder({ maxAttachments: 2 });
  expectError(strict.add('63-1[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]'), "TOO_MANY_ATTACHMENTS");
  assert.equal(strict.pending, false);
});

test("reset() drops a partial packet", () => {
  const decoder = new Decoder();
  assert.equal(decoder.add('51-["a",{"_placeholder":true,"num":0}]').ok, true);
  assert.equal(decoder.pending, true);
  decoder.reset();
  assert.equal(decoder.pending, false);
  expectError(decoder.add(bytes(1)), "UNEXPECTED_BINARY");
});

test("untyped callers passing other message kinds get an error value", () => {
  const decoder = new Decoder();
  const add = decoder.add.bind(decoder) as (message: unknown) => DecodeResult;
  for (const message of [undefined, null, 42, {}, new ArrayBuffer(1), [1]]) expectError(add(message), "INVALID_FORMAT");
});

test("a throwing custom codec still yields an error value", () => {
  const json: JsonCodec = {
    stringify: (value) => JSON.stringify(value),
    parse: () => {
      throw "not an Error";
    },
  };
  expectError(new Decoder({ json }).add("0{}"), "INVALID_JSON");
  const frozen: JsonCodec = { stringify: (v) => JSON.stringify(v), parse: (t) => Object.freeze(JSON.parse(t) as object) };
  const decoder = new Decoder({ json: frozen });
  assert.equal(decoder.add('51-["a",{"_placeholder":true,"num":0}]').ok, true);
  expectError(decoder.add(bytes(1)), "INVALID_PAYLOAD");
  assert.equal(decoder.pending, false);
});

// ---------------------------------------------------------------------------------------------
// fuzz

/** mulberry32: tiny deterministic PRNG, so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CODES: ReadonlySet<string> = new Set(DECODE_ERROR_CODES);

const TOKENS = [
  "0", "1", "2", "3", "4", "5", "6", "7", "9", "-", "/", ",", "[", "]", "{", "}", '"', ":", " ", "\\",
  "/admin,", '"_placeholder"', "true", '"num"', "null", '"connect"', '"ev"', "__proto__", "1-", "2-",
  '{"_placeholder":true,"num":0}', '{"_placeholder":true,"num":1}', "\u0000", "\ud800", "é", "9007199254740993",
];

test("fuzz: add() never throws and only returns documented results", () => {
  const random = prng(0x5eed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const seeds = [
    ...vectors.map(([wire]) => wire),
    '51-["hello",{"_placeholder":true,"num":0}]',
    '62-/admin,456[{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]',
  ];
  const decoder = new Decoder({ maxAttachments: 3 });
  let packets = 0;
  for (let round = 0; round < 4000; round++) {
    let message: string | Uint8Array;
    const kind = random();
    if (kind < 0.15) {
      message = new Uint8Array(Math.floor(random() * 8)).map(() => Math.floor(random() * 256));
    } else if (kind < 0.55) {
      // random token soup
      let text = "";
      const n = Math.floor(random() * 12);
      for (let i = 0; i < n; i++) text += pick(TOKENS);
      message = text;
    } else {
      // mutate a valid packet: replace, insert or delete a few characters
      let text = pick(seeds);
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * (text.length + 1));
        const op = random();
        if (op < 0.33) text = text.slice(0, at) + pick(TOKENS) + text.slice(at + 1);
        else if (op < 0.66) text = text.slice(0, at) + pick(TOKENS) + text.slice(at);
        else text = text.slice(0, at) + text.slice(at + 1);
      }
      message = text;
    }
    let result: DecodeResult;
    try {
      result = decoder.add(message);
    } catch (error) {
      assert.fail(`add(${JSON.stringify(typeof message === "string" ? message : [...message])}) threw ${String(error)}`);
    }
    if (!result.ok) {
      assert.ok(CODES.has(result.code), result.code);
      assert.equal(typeof result.message, "string");
      continue;
    }
    if (result.packet === null) {
      assert.equal(decoder.pending, true);
      continue;
    }
    packets++;
    const { type, nsp, id } = result.packet;
    assert.ok(Number.isInteger(type) && type >= 0 && type <= 6);
    assert.ok(nsp === "/" || nsp.startsWith("/"));
    assert.ok(id === undefined || (Number.isSafeInteger(id) && id >= 0));
    // anything we accept must survive a re-encode/decode cycle
    const again = encode(result.packet);
    const fresh = new Decoder();
    let back: DecodeResult = fresh.add(again.text);
    for (const att of again.attachments) back = fresh.add(att);
    if (!back.ok || back.packet === null) assert.fail(`re-decode of ${again.text} failed`);
  }
  assert.ok(packets > 50, `fuzz produced too few valid packets (${packets})`);
});

test("binary is found behind the no-binary fast path: deep in plain objects, in toJSON results, in own toJSON", () => {
  const bytes = new Uint8Array([9]);
  const deep = { a: { b: { c: { d: { e: bytes } } } } };
  class Wrapper {
    toJSON() {
      return { inner: bytes };
    }
  }
  const ownToJSON = { toJSON: () => [bytes] };
  for (const value of [deep, new Wrapper(), ownToJSON]) {
    const encoded = encode({ type: PacketType.EVENT, nsp: "/", data: ["ev", value] });
    assert.ok(encoded.text.startsWith("51-"), encoded.text);
    assert.deepEqual(encoded.attachments, [bytes]);
  }
  const plain = encode({ type: PacketType.EVENT, nsp: "/", data: ["ev", { m: "hello", c: 1, list: [1, "x", null] }] });
  assert.equal(plain.text, '2["ev",{"m":"hello","c":1,"list":[1,"x",null]}]');
  assert.deepEqual(plain.attachments, []);
});

// ---------------------------------------------------------------------------------------------
// depth: no recursion on nested data, and one documented limit in both directions

/** `leaf` inside `depth` arrays: nest(1, x) is [x]. Built iteratively. */
function nest(depth: number, leaf?: unknown): unknown {
  let value: unknown = leaf === undefined ? [] : [leaf];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}
/** The JSON text of nest(depth): `[[...]]`. */
const nestedText = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

test("MAX_DEPTH is 1000 levels, the event array included", () => {
  assert.equal(MAX_DEPTH, 1000);
});

test("decoder: a payload nested MAX_DEPTH levels decodes; one level more is TOO_DEEP (arrays and objects)", () => {
  // The event array is level 1: its argument may nest MAX_DEPTH - 1 more.
  const atLimit = expectPacket(decodeOne(`2["e",${nestedText(MAX_DEPTH - 1)}]`));
  assert.equal(exceedsDepth(atLimit.data, MAX_DEPTH), false);
  expectError(decodeOne(`2["e",${nestedText(MAX_DEPTH)}]`), "TOO_DEEP");
  const objects = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
  expectPacket(decodeOne(`2["e",${objects(MAX_DEPTH - 1)}]`));
  expectError(decodeOne(`2["e",${objects(MAX_DEPTH)}]`), "TOO_DEEP");
  // ACKs, CONNECT auth and binary packets (refused before any attachment is awaited) alike.
  expectError(decodeOne(`31[${nestedText(MAX_DEPTH)}]`), "TOO_DEEP");
  expectError(decodeOne(`0{"a":${nestedText(MAX_DEPTH)}}`), "TOO_DEEP");
  const decoder = new Decoder();
  expectError(decoder.add(`51-["e",${"[".repeat(MAX_DEPTH)}{"_placeholder":true,"num":0}${"]".repeat(MAX_DEPTH)}]`), "TOO_DEEP");
  assert.equal(decoder.pending, false);
});

test("decoder: a 100,000-deep array is TOO_DEEP, reported as a value (no stack overflow, no throw)", () => {
  const result = decodeOne(`2["echo",${nestedText(100_000)}]`);
  expectError(result, "TOO_DEEP");
  // and a deep binary packet too (the placeholder walk never runs)
  expectError(decodeOne(`51-["deep",${"[".repeat(100_000)}{"_placeholder":true,"num":0}${"]".repeat(100_000)}]`), "TOO_DEEP");
});

test("decoder: maxDepth is an option; a custom codec's output is always measured, each object once", () => {
  expectPacket(new Decoder({ maxDepth: 3 }).add('2["e",[[1]]]'));
  expectError(new Decoder({ maxDepth: 3 }).add('2["e",[[[1]]]]'), "TOO_DEEP");
  // Short text, deep result: a codec that expands (or revives references) is measured anyway.
  const expanding: JsonCodec = { stringify: JSON.stringify, parse: (text) => (text === '"deep"' ? ["e", nest(MAX_DEPTH)] : JSON.parse(text)) };
  expectError(new Decoder({ json: expanding }).add('2"deep"'), "TOO_DEEP");
  expectPacket(new Decoder({ json: expanding }).add('2["e",[[1]]]'));
  // A codec that shares and cycles objects (e.g. one that restores references): not "infinitely deep".
  const cyclic: JsonCodec = {
    stringify: JSON.stringify,
    parse: () => {
      const node: Record<string, unknown> = { name: "self" };
      node.self = node;
      const shared = { n: 1 };
      return ["e", node, [shared, shared, [shared]]];
    },
  };
  const packet = expectPacket(new Decoder({ json: cyclic }).add('2"x"'));
  const node = (packet.data as unknown[])[1] as Record<string, unknown>;
  assert.equal(node.self, node);
});

test("encoder: data nested MAX_DEPTH levels encodes and decodes back; one level more is TOO_DEEP, as a value", () => {
  const ok = encode({ type: PacketType.EVENT, nsp: "/", data: ["e", nest(MAX_DEPTH - 1)] });
  expectPacket(decodeOne(ok.text));
  const refused = encodePacket({ type: PacketType.EVENT, nsp: "/", data: ["e", nest(MAX_DEPTH)] });
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.code, "TOO_DEEP");
  const ack = encodePacket({ type: PacketType.ACK, nsp: "/", id: 1, data: [nest(MAX_DEPTH)] });
  assert.equal(!ack.ok && ack.code, "TOO_DEEP");
  // A toJSON result counts in its object's place.
  const viaToJSON = encodePacket({ type: PacketType.EVENT, nsp: "/", data: ["e", { toJSON: () => nest(MAX_DEPTH) }] });
  assert.equal(!viaToJSON.ok && viaToJSON.code, "TOO_DEEP");
  assert.equal(encodePacket({ type: PacketType.EVENT, nsp: "/", data: ["e", { toJSON: () => nest(MAX_DEPTH - 1) }] }).ok, true);
});

test("encoder: a 100,000-deep array, with or without binary at the bottom, is TOO_DEEP (no stack overflow, no throw)", () => {
  for (const leaf of [undefined, bytes(1)]) {
    const result = encodePacket({ type: PacketType.EVENT, nsp: "/", data: ["echo", nest(100_000, leaf)] });
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.code, "TOO_DEEP");
    assert.match(!result.ok ? result.message : "", /deeper than 1000/);
  }
});

test("encoder: what the JSON codec refuses (cycle, BigInt, a throwing toJSON or stringify) is UNSERIALIZABLE with the cause", () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const throwing = {
    toJSON() {
      throw new RangeError("no JSON for you");
    },
  };
  for (const [value, type] of [
    [cyclic, TypeError],
    [[cyclic, bytes(1)], TypeError],
    [10n, TypeError],
    [throwing, RangeError],
  ] as const) {
    const result = encodePacket({ type: PacketType.EVENT, nsp: "/", data: ["e", { value }] });
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.code, "UNSERIALIZABLE");
      assert.ok(result.cause instanceof type, String(result.cause));
      assert.equal(result.message, (result.cause as Error).message);
    }
  }
  const codec: JsonCodec = {
    stringify: () => {
      throw new Error("codec down");
    },
    parse: JSON.parse,
  };
  const failed = encodePacket({ type: PacketType.CONNECT, nsp: "/", data: { sid: "x" } }, codec);
  assert.deepEqual(failed.ok ? null : [failed.code, failed.message], ["UNSERIALIZABLE", "codec down"]);
});

test("deconstruct and hasBinary walk 100,000 levels without recursion (no depth limit of their own)", () => {
  const leaf = bytes(7);
  const deep = nest(100_000, leaf);
  assert.equal(hasBinary(deep), true);
  assert.equal(hasBinary(nest(100_000)), false);
  const split = deconstruct(deep);
  assert.ok(split.ok);
  if (split.ok) {
    assert.deepEqual(split.buffers, [leaf]);
    let node: unknown = split.data;
    for (let i = 0; i < 100_000; i++) node = (node as unknown[])[0];
    assert.deepEqual(node, { _placeholder: true, num: 0 });
    // The caller's data is untouched.
    let original: unknown = deep;
    for (let i = 0; i < 100_000; i++) original = (original as unknown[])[0];
    assert.equal(original, leaf);
  }
  const plain = nest(100_000);
  const same = deconstruct(plain);
  assert.ok(same.ok && same.data === plain && same.buffers.length === 0, "no binary: the very same object");
  assert.equal(exceedsDepth(plain, 100_000), false);
  assert.equal(exceedsDepth(plain, 99_999), true);
});

/** `value` inside `levels` single-element arrays, and the way back to it. */
function wrap(levels: number, value: unknown): unknown {
  let out = value;
  for (let i = 0; i < levels; i++) out = [out];
  return out;
}
function unwrap(levels: number, value: unknown): unknown {
  let out = value;
  for (let i = 0; i < levels; i++) out = (out as unknown[])[0];
  return out;
}

// Shallow data takes the recursive fast path; below 32 levels the walk continues with an explicit
// stack: both must give the same result, so every check runs at both depths.
for (const levels of [0, 100]) {
  test(`deconstruct (data under ${levels} levels): placeholder order, copy-on-write and toJSON exactly as JSON.stringify visits them`, () => {
    const [a, b, c, d] = [bytes(1), bytes(2), bytes(3), bytes(4)];
    const untouched = { keep: [1, 2] };
    class Box {
      constructor(readonly inner: unknown) {}
      toJSON() {
        return { boxed: this.inner };
      }
    }
    const date = new Date(0);
    const data = ["e", { x: a, y: [untouched, new Box([b, { z: c }])], date }, [[d]], untouched];
    const wrapped = wrap(levels, data);
    const split = deconstruct(wrapped);
    assert.ok(split.ok);
    if (!split.ok) return;
    assert.deepEqual(split.buffers, [a, b, c, d]);
    const out = unwrap(levels, split.data) as unknown[];
    const first = out[1] as { x: unknown; y: unknown[]; date: unknown };
    assert.deepEqual(first.x, { _placeholder: true, num: 0 });
    assert.equal(first.y[0], untouched, "a subtree without binary is not copied");
    assert.deepEqual(first.y[1], { boxed: [{ _placeholder: true, num: 1 }, { z: { _placeholder: true, num: 2 } }] });
    assert.equal(first.date, date, "a toJSON carrier without binary is kept for the serializer");
    assert.deepEqual(out[2], [[{ _placeholder: true, num: 3 }]]);
    assert.equal(out[3], untouched);
    assert.notEqual(out, data);
    assert.equal(unwrap(levels, wrapped), data);
    assert.deepEqual(data[1], { x: a, y: [untouched, new Box([b, { z: c }])], date }, "the caller's data is not mutated");
    // No binary at all: the very same object back.
    const plain = wrap(levels, { list: [1, { date }], box: new Box("x") });
    const same = deconstruct(plain);
    assert.ok(same.ok && same.data === plain && same.buffers.length === 0);
    // A toJSON result is not asked for its own toJSON; a cycle is left for the codec to report.
    const inner = { toJSON: () => "never called", bin: a };
    const outer = { toJSON: () => inner };
    const viaToJSON = deconstruct(wrap(levels, [outer]));
    assert.ok(viaToJSON.ok);
    if (viaToJSON.ok) assert.deepEqual((unwrap(levels, viaToJSON.data) as unknown[])[0], { toJSON: inner.toJSON, bin: { _placeholder: true, num: 0 } });
    const loop: Record<string, unknown> = { bin: a };
    loop.self = loop;
    const looped = deconstruct(wrap(levels, loop));
    assert.ok(looped.ok);
    if (looped.ok) {
      const copy = unwrap(levels, looped.data) as Record<string, unknown>;
      assert.deepEqual(copy.bin, { _placeholder: true, num: 0 });
      assert.equal(copy.self, loop);
    }
    // The depth limit counts the same way on both paths (a toJSON result in its object's place).
    const depth = levels + 3; // the wrapping arrays, the list, its record, the array inside
    const limited = wrap(levels, [{ toJSON: () => ({ deep: [1] }) }]);
    assert.equal(deconstruct(limited, depth).ok, true);
    assert.equal(deconstruct(limited, depth - 1).ok, false);
  });
}

test("with maxAttachments: Infinity, an attachment count beyond Number.MAX_SAFE_INTEGER is still INVALID_FORMAT", () => {
  // The safe-integer check is the only one left when the count limit is lifted (a mutation survivor
  // otherwise: with a finite limit the count check refuses such counts first).
  const decoder = new Decoder({ maxAttachments: Number.POSITIVE_INFINITY });
  expectError(decodeOne(`5${"9".repeat(17)}-["e",{"_placeholder":true,"num":0}]`, decoder), "INVALID_FORMAT");
  expectError(decodeOne(`5${"9".repeat(16)}-["e",{"_placeholder":true,"num":0}]`, decoder), "INVALID_FORMAT");
});

test("a bad placeholder inside an object is refused even when the announced count is otherwise met", () => {
  // One good placeholder makes the count right; the second one, out of range or repeated, sits in
  // an object (not an array), so it is the object branch of the scan that must report it.
  for (const second of ['{"_placeholder":true,"num":7}', '{"_placeholder":true,"num":0}']) {
    expectError(decodeOne(`51-["e",{"a":{"_placeholder":true,"num":0},"b":${second}}]`), "INVALID_ATTACHMENTS");
  }
});

test("an EVENT whose payload is a string or an array-like object is INVALID_PAYLOAD", () => {
  // Their [0] is a string ("h", "e"), so only the array check refuses them (a mutation survivor).
  for (const text of ['2"hello"', '2{"0":"e","length":1}', '2"e"']) {
    expectError(decodeOne(text), "INVALID_PAYLOAD");
  }
});

test("exceedsDepth: arrays and objects count one level each, primitives none, at the exact bounds", () => {
  // [value, maxDepth, expected]: JSON-shaped data (custom = false).
  const cases: Array<[unknown, number, boolean]> = [
    [null, 0, false],
    ["text", 0, false],
    [[], 0, true],
    [{}, 0, true],
    [[], 1, false],
    [{}, 1, false],
    // A primitive (null included) at the deepest level is not one more level.
    [[1, null, "x"], 1, false],
    [{ a: null, b: 1 }, 1, false],
    [[[]], 1, true],
    [[{}], 1, true],
    [{ a: [] }, 1, true],
    [{ a: {} }, 1, true],
    [[[]], 2, false],
    [{ a: { b: null } }, 2, false],
    // The deep branch beside shallow ones, first or last, in arrays and in objects.
    [[1, [2, [3]]], 3, false],
    [[1, [2, [3]]], 2, true],
    [[[[3]], 1, []], 2, true],
    [{ a: 1, b: { c: { d: 1 } } }, 3, false],
    [{ a: 1, b: { c: { d: 1 } } }, 2, true],
    [{ b: { c: { d: [] } }, a: 1 }, 3, true],
  ];
  for (const [value, maxDepth, expected] of cases) {
    assert.equal(exceedsDepth(value, maxDepth), expected, `${JSON.stringify(value)} within ${maxDepth}`);
  }
});

test("exceedsDepth for a custom codec's output: binaries are leaves, a shared or cyclic object is walked once", () => {
  const bin = new Uint8Array([1, 2]);
  assert.equal(exceedsDepth(bin, 0, true), false);
  assert.equal(exceedsDepth([bin], 1, true), false);
  assert.equal(exceedsDepth({ a: [new DataView(new ArrayBuffer(2))] }, 2, true), false);
  assert.equal(exceedsDepth([[bin]], 1, true), true);
  // root → a → root: two levels, the root is not entered a second time.
  const root: Record<string, unknown> = {};
  const a: Record<string, unknown> = { back: root };
  root.a = a;
  assert.equal(exceedsDepth(root, 2, true), false);
  assert.equal(exceedsDepth(root, 1, true), true);
  const list: unknown[] = [];
  list.push([list]);
  assert.equal(exceedsDepth(list, 2, true), false);
  assert.equal(exceedsDepth(list, 1, true), true);
  // Primitives beside containers, in a custom walk too.
  assert.equal(exceedsDepth([null, 1, { a: null }], 2, true), false);
  assert.equal(exceedsDepth([null, 1, { a: [] }], 2, true), true);
  assert.equal(exceedsDepth(null, 0, true), false);
});

test("encoder: an object met first as a toJSON result and then on its own is searched again (its toJSON applies then)", () => {
  const blob = bytes(3);
  // JSON.stringify([p, t]) is [{}, {"bin": ...}]: p becomes t without t's toJSON, then t is asked.
  const t = { toJSON: () => ({ bin: blob }) };
  const p = { toJSON: () => t };
  assert.equal(hasBinary([p, t]), true);
  const encoded = encode({ type: PacketType.EVENT, nsp: "/", data: ["e", p, t] });
  assert.equal(encoded.text, '51-["e",{},{"bin":{"_placeholder":true,"num":0}}]');
  assert.equal(encoded.attachments[0], blob);
});

test("encoder: the depth limit holds below the fast path's 4 levels, and for objects as for arrays", () => {
  const shallow = (data: unknown) => encodePacket({ type: PacketType.EVENT, nsp: "/", data }, defaultJson, 2);
  const fine = shallow(["e", [1]]);
  assert.equal(fine.ok && fine.text, '2["e",[1]]');
  assert.equal(((r) => !r.ok && r.code)(shallow(["e", [[1]]])), "TOO_DEEP");
  assert.equal(((r) => !r.ok && r.code)(shallow(["e", { a: { b: 1 } }])), "TOO_DEEP");
  const objects = (depth: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = { a: value };
    return value;
  };
  assert.equal(encodePacket({ type: PacketType.EVENT, nsp: "/", data: ["e", objects(MAX_DEPTH - 1)] }).ok, true);
  const refused = encodePacket({ type: PacketType.EVENT, nsp: "/", data: ["e", objects(MAX_DEPTH)] });
  assert.equal(!refused.ok && refused.code, "TOO_DEEP");
});

test("encoder: binary inside an object without a prototype is found", () => {
  const record = Object.create(null) as Record<string, unknown>;
  record.bin = bytes(1);
  record.n = 2;
  const encoded = encode({ type: PacketType.EVENT, nsp: "/", data: ["e", record] });
  assert.equal(encoded.text, '51-["e",{"bin":{"_placeholder":true,"num":0},"n":2}]');
  const plain = Object.create(null) as Record<string, unknown>;
  plain.n = 1;
  assert.equal(encode({ type: PacketType.EVENT, nsp: "/", data: ["e", plain] }).text, '2["e",{"n":1}]');
});

test("encoder walks: what JSON.stringify does with toJSON, null, undefined, shared objects", () => {
  const blob = bytes(4);
  // A toJSON that is not a function is data, as for JSON.stringify.
  assert.equal(hasBinary({ toJSON: 5, b: blob }), true);
  assert.equal(encode({ type: PacketType.EVENT, nsp: "/", data: ["e", { toJSON: "x", b: blob }] }).text, '51-["e",{"toJSON":"x","b":{"_placeholder":true,"num":0}}]');
  // A toJSON result's own toJSON is not called (JSON.stringify does not either).
  assert.equal(hasBinary({ toJSON: () => ({ toJSON: () => blob }) }), false);
  // undefined and null beside binary.
  assert.equal(hasBinary([undefined, null, 1]), false);
  assert.equal(hasBinary([undefined, null, blob]), true);
  assert.equal(encode({ type: PacketType.ACK, nsp: "/", id: 1, data: [null, 1] }).text, "31[null,1]");
  assert.equal(encode({ type: PacketType.ACK, nsp: "/", id: 1, data: [undefined, 1] }).text, "31[null,1]");
  // The root's toJSON applies.
  const root = deconstruct({ toJSON: () => ({ b: blob }) });
  assert.ok(root.ok);
  assert.deepEqual(root.ok && root.data, { b: { _placeholder: true, num: 0 } });
  // A record's child with a toJSON that yields binary.
  class Box {
    constructor(readonly inner: unknown) {}
    toJSON() {
      return { boxed: this.inner };
    }
  }
  assert.equal(encode({ type: PacketType.EVENT, nsp: "/", data: ["e", { k: new Box(blob) }] }).text, '51-["e",{"k":{"boxed":{"_placeholder":true,"num":0}}}]');
  // The same object twice (not a cycle): both copies get their placeholder, numbered in order.
  for (const levels of [0, 100]) {
    const shared = { b: blob };
    const split = deconstruct(wrap(levels, ["e", shared, [shared], null]));
    assert.ok(split.ok);
    if (split.ok) {
      assert.deepEqual(unwrap(levels, split.data), ["e", { b: { _placeholder: true, num: 0 } }, [{ b: { _placeholder: true, num: 1 } }], null]);
      assert.deepEqual(split.buffers, [blob, blob]);
    }
  }
});

test("encoder: the depth limit at its edges (a toJSON carrier with a primitive result, the first iterative level, maxDepth 0)", () => {
  for (const levels of [0, 100]) {
    // [carrier] inside `levels` arrays: the carrier sits at level levels + 1, its result "x" is a leaf.
    const data = wrap(levels, [{ toJSON: () => "x" }]);
    assert.equal(deconstruct(data, levels + 1).ok, true, `levels ${levels}`);
    assert.equal(deconstruct(data, levels).ok, false, `levels ${levels}`);
  }
  // The recursion hands over at level 32: a limit right there is still a value, not a throw.
  assert.equal(deconstruct(nest(40), 32).ok, false);
  assert.equal(deconstruct(nest(40), 40).ok, true);
  const zero = encodePacket({ type: PacketType.EVENT, nsp: "/", data: ["e"] }, defaultJson, 0);
  assert.equal(!zero.ok && zero.code, "TOO_DEEP");
  assert.equal(encodePacket({ type: PacketType.CONNECT, nsp: "/" }, defaultJson, 0).ok, true);
});

test("encoder: a null id and data that JSON cannot represent are left out", () => {
  assert.equal(encode({ type: PacketType.EVENT, nsp: "/", id: null as unknown as number, data: ["e"] }).text, '2["e"]');
  assert.equal(encode({ type: PacketType.CONNECT, nsp: "/", data: () => 1 }).text, "0");
  assert.equal(encode({ type: PacketType.CONNECT, nsp: "/", data: Symbol("s") }).text, "0");
});

test("attachments put in place are ordinary data properties (writable, enumerable, configurable)", () => {
  const decoder = new Decoder();
  assert.deepEqual(decoder.add('51-["e",{"_placeholder":true,"num":0}]'), { ok: true, packet: null });
  const packet = expectPacket(decoder.add(bytes(1)));
  const descriptor = Object.getOwnPropertyDescriptor(packet.data as unknown[], "1");
  assert.deepEqual(descriptor && [descriptor.writable, descriptor.enumerable, descriptor.configurable], [true, true, true]);
  const split = deconstruct({ a: 1, b: bytes(2) });
  assert.ok(split.ok);
  const copy = split.ok ? (split.data as object) : {};
  for (const key of ["a", "b"]) {
    const d = Object.getOwnPropertyDescriptor(copy, key);
    assert.deepEqual(d && [d.writable, d.enumerable, d.configurable], [true, true, true], key);
  }
});
