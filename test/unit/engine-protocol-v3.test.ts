// Byte-vector tests of the Engine.IO v3 codec (src/engine/protocol/packet-v3.ts), the long-polling
// framings (src/engine/transports/polling-framing.ts) and the v3 forms of OutPacket. Literal wire
// strings and bytes in both directions, malformed input, and a cross-check against the reference
// implementation the v3 clients use: engine.io-parser 2.2.1 (installed with socket.io-client 2).
// Pure functions: no I/O.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { runInNewContext } from "node:vm";
import { PacketType, type Packet } from "../../src/engine/protocol/packet.js";
import {
  base64PacketV3,
  binaryFrameV3,
  decodeBinaryPayloadV3,
  decodeFrameV3,
  decodeJsonpBody,
  decodeTextPayloadV3,
  encodeBinaryPayloadV3,
  encodeFrameV3,
  encodeJsonp,
  encodeSegmentV3,
  encodeTextPayloadV3,
  hasBinaryPacket,
  jsonpIndex,
} from "../../src/engine/protocol/packet-v3.js";
import { POLLING_V3_BASE64, POLLING_V3_XHR2, POLLING_V4, jsonpFraming } from "../../src/engine/transports/polling-framing.js";
import { OutPacket } from "../../src/engine/out-packet.js";
import { bytes, err, ok, plain, plainPacket } from "./decode-helpers.js";

const ascii = (text: string): number[] => Array.from(text, (c) => c.charCodeAt(0));

const M = PacketType.MESSAGE;
/** 0, 1, ..., n-1 as bytes. */
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

// ---------------------------------------------------------------------------------------------
// WebSocket frames

describe("encodeFrameV3 (WebSocket frames)", () => {
  const text: Array<[Packet, string]> = [
    [{ type: PacketType.OPEN, data: '{"sid":"abc"}' }, '0{"sid":"abc"}'],
    [{ type: PacketType.CLOSE }, "1"],
    [{ type: PacketType.PING }, "2"],
    [{ type: PacketType.PING, data: "probe" }, "2probe"],
    [{ type: PacketType.PONG }, "3"],
    [{ type: PacketType.PONG, data: "probe" }, "3probe"],
    [{ type: M, data: "hello" }, "4hello"],
    [{ type: M, data: "" }, "4"],
    [{ type: M, data: "é€😀" }, "4é€😀"],
    [{ type: PacketType.UPGRADE }, "5"],
    [{ type: PacketType.NOOP }, "6"],
  ];
  for (const [packet, frame] of text) {
    test(`${JSON.stringify(packet)} -> ${JSON.stringify(frame)} (binary and base64 mode alike)`, () => {
      assert.equal(encodeFrameV3(packet), frame);
      assert.equal(encodeFrameV3(packet, false), frame);
      assert.equal(encodeFrameV3(packet, true), frame);
    });
  }

  test("a binary MESSAGE is a binary frame with the type byte 0x04 first", () => {
    const frame = encodeFrameV3({ type: M, data: bytes(1, 2, 3) });
    assert.ok(frame instanceof Uint8Array);
    assert.deepEqual(Array.from(frame), [0x04, 1, 2, 3]);
    assert.deepEqual(Array.from(binaryFrameV3(bytes(0xff, 0x00))), [0x04, 0xff, 0x00]);
  });

  test("an empty binary MESSAGE is the single byte 0x04", () => {
    assert.deepEqual(plain(encodeFrameV3({ type: M, data: bytes() })), { bytes: [0x04] });
  });

  test("a subarray view is framed from its own window", () => {
    const whole = bytes(9, 9, 1, 2, 3, 9);
    assert.deepEqual(plain(encodeFrameV3({ type: M, data: whole.subarray(2, 5) })), { bytes: [4, 1, 2, 3] });
    assert.equal(encodeFrameV3({ type: M, data: whole.subarray(2, 5) }, true), "b4AQID");
  });

  test("base64 mode (b64=1): a binary MESSAGE is the text frame b4<base64>", () => {
    assert.equal(encodeFrameV3({ type: M, data: bytes(1, 2, 3) }, true), "b4AQID");
    assert.equal(encodeFrameV3({ type: M, data: bytes(0xff, 0xfe) }, true), "b4//4=");
    assert.equal(encodeFrameV3({ type: M, data: bytes(0xfb) }, true), "b4+w==");
    assert.equal(encodeFrameV3({ type: M, data: bytes() }, true), "b4");
    assert.equal(base64PacketV3(bytes(1, 2, 3, 4)), "b4AQIDBA==");
  });
});

describe("decodeFrameV3", () => {
  const text: Array<[string, Packet]> = [
    ["0{}", { type: PacketType.OPEN, data: "{}" }],
    ["1", { type: PacketType.CLOSE }],
    ["2", { type: PacketType.PING }],
    ["2probe", { type: PacketType.PING, data: "probe" }],
    ["3", { type: PacketType.PONG }],
    ["3probe", { type: PacketType.PONG, data: "probe" }],
    ["4hello", { type: M, data: "hello" }],
    ["4", { type: M }],
    ["4é€😀", { type: M, data: "é€😀" }],
    ["40/chat?token=abc,", { type: M, data: "0/chat?token=abc," }],
    ["5", { type: PacketType.UPGRADE }],
    ["6", { type: PacketType.NOOP }],
  ];
  for (const [frame, packet] of text) {
    test(`${JSON.stringify(frame)} -> ${JSON.stringify(packet)}`, () => {
      assert.deepEqual(ok(decodeFrameV3(frame)), packet);
    });
  }

  test("a packet without data has no data key at all", () => {
    assert.equal("data" in ok(decodeFrameV3("2")), false);
    assert.equal("data" in ok(decodeFrameV3("4")), false);
  });

  test("a binary frame: type byte 0x04, then the data", () => {
    assert.deepEqual(plainPacket(ok(decodeFrameV3(bytes(4, 1, 2, 3)))), { type: M, data: { bytes: [1, 2, 3] } });
    assert.deepEqual(plainPacket(ok(decodeFrameV3(bytes(4)))), { type: M, data: { bytes: [] } });
    // "4hi" as bytes is the type byte 0x34, not a text frame.
    err(decodeFrameV3(bytes(0x34, 0x68, 0x69)), "INVALID_TYPE");
  });

  test("b4<base64> text frames are binary MESSAGEs", () => {
    assert.deepEqual(plainPacket(ok(decodeFrameV3("b4AQID"))), { type: M, data: { bytes: [1, 2, 3] } });
    assert.deepEqual(plainPacket(ok(decodeFrameV3("b4//4="))), { type: M, data: { bytes: [0xff, 0xfe] } });
    assert.deepEqual(plainPacket(ok(decodeFrameV3("b4+w=="))), { type: M, data: { bytes: [0xfb] } });
    assert.deepEqual(plainPacket(ok(decodeFrameV3("b4AQIDBA=="))), { type: M, data: { bytes: [1, 2, 3, 4] } });
    assert.deepEqual(plainPacket(ok(decodeFrameV3("b4"))), { type: M, data: { bytes: [] } });
    assert.ok(ok(decodeFrameV3("b4AQID")).data instanceof Uint8Array);
  });

  test("EMPTY_PACKET: the empty text frame and the empty binary frame", () => {
    err(decodeFrameV3(""), "EMPTY_PACKET");
    err(decodeFrameV3(bytes()), "EMPTY_PACKET");
  });

  test("INVALID_TYPE: a binary frame whose type byte is not 0x04", () => {
    for (const first of [0, 1, 2, 3, 5, 6, 7, 0x34, 0xff]) err(decodeFrameV3(bytes(first, 1, 2, 3)), "INVALID_TYPE", `type byte ${first}`);
  });

  test("INVALID_TYPE: a text frame that does not start with 0-6 or b4", () => {
    for (const frame of ["7", "9x", "/", "a", " 4", "🙂", "-1", "\u0660", "B4AQID"]) err(decodeFrameV3(frame), "INVALID_TYPE", frame);
  });

  test("INVALID_TYPE: b followed by anything but 4 (only messages carry binary)", () => {
    for (const frame of ["b", "bAQID", "b5AQID", "b0", "b2AQID", "bb4AQID", "b 4AQID"]) err(decodeFrameV3(frame), "INVALID_TYPE", frame);
  });

  test("INVALID_BASE64: b4 followed by text that is not base64", () => {
    for (const frame of ["b4!!!!", "b4A", "b4AQIDB", "b4=AQI", "b4AQ=D", "b4AQID===", "b4 AQID", "b4-_-_", "b4A=", "b4AA=", "b4AQIDB=="]) {
      err(decodeFrameV3(frame), "INVALID_BASE64", frame);
    }
  });
});

describe("encodeSegmentV3 (the text form of one packet)", () => {
  test("text packets are <type><data>, as in v4", () => {
    assert.equal(encodeSegmentV3({ type: M, data: "hello" }), "4hello");
    assert.equal(encodeSegmentV3({ type: PacketType.PING }), "2");
    assert.equal(encodeSegmentV3({ type: PacketType.PONG, data: "probe" }), "3probe");
    assert.equal(encodeSegmentV3({ type: PacketType.NOOP }), "6");
    assert.equal(encodeSegmentV3({ type: PacketType.OPEN, data: "{}" }), "0{}");
    assert.equal(encodeSegmentV3({ type: M, data: "€😀" }), "4€😀");
  });

  test("binary packets are b4<base64> (v4 would be b<base64>)", () => {
    assert.equal(encodeSegmentV3({ type: M, data: bytes(1, 2, 3) }), "b4AQID");
    assert.equal(encodeSegmentV3({ type: M, data: bytes(0xff, 0xfe) }), "b4//4=");
    assert.equal(encodeSegmentV3({ type: M, data: bytes() }), "b4");
  });
});

// ---------------------------------------------------------------------------------------------
// text payloads: <length>:<packet>, lengths in UTF-16 code units

describe("encodeTextPayloadV3", () => {
  test("one packet", () => {
    assert.equal(encodeTextPayloadV3([{ type: M, data: "hello" }]), "6:4hello");
    assert.equal(encodeTextPayloadV3([{ type: PacketType.PONG }]), "1:3");
    assert.equal(encodeTextPayloadV3([{ type: PacketType.NOOP }]), "1:6");
  });

  test("several packets are concatenated without a separator", () => {
    assert.equal(
      encodeTextPayloadV3([{ type: M, data: "a" }, { type: PacketType.PING }, { type: M, data: "0" }, { type: PacketType.CLOSE }]),
      "2:4a1:22:401:1",
    );
  });

  test("lengths count UTF-16 code units: € is 1, 😀 (a surrogate pair) is 2", () => {
    assert.equal("€".length, 1);
    assert.equal("😀".length, 2);
    assert.equal(encodeTextPayloadV3([{ type: M, data: "€" }]), "2:4€");
    assert.equal(encodeTextPayloadV3([{ type: M, data: "😀" }]), "3:4😀");
    assert.equal(encodeTextPayloadV3([{ type: M, data: "é€😀" }]), "5:4é€😀");
    assert.equal(encodeTextPayloadV3([{ type: M, data: "€" }, { type: M, data: "😀😀" }]), "2:4€5:4😀😀");
  });

  test("multi-digit lengths", () => {
    assert.equal(encodeTextPayloadV3([{ type: M, data: "hello world" }]), "12:4hello world");
    const long = "x".repeat(1234);
    assert.equal(encodeTextPayloadV3([{ type: M, data: long }]), "1235:4" + long);
  });

  test("data that looks like framing is carried verbatim", () => {
    assert.equal(encodeTextPayloadV3([{ type: M, data: "1:2" }, { type: M, data: "::" }]), "4:41:23:4::");
  });

  test("binary packets are b4<base64>, their length that of the base64 text", () => {
    assert.equal(encodeTextPayloadV3([{ type: M, data: bytes(1, 2, 3) }]), "6:b4AQID");
    assert.equal(encodeTextPayloadV3([{ type: M, data: "a" }, { type: M, data: bytes(1, 2, 3, 4) }, { type: PacketType.PING }]), "2:4a10:b4AQIDBA==1:2");
  });

  test("a packet's own segmentV3 (the OutPacket cache) is used when present", () => {
    const cached = { type: M, data: bytes(1, 2, 3), segmentV3: "b4AQID" };
    assert.equal(encodeTextPayloadV3([cached]), "6:b4AQID");
  });
});

describe("decodeTextPayloadV3", () => {
  test("several packets", () => {
    assert.deepEqual(ok(decodeTextPayloadV3("6:4hello1:22:4€3:4😀1:6")), [
      { type: M, data: "hello" },
      { type: PacketType.PING },
      { type: M, data: "€" },
      { type: M, data: "😀" },
      { type: PacketType.NOOP },
    ]);
  });

  test("multi-digit lengths and data containing colons and digits", () => {
    assert.deepEqual(ok(decodeTextPayloadV3("12:4hello world4:41:2")), [
      { type: M, data: "hello world" },
      { type: M, data: "1:2" },
    ]);
    const long = "y".repeat(1234);
    assert.deepEqual(ok(decodeTextPayloadV3("1235:4" + long + "1:3")), [{ type: M, data: long }, { type: PacketType.PONG }]);
  });

  test("b4<base64> entries are binary MESSAGEs", () => {
    const packets = ok(decodeTextPayloadV3("2:4a6:b4AQID2:b41:2"));
    assert.deepEqual(packets.map(plainPacket), [
      { type: M, data: "a" },
      { type: M, data: { bytes: [1, 2, 3] } },
      { type: M, data: { bytes: [] } },
      { type: PacketType.PING, data: undefined },
    ]);
    assert.ok(packets[1]!.data instanceof Uint8Array);
  });

  test("0: entries carry no packet and are skipped (as engine.io-parser does)", () => {
    assert.deepEqual(ok(decodeTextPayloadV3("0:")), []);
    assert.deepEqual(ok(decodeTextPayloadV3("0:0:")), []);
    assert.deepEqual(ok(decodeTextPayloadV3("0:1:20:2:4a0:")), [{ type: PacketType.PING }, { type: M, data: "a" }]);
  });

  test("EMPTY_PACKET: the empty payload", () => {
    err(decodeTextPayloadV3(""), "EMPTY_PACKET");
  });

  test("INVALID_LENGTH: a length that overruns the payload", () => {
    for (const payload of ["5:4ab", "2:4", "1:", "1:22:4", "6:4hello1:", "3:4€"]) err(decodeTextPayloadV3(payload), "INVALID_LENGTH", payload);
  });

  test("INVALID_LENGTH: a length that splits a surrogate pair leaves a tail that is not an entry", () => {
    err(decodeTextPayloadV3("2:4😀"), "INVALID_LENGTH");
  });

  test("INVALID_LENGTH: a non-digit length", () => {
    for (const payload of ["a:4", "1a:4a", "-1:2", " 1:2", "1 :2", "+1:2", "1.0:2", "٣:4ab", "0x1:2", "1:2x:2"]) {
      err(decodeTextPayloadV3(payload), "INVALID_LENGTH", payload);
    }
  });

  test("INVALID_LENGTH: a missing colon or an empty length", () => {
    for (const payload of ["4", "4hello", "12", "1:23", "1:2 ", ":2", "1:2:2", "6:4hello6"]) err(decodeTextPayloadV3(payload), "INVALID_LENGTH", payload);
  });

  test("INVALID_LENGTH: more than 15 digits; 15 digits (leading zeros) still parse", () => {
    err(decodeTextPayloadV3("0000000000000001:2"), "INVALID_LENGTH");
    err(decodeTextPayloadV3("99999999999999999999:2"), "INVALID_LENGTH");
    assert.deepEqual(ok(decodeTextPayloadV3("000000000000001:2")), [{ type: PacketType.PING }]);
  });

  test("an invalid entry reports its own error", () => {
    err(decodeTextPayloadV3("1:9"), "INVALID_TYPE");
    err(decodeTextPayloadV3("1:21:7"), "INVALID_TYPE");
    err(decodeTextPayloadV3("1:b"), "INVALID_TYPE");
    err(decodeTextPayloadV3("5:bAQID"), "INVALID_TYPE");
    err(decodeTextPayloadV3("5:b4!!!"), "INVALID_BASE64");
    err(decodeTextPayloadV3("3:b4A"), "INVALID_BASE64");
  });

  test("TOO_MANY_PACKETS: more packets than maxPackets (0: entries do not count)", () => {
    err(decodeTextPayloadV3("1:21:21:2", 2), "TOO_MANY_PACKETS");
    err(decodeTextPayloadV3("1:2", 0), "TOO_MANY_PACKETS");
    assert.equal(ok(decodeTextPayloadV3("1:21:2", 2)).length, 2);
    assert.equal(ok(decodeTextPayloadV3("0:1:20:1:20:", 2)).length, 2);
    assert.equal(ok(decodeTextPayloadV3("1:21:21:2")).length, 3); // unbounded by default
  });
});

// ---------------------------------------------------------------------------------------------
// XHR2 binary payloads: <0|1><length digits as bytes 0-9><255><packet>

describe("encodeBinaryPayloadV3", () => {
  test("text entry: kind 0, length in UTF-8 bytes, the UTF-8 text", () => {
    assert.deepEqual(Array.from(encodeBinaryPayloadV3([{ type: PacketType.PING }])), [0, 1, 255, 0x32]);
    assert.deepEqual(Array.from(encodeBinaryPayloadV3([{ type: M, data: "€" }])), [0, 4, 255, 0x34, 0xe2, 0x82, 0xac]);
    assert.deepEqual(Array.from(encodeBinaryPayloadV3([{ type: M, data: "😀" }])), [0, 5, 255, 0x34, 0xf0, 0x9f, 0x98, 0x80]);
  });

  test("binary entry: kind 1, the length counts the type byte, then 0x04 and the data", () => {
    assert.deepEqual(Array.from(encodeBinaryPayloadV3([{ type: M, data: bytes(1, 2, 3) }])), [1, 4, 255, 4, 1, 2, 3]);
    assert.deepEqual(Array.from(encodeBinaryPayloadV3([{ type: M, data: bytes() }])), [1, 1, 255, 4]);
  });

  test("mixed entries with multi-digit lengths (each digit its own byte)", () => {
    const payload = encodeBinaryPayloadV3([
      { type: M, data: "hello world" }, // "4hello world": 12 bytes
      { type: M, data: new Uint8Array(range(11)) }, // 0x04 + 11 bytes: 12
      { type: PacketType.PING }, // "2": 1 byte
      { type: M, data: "é€😀" }, // "4é€😀": 1 + 2 + 3 + 4 = 10 bytes
    ]);
    assert.deepEqual(Array.from(payload), [
      0, 1, 2, 255, ...ascii("4hello world"),
      1, 1, 2, 255, 4, ...range(11),
      0, 1, 255, 0x32,
      0, 1, 0, 255, 0x34, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80,
    ]);
  });

  test("a 3-digit length", () => {
    const payload = encodeBinaryPayloadV3([{ type: M, data: new Uint8Array(255).fill(7) }]);
    assert.deepEqual(Array.from(payload.subarray(0, 6)), [1, 2, 5, 6, 255, 4]);
    assert.equal(payload.byteLength, 5 + 256);
  });

  test("hasBinaryPacket", () => {
    assert.equal(hasBinaryPacket([]), false);
    assert.equal(hasBinaryPacket([{ type: M, data: "a" }, { type: PacketType.PING }]), false);
    assert.equal(hasBinaryPacket([{ type: M, data: "a" }, { type: M, data: bytes() }]), true);
  });
});

describe("decodeBinaryPayloadV3", () => {
  test("mixed entries with multi-digit lengths", () => {
    const payload = bytes(
      0, 1, 2, 255, ...ascii("4hello world"),
      1, 1, 2, 255, 4, ...range(11),
      0, 1, 255, 0x32,
      0, 1, 0, 255, 0x34, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80,
      1, 1, 255, 4,
    );
    const packets = ok(decodeBinaryPayloadV3(payload));
    assert.deepEqual(packets.map(plainPacket), [
      { type: M, data: "hello world" },
      { type: M, data: { bytes: range(11) } },
      { type: PacketType.PING, data: undefined },
      { type: M, data: "é€😀" },
      { type: M, data: { bytes: [] } },
    ]);
    assert.ok(packets[1]!.data instanceof Uint8Array);
  });

  test("a text entry may hold any text packet type", () => {
    assert.deepEqual(ok(decodeBinaryPayloadV3(bytes(0, 6, 255, ...ascii("2probe"), 0, 1, 255, 0x31))), [
      { type: PacketType.PING, data: "probe" },
      { type: PacketType.CLOSE },
    ]);
  });

  test("EMPTY_PACKET: the empty payload, an empty text entry, an empty binary entry", () => {
    err(decodeBinaryPayloadV3(bytes()), "EMPTY_PACKET");
    err(decodeBinaryPayloadV3(bytes(0, 0, 255)), "EMPTY_PACKET");
    err(decodeBinaryPayloadV3(bytes(1, 0, 255)), "EMPTY_PACKET");
  });

  test("INVALID_LENGTH: a kind byte other than 0 and 1", () => {
    for (const kind of [2, 3, 9, 0x30, 255]) err(decodeBinaryPayloadV3(bytes(kind, 1, 255, 0x32)), "INVALID_LENGTH", `kind ${kind}`);
    // also in a later entry
    err(decodeBinaryPayloadV3(bytes(0, 1, 255, 0x32, 2, 1, 255, 0x32)), "INVALID_LENGTH");
  });

  test("INVALID_LENGTH: no 255 after the digits", () => {
    err(decodeBinaryPayloadV3(bytes(0)), "INVALID_LENGTH");
    err(decodeBinaryPayloadV3(bytes(0, 1)), "INVALID_LENGTH");
    err(decodeBinaryPayloadV3(bytes(1, 1, 2, 3)), "INVALID_LENGTH");
    err(decodeBinaryPayloadV3(bytes(0, 1, 255, 0x32, 0, 1)), "INVALID_LENGTH");
  });

  test("INVALID_LENGTH: a length byte that is not a digit 0-9 (ASCII digits are not digits here)", () => {
    err(decodeBinaryPayloadV3(bytes(0, 10, 255, ...range(10))), "INVALID_LENGTH");
    err(decodeBinaryPayloadV3(bytes(0, 0x31, 255, 0x32)), "INVALID_LENGTH");
    err(decodeBinaryPayloadV3(bytes(0, 1, 254, 255, 0x32)), "INVALID_LENGTH");
  });

  test("INVALID_LENGTH: no digits at all", () => {
    err(decodeBinaryPayloadV3(bytes(0, 255, 0x32)), "INVALID_LENGTH");
    err(decodeBinaryPayloadV3(bytes(1, 255, 4, 1)), "INVALID_LENGTH");
  });

  test("INVALID_LENGTH: a length that overruns the payload", () => {
    err(decodeBinaryPayloadV3(bytes(0, 5, 255, 0x32)), "INVALID_LENGTH");
    err(decodeBinaryPayloadV3(bytes(1, 1, 2, 255, 4, ...range(10))), "INVALID_LENGTH");
    err(decodeBinaryPayloadV3(bytes(0, 1, 255, 0x32, 1, 3, 255, 4, 1)), "INVALID_LENGTH");
  });

  test("INVALID_LENGTH: more than 15 digits; 15 digits (leading zeros) still parse", () => {
    err(decodeBinaryPayloadV3(bytes(0, ...new Array(15).fill(0), 1, 255, 0x32)), "INVALID_LENGTH");
    assert.deepEqual(ok(decodeBinaryPayloadV3(bytes(0, ...new Array(14).fill(0), 1, 255, 0x32))), [{ type: PacketType.PING }]);
  });

  test("INVALID_UTF8: a text entry that is not UTF-8", () => {
    err(decodeBinaryPayloadV3(bytes(0, 2, 255, 0x34, 0xff)), "INVALID_UTF8"); // 0xff never appears in UTF-8
    err(decodeBinaryPayloadV3(bytes(0, 3, 255, 0x34, 0xe2, 0x82)), "INVALID_UTF8"); // truncated sequence
    err(decodeBinaryPayloadV3(bytes(0, 3, 255, 0x34, 0xc0, 0x80)), "INVALID_UTF8"); // overlong NUL
    err(decodeBinaryPayloadV3(bytes(0, 4, 255, 0x34, 0xed, 0xa0, 0x80)), "INVALID_UTF8"); // encoded surrogate
  });

  test("a binary entry is not UTF-8-checked, but needs the type byte 0x04", () => {
    assert.deepEqual(plainPacket(ok(decodeBinaryPayloadV3(bytes(1, 2, 255, 4, 0xff)))[0]!), { type: M, data: { bytes: [0xff] } });
    err(decodeBinaryPayloadV3(bytes(1, 2, 255, 2, 1)), "INVALID_TYPE");
    err(decodeBinaryPayloadV3(bytes(1, 2, 255, 0x34, 1)), "INVALID_TYPE");
  });

  test("an invalid text entry reports its own error", () => {
    err(decodeBinaryPayloadV3(bytes(0, 1, 255, 0x39)), "INVALID_TYPE");
    err(decodeBinaryPayloadV3(bytes(0, 3, 255, ...ascii("b4A"))), "INVALID_BASE64");
  });

  test("TOO_MANY_PACKETS", () => {
    const three = bytes(0, 1, 255, 0x32, 0, 1, 255, 0x32, 1, 1, 255, 4);
    err(decodeBinaryPayloadV3(three, 2), "TOO_MANY_PACKETS");
    err(decodeBinaryPayloadV3(bytes(0, 1, 255, 0x32), 0), "TOO_MANY_PACKETS");
    assert.equal(ok(decodeBinaryPayloadV3(three, 3)).length, 3);
    assert.equal(ok(decodeBinaryPayloadV3(three)).length, 3);
  });
});

// ---------------------------------------------------------------------------------------------
// JSONP

/** What engine.io-client 3.5's polling-jsonp.js does to a payload before it submits the form. */
function jsonpClientEscape(data: string): string {
  const rNewline = /\n/g;
  const rEscapedNewline = /\\n/g;
  return data.replace(rEscapedNewline, "\\\n").replace(rNewline, "\\n");
}

/** A browser's application/x-www-form-urlencoded serialization of one field. */
const formField = (name: string, value: string) => new URLSearchParams([[name, value]]).toString();

describe("JSONP", () => {
  test("jsonpIndex keeps only the digits of j", () => {
    assert.equal(jsonpIndex("0"), "0");
    assert.equal(jsonpIndex("12"), "12");
    assert.equal(jsonpIndex("1abc"), "1");
    assert.equal(jsonpIndex("a1b2"), "12");
    assert.equal(jsonpIndex("0);alert(1);//"), "01");
    assert.equal(jsonpIndex("</script>"), "");
    assert.equal(jsonpIndex(""), "");
  });

  test("encodeJsonp: ___eio[N](\"<payload as a JS string literal>\");", () => {
    assert.equal(encodeJsonp("0", "1:6"), '___eio[0]("1:6");');
    assert.equal(
      encodeJsonp("0", '12:0{"sid":"x"}'),
      '___eio[0]("12:0{\\"sid\\":\\"x\\"}");',
    );
    assert.equal(encodeJsonp("12", "2:40"), '___eio[12]("2:40");');
  });

  test("encodeJsonp escapes quotes, backslashes, newlines, and U+2028/U+2029", () => {
    assert.equal(encodeJsonp("1", 'say "hi" \\ back'), '___eio[1]("say \\"hi\\" \\\\ back");');
    assert.equal(encodeJsonp("1", "a\nb\rc\td"), '___eio[1]("a\\nb\\rc\\td");');
    const body = encodeJsonp("3", "a\u2028b\u2029c");
    assert.equal(body, '___eio[3]("a\\u2028b\\u2029c");');
    assert.equal(/[\u2028\u2029]/.test(body), false, "no raw line or paragraph separator in the script");
    assert.equal(encodeJsonp("1", "é€😀"), '___eio[1]("é€😀");');
  });

  test("an encodeJsonp body, run as a script, hands the exact payload to ___eio[N]", () => {
    const payloads = ['12:0{"sid":"x"}', 'say "hi" \\ back', "a\nb\u2028c\u2029d", "é€😀", "\u0000\u001f</script>"];
    for (const payload of payloads) {
      const received: string[] = [];
      const ___eio: Array<(s: string) => void> = [() => assert.fail("wrong index"), (s) => received.push(s)];
      runInNewContext(encodeJsonp("1", payload), { ___eio });
      assert.deepEqual(received, [payload]);
    }
  });

  test("decodeJsonpBody: the field d, form-decoded (+ is a space, %XX)", () => {
    assert.equal(decodeJsonpBody("d=1%3A2"), "1:2");
    assert.equal(decodeJsonpBody("d=1:2"), "1:2");
    assert.equal(decodeJsonpBody("d=8%3A4a+b+c%2B"), "8:4a b c+");
    assert.equal(decodeJsonpBody("d=2%3A4%E2%82%AC"), "2:4€");
    assert.equal(decodeJsonpBody("d=3%3A4%F0%9F%98%80"), "3:4😀");
    assert.equal(decodeJsonpBody("x=1&d=2%3A40&y=2"), "2:40");
    assert.equal(decodeJsonpBody("d="), "");
  });

  test("decodeJsonpBody: missing d is null", () => {
    for (const form of ["", "x=1", "dd=1", "D=1", "data=1:2"]) assert.equal(decodeJsonpBody(form), null, form);
  });

  test("decodeJsonpBody undoes the client's newline escaping: \\n is a newline, \\\\n a literal backslash-n", () => {
    // A real newline arrives as the two characters \ n.
    assert.equal(decodeJsonpBody("d=" + encodeURIComponent("3:4a\\nb")), "3:4a\nb");
    assert.equal(decodeJsonpBody("d=4a%5Cnb"), "4a\nb");
    // A literal backslash-n arrives as \\n.
    assert.equal(decodeJsonpBody("d=4a%5C%5Cnb"), "4a\\nb");
    // Both in one payload.
    assert.equal(decodeJsonpBody("d=" + encodeURIComponent("\\n|\\\\n|\\n")), "\n|\\n|\n");
    // Backslashes not before an n are untouched.
    assert.equal(decodeJsonpBody("d=" + encodeURIComponent('42["a\\"b\\\\c"]')), '42["a\\"b\\\\c"]');
  });

  test("the client's escaping, form-encoded, decodes to the payload it escaped", () => {
    const payloads = [
      '42["msg","line1\\nline2"]', // a JSON string with a newline: backslash-n on the wire
      '42["ev",\n"x"]', // a real newline (JSON whitespace)
      "4a\nb\\nc\\\\d",
      "4 + & = % ; é€😀",
    ];
    for (const payload of payloads) {
      const text = encodeTextPayloadV3([{ type: M, data: payload.slice(1) }]);
      const escaped = jsonpClientEscape(text);
      assert.equal(escaped.includes("\n"), false, "no raw newline leaves the client");
      assert.equal(decodeJsonpBody(formField("d", escaped)), text, JSON.stringify(payload));
    }
    // The literal vectors of the two escapes.
    assert.equal(jsonpClientEscape("a\nb"), "a\\nb");
    assert.equal(jsonpClientEscape("a\\nb"), "a\\\\nb");
  });
});

// ---------------------------------------------------------------------------------------------
// polling framings

const enc = new TextEncoder();
const out = (type: PacketType, data?: string | Uint8Array) => new OutPacket(type, data);
const TEXT_CT = "text/plain; charset=UTF-8";

describe("polling framings", () => {
  const mixed = () => [out(M, "a"), out(M, bytes(1, 2, 3)), out(PacketType.PING)];
  const textOnly = () => [out(M, "a"), out(PacketType.PONG)];

  test("POLLING_V4: record-separated, b<base64>, text/plain", () => {
    const body = POLLING_V4.encode(mixed());
    assert.equal(body, "4a\x1ebAQID\x1e2");
    assert.equal(POLLING_V4.contentType(body), TEXT_CT);
    assert.deepEqual(ok(POLLING_V4.decode(enc.encode("4a\x1ebAQID\x1e2"), "text/plain;charset=UTF-8", Infinity)).map(plainPacket), [
      { type: M, data: "a" },
      { type: M, data: { bytes: [1, 2, 3] } },
      { type: PacketType.PING, data: undefined },
    ]);
    // A v4 session never reads the v3 framings, whatever the content type says.
    err(POLLING_V4.decode(bytes(0, 1, 255, 0x32), "application/octet-stream", Infinity), "INVALID_UTF8");
    err(POLLING_V4.decode(bytes(0x34, 0xff), undefined, Infinity), "INVALID_UTF8");
    err(POLLING_V4.decode(enc.encode("2\x1e2"), undefined, 1), "TOO_MANY_PACKETS");
  });

  test("POLLING_V3_BASE64: the text framing always, binary as b4<base64>", () => {
    const body = POLLING_V3_BASE64.encode(mixed());
    assert.equal(body, "2:4a6:b4AQID1:2");
    assert.equal(POLLING_V3_BASE64.contentType(body), TEXT_CT);
    assert.equal(POLLING_V3_BASE64.encode(textOnly()), "2:4a1:3");
    assert.deepEqual(ok(POLLING_V3_BASE64.decode(enc.encode("2:4a6:b4AQID1:2"), "text/plain;charset=UTF-8", Infinity)).map(plainPacket), [
      { type: M, data: "a" },
      { type: M, data: { bytes: [1, 2, 3] } },
      { type: PacketType.PING, data: undefined },
    ]);
    err(POLLING_V3_BASE64.decode(bytes(0x31, 0x3a, 0xff), undefined, Infinity), "INVALID_UTF8");
    err(POLLING_V3_BASE64.decode(enc.encode("1:21:2"), undefined, 1), "TOO_MANY_PACKETS");
  });

  test("POLLING_V3_XHR2 encode: text framing without binary, binary framing (application/octet-stream) with", () => {
    const text = POLLING_V3_XHR2.encode(textOnly());
    assert.equal(text, "2:4a1:3");
    assert.equal(POLLING_V3_XHR2.contentType(text), TEXT_CT);
    const binary = POLLING_V3_XHR2.encode(mixed());
    assert.ok(binary instanceof Uint8Array);
    assert.deepEqual(Array.from(binary), [0, 2, 255, 0x34, 0x61, 1, 4, 255, 4, 1, 2, 3, 0, 1, 255, 0x32]);
    assert.equal(POLLING_V3_XHR2.contentType(binary), "application/octet-stream");
  });

  test("POLLING_V3_XHR2 decode: the binary framing for application/octet-stream, the text framing otherwise", () => {
    const binary = bytes(0, 2, 255, 0x34, 0x61, 1, 4, 255, 4, 1, 2, 3);
    const expected = [{ type: M, data: "a" }, { type: M, data: { bytes: [1, 2, 3] } }];
    for (const ct of ["application/octet-stream", "application/octet-stream; charset=UTF-8", "Application/Octet-Stream"]) {
      assert.deepEqual(ok(POLLING_V3_XHR2.decode(binary, ct, Infinity)).map(plainPacket), expected, ct);
    }
    for (const ct of ["text/plain;charset=UTF-8", "text/plain; charset=UTF-8", undefined]) {
      assert.deepEqual(ok(POLLING_V3_XHR2.decode(enc.encode("2:4a6:b4AQID"), ct, Infinity)).map(plainPacket), expected, String(ct));
      // The binary framing under a text content type is not UTF-8 (0xff): refused.
      err(POLLING_V3_XHR2.decode(binary, ct, Infinity), "INVALID_UTF8", String(ct));
    }
    // And the text framing under the binary content type is not the binary framing.
    err(POLLING_V3_XHR2.decode(enc.encode("2:4a"), "application/octet-stream", Infinity), "INVALID_LENGTH");
    err(POLLING_V3_XHR2.decode(bytes(0, 1, 255, 0x32, 0, 1, 255, 0x32), "application/octet-stream", 1), "TOO_MANY_PACKETS");
  });

  test("jsonpFraming: ___eio[digits of j](text framing), text/javascript; POSTs are forms with d", () => {
    const jsonp = jsonpFraming("1abc");
    const body = jsonp.encode(mixed());
    assert.equal(body, '___eio[1]("2:4a6:b4AQID1:2");');
    assert.equal(jsonp.contentType(body), "text/javascript; charset=UTF-8");
    assert.equal(jsonpFraming("0").encode([out(M, 'x"y\u2028')]), '___eio[0]("5:4x\\"y\\u2028");');
    const form = enc.encode("d=" + encodeURIComponent("2:4a6:b4AQID1:2"));
    assert.deepEqual(ok(jsonp.decode(form, "application/x-www-form-urlencoded", Infinity)).map(plainPacket), [
      { type: M, data: "a" },
      { type: M, data: { bytes: [1, 2, 3] } },
      { type: PacketType.PING, data: undefined },
    ]);
    // Newlines as the client escapes them.
    assert.deepEqual(ok(jsonp.decode(enc.encode("d=4%3A4a%5Cnb"), "application/x-www-form-urlencoded", Infinity)), [{ type: M, data: "a\nb" }]);
    err(jsonp.decode(enc.encode("x=1"), "application/x-www-form-urlencoded", Infinity), "EMPTY_PACKET");
    err(jsonp.decode(enc.encode("d="), "application/x-www-form-urlencoded", Infinity), "EMPTY_PACKET");
    err(jsonp.decode(bytes(0x64, 0x3d, 0xff), "application/x-www-form-urlencoded", Infinity), "INVALID_UTF8");
    err(jsonp.decode(enc.encode("d=1%3A9"), "application/x-www-form-urlencoded", Infinity), "INVALID_TYPE");
    err(jsonp.decode(enc.encode("d=1%3A21%3A2"), "application/x-www-form-urlencoded", 1), "TOO_MANY_PACKETS");
  });
});

// ---------------------------------------------------------------------------------------------
// OutPacket's v3 forms

describe("OutPacket v3 forms", () => {
  test("a text packet is its own v3 frame (the same object) in both modes; segmentV3 is its segment", () => {
    const p = out(M, '2["hi"]');
    assert.equal(p.frameV3(false), p);
    assert.equal(p.frameV3(true), p);
    assert.equal(p.frame, '42["hi"]');
    assert.equal(p.segmentV3, '42["hi"]');
    const ping = out(PacketType.PONG);
    assert.equal(ping.frameV3(false), ping);
    assert.equal(ping.segmentV3, "3");
  });

  test("a binary packet: one derived frame per mode, built once and cached", () => {
    const data = bytes(1, 2, 3);
    const p = out(M, data);
    const bin = p.frameV3(false);
    assert.notEqual(bin, p);
    assert.deepEqual(plain(bin.frame), { bytes: [4, 1, 2, 3] });
    assert.equal(bin.adapterCache, undefined);
    assert.equal(p.frameV3(false), bin, "the same derived object on every call");
    assert.equal(p.frameV3(false).frame, bin.frame, "the same bytes, not rebuilt");

    const b64 = p.frameV3(true);
    assert.notEqual(b64, p);
    assert.notEqual(b64, bin);
    assert.equal(b64.frame, "b4AQID");
    assert.equal(p.frameV3(true), b64);
    assert.equal(p.segmentV3, "b4AQID");

    // An adapter's cache slot belongs to that derived frame and survives later calls.
    bin.adapterCache = "adapter form";
    assert.equal(p.frameV3(false).adapterCache, "adapter form");
    assert.equal(p.adapterCache, undefined);

    // The v4 forms are untouched: the raw bytes, and b<base64>.
    assert.equal(p.frame, data);
    assert.equal(p.segment, "bAQID");
  });

  test("the derived frame's bytes are a copy: the packet's data is not changed", () => {
    const data = bytes(9, 8);
    const p = out(M, data);
    assert.deepEqual(plain(p.frameV3(false).frame), { bytes: [4, 9, 8] });
    assert.deepEqual(Array.from(data), [9, 8]);
  });

  test("encodeTextPayloadV3 of OutPackets reads their cached segmentV3", () => {
    const p = out(M, bytes(1, 2, 3));
    assert.equal(encodeTextPayloadV3([p, out(M, "é")]), "6:b4AQID2:4é");
  });
});

// ---------------------------------------------------------------------------------------------
// cross-check against engine.io-parser 2.2.1 (the parser of engine.io-client 3 / socket.io-client 2)

interface RefPacket {
  type: string;
  data?: string | Buffer;
}

interface RefParser {
  protocol: number;
  encodePacket(packet: RefPacket, supportsBinary: boolean, cb: (encoded: string | Buffer) => void): void;
  decodePacket(data: string | Buffer): RefPacket;
  encodePayload(packets: RefPacket[], supportsBinary: boolean, cb: (encoded: string | Buffer) => void): void;
  decodePayload(data: string | Buffer, binaryType: string | undefined, cb: (packet: RefPacket, index: number, total: number) => unknown): void;
  encodePayloadAsBinary(packets: RefPacket[], cb: (encoded: Buffer) => void): void;
  decodePayloadAsBinary(data: Buffer, binaryType: string | undefined, cb: (packet: RefPacket, index: number, total: number) => unknown): void;
}

const requireCjs = createRequire(import.meta.url);
const ref = requireCjs("../../node_modules/socket.io-client-v2/node_modules/engine.io-parser") as RefParser;
const TYPE_NAMES = ["open", "close", "ping", "pong", "message", "upgrade", "noop"];

/** The reference's callbacks run synchronously; this checks it and returns the value. */
function sync<T>(run: (cb: (value: T) => void) => void): T {
  let result: { value: T } | null = null;
  run((value) => {
    result = { value };
  });
  assert.ok(result !== null, "the reference called back synchronously");
  return (result as { value: T }).value;
}

function collect(run: (cb: (packet: RefPacket) => void) => void): RefPacket[] {
  const packets: RefPacket[] = [];
  run((p) => {
    packets.push(p);
  });
  return packets;
}

const toRef = (p: Packet): RefPacket =>
  p.data === undefined ? { type: TYPE_NAMES[p.type]! } : { type: TYPE_NAMES[p.type]!, data: p.data instanceof Uint8Array ? Buffer.from(p.data) : p.data };
const fromRef = (p: RefPacket) => ({ type: TYPE_NAMES.indexOf(p.type), data: plain(p.data) });

const TEXT_SETS: Array<[string, Packet[]]> = [
  ["one message", [{ type: M, data: "hello" }]],
  [
    "control packets",
    [{ type: PacketType.OPEN, data: '{"sid":"abc","upgrades":[],"pingInterval":300,"pingTimeout":200}' }, { type: PacketType.PING, data: "probe" }, { type: PacketType.PONG }, { type: PacketType.NOOP }, { type: PacketType.CLOSE }],
  ],
  ["unicode (BMP and astral)", [{ type: M, data: "é€" }, { type: M, data: "😀😀 and 𝄞" }, { type: M, data: "日本語テキスト" }]],
  ["framing-like data", [{ type: M, data: "1:2" }, { type: M, data: "12:" }, { type: M, data: "::\n\\\"'" }]],
  ["socket.io packets", [{ type: M, data: '0/chat?token=abc,' }, { type: M, data: '2["ev",{"a":[1,2,"é"]}]' }, { type: M, data: '51-["ev",{"_placeholder":true,"num":0}]' }]],
  ["a long message", [{ type: M, data: "z".repeat(12345) }, { type: PacketType.PING }]],
];

const BINARY_SETS: Array<[string, Packet[]]> = [
  ["one binary", [{ type: M, data: bytes(1, 2, 3) }]],
  ["an empty binary", [{ type: M, data: bytes() }]],
  [
    "text and binary mixed",
    [
      { type: M, data: '51-["ev",{"_placeholder":true,"num":0}]' },
      { type: M, data: new Uint8Array(range(256)) },
      { type: M, data: "é€😀" },
      { type: PacketType.PONG },
      { type: M, data: new Uint8Array(11).fill(0xff) },
    ],
  ],
];

describe("cross-check with engine.io-parser 2.2.1", () => {
  test("it is the v3 parser", () => {
    assert.equal(ref.protocol, 3);
  });

  for (const [name, packets] of [...TEXT_SETS, ...BINARY_SETS]) {
    test(`text framing, ${name}: the same string both ways, each decodes the other's`, () => {
      const ours = encodeTextPayloadV3(packets);
      const theirs = sync<string | Buffer>((cb) => ref.encodePayload(packets.map(toRef), false, cb));
      assert.equal(ours, theirs);
      assert.deepEqual(collect((cb) => ref.decodePayload(ours, undefined, cb)).map(fromRef), packets.map(plainPacket));
      assert.deepEqual(ok(decodeTextPayloadV3(theirs as string)).map(plainPacket), packets.map(plainPacket));
    });

    test(`binary framing, ${name}: the same bytes both ways, each decodes the other's`, () => {
      const ours = encodeBinaryPayloadV3(packets);
      const theirs = sync<Buffer>((cb) => ref.encodePayloadAsBinary(packets.map(toRef), cb));
      assert.deepEqual(Array.from(ours), Array.from(theirs));
      assert.deepEqual(collect((cb) => ref.decodePayloadAsBinary(Buffer.from(ours), undefined, cb)).map(fromRef), packets.map(plainPacket));
      assert.deepEqual(ok(decodeBinaryPayloadV3(theirs)).map(plainPacket), packets.map(plainPacket));
    });
  }

  for (const [name, packets] of BINARY_SETS) {
    test(`an XHR2 client's payload with binary (encodePayload(…, true)) is the binary framing: ${name}`, () => {
      const theirs = sync<string | Buffer>((cb) => ref.encodePayload(packets.map(toRef), true, cb));
      assert.ok(Buffer.isBuffer(theirs));
      assert.deepEqual(Array.from(POLLING_V3_XHR2.encode(packets.map((p) => out(p.type, p.data))) as Uint8Array), Array.from(theirs));
      assert.deepEqual(ok(POLLING_V3_XHR2.decode(theirs, "application/octet-stream", Infinity)).map(plainPacket), packets.map(plainPacket));
    });
  }

  test("WebSocket frames: ours decode with theirs and theirs with ours", () => {
    const packets: Packet[] = [...TEXT_SETS.flatMap(([, p]) => p), ...BINARY_SETS.flatMap(([, p]) => p)];
    for (const packet of packets) {
      for (const base64 of [false, true]) {
        const ours = encodeFrameV3(packet, base64);
        const theirs = sync<string | Buffer>((cb) => ref.encodePacket(toRef(packet), !base64, cb));
        if (typeof ours === "string") assert.equal(ours, theirs);
        else assert.deepEqual(Array.from(ours), Array.from(theirs as Buffer));
        const decodedByThem = ref.decodePacket(typeof ours === "string" ? ours : Buffer.from(ours));
        assert.deepEqual(fromRef(decodedByThem), plainPacket(packet));
        assert.deepEqual(plainPacket(ok(decodeFrameV3(theirs))), plainPacket(packet));
      }
    }
  });

  test("the empty payload: theirs is 0:, which ours reads as no packets", () => {
    const theirs = sync<string | Buffer>((cb) => ref.encodePayload([], false, cb));
    assert.equal(theirs, "0:");
    assert.deepEqual(ok(decodeTextPayloadV3(theirs as string)), []);
  });

  test("malformed text payloads are refused by both", () => {
    const PARSER_ERROR = { type: "error", data: "parser error" };
    for (const payload of ["", "5:4ab", "a:4", "12", ":2", "1:9", "1:21:7", "1:2x"]) {
      const theirs = collect((cb) => ref.decodePayload(payload, undefined, cb));
      assert.deepEqual(theirs[theirs.length - 1], PARSER_ERROR, `reference on ${JSON.stringify(payload)}`);
      assert.equal(decodeTextPayloadV3(payload).ok, false, `ours on ${JSON.stringify(payload)}`);
    }
  });
});
