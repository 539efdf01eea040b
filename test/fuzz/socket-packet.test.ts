// Property tests of the Socket.IO packet codec with binary attachments: any sequence of messages
// (text packets announcing N attachments, then buffers, lying counts, placeholders out of range or
// repeated, text in between, deep nesting) gives packets or documented DecodeErrorCodes, never a
// throw, and leaves the decoder reusable; generated packets round-trip through encodePacket. The
// arbitrary-input properties run the jsfuzz target's checks (fuzz/targets/socketio.ts), which also
// re-encode every packet that decodes.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Decoder, MAX_DEPTH, RESERVED_EVENTS, encodePacket, type Packet, type PacketType } from "../../src/socket/protocol/packet.js";
import { decodeAll, fuzzSocketIO } from "../../fuzz/targets/socketio.js";

const RUNS = 300;

/** JSON data, normalised as the wire normalises it (-0 is 0 once encoded). */
const json = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
/** Data that may hold binaries anywhere (as Buffers, the type a Node peer receives). */
const dataWithBinary: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    json,
    fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie("value"), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value;

const nsp = fc.oneof(fc.constant("/"), fc.string({ maxLength: 8 }).filter((s) => !s.includes(",")).map((s) => "/" + s));
const ackId = fc.option(fc.nat({ max: Number.MAX_SAFE_INTEGER }), { nil: undefined });
const eventName = fc.oneof(fc.string({ maxLength: 10 }).filter((s) => !RESERVED_EVENTS.has(s)), fc.nat());

const validPacket: fc.Arbitrary<Packet> = fc.oneof(
  fc.record({ type: fc.constant<PacketType>(2), nsp, id: ackId, data: fc.tuple(eventName, fc.array(dataWithBinary, { maxLength: 4 })).map(([name, rest]) => [name, ...rest]) }),
  fc.record({ type: fc.constant<PacketType>(3), nsp, id: fc.nat({ max: Number.MAX_SAFE_INTEGER }), data: fc.array(dataWithBinary, { maxLength: 4 }) }),
  fc.record({ type: fc.constant<PacketType>(0), nsp, data: fc.option(fc.dictionary(fc.string({ maxLength: 6 }), json, { maxKeys: 4, noNullPrototype: true }), { nil: undefined }) }),
  fc.record({ type: fc.constant<PacketType>(4), nsp, data: fc.oneof(fc.string({ maxLength: 20 }), fc.record({ message: fc.string({ maxLength: 20 }) }, { noNullPrototype: true })) }),
  fc.record({ type: fc.constant<PacketType>(1), nsp }),
);

function withoutUndefined(packet: Packet): Packet {
  const out: Packet = { type: packet.type, nsp: packet.nsp };
  if (packet.id !== undefined) out.id = packet.id;
  if (packet.data !== undefined) out.data = packet.data;
  return out;
}

test("Socket.IO: generated packets (binaries anywhere) round-trip through encodePacket and the Decoder", () => {
  fc.assert(
    fc.property(validPacket, (original) => {
      const packet = withoutUndefined(original);
      const encoded = encodePacket(packet);
      assert.ok(encoded.ok);
      const decoder = new Decoder({ maxAttachments: Math.max(1, encoded.attachments.length) });
      let result = decoder.add(encoded.text);
      for (const attachment of encoded.attachments) {
        assert.ok(result.ok && result.packet === null);
        result = decoder.add(attachment);
      }
      assert.ok(result.ok && result.packet !== null, JSON.stringify(result));
      const binary = encoded.attachments.length > 0;
      const expectedType = binary ? (packet.type === 2 ? 5 : 6) : packet.type;
      assert.deepStrictEqual(result.packet, { ...packet, type: expectedType });
    }),
    { numRuns: RUNS },
  );
});

/** Text packets built from the decoder's own vocabulary, and buffers, in any order and number. */
const hostileText = fc
  .tuple(
    fc.constantFrom("5", "6", "2", "3", "0", "4", "1", "7", ""),
    fc.oneof(fc.constant(""), fc.integer({ min: -1, max: 12 }).map((n) => `${n}-`), fc.constantFrom("1e0-", "-", "99999999999999999999-", " 1-")),
    fc.oneof(fc.constant(""), fc.constantFrom("/", "/chat,", "/a?b=c,", "/no-comma")),
    fc.oneof(fc.constant(""), fc.constantFrom("1", "007", "9007199254740993", "99999999999999999999")),
    fc.oneof(
      fc.constant(""),
      fc.array(fc.oneof(fc.integer({ min: -2, max: 12 }).map((num) => ({ _placeholder: true, num })), fc.constantFrom({ _placeholder: true, num: 0.5 }, { _placeholder: true }, { _placeholder: "true", num: 0 }, { __proto__: { _placeholder: true, num: 0 } }), json), { maxLength: 5 }).map((items) => JSON.stringify(["ev", ...items])),
      fc.constantFrom('["connect"]', '["disconnect", 1]', "[]", "{}", '"text"', "[", "null", '{"__proto__":{"_placeholder":true,"num":0}}'),
    ),
  )
  .map((parts) => parts.join(""));
const message = fc.oneof(hostileText, fc.uint8Array({ maxLength: 8 }));

test("Socket.IO: hostile message sequences give packets or documented errors, and the decoder stays usable", () => {
  fc.assert(
    fc.property(fc.array(message, { maxLength: 12 }), fc.integer({ min: 1, max: 10 }), (messages, maxAttachments) => {
      decodeAll(messages, maxAttachments, MAX_DEPTH);
    }),
    { numRuns: RUNS * 3 },
  );
});

test("Socket.IO: any bytes, cut into text and binary messages, are decoded within the contract", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => fuzzSocketIO(Buffer.from(bytes))), { numRuns: RUNS });
});

test("Socket.IO: nesting up to MAX_DEPTH decodes, one level more is TOO_DEEP (event array counted), and 100,000 levels are refused without a stack overflow", () => {
  fc.assert(
    fc.property(fc.integer({ min: MAX_DEPTH - 3, max: MAX_DEPTH + 3 }), fc.constantFrom("2", "51-", "3/chat,4"), (depth, head) => {
      // The event array is level 1; the argument nests depth - 1 more.
      const inner = "[".repeat(depth - 1) + (head === "51-" ? '{"_placeholder":true,"num":0}' : "1") + "]".repeat(depth - 1);
      const text = head.startsWith("3") ? `${head}[${inner}]` : `${head}["ev",${inner}]`;
      const decoder = new Decoder();
      const result = decoder.add(text);
      // The placeholder object is one level deeper than the 1.
      const levels = head === "51-" ? depth + 1 : depth;
      if (levels > MAX_DEPTH) assert.equal(result.ok ? "ok" : result.code, "TOO_DEEP");
      else assert.ok(result.ok, JSON.stringify(result).slice(0, 200));
    }),
    { numRuns: 40 },
  );
  const deep = "2" + '["ev",' + "[".repeat(100_000) + "]".repeat(100_000) + "]";
  const result = new Decoder().add(deep);
  assert.equal(result.ok ? "ok" : result.code, "TOO_DEEP");
});

test("Socket.IO: attachment counts that lie, and placeholders out of range, fail on the text part or wait for the buffers", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 10 }), fc.array(fc.integer({ min: -1, max: 11 }), { maxLength: 11 }), (count, nums) => {
      const text = `5${count}-` + JSON.stringify(["ev", ...nums.map((num) => ({ _placeholder: true, num }))]);
      const decoder = new Decoder({ maxAttachments: 10 });
      const result = decoder.add(text);
      const exact = nums.length === count && new Set(nums).size === count && nums.every((n) => n >= 0 && n < count);
      if (!exact) {
        assert.equal(result.ok ? "ok" : result.code, "INVALID_ATTACHMENTS");
        assert.equal(decoder.pending, false);
        return;
      }
      assert.ok(result.ok && result.packet === null && decoder.pending);
      for (let i = 0; i < count - 1; i++) assert.deepEqual(decoder.add(Buffer.from([i])), { ok: true, packet: null });
      const done = decoder.add(Buffer.from([count - 1]));
      assert.ok(done.ok && done.packet !== null);
      // Attachment i went where placeholder num=i was.
      const args = (done.packet.data as unknown[]).slice(1) as Buffer[];
      nums.forEach((num, at) => assert.deepEqual([...args[at]!], [num]));
      // A buffer with nothing pending is UNEXPECTED_BINARY, and the decoder goes on.
      assert.equal((decoder.add(Buffer.from([0])) as { code?: string }).code, "UNEXPECTED_BINARY");
      assert.ok(decoder.add('2["again"]').ok);
    }),
    { numRuns: RUNS },
  );
});
