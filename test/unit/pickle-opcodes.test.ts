// The restricted pickle decoder opcode by opcode, on hand-assembled pickles: each data opcode's exact
// value, each bookkeeping opcode's stack effect, and each refusal with its message. The CPython
// vectors (what python-socketio really sends) are in test/cluster/codecs.test.ts; these pin down
// the edges that real pickles never reach, for mutation testing (npm run mutate).

import { test } from "node:test";
import assert from "node:assert/strict";
import { decodePickle } from "../../src/manager/pickle.js";

/** Bytes from numbers, strings (Latin-1 bytes) and nested arrays of them. */
function bytes(...parts: Array<number | string | Uint8Array | number[]>): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (typeof part === "number") out.push(part);
    else if (typeof part === "string") for (const c of part) out.push(c.charCodeAt(0));
    else out.push(...part);
  }
  return Uint8Array.from(out);
}

const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const u64 = (n: number) => [...u32(n), 0, 0, 0, 0];

/** Decodes `body` + STOP with a protocol 4 header and returns the value (must succeed). */
function value(...body: Array<number | string | Uint8Array | number[]>): unknown {
  const result = decodePickle(bytes(0x80, 4, ...body, 0x2e));
  assert.ok(result.ok, result.ok ? "" : result.message);
  return result.value;
}

/** Decodes `body` + STOP and expects a refusal whose message matches. */
function refused(pattern: RegExp, ...body: Array<number | string | Uint8Array | number[]>): void {
  const result = decodePickle(bytes(...body, 0x2e));
  assert.equal(result.ok, false, `expected a refusal matching ${pattern}`);
  if (!result.ok) assert.match(result.message, pattern);
}

test("None, booleans and the small ints", () => {
  assert.equal(value(0x4e), null);
  assert.equal(value(0x88), true);
  assert.equal(value(0x89), false);
  assert.equal(value(0x4b, 0xff), 255); // BININT1
  assert.equal(value(0x4d, 0x34, 0x12), 0x1234); // BININT2, little-endian
  assert.equal(value(0x4a, ...u32(0xfffffffe)), -2); // BININT, signed
  assert.equal(value(0x4a, 0x01, 0x02, 0x03, 0x04), 0x04030201);
});

test("LONG1 and LONG4: two's complement little-endian, sign extension, huge values are infinite", () => {
  assert.equal(value(0x8a, 0), 0);
  assert.equal(value(0x8a, 1, 0x7f), 127);
  assert.equal(value(0x8a, 1, 0x80), -128);
  assert.equal(value(0x8a, 2, 0x00, 0x80), -32768);
  assert.equal(value(0x8a, 2, 0xff, 0x00), 255);
  assert.equal(value(0x8a, 3, 0xff, 0x00, 0x00), 255, "positive sign extension ignored");
  assert.equal(value(0x8a, 3, 0x00, 0xff, 0xff), -256, "negative sign extension ignored");
  assert.equal(value(0x8a, 4, 0x7f, 0xff, 0xff, 0xff), -129);
  assert.equal(value(0x8a, 2, 0xff, 0xff), -1);
  assert.equal(value(0x8a, 1, 0xff), -1);
  assert.equal(value(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1), 2 ** 64);
  assert.equal(value(0x8b, ...u32(2), 0x01, 0x01), 257);
  // 129 significant bytes still a number (2^1024 > MAX_VALUE: Infinity either way), 130 cut off.
  const big = new Array<number>(129).fill(0);
  big[128] = 0x01;
  assert.equal(value(0x8b, ...u32(129), ...big), Number.POSITIVE_INFINITY);
  const top = new Array<number>(128).fill(0);
  top[127] = 0x01;
  assert.equal(value(0x8b, ...u32(128), ...top), 2 ** 1016);
  const huge = new Array<number>(200).fill(0x11);
  huge[199] = 0x11;
  assert.equal(value(0x8b, ...u32(200), ...huge), Number.POSITIVE_INFINITY);
  huge[199] = 0x91;
  assert.equal(value(0x8b, ...u32(200), ...huge), Number.NEGATIVE_INFINITY);
  const paddedSmall = new Array<number>(300).fill(0);
  paddedSmall[0] = 5;
  assert.equal(value(0x8b, ...u32(300), ...paddedSmall), 5, "sign extension does not count towards the cut-off");
  const paddedNegative = new Array<number>(300).fill(0xff);
  paddedNegative[0] = 0xfb;
  assert.equal(value(0x8b, ...u32(300), ...paddedNegative), -5);
  refused(/negative LONG4 length/, 0x8b, ...u32(0xffffffff));
});

test("protocol 0 INT, LONG and FLOAT", () => {
  assert.equal(value(0x49, "00\n"), false);
  assert.equal(value(0x49, "01\n"), true);
  assert.equal(value(0x49, "42\n"), 42);
  assert.equal(value(0x49, "-7\n"), -7);
  assert.equal(value(0x49, "+7\n"), 7);
  assert.ok(Object.is(value(0x49, "-0\n"), 0), "no negative zero");
  assert.equal(value(0x4c, "123L\n"), 123);
  assert.equal(value(0x4c, "123\n"), 123);
  assert.equal(value(0x4c, "12345678901234567890L\n"), 12345678901234567890);
  for (const bad of ["", "L", "1.5", "1e3", " 1", "0x10", "1LL", "--1"]) refused(/malformed INT/, 0x4c, `${bad}\n`);
  refused(/malformed INT/, 0x49, "abc\n");
  refused(/truncated/, 0x49, "12");
  assert.equal(value(0x46, "1.5\n"), 1.5);
  assert.equal(value(0x46, " -2.25 \n"), -2.25);
  assert.ok(Number.isNaN(value(0x46, "nan\n")));
  assert.ok(Number.isNaN(value(0x46, "NaN\n")));
  for (const bad of ["", " ", "abc", "1.5.5"]) refused(/malformed FLOAT/, 0x46, `${bad}\n`);
  assert.equal(value(0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0), 1.5); // BINFLOAT, big-endian
  refused(/truncated/, 0x47, 0x3f, 0xf8);
});

test("strings: UTF-8 for the unicode opcodes, Latin-1 for Python 2 str, raw-unicode-escape for protocol 0", () => {
  const e = [0xc3, 0xa9]; // é in UTF-8
  assert.equal(value(0x8c, 2, ...e), "é");
  assert.equal(value(0x58, ...u32(2), ...e), "é");
  assert.equal(value(0x8d, ...u64(2), ...e), "é");
  assert.equal(value(0x55, 2, ...e), "Ã©");
  assert.equal(value(0x54, ...u32(2), ...e), "Ã©");
  refused(/negative BINSTRING length/, 0x54, ...u32(0x80000000));
  assert.equal(value(0x56, "a\\u00e9\\U0001F600\\x41\xe9\n"), "aé😀\\x41é");
  assert.equal(value(0x56, "\\u00E9\n"), "é", "hex digits in either case");
  refused(/invalid code point/, 0x56, "\\U00110000\n");
  assert.equal(value(0x56, "\\U0010ffff\n"), String.fromCodePoint(0x10ffff));
  assert.equal(value(0x56, "\\u12\n"), "\\u12", "too few digits: not an escape");
});

test("bytes: every bytes opcode copies (the value outlives the input buffer)", () => {
  for (const body of [
    [0x43, 3, 1, 2, 3],
    [0x42, ...u32(3), 1, 2, 3],
    [0x8e, ...u64(3), 1, 2, 3],
    [0x96, ...u64(3), 1, 2, 3],
  ]) {
    const input = bytes(0x80, 4, ...body, 0x2e);
    const result = decodePickle(input);
    assert.ok(result.ok);
    assert.deepEqual(result.value, Uint8Array.from([1, 2, 3]));
    input.fill(0);
    assert.deepEqual(result.value, Uint8Array.from([1, 2, 3]), `opcode 0x${body[0]!.toString(16)}`);
  }
  refused(/length too large/, 0x8e, 0, 0, 0, 0, 0, 0, 0x20, 0);
  refused(/truncated/, 0x8e, ...u64(4), 1, 2);
});

test("containers: dicts, lists and tuples in every protocol form, tuples reported", () => {
  assert.deepEqual(value(0x7d), {});
  assert.deepEqual(value(0x5d), []);
  const emptyTuple = decodePickle(bytes(0x29, 0x2e));
  assert.ok(emptyTuple.ok);
  assert.deepEqual(emptyTuple.value, []);
  assert.ok(emptyTuple.tuples.has(emptyTuple.value as unknown[]));
  assert.deepEqual(value(0x28, 0x8c, 1, "a", 0x4b, 1, 0x8c, 1, "b", 0x4b, 2, 0x64), { a: 1, b: 2 }); // DICT
  assert.deepEqual(value(0x28, 0x4b, 1, 0x4b, 2, 0x6c), [1, 2]); // LIST
  // MARK (1, 2) TUPLE, (3,) TUPLE1, (4, 5) TUPLE2, (6, 7, 8) TUPLE3, all in a TUPLE.
  const tuples = decodePickle(
    bytes(0x28, 0x28, 0x4b, 1, 0x4b, 2, 0x74, 0x4b, 3, 0x85, 0x4b, 4, 0x4b, 5, 0x86, 0x4b, 6, 0x4b, 7, 0x4b, 8, 0x87, 0x74, 0x2e),
  );
  assert.ok(tuples.ok);
  assert.deepEqual(tuples.value, [[1, 2], [3], [4, 5], [6, 7, 8]]);
  assert.equal(tuples.tuples.size, 5);
  assert.ok(tuples.tuples.has(tuples.value as unknown[]));
  for (const inner of tuples.value as unknown[][]) assert.ok(tuples.tuples.has(inner));
  // TUPLE2 and TUPLE3 keep the order of the stack.
  assert.deepEqual(value(0x4b, 1, 0x4b, 2, 0x86), [1, 2]);
  assert.deepEqual(value(0x4b, 1, 0x4b, 2, 0x4b, 3, 0x87), [1, 2, 3]);
  // Lists are not tuples.
  const list = decodePickle(bytes(0x5d, 0x4b, 1, 0x61, 0x2e));
  assert.ok(list.ok);
  assert.deepEqual(list.value, [1]);
  assert.equal(list.tuples.size, 0);
});

test("APPEND, APPENDS, SETITEM and SETITEMS only on a list or a dict", () => {
  assert.deepEqual(value(0x5d, 0x4b, 1, 0x61, 0x28, 0x4b, 2, 0x4b, 3, 0x65), [1, 2, 3]);
  assert.deepEqual(value(0x5d, 0x28, 0x65), [], "APPENDS of nothing");
  assert.deepEqual(value(0x7d, 0x8c, 1, "k", 0x4e, 0x73), { k: null });
  assert.deepEqual(value(0x7d, 0x28, 0x4b, 1, 0x88, 0x89, 0x4b, 2, 0x4e, 0x4b, 3, 0x75), { "1": true, false: 2, null: 3 });
  assert.deepEqual(value(0x7d, 0x28, 0x88, 0x4b, 1, 0x75), { true: 1 });
  assert.deepEqual(value(0x7d, 0x28, 0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x4b, 1, 0x75), { "1.5": 1 });
  refused(/dict keys must be/, 0x7d, 0x5d, 0x4b, 1, 0x73);
  refused(/odd number of items/, 0x7d, 0x28, 0x4b, 1, 0x75);
  refused(/odd number of items/, 0x28, 0x4b, 1, 0x64);
  refused(/APPEND to something that is not a list/, 0x29, 0x4b, 1, 0x61);
  refused(/APPEND to something that is not a list/, 0x7d, 0x4b, 1, 0x61);
  refused(/APPEND to something that is not a list/, 0x4b, 0, 0x28, 0x4b, 1, 0x65);
  for (const target of [[0x5d], [0x29], [0x43, 0], [0x4e], [0x4b, 1], [0x8c, 0]]) {
    refused(/SETITEM on something that is not a dict/, ...target, 0x4b, 1, 0x4b, 2, 0x73);
  }
  refused(/SETITEM on something that is not a dict/, 0x5d, 0x28, 0x4b, 1, 0x4b, 2, 0x75);
});

test("a __proto__ key is an own property, never a prototype", () => {
  const dict = value(0x7d, 0x8c, 9, "__proto__", 0x7d, 0x8c, 1, "x", 0x4b, 1, 0x73, 0x73) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(dict), Object.prototype);
  assert.deepEqual(Object.keys(dict), ["__proto__"]);
  assert.equal((dict as { x?: unknown }).x, undefined);
  const descriptor = Object.getOwnPropertyDescriptor(dict, "__proto__")!;
  assert.deepEqual({ ...descriptor, value: undefined }, { value: undefined, writable: true, enumerable: true, configurable: true });
});

test("MARK, POP, POP_MARK, DUP and the stack bounds", () => {
  assert.equal(value(0x4b, 1, 0x4b, 2, 0x30), 1); // POP
  assert.equal(value(0x4b, 1, 0x28, 0x4b, 2, 0x4b, 3, 0x31), 1); // POP_MARK
  assert.deepEqual(value(0x4b, 7, 0x32, 0x86), [7, 7]); // DUP
  refused(/stack underflow/, 0x30);
  refused(/stack underflow/, 0x32);
  refused(/stack underflow/, 0x4b, 1, 0x28, 0x30); // cannot pop below the mark
  refused(/stack underflow/, 0x4b, 1, 0x28, 0x32);
  refused(/stack underflow/, 0x4b, 1, 0x28, 0x85);
  refused(/no MARK/, 0x4b, 1, 0x31);
  refused(/no MARK/, 0x6c);
  refused(/unbalanced/, 0x4b, 1, 0x4b, 2);
  refused(/unbalanced/, 0x28, 0x4b, 1);
  refused(/unbalanced/); // STOP on an empty stack
  const noStop = decodePickle(bytes(0x4b, 1));
  assert.deepEqual(noStop, { ok: false, message: "truncated pickle" });
});

test("PROTO and FRAME", () => {
  for (const proto of [0, 1, 2, 3, 4, 5]) assert.equal(decodePickle(bytes(0x80, proto, 0x4e, 0x2e)).ok, true, `protocol ${proto}`);
  refused(/unsupported pickle protocol/, 0x80, 6, 0x4e);
  assert.equal(value(0x95, ...u64(3), 0x4b, 9), 9);
  refused(/length too large/, 0x95, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
  assert.equal(value(0x95, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00, 0x4b, 1), 1, "2^53 - 1 is still a length");
  refused(/truncated/, 0x95, 1, 2);
});

test("memo: MEMOIZE, BINPUT, LONG_BINPUT and PUT stored, the GETs share the object; unknown slots refused", () => {
  const shared = decodePickle(bytes(0x5d, 0x94, 0x68, 0, 0x86, 0x2e));
  assert.ok(shared.ok);
  const [a, b] = shared.value as unknown[][];
  assert.equal(a, b, "the same list twice");
  assert.deepEqual(value(0x4b, 5, 0x94, 0x4b, 6, 0x94, 0x30, 0x30, 0x68, 1), 6, "MEMOIZE numbers slots 0, 1...");
  assert.deepEqual(value(0x4b, 5, 0x71, 9, 0x30, 0x68, 9), 5);
  assert.deepEqual(value(0x4b, 5, 0x72, ...u32(70000), 0x30, 0x6a, ...u32(70000)), 5);
  assert.deepEqual(value(0x4b, 5, 0x70, "12\n", 0x30, 0x67, "12\n"), 5);
  refused(/memo 3 is not defined/, 0x68, 3);
  refused(/memo 70000 is not defined/, 0x6a, ...u32(70000));
  refused(/memo 4 is not defined/, 0x67, "4\n");
  refused(/stack underflow/, 0x94);
  refused(/stack underflow/, 0x71, 0);
  refused(/malformed INT/, 0x4e, 0x70, "x\n");
});

test("every opcode that names or builds an object is refused by name; others as unknown", () => {
  const named: Array<[number, string]> = [
    [0x63, "GLOBAL"],
    [0x93, "STACK_GLOBAL"],
    [0x52, "REDUCE"],
    [0x62, "BUILD"],
    [0x69, "INST"],
    [0x6f, "OBJ"],
    [0x81, "NEWOBJ"],
    [0x92, "NEWOBJ_EX"],
    [0x50, "PERSID"],
    [0x51, "BINPERSID"],
    [0x82, "EXT"],
    [0x83, "EXT"],
    [0x84, "EXT"],
    [0x8f, "EMPTY_SET"],
    [0x90, "ADDITEMS"],
    [0x91, "FROZENSET"],
    [0x97, "NEXT_BUFFER"],
    [0x98, "READONLY_BUFFER"],
    [0x53, "STRING"],
  ];
  for (const [op, name] of named) {
    const result = decodePickle(bytes(0x80, 4, op, 0x2e));
    assert.deepEqual(result, { ok: false, message: `pickle opcode 0x${op.toString(16)} (${name}) is not allowed` });
  }
  assert.deepEqual(decodePickle(bytes(0x00)), { ok: false, message: "pickle opcode 0x00 (unknown) is not allowed" });
  assert.deepEqual(decodePickle(bytes(0xff)), { ok: false, message: "pickle opcode 0xff (unknown) is not allowed" });
  assert.deepEqual(decodePickle(bytes(0x0a)), { ok: false, message: "pickle opcode 0x0a (unknown) is not allowed" });
});

test("expansion through shared references is bounded, a plain tree of the same size is not", () => {
  // t0 = (), t(n+1) = (tn, tn): 2^n leaves from a few bytes per level.
  const levels: number[] = [0x29];
  for (let i = 0; i < 24; i++) levels.push(0x94, 0x68, i, 0x86);
  const bomb = decodePickle(bytes(...levels, 0x2e));
  assert.deepEqual(bomb, { ok: false, message: "pickle data expands too much through shared references (or refers to itself)" });
  // A list that contains itself.
  assert.equal(decodePickle(bytes(0x5d, 0x94, 0x68, 0, 0x61, 0x2e)).ok, false);
  // A dict that contains itself.
  assert.equal(decodePickle(bytes(0x7d, 0x94, 0x8c, 1, "a", 0x68, 0, 0x73, 0x2e)).ok, false);
  // The budget is 16 times the pickle's size: a 100,000-character string shared 16 times fits,
  // 17 times does not...
  const shared = (text: string, times: number) => {
    const out: number[] = [0x28, 0x58, ...u32(text.length), ...Array.from(text, (c) => c.charCodeAt(0)), 0x94];
    for (let i = 1; i < times; i++) out.push(0x68, 0);
    out.push(0x6c, 0x2e);
    return decodePickle(bytes(...out));
  };
  assert.equal(shared("x".repeat(100_000), 16).ok, true);
  assert.equal(shared("x".repeat(100_000), 17).ok, false);
  // ...and never less than 2^20: a 10,000-character string shared 104 times fits, 105 times not.
  assert.equal(shared("y".repeat(10_000), 104).ok, true);
  assert.equal(shared("y".repeat(10_000), 105).ok, false);
  // Dict keys count too: a dict with a 70,000-character key, shared 16 and 17 times.
  const sharedDict = (times: number) => {
    const out: number[] = [0x28, 0x7d, 0x58, ...u32(70_000), ...new Array<number>(70_000).fill(0x6b), 0x4e, 0x73, 0x94];
    for (let i = 1; i < times; i++) out.push(0x68, 0);
    out.push(0x6c, 0x2e);
    return decodePickle(bytes(...out));
  };
  assert.equal(sharedDict(16).ok, true);
  assert.equal(sharedDict(17).ok, false);
  // And bytes: 100,000 bytes shared 16 and 17 times.
  const sharedBytes = (times: number) => {
    const out: number[] = [0x28, 0x42, ...u32(100_000), ...new Array<number>(100_000).fill(1), 0x94];
    for (let i = 1; i < times; i++) out.push(0x68, 0);
    out.push(0x6c, 0x2e);
    return decodePickle(bytes(...out));
  };
  assert.equal(sharedBytes(16).ok, true);
  assert.equal(sharedBytes(17).ok, false);
  // A list of many small values counts each value: 2^20 Nones through a shared list of 1,024.
  const wide: number[] = [0x28];
  for (let i = 0; i < 1024; i++) wide.push(0x4e);
  wide.push(0x6c, 0x94, 0x28);
  for (let i = 0; i < 1024; i++) wide.push(0x68, 0);
  wide.push(0x6c, 0x86, 0x2e);
  assert.equal(decodePickle(bytes(...wide)).ok, false);
});

test("truncated arguments of every width are refused, never read past the end", () => {
  for (const body of [[0x4b], [0x4d, 1], [0x4a, 1, 2, 3], [0x8a, 2, 1], [0x8c, 3, 0x61], [0x58, 9, 0, 0, 0], [0x43, 2], [0x71], [0x72, 0, 0], [0x68], [0x6a, 1]]) {
    const result = decodePickle(bytes(0x80, 4, ...body));
    assert.deepEqual(result, { ok: false, message: "truncated pickle" }, `body ${body}`);
  }
  assert.deepEqual(decodePickle(new Uint8Array(0)), { ok: false, message: "truncated pickle" });
  // A view into a larger buffer is read from its own offset.
  const buffer = bytes(0xff, 0xff, 0x4b, 7, 0x2e, 0xff);
  const result = decodePickle(buffer.subarray(2, 5));
  assert.ok(result.ok);
  assert.equal(result.value, 7);
  const viewed = bytes(0x00, 0x4d, 0x01, 0x02, 0x2e);
  const viewResult = decodePickle(viewed.subarray(1));
  assert.ok(viewResult.ok);
  assert.equal(viewResult.value, 0x0201);
});

test("zero-length LONG4 and BINSTRING are values, not refusals", () => {
  assert.equal(value(0x8b, ...u32(0)), 0);
  assert.equal(value(0x54, ...u32(0)), "");
});

test("a 1 MB LONG4 is Infinity without reading it byte by byte (the cut-off, not the clock, is what is checked: without it this takes minutes)", () => {
  const big = new Uint8Array(1 + 4 + 1_000_000 + 1);
  big[0] = 0x8b;
  new DataView(big.buffer).setInt32(1, 1_000_000, true);
  big.fill(0x11, 5, 5 + 1_000_000);
  big[big.length - 1] = 0x2e;
  assert.deepEqual(decodePickle(big), { ok: true, value: Number.POSITIVE_INFINITY, tuples: new Set() });
});

test("an APPENDS too large for one push call is a malformed pickle, not an exception", () => {
  const n = 300_000;
  const input = new Uint8Array(n + 4);
  input[0] = 0x5d;
  input[1] = 0x28;
  input.fill(0x4e, 2, n + 2);
  input[n + 2] = 0x65;
  input[n + 3] = 0x2e;
  const result = decodePickle(input);
  assert.equal(result.ok, false);
  if (!result.ok) assert.match(result.message, /^malformed pickle: /);
});
