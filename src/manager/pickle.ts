// A safe decoder for the subset of Python's pickle format that python-socketio's message queue
// managers produce (`pickle.dumps(message)` of a dict of plain data). Only data opcodes are
// understood: dict, list, tuple, str, bytes/bytearray, int, float, bool and None, plus the
// bookkeeping opcodes (PROTO, FRAME, MARK, memo, STOP). Every opcode that names, builds or calls an
// object (GLOBAL, STACK_GLOBAL, REDUCE, BUILD, INST, OBJ, NEWOBJ, EXT*, PERSID...) and every
// opcode outside that subset is refused, so decoding can never run code or create anything but
// plain values. Reference: CPython Lib/pickletools.py (opcode table) and Lib/pickle.py.
//
// Pure code: no `node:*` imports; the decoder is an explicit stack machine (no recursion), and
// errors are returned as values.

export type PickleResult =
  | {
      ok: true;
      value: unknown;
      /** The arrays that were Python tuples (python-socketio sends a tuple as several arguments). */
      tuples: ReadonlySet<unknown[]>;
    }
  | { ok: false; message: string };

const utf8 = new TextDecoder("utf-8");
const latin1 = new TextDecoder("latin1");

class Refusal extends Error {}

function defineValue(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/** A dict key as Python's json.dumps writes it (python-socketio serialises packets with json). */
function dictKey(key: unknown): string {
  if (typeof key === "string") return key;
  if (typeof key === "number") return String(key);
  if (typeof key === "boolean") return key ? "true" : "false";
  if (key === null) return "null";
  throw new Refusal("dict keys must be str, int, float, bool or None");
}

/**
 * Beyond this many significant bytes an integer is at least 2^1024, which is Infinity as a number.
 * Without the cut-off the byte loop below is quadratic (each shift copies the BigInt so far): a
 * 1 MB LONG4 from the broker channel blocked the event loop for minutes.
 */
const MAX_INT_BYTES = 129;

/** Two's-complement little-endian integer of any size (LONG1/LONG4), as a number (exact up to 2^53). */
function littleEndianInt(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  const negative = (bytes[bytes.length - 1]! & 0x80) !== 0;
  // Sign-extension bytes (0x00 above a positive number, 0xff above a negative one) add nothing.
  const filler = negative ? 0xff : 0x00;
  let length = bytes.length;
  while (length > 1 && bytes[length - 1] === filler && (bytes[length - 2]! & 0x80) === (filler & 0x80)) length--;
  if (length > MAX_INT_BYTES) return negative ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  let value = 0n;
  for (let i = length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  if (negative) value -= 1n << BigInt(length * 8);
  return Number(value);
}

/** Python's raw-unicode-escape (protocol 0 UNICODE): only \uXXXX and \UXXXXXXXX are escapes. */
function rawUnicodeEscape(bytes: Uint8Array): string {
  const text = latin1.decode(bytes);
  return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, u4: string | undefined, u8: string | undefined) => {
    const code = parseInt((u4 ?? u8)!, 16);
    if (code > 0x10ffff) throw new Refusal("invalid code point in UNICODE");
    return String.fromCodePoint(code);
  });
}

/**
 * How large the decoded data may be once its shared references are expanded, in values plus the
 * characters and bytes of its strings: 16 times the pickle's size, and never less than 1 Mi. The
 * memo lets a pickle refer to one object many times, so without a bound 120 bytes can describe a
 * tree of 2^24 values (each level a tuple of the previous one, twice), which blocked the event
 * loop for seconds when a server encoded it for its clients, or a list that contains itself. A
 * plain tree is never larger than its pickle; python-socketio's own messages share only the odd
 * repeated string, far within the factor.
 */
const EXPANSION_FACTOR = 16;
const MIN_EXPANSION_BUDGET = 1 << 20;

/** Decodes a pickle of plain data. Never throws; anything outside the subset is refused. */
export function decodePickle(input: Uint8Array): PickleResult {
  try {
    const result = new Reader(input).run();
    if (result.ok && exceedsExpansion(result.value, Math.max(EXPANSION_FACTOR * input.length, MIN_EXPANSION_BUDGET))) {
      return { ok: false, message: "pickle data expands too much through shared references (or refers to itself)" };
    }
    return result;
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, message: err.message };
    if (err instanceof RangeError) return { ok: false, message: `malformed pickle: ${err.message}` };
    throw err;
  }
}

/**
 * Whether `root`, walked as a tree (a shared object counted each time it is reached), exceeds
 * `budget` values, string characters and bytes. Iterative, and stops as soon as the budget is
 * spent, so its cost is bounded by the budget whatever the sharing or cycles.
 */
function exceedsExpansion(root: unknown, budget: number): boolean {
  let used = 1;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === "string") used += value.length;
    else if (value instanceof Uint8Array) used += value.length;
    else if (Array.isArray(value)) {
      used += value.length;
      if (used > budget) return true;
      for (let i = 0; i < value.length; i++) stack.push(value[i]);
    } else if (typeof value === "object" && value !== null) {
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        used += 1 + key.length;
        if (used > budget) return true;
        stack.push(record[key]);
      }
    }
    if (used > budget) return true;
  }
  return false;
}

class Reader {
  private pos = 0;
  private readonly view: DataView;
  private readonly stack: unknown[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, unknown>();
  private readonly tuples = new Set<unknown[]>();

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.bytes.length) throw new Refusal("truncated pickle");
  }
  private u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }
  private take(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  private u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  private i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  private u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Refusal("length too large");
    return Number(v);
  }
  /** A protocol-0 argument: the bytes up to the next newline. */
  private lineBytes(): Uint8Array {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) throw new Refusal("truncated pickle");
    const out = this.bytes.subarray(this.pos, end);
    this.pos = end + 1;
    return out;
  }
  private line(): string {
    return latin1.decode(this.lineBytes());
  }

  private push(value: unknown): void {
    this.stack.push(value);
  }
  private pop(): unknown {
    if (this.stack.length === 0 || (this.marks.length > 0 && this.stack.length <= this.marks[this.marks.length - 1]!)) {
      throw new Refusal("stack underflow");
    }
    return this.stack.pop();
  }
  private top(): unknown {
    if (this.stack.length === 0 || (this.marks.length > 0 && this.stack.length <= this.marks[this.marks.length - 1]!)) {
      throw new Refusal("stack underflow");
    }
    return this.stack[this.stack.length - 1];
  }
  /** The items pushed since the last MARK (removed from the stack), and the mark dropped. */
  private popMark(): unknown[] {
    const mark = this.marks.pop();
    if (mark === undefined) throw new Refusal("no MARK on the stack");
    return this.stack.splice(mark);
  }
  private tuple(items: unknown[]): unknown[] {
    this.tuples.add(items);
    return items;
  }
  private list(value: unknown): unknown[] {
    if (!Array.isArray(value) || this.tuples.has(value)) throw new Refusal("APPEND to something that is not a list");
    return value;
  }
  private dict(value: unknown): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Uint8Array) {
      throw new Refusal("SETITEM on something that is not a dict");
    }
    return value as Record<string, unknown>;
  }
  private setItems(target: Record<string, unknown>, items: unknown[]): void {
    if (items.length % 2 !== 0) throw new Refusal("odd number of items for SETITEMS");
    for (let i = 0; i < items.length; i += 2) defineValue(target, dictKey(items[i]), items[i + 1]);
  }
  private memoGet(index: number): unknown {
    if (!this.memo.has(index)) throw new Refusal(`memo ${index} is not defined`);
    return this.memo.get(index);
  }
  private int(text: string): number {
    const trimmed = text.endsWith("L") ? text.slice(0, -1) : text;
    if (!/^[+-]?\d+$/.test(trimmed)) throw new Refusal("malformed INT");
    // Number() rounds a decimal string as Number(BigInt()) does, in linear time (BigInt parsing
    // of a long digit run is not); `+ 0` turns "-0" into 0, as a Python int has no sign of zero.
    return Number(trimmed) + 0;
  }

  run(): PickleResult {
    for (;;) {
      const op = this.u8();
      switch (op) {
        case 0x80: // PROTO
          if (this.u8() > 5) throw new Refusal("unsupported pickle protocol");
          break;
        case 0x95: // FRAME: the length is only a hint for buffered readers
          this.u64();
          break;
        case 0x2e: {
          // STOP
          if (this.marks.length > 0 || this.stack.length !== 1) throw new Refusal("unbalanced pickle");
          return { ok: true, value: this.stack[0], tuples: this.tuples };
        }
        case 0x28: // MARK
          this.marks.push(this.stack.length);
          break;
        case 0x30: // POP
          this.pop();
          break;
        case 0x31: // POP_MARK
          this.popMark();
          break;
        case 0x32: // DUP
          this.push(this.top());
          break;

        // ---- None, bool, int, float ----
        case 0x4e: // NONE
          this.push(null);
          break;
        case 0x88: // NEWTRUE
          this.push(true);
          break;
        case 0x89: // NEWFALSE
          this.push(false);
          break;
        case 0x4b: // BININT1
          this.push(this.u8());
          break;
        case 0x4d: // BININT2
          this.push(this.u16());
          break;
        case 0x4a: // BININT
          this.push(this.i32());
          break;
        case 0x8a: // LONG1
          this.push(littleEndianInt(this.take(this.u8())));
          break;
        case 0x8b: {
          // LONG4
          const n = this.i32();
          if (n < 0) throw new Refusal("negative LONG4 length");
          this.push(littleEndianInt(this.take(n)));
          break;
        }
        case 0x49: {
          // INT (protocol 0; "00"/"01" are False/True)
          const text = this.line();
          if (text === "00") this.push(false);
          else if (text === "01") this.push(true);
          else this.push(this.int(text));
          break;
        }
        case 0x4c: // LONG (protocol 0)
          this.push(this.int(this.line()));
          break;
        case 0x47: {
          // BINFLOAT: big-endian double
          this.need(8);
          this.push(this.view.getFloat64(this.pos, false));
          this.pos += 8;
          break;
        }
        case 0x46: {
          // FLOAT (protocol 0)
          const text = this.line().trim();
          const value = Number(text);
          if (text === "" || (Number.isNaN(value) && text.toLowerCase() !== "nan")) throw new Refusal("malformed FLOAT");
          this.push(value);
          break;
        }

        // ---- str and bytes ----
        case 0x8c: // SHORT_BINUNICODE
          this.push(utf8.decode(this.take(this.u8())));
          break;
        case 0x58: // BINUNICODE
          this.push(utf8.decode(this.take(this.u32())));
          break;
        case 0x8d: // BINUNICODE8
          this.push(utf8.decode(this.take(this.u64())));
          break;
        case 0x56: // UNICODE (protocol 0)
          this.push(rawUnicodeEscape(this.lineBytes()));
          break;
        case 0x55: // SHORT_BINSTRING (Python 2 str: decoded as Latin-1)
          this.push(latin1.decode(this.take(this.u8())));
          break;
        case 0x54: {
          // BINSTRING
          const n = this.i32();
          if (n < 0) throw new Refusal("negative BINSTRING length");
          this.push(latin1.decode(this.take(n)));
          break;
        }
        case 0x43: // SHORT_BINBYTES
          this.push(this.take(this.u8()).slice());
          break;
        case 0x42: // BINBYTES
          this.push(this.take(this.u32()).slice());
          break;
        case 0x8e: // BINBYTES8
        case 0x96: // BYTEARRAY8
          this.push(this.take(this.u64()).slice());
          break;

        // ---- containers ----
        case 0x7d: // EMPTY_DICT
          this.push({});
          break;
        case 0x5d: // EMPTY_LIST
          this.push([]);
          break;
        case 0x29: // EMPTY_TUPLE
          this.push(this.tuple([]));
          break;
        case 0x64: {
          // DICT (protocol 0): MARK k v k v ... DICT
          const target = {};
          this.setItems(target, this.popMark());
          this.push(target);
          break;
        }
        case 0x6c: // LIST (protocol 0)
          this.push(this.popMark());
          break;
        case 0x74: // TUPLE
          this.push(this.tuple(this.popMark()));
          break;
        case 0x85: // TUPLE1
          this.push(this.tuple([this.pop()]));
          break;
        case 0x86: {
          // TUPLE2
          const b = this.pop();
          const a = this.pop();
          this.push(this.tuple([a, b]));
          break;
        }
        case 0x87: {
          // TUPLE3
          const c = this.pop();
          const b = this.pop();
          const a = this.pop();
          this.push(this.tuple([a, b, c]));
          break;
        }
        case 0x61: {
          // APPEND
          const value = this.pop();
          this.list(this.top()).push(value);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = this.popMark();
          this.list(this.top()).push(...items);
          break;
        }
        case 0x73: {
          // SETITEM
          const value = this.pop();
          const key = this.pop();
          defineValue(this.dict(this.top()), dictKey(key), value);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = this.popMark();
          this.setItems(this.dict(this.top()), items);
          break;
        }

        // ---- memo ----
        case 0x94: // MEMOIZE
          this.memo.set(this.memo.size, this.top());
          break;
        case 0x71: // BINPUT
          this.memo.set(this.u8(), this.top());
          break;
        case 0x72: // LONG_BINPUT
          this.memo.set(this.u32(), this.top());
          break;
        case 0x70: // PUT (protocol 0)
          this.memo.set(this.int(this.line()), this.top());
          break;
        case 0x68: // BINGET
          this.push(this.memoGet(this.u8()));
          break;
        case 0x6a: // LONG_BINGET
          this.push(this.memoGet(this.u32()));
          break;
        case 0x67: // GET (protocol 0)
          this.push(this.memoGet(this.int(this.line())));
          break;

        default:
          throw new Refusal(`pickle opcode 0x${op.toString(16).padStart(2, "0")} (${opcodeName(op)}) is not allowed`);
      }
    }
  }
}

/** Names of the opcodes that are refused on purpose, for the error message. */
function opcodeName(op: number): string {
  switch (op) {
    case 0x63:
      return "GLOBAL";
    case 0x93:
      return "STACK_GLOBAL";
    case 0x52:
      return "REDUCE";
    case 0x62:
      return "BUILD";
    case 0x69:
      return "INST";
    case 0x6f:
      return "OBJ";
    case 0x81:
      return "NEWOBJ";
    case 0x92:
      return "NEWOBJ_EX";
    case 0x50:
      return "PERSID";
    case 0x51:
      return "BINPERSID";
    case 0x82:
    case 0x83:
    case 0x84:
      return "EXT";
    case 0x8f:
      return "EMPTY_SET";
    case 0x90:
      return "ADDITEMS";
    case 0x91:
      return "FROZENSET";
    case 0x97:
      return "NEXT_BUFFER";
    case 0x98:
      return "READONLY_BUFFER";
    case 0x53:
      return "STRING";
    default:
      return "unknown";
  }
}
