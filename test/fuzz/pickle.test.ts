// Property tests of the restricted pickle decoder and of python-socketio's message format, which
// read whatever arrives on a broker channel with `pythonCompatible`. Documented behaviour: plain
// data decodes; anything else is `{ ok: false, message }`; nothing throws, nothing runs. Generated
// plain values, pickled here the way CPython's pickler writes them (protocol 2 opcodes, memo
// references for repeated strings), decode to the same values. The regression tests at the end
// are the inputs that blocked the event loop before the fix (see docs/reliability/fuzzing.md).

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodePickle } from "../../src/manager/pickle.js";
import { decodePythonMessage } from "../../src/manager/python-format.js";
import { fuzzPickle } from "../../fuzz/targets/pickle.js";
import { fuzzPythonMessage } from "../../fuzz/targets/python-message.js";

const RUNS = 300;

/** A Python value: tuples are marked so that they are pickled as tuples. */
type Py = null | boolean | number | string | Uint8Array | Py[] | { tuple: Py[] } | Map<string, Py>;

/** A small protocol-2 pickler (the opcodes CPython writes for these types), with memo references for repeated strings. */
function pickle(value: Py): Uint8Array {
  const out: number[] = [0x80, 0x02];
  const memo = new Map<string, number>();
  const u32 = (n: number) => out.push(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255);
  const put = (index: number) => {
    out.push(0x72); // LONG_BINPUT
    u32(index);
  };
  const write = (v: Py): void => {
    if (v === null) out.push(0x4e);
    else if (v === true) out.push(0x88);
    else if (v === false) out.push(0x89);
    else if (typeof v === "number") {
      if (Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) {
        out.push(0x4a); // BININT
        u32(v >>> 0);
      } else {
        out.push(0x47); // BINFLOAT, big-endian
        const b = Buffer.alloc(8);
        b.writeDoubleBE(v);
        out.push(...b);
      }
    } else if (typeof v === "string") {
      const seen = memo.get(v);
      if (seen !== undefined) {
        out.push(0x6a); // LONG_BINGET
        u32(seen);
        return;
      }
      const b = Buffer.from(v, "utf8");
      out.push(0x58); // BINUNICODE
      u32(b.length);
      out.push(...b);
      const index = memo.size;
      memo.set(v, index);
      put(index);
    } else if (v instanceof Uint8Array) {
      out.push(0x42); // BINBYTES
      u32(v.length);
      out.push(...v);
    } else if (Array.isArray(v)) {
      out.push(0x5d, 0x28); // EMPTY_LIST MARK
      for (const item of v) write(item);
      out.push(0x65); // APPENDS
    } else if (v instanceof Map) {
      out.push(0x7d, 0x28); // EMPTY_DICT MARK
      for (const [k, item] of v) {
        write(k);
        write(item);
      }
      out.push(0x75); // SETITEMS
    } else {
      out.push(0x28); // MARK
      for (const item of v.tuple) write(item);
      out.push(0x74); // TUPLE
    }
  };
  write(value);
  out.push(0x2e);
  return Uint8Array.from(out);
}

/** The value decodePickle gives for a Python value. */
function expected(v: Py): unknown {
  if (v instanceof Uint8Array || v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(expected);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, item]) => [k, expected(item)]));
  return v.tuple.map(expected);
}

const word = fc.constantFrom("a", "room", "é☃😀", "", "x".repeat(40));
const py: fc.Arbitrary<Py> = fc.letrec<{ value: Py }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom<Py>(null, true, false),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    fc.double({ noNaN: true, noDefaultInfinity: false }).filter((d) => !Object.is(d, -0)),
    fc.oneof(word, fc.string({ maxLength: 12, unit: "grapheme" })),
    fc.uint8Array({ maxLength: 12 }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.array(tie("value"), { maxLength: 3 }).map((tuple) => ({ tuple })),
    fc.array(fc.tuple(fc.oneof(word, fc.string({ maxLength: 6, unit: "grapheme" })), tie("value")), { maxLength: 4 }).map((entries) => new Map(entries)),
  ),
})).value;

test("pickle: generated plain values (repeated strings as memo references) decode to the same data", () => {
  fc.assert(
    fc.property(py, (value) => {
      const decoded = decodePickle(pickle(value));
      assert.ok(decoded.ok, decoded.ok ? "" : decoded.message);
      assert.deepStrictEqual(decoded.value, expected(value));
    }),
    { numRuns: RUNS },
  );
});

test("pickle and python-socketio messages: any bytes decode within the contract", () => {
  const opcodes = fc.constantFrom(0x80, 0x02, 0x28, 0x2e, 0x30, 0x32, 0x4e, 0x5d, 0x61, 0x65, 0x7d, 0x73, 0x75, 0x29, 0x74, 0x85, 0x86, 0x87, 0x71, 0x68, 0x94, 0x6a, 0x8a, 0x8b, 0x58, 0x8c, 0x43, 0x63, 0x93, 0x52, 0x0a, 0x49, 0x4c, 0x46);
  const near = fc.array(fc.oneof(opcodes, fc.integer({ min: 0, max: 255 })), { maxLength: 80 }).map((b) => Buffer.from(b));
  const any = fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b));
  fc.assert(
    fc.property(fc.oneof(near, any), (input) => {
      fuzzPickle(input);
      fuzzPythonMessage(input);
    }),
    { numRuns: RUNS },
  );
});

const str = fc.string({ maxLength: 8, unit: "grapheme" });
const roomArg = fc.oneof(fc.constant(null), str, fc.array(str, { maxLength: 3 }));

test("python-socketio: generated emit messages, pickled and as JSON, become the same cluster emit", () => {
  fc.assert(
    fc.property(str, fc.oneof(fc.constant(null), fc.constant("/chat")), roomArg, roomArg, py, fc.boolean(), (event, namespace, room, skip, data, json) => {
      const dict = new Map<string, Py>([
        ["method", "emit"],
        ["event", event],
        ["data", data],
        ["namespace", namespace],
        ["room", room],
        ["skip_sid", skip],
        ["callback", null],
        ["host_id", "worker-1"],
      ]);
      // JSON carries neither bytes nor tuples: those stay in the pickle half.
      const plain = JSON.stringify(expected(dict), (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v));
      const payload = json ? Buffer.from(plain) : pickle(dict);
      const decoded = decodePythonMessage(payload);
      assert.ok(decoded.ok, decoded.ok ? "" : decoded.message);
      const data2 = json ? (JSON.parse(plain) as { data: unknown }).data : expected(data);
      const args = data2 === null ? [] : !json && typeof data === "object" && data !== null && "tuple" in data ? (data2 as unknown[]) : [data2];
      const list = (v: string | string[] | null) => (v === null ? null : typeof v === "string" ? [v] : v);
      assert.deepStrictEqual(decoded.message, {
        type: "emit",
        host: "worker-1",
        namespace: namespace ?? "/",
        event,
        args,
        rooms: list(room as string | string[] | null),
        skip: list(skip as string | string[] | null) ?? [],
      });
    }),
    { numRuns: RUNS },
  );
});

// ---- regressions: inputs that blocked the event loop before the fix ----------------------------

test("pickle regression: a 1 MB LONG4 integer decodes at once (the byte loop was quadratic: minutes)", () => {
  const n = 1_000_000;
  const bytes = Buffer.alloc(5 + n + 1, 0x11);
  bytes[0] = 0x8b;
  bytes.writeInt32LE(n, 1);
  bytes[5 + n] = 0x2e;
  assert.deepEqual(decodePickle(bytes), { ok: true, value: Number.POSITIVE_INFINITY, tuples: new Set() });
  // Sign extension is not magnitude: 0xff... above a small negative number is that number.
  assert.deepEqual(decodePickle(Buffer.from([0x8a, 0x04, 0xfe, 0xff, 0xff, 0xff, 0x2e])), { ok: true, value: -2, tuples: new Set() });
  assert.deepEqual(decodePickle(Buffer.from([0x8a, 0x03, 0x00, 0x80, 0x00, 0x2e])), { ok: true, value: 0x8000, tuples: new Set() });
  const negative = Buffer.alloc(5 + n + 1, 0x80);
  negative[0] = 0x8b;
  negative.writeInt32LE(n, 1);
  negative[5 + n] = 0x2e;
  assert.deepEqual(decodePickle(negative), { ok: true, value: Number.NEGATIVE_INFINITY, tuples: new Set() });
  // Protocol 0 LONG: a 1 MB decimal run (BigInt parsing of it was slow too).
  assert.deepEqual(decodePickle(Buffer.from("L" + "7".repeat(n) + "L\n.")), { ok: true, value: Number.POSITIVE_INFINITY, tuples: new Set() });
  assert.deepEqual(decodePickle(Buffer.from("I-0\n.")), { ok: true, value: 0, tuples: new Set() });
});

/** `depth` levels of (x, x) over None, through the memo: 5 bytes a level, 2^depth leaves. */
function sharedTree(depth: number): Uint8Array {
  const bytes = [0x80, 0x02, 0x4e];
  for (let i = 0; i < depth; i++) bytes.push(0x71, 0x00, 0x68, 0x00, 0x86); // BINPUT 0, BINGET 0, TUPLE2
  bytes.push(0x2e);
  return Uint8Array.from(bytes);
}

test("pickle regression: shared references that expand exponentially, and a list that contains itself, are refused", () => {
  // 124 bytes for 2^24 leaves: encoding it for the clients blocked a server for seconds, more
  // levels exhausted its memory.
  for (const depth of [24, 60]) {
    const result = decodePickle(sharedTree(depth));
    assert.equal(result.ok, false);
    assert.match((result as { message: string }).message, /expands too much/);
  }
  // EMPTY_LIST, DUP, APPEND: a list that holds itself (JSON cannot encode it either).
  assert.equal(decodePickle(Buffer.from([0x80, 0x02, 0x5d, 0x32, 0x61, 0x2e])).ok, false);
  // Sharing within the budget is still data: 2^10 leaves.
  const small = decodePickle(sharedTree(10));
  assert.ok(small.ok);
  // The same through the python-socketio path: an emit whose data is the exponential tree.
  const emit = Buffer.concat([Buffer.from("80027d2858060000006d6574686f6458040000006560697458050000006576656e74580100000065580400000064617461", "hex")]);
  const tree = sharedTree(40).subarray(2, -1);
  const message = Buffer.concat([emit, tree, Buffer.from([0x75, 0x2e])]);
  const decoded = decodePythonMessage(message);
  assert.equal(decoded.ok, false);
  assert.match((decoded as { message: string }).message, /expands too much/);
});
