// The cluster envelope's query and membership messages (src/manager/pubsub/envelope.ts):
// heartbeat, leave, fetch_sockets, all_rooms, server_emit and response. Literal bytes of one,
// round trips of each (binaries in a server_emit or a response travel as attachments), and every
// malformed field refused with a message, never an exception.

import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeMessage, encodeMessage, peekType, type ClusterMessage } from "../../src/manager/pubsub/envelope.js";

function forge(header: Record<string, unknown>): Buffer {
  const text = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.from([0x00, 0x53, 0x4a, 0x01, 0, 0, 0, 0]);
  prefix.writeUInt32BE(text.length, 4);
  return Buffer.concat([prefix, text]);
}

test("query envelope: literal bytes of a fetch_sockets request", () => {
  const message: ClusterMessage = { type: "fetch_sockets", host: "h", request: "4", namespace: "/", rooms: ["r"], except: [], data: true };
  const json = '{"type":"fetch_sockets","host":"h","request":"4","namespace":"/","rooms":["r"],"except":[],"data":true}';
  assert.deepEqual(Buffer.from(encodeMessage(message)), forge(JSON.parse(json) as Record<string, unknown>));
  assert.equal(Buffer.from(encodeMessage(message)).subarray(8).toString(), json);
});

test("query envelope: every query and membership message round-trips, binaries included", () => {
  const messages: ClusterMessage[] = [
    { type: "heartbeat", host: "h" },
    { type: "leave", host: "h" },
    { type: "fetch_sockets", host: "h", request: "1", namespace: "/chat", rooms: null, except: ["x"], data: false },
    { type: "all_rooms", host: "h", request: "2", namespace: "/" },
    { type: "server_emit", host: "h", namespace: "/", event: "e", args: [1, { b: Buffer.from([7, 8]) }] },
    { type: "server_emit", host: "h", namespace: "/", event: "e", args: [], request: "3" },
    { type: "response", host: "h2", to: "h", request: "3", args: [[{ sid: "s", namespace: "/", rooms: ["s"], data: { k: Buffer.from([1]) }, server: "h2" }]] },
    { type: "response", host: "h2", to: "h", request: "4", args: [] },
  ];
  for (const m of messages) {
    assert.deepEqual(decodeMessage(encodeMessage(m)), { ok: true, message: m });
    assert.equal(peekType(encodeMessage(m)), m.type);
  }
  const withBinary = Buffer.from(encodeMessage(messages[4]!));
  assert.match(withBinary.toString("latin1"), /"attachments":1/);
});

test("query envelope: malformed fields are refused with a message", () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ type: "heartbeat" }, /missing host/],
    [{ type: "leave", host: 1 }, /missing host/],
    [{ type: "fetch_sockets", host: "h", namespace: "/", rooms: null, except: [], data: true }, /malformed fetch_sockets/],
    [{ type: "fetch_sockets", host: "h", request: "1", namespace: "/", rooms: "r", except: [], data: true }, /malformed fetch_sockets/],
    [{ type: "fetch_sockets", host: "h", request: "1", namespace: "/", rooms: null, except: [1], data: true }, /malformed fetch_sockets/],
    [{ type: "fetch_sockets", host: "h", request: "1", namespace: "/", rooms: null, except: [], data: "yes" }, /malformed fetch_sockets/],
    [{ type: "fetch_sockets", host: "h", request: "1", rooms: null, except: [], data: true }, /malformed fetch_sockets/],
    [{ type: "all_rooms", host: "h", request: 1, namespace: "/" }, /malformed all_rooms/],
    [{ type: "all_rooms", host: "h", request: "1" }, /malformed all_rooms/],
    [{ type: "server_emit", host: "h", namespace: "/", event: "e", args: {} }, /malformed server_emit/],
    [{ type: "server_emit", host: "h", namespace: "/", args: [] }, /malformed server_emit/],
    [{ type: "server_emit", host: "h", namespace: "/", event: "e", args: [], request: 5 }, /malformed server_emit request/],
    [{ type: "response", host: "h", request: "1", args: [] }, /malformed response/],
    [{ type: "response", host: "h", to: "x", request: "1", args: "a" }, /malformed response/],
    [{ type: "response", host: "h", to: "x", request: "1", args: [], attachments: 1 }, /truncated attachment/],
  ];
  for (const [header, why] of cases) {
    const result = decodeMessage(forge(header));
    assert.equal(result.ok, false, JSON.stringify(header));
    if (!result.ok) assert.match(result.message, why, JSON.stringify(header));
  }
});
