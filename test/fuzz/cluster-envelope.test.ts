// Property tests of the cluster envelope (src/manager/pubsub/envelope.ts), which decodes whatever
// arrives on the broker channel: any bytes decode to a well-formed message or `{ ok: false }`,
// never a throw; attachment counts that lie and placeholders out of range are refused; generated
// messages (binaries anywhere in their arguments), the cluster queries' included, round-trip. The arbitrary-input property runs
// the jsfuzz target's checks (fuzz/targets/envelope.ts), which also re-encode what decodes.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeMessage, encodeMessage, type ClusterMessage } from "../../src/manager/pubsub/envelope.js";
import { fuzzEnvelope } from "../../fuzz/targets/envelope.js";

const RUNS = 300;

const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const arg: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    json,
    fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), tie("value"), { maxKeys: 3, noNullPrototype: true }),
  ),
})).value;
const str = fc.string({ maxLength: 10 });
const strings = fc.array(str, { maxLength: 3 });

const message: fc.Arbitrary<ClusterMessage> = fc.oneof(
  fc
    .record(
      { host: str, namespace: str, event: str, args: fc.array(arg, { maxLength: 4 }), rooms: fc.option(strings, { nil: null }), skip: strings, request: fc.option(str, { nil: undefined }) },
      { noNullPrototype: true },
    )
    .map(({ request, ...rest }): ClusterMessage => (request === undefined ? { type: "emit", ...rest } : { type: "emit", ...rest, request })),
  fc.record({ type: fc.constantFrom("enter_room" as const, "leave_room" as const), host: str, namespace: str, sid: str, room: str }, { noNullPrototype: true }),
  fc.record({ type: fc.constant("close_room" as const), host: str, namespace: str, room: str }, { noNullPrototype: true }),
  fc.record({ host: str, namespace: str, sid: str, close: fc.boolean() }, { noNullPrototype: true }).map(({ close, ...rest }): ClusterMessage => (close ? { type: "disconnect", ...rest, close } : { type: "disconnect", ...rest })),
  fc.record({ type: fc.constant("callback" as const), host: str, to: str, request: str, args: fc.array(arg, { maxLength: 4 }) }, { noNullPrototype: true }),
  // Cluster queries and membership (src/manager/pubsub/queries.ts).
  fc.record({ type: fc.constantFrom("heartbeat" as const, "leave" as const), host: str }, { noNullPrototype: true }),
  fc.record(
    { type: fc.constant("fetch_sockets" as const), host: str, request: str, namespace: str, rooms: fc.option(strings, { nil: null }), except: strings, data: fc.boolean() },
    { noNullPrototype: true },
  ),
  fc.record({ type: fc.constant("all_rooms" as const), host: str, request: str, namespace: str }, { noNullPrototype: true }),
  fc
    .record({ host: str, namespace: str, event: str, args: fc.array(arg, { maxLength: 4 }), request: fc.option(str, { nil: undefined }) }, { noNullPrototype: true })
    .map(({ request, ...rest }): ClusterMessage => (request === undefined ? { type: "server_emit", ...rest } : { type: "server_emit", ...rest, request })),
  fc.record({ type: fc.constant("response" as const), host: str, to: str, request: str, args: fc.array(arg, { maxLength: 2 }) }, { noNullPrototype: true }),
);

test("cluster envelope: generated messages round-trip (binaries anywhere in args come back as Buffers)", () => {
  fc.assert(
    fc.property(message, (m) => {
      const decoded = decodeMessage(encodeMessage(m));
      assert.ok(decoded.ok, decoded.ok ? "" : decoded.message);
      assert.deepStrictEqual(decoded.message, m);
    }),
    { numRuns: RUNS },
  );
});

test("cluster envelope: any bytes, and any bytes framed as a header, decode within the contract", () => {
  const bytes = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b));
  const headerish = fc
    .array(fc.oneof(fc.constantFrom('{"type":"emit","host":"h","namespace":"/","event":"e","args":[', '{"type":"server_emit","host":"h","namespace":"/","event":"e","args":[', '{"type":"response","host":"h","to":"t","request":"1","args":[', '{"type":"fetch_sockets","host":"h","request":"1","namespace":"/","except":[],"data":true,', '{"_placeholder":true,"num":0}', '"attachments":', "1", "-1", "1e9", "0.5", ",", "]", "}", '"rooms":null,"skip":[]', "\xff"), fc.string({ maxLength: 4 })), { maxLength: 12 })
    .map((parts) => Buffer.from(parts.join(""), "latin1"));
  fc.assert(fc.property(fc.oneof(bytes, headerish), (input) => fuzzEnvelope(input)), { numRuns: RUNS });
});

/** An envelope with a header as given and raw bytes after it. */
function envelope(header: unknown, tail: Uint8Array): Uint8Array {
  const text = Buffer.from(JSON.stringify(header));
  const out = Buffer.alloc(8 + text.length + tail.length);
  out.set([0x00, 0x53, 0x4a, 0x01]);
  out.writeUInt32BE(text.length, 4);
  out.set(text, 8);
  out.set(tail, 8 + text.length);
  return out;
}

function attachmentSection(sizes: readonly number[]): Buffer {
  return Buffer.concat(sizes.map((size) => Buffer.concat([Buffer.from([size >>> 24, (size >>> 16) & 255, (size >>> 8) & 255, size & 255]), Buffer.alloc(size, 7)])));
}

test("cluster envelope: attachment counts that lie, lengths past the end and placeholders out of range are refused", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.integer({ min: -1, max: 6 }), fc.constantFrom(0.5, 1e9, "1", null)),
      fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 5 }),
      fc.array(fc.integer({ min: -1, max: 6 }), { maxLength: 5 }),
      fc.boolean(),
      (count, sizes, nums, truncate) => {
        const header = { type: "emit", host: "h", namespace: "/", event: "e", args: nums.map((num) => ({ _placeholder: true, num })), rooms: null, skip: [], attachments: count };
        let tail = attachmentSection(sizes);
        const cut = truncate && tail.length > 0;
        if (cut) tail = tail.subarray(0, tail.length - 1);
        const decoded = decodeMessage(envelope(header, tail));
        // A null (or absent) count is no attachments.
        const n = count ?? 0;
        const exact =
          typeof n === "number" &&
          Number.isInteger(n) &&
          n >= 0 &&
          sizes.length === n &&
          !cut &&
          // Without attachments, placeholder-like objects are plain data (nothing to put there).
          (n === 0 || (nums.length === n && new Set(nums).size === n && nums.every((num) => num >= 0 && num < n)));
        assert.equal(decoded.ok, exact, decoded.ok ? "decoded" : decoded.message);
        if (decoded.ok && decoded.message.type === "emit") {
          nums.forEach((num, at) => assert.equal((decoded.message as { args: Buffer[] }).args[at]!.length, sizes[num]));
        }
      },
    ),
    { numRuns: RUNS },
  );
});
