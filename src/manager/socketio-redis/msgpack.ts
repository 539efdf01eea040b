// The msgpack encoding of @socket.io/redis-adapter and @socket.io/redis-emitter (notepack.io 3),
// produced with msgpackr, which sockjet already ships. Configured this way, msgpackr writes the
// same bytes as notepack.io for every message these packages exchange: maps sized to their
// entries (fixmap/map16/map32), `undefined` as nil and object keys holding `undefined` left out,
// Buffers as bin 8/16/32, Dates as msgpack timestamps, floats as float 64. Checked against
// notepack.io itself in test/unit/socketio-redis-msgpack.test.ts. The remaining differences do
// not change a decoded value: integers beyond 32 bits are float 64 here and int/uint 64 there
// (both decode to the same number), and notepack.io writes integral floats beyond 2^64 (1e300) as
// a wrong uint 64 where msgpackr keeps the float.
//
// Objects with a toJSON method are replaced by its result and keys holding functions are left out,
// as notepack.io does. Binary values other than Buffer (Uint8Array, other typed arrays, DataView, ArrayBuffer) are
// turned into Buffers over their bytes first: msgpackr would write typed arrays as its own
// extension types, which notepack.io returns as [type, bytes] pairs instead of binaries.

import { Packr, Unpackr } from "msgpackr";
import { isBinary, toBytes } from "../../socket/protocol/binary.js";

const options = {
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: "number",
  variableMapSize: true,
  encodeUndefinedAsNil: true,
  skipValues: [undefined],
} as const;

const packr = new Packr(options);
const unpackr = new Unpackr(options);

/** Binaries as Buffers over their bytes; everything else as it is (copied only where a binary is replaced). */
function normalize(value: unknown, depth: number): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (isBinary(value)) {
    if (value instanceof Buffer) return value;
    const bytes = toBytes(value);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  // Past this depth the value is left to msgpackr (whose own limit reports a cycle).
  if (depth > 1000) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const next = normalize(item, depth + 1);
      if (next !== item && out === null) out = value.slice(0, i);
      if (out !== null) out.push(next);
    }
    return out ?? value;
  }
  if (value instanceof Date) return value;
  // A Map or Set has no own enumerable keys: an empty map, as notepack.io and JSON.stringify write it.
  if (value instanceof Map || value instanceof Set) return {};
  // As notepack.io (and JSON): an object with a toJSON method is what that method returns.
  const toJSON: unknown = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") return normalize(toJSON.call(value), depth + 1);
  const record = value as Record<string, unknown>;
  let out: Record<string, unknown> | null = null;
  for (const key of Object.keys(record)) {
    const item = record[key];
    // notepack.io leaves out keys holding functions; msgpackr would write them as nil.
    if (typeof item === "function") {
      out ??= { ...record };
      delete out[key];
      continue;
    }
    const next = normalize(item, depth + 1);
    if (next !== item) {
      out ??= { ...record };
      Object.defineProperty(out, key, { value: next, writable: true, enumerable: true, configurable: true });
    }
  }
  return out ?? value;
}

/** Encodes a message as notepack.io does. Throws what msgpackr throws (a cycle, a symbol); the caller reports it. */
export function encodeMsgpack(value: unknown): Buffer {
  // A view of packr's buffer: later packs write past these bytes, never over them.
  return packr.pack(normalize(value, 0));
}

/** Decodes one message (notepack.io's or msgpackr's). Throws on malformed input; the caller reports it. */
export function decodeMsgpack(bytes: Uint8Array): unknown {
  return unpackr.unpack(bytes);
}
