// Property tests of the msgpack packet codec (src/socket/protocol/msgpack.ts): any bytes decode or
// fail with an error value, never a throw; any JSON-like event data with binaries, encoded by the
// official client-side encoder (socket.io-msgpack-parser), decodes to the same data; whatever this
// codec encodes, the official decoder reads back. Seeds vary per run; fast-check prints a failure's seed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import fc from "fast-check";
import { MsgpackCodec } from "../../src/socket/protocol/msgpack.js";
import { PacketType } from "../../src/socket/protocol/packet.js";

const require = createRequire(import.meta.url);
const official = require("socket.io-msgpack-parser") as {
  Encoder: new () => { encode(packet: object): Uint8Array[] };
  Decoder: new () => { add(bytes: Uint8Array): void; on(event: "decoded", fn: (packet: unknown) => void): void };
};
const codec = new MsgpackCodec();
const decoder = codec.decoder();

/**
 * JSON-like values with Buffers among them (what both sides carry the same way). Numbers stay within
 * ±2^53: notepack.io writes integral doubles beyond int64's range as int64, wrapped. -0 travels
 * as 0 (as in JSON): both codecs write it as an integer.
 */
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.double({ noNaN: true, min: -(2 ** 53), max: 2 ** 53 }).map((x) => (x === 0 ? 0 : x)), fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b))),
  node: fc.oneof({ depthSize: "small" }, tie("leaf"), fc.array(tie("node"), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 6 }), tie("node"), { maxKeys: 4, noNullPrototype: true })),
})).node;

/** Binaries as Buffers: decoded bins are views of the input, Buffers or plain Uint8Arrays as it was. */
function asBuffers(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (Array.isArray(v)) return v.map(asBuffers);
  if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asBuffers(x)]));
  return v;
}

const name = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"].includes(s));

test("msgpack: any bytes decode or fail as a value", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const result = decoder.add(bytes);
      assert.equal(typeof result.ok, "boolean");
    }),
    { numRuns: 2000 },
  );
});

test("msgpack: events from the official encoder decode to the same data", () => {
  fc.assert(
    fc.property(name, fc.array(value, { maxLength: 4 }), fc.option(fc.nat(), { nil: undefined }), (event, args, id) => {
      const packet: Record<string, unknown> = { type: 2, data: [event, ...args], nsp: "/" };
      if (id !== undefined) packet.id = id;
      const [bytes] = new official.Encoder().encode(packet);
      const result = decoder.add(new Uint8Array(bytes!));
      assert.ok(result.ok && result.packet !== null, JSON.stringify(result));
      assert.deepEqual(asBuffers(result.packet.data), [event, ...args]);
      assert.equal(result.packet.id, id);
    }),
    { numRuns: 300 },
  );
});

test("msgpack: what this codec encodes, the official decoder reads back", () => {
  fc.assert(
    fc.property(name, fc.array(value, { maxLength: 4 }), fc.option(fc.nat(), { nil: undefined }), (event, args, id) => {
      const encoded = codec.encode({ type: PacketType.EVENT, nsp: "/", data: [event, ...args], ...(id !== undefined ? { id } : {}) });
      assert.ok(encoded.ok);
      const officialDecoder = new official.Decoder();
      let out: { data?: unknown; id?: unknown } | undefined;
      officialDecoder.on("decoded", (p) => (out = p as typeof out));
      officialDecoder.add(encoded.bytes);
      assert.deepEqual(out?.data, [event, ...args]);
      assert.equal(out?.id, id);
    }),
    { numRuns: 300 },
  );
});
