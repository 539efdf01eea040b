// Property tests of the two wire formats of @socket.io/redis-adapter that SocketIORedisManager
// speaks (src/manager/socketio-redis/classic.ts and sharded.ts), which decode whatever arrives on
// the adapter's channels: arbitrary bytes, arbitrary JSON and arbitrary msgpack decode to a
// result, never a throw; every request and response this side encodes decodes to itself
// (binaries anywhere in the payload come back as Buffers).

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import notepack from "notepack.io";
import { ClassicFormat } from "../../src/manager/socketio-redis/classic.js";
import { ShardedFormat } from "../../src/manager/socketio-redis/sharded.js";
import type { WireFormat } from "../../src/manager/socketio-redis/format.js";
import type { AdapterRequest, AdapterResponse } from "../../src/manager/socketio-redis/messages.js";

const RUNS = 300;
const classic = new ClassicFormat("k", false);
const sharded = new ShardedFormat("k", "dynamic");
const KINDS: Array<AdapterResponse["kind"] | undefined> = [undefined, "client_count", "broadcast_ack", "fetch_sockets", "socket_ids", "all_rooms", "server_side_emit", "done"];
const CHANNELS = ["k#/#", "k#/#room#", "k-request#/#", "k-response#/#", "k-response#/#uid#", "k#/chat#uid#", "other"];

const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const anyPayload = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  json.map((v) => Buffer.from(JSON.stringify(v) ?? "null")),
  json.map((v) => notepack.encode(v)),
  // Shapes close to real messages, with wrong field types.
  fc.record({ uid: json, nsp: json, type: fc.integer({ min: -1, max: 14 }), data: json, requestId: json, opts: json, rooms: json, sid: json, packet: json, sockets: json }, { requiredKeys: ["type"] }).map((m) => notepack.encode(m)),
  fc.tuple(json, fc.record({ type: json, data: json, nsp: json }), json).map((m) => notepack.encode(m)),
);

test("socket.io formats: arbitrary input on every channel decodes to a result, never a throw", () => {
  fc.assert(
    fc.property(anyPayload, fc.constantFrom(...CHANNELS), fc.constantFrom(...KINDS), (payload, channel, kind) => {
      for (const format of [classic, sharded] as WireFormat[]) {
        const decoded = format.decode(channel, payload, () => kind);
        assert.equal(typeof decoded.ok, "boolean");
      }
    }),
    { numRuns: RUNS * 3 },
  );
});

const arg: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    json,
    fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), tie("value"), { maxKeys: 3, noNullPrototype: true }),
  ),
})).value;
const str = fc.string({ maxLength: 8 });
const nsp = fc.constantFrom("/", "/chat", "/a-b");
const rooms = fc.array(str, { maxLength: 3 });
const selector = fc.record({ rooms, except: rooms }, { noNullPrototype: true });
const requestId = fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 1, maxLength: 16 });

function request(withClassicOnly: boolean): fc.Arbitrary<AdapterRequest> {
  const common = [
    fc
      .record({ uid: str, nsp, event: str, args: fc.array(arg, { maxLength: 3 }), opts: selector, requestId: fc.option(requestId, { nil: undefined }) }, { noNullPrototype: true })
      .map(({ uid, nsp, event, args, opts, requestId }): AdapterRequest => ({
        kind: "broadcast",
        uid,
        nsp,
        packet: { type: 2, data: [event, ...args], nsp },
        opts,
        flags: {},
        ...(requestId !== undefined ? { requestId } : {}),
      })),
    fc.record({ kind: fc.constantFrom("sockets_join" as const, "sockets_leave" as const), uid: str, nsp, opts: selector, rooms }, { noNullPrototype: true }),
    fc.record({ kind: fc.constant("disconnect_sockets" as const), uid: str, nsp, opts: selector, close: fc.boolean() }, { noNullPrototype: true }),
    fc.record({ kind: fc.constant("fetch_sockets" as const), uid: str, nsp, requestId, opts: selector }, { noNullPrototype: true }),
    fc
      .record({ uid: str, nsp, event: str, args: fc.array(arg, { maxLength: 3 }), requestId: fc.option(requestId, { nil: undefined }) }, { noNullPrototype: true })
      .map(({ uid, nsp, event, args, requestId }): AdapterRequest => ({ kind: "server_side_emit", uid, nsp, data: [event, ...args], ...(requestId !== undefined ? { requestId } : {}) })),
  ];
  if (!withClassicOnly) return fc.oneof(...common);
  return fc.oneof(
    ...common,
    fc.record({ kind: fc.constant("socket_ids" as const), uid: str, nsp, requestId, rooms }, { noNullPrototype: true }),
    fc.record({ kind: fc.constant("all_rooms" as const), uid: str, nsp, requestId }, { noNullPrototype: true }),
    fc.record({ kind: fc.constantFrom("remote_join" as const, "remote_leave" as const), uid: str, nsp, requestId, sid: str, room: str }, { noNullPrototype: true }),
    fc.record({ kind: fc.constant("remote_disconnect" as const), uid: str, nsp, requestId, sid: str, close: fc.boolean() }, { noNullPrototype: true }),
  );
}

/** msgpack and JSON both lose what JSON cannot say: lone surrogates and a "__proto__" key are left out of the round trip. */
function representable(value: unknown): boolean {
  const text = JSON.stringify(value, (_k, v: unknown) => (Buffer.isBuffer(v) ? "bin" : v)) ?? "";
  return !text.includes('"__proto__"') && !/[\uD800-\uDFFF]/.test(text.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ""));
}

for (const [name, format, classicOnly] of [
  ["classic", classic, true],
  ["sharded", sharded, false],
] as const) {
  test(`socket.io ${name} format: every request it encodes decodes to itself`, () => {
    fc.assert(
      fc.property(request(classicOnly), (r) => {
        fc.pre(representable(r));
        const out = format.encodeRequest(r);
        const decoded = format.decode(out.channel, Buffer.from(out.payload), () => undefined);
        assert.ok(decoded.ok, decoded.ok ? "" : decoded.message);
        assert.deepStrictEqual(decoded.value, { type: "request", request: r });
      }),
      { numRuns: RUNS },
    );
  });

  const response: fc.Arbitrary<AdapterResponse> = fc.oneof(
    fc.record({ kind: fc.constant("client_count" as const), requestId, clientCount: fc.nat() }, { noNullPrototype: true }),
    fc.record({ kind: fc.constant("broadcast_ack" as const), requestId, packet: arg }, { noNullPrototype: true }),
    fc.record({ kind: fc.constant("server_side_emit" as const), requestId, data: arg }, { noNullPrototype: true }),
    fc.record(
      {
        kind: fc.constant("fetch_sockets" as const),
        requestId,
        sockets: fc.array(fc.record({ id: str, handshake: fc.constant({}), rooms, data: arg }, { noNullPrototype: true }), { maxLength: 3 }),
      },
      { noNullPrototype: true },
    ),
    ...(classicOnly
      ? [
          fc.record({ kind: fc.constant("socket_ids" as const), requestId, sockets: rooms }, { noNullPrototype: true }),
          fc.record({ kind: fc.constant("all_rooms" as const), requestId, rooms }, { noNullPrototype: true }),
          fc.record({ kind: fc.constant("done" as const), requestId }, { noNullPrototype: true }),
        ]
      : []),
  );

  test(`socket.io ${name} format: every response it encodes decodes to itself`, () => {
    fc.assert(
      fc.property(response, (r) => {
        fc.pre(representable(r));
        // undefined does not survive JSON or msgpack (nil, or a key left out): compare what it can carry.
        fc.pre(!JSON.stringify(r, (_k, v: unknown) => (v === undefined ? "__undef" : Buffer.isBuffer(v) ? "bin" : v)).includes("__undef"));
        const out = format.encodeResponse({ uid: "asker", nsp: "/" }, "me", r);
        const decoded = format.decode(out.channel, Buffer.from(out.payload), () => r.kind);
        assert.ok(decoded.ok, decoded.ok ? "" : decoded.message);
        const expected = name === "sharded" ? { ...r, uid: "me" } : r;
        assert.deepStrictEqual(decoded.value, { type: "response", response: expected });
      }),
      { numRuns: RUNS },
    );
  });
}
