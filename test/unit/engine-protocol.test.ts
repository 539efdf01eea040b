// Byte-vector tests of the Engine.IO v4 codec (src/engine/protocol/packet.ts), the HTTP error
// bodies (errors.ts), the base64 helpers and the query-string parser. Pure functions: no I/O.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  PacketType,
  RECORD_SEPARATOR,
  decodeFrame,
  decodePayload,
  encodeFrame,
  encodePayload,
  encodeSegment,
  type DecodeResult,
  type Packet,
} from "../../src/engine/protocol/packet.js";
import { ENGINE_ERROR_MESSAGES, EngineErrorCode, engineErrorBody, engineErrorStatus } from "../../src/engine/protocol/errors.js";
import { fromBase64, toBase64 } from "../../src/util/base64.js";
import { DetachedRequest, PackedHeaders, parseQuery, pathOf } from "../../src/engine/http.js";
import { bytes, err, ok, plain, plainPacket } from "./decode-helpers.js";

const DOCUMENTED_CODES: ReadonlySet<string> = new Set(["EMPTY_PACKET", "INVALID_TYPE", "INVALID_BASE64", "TOO_MANY_PACKETS"]);

// ---------------------------------------------------------------------------------------------
// encoding

describe("encodeFrame (WebSocket frames)", () => {
  const vectors: Array<[Packet, string]> = [
    [{ type: PacketType.OPEN, data: '{"sid":"abc"}' }, '0{"sid":"abc"}'],
    [{ type: PacketType.CLOSE }, "1"],
    [{ type: PacketType.PING }, "2"],
    [{ type: PacketType.PING, data: "probe" }, "2probe"],
    [{ type: PacketType.PONG }, "3"],
    [{ type: PacketType.PONG, data: "probe" }, "3probe"],
    [{ type: PacketType.MESSAGE, data: "hello" }, "4hello"],
    [{ type: PacketType.MESSAGE, data: "" }, "4"],
    [{ type: PacketType.MESSAGE, data: "é€😀" }, "4é€😀"],
    [{ type: PacketType.MESSAGE, data: "a\x1eb" }, "4a\x1eb"],
    [{ type: PacketType.UPGRADE }, "5"],
    [{ type: PacketType.NOOP }, "6"],
  ];
  for (const [packet, frame] of vectors) {
    test(`${JSON.stringify(packet)} -> ${JSON.stringify(frame)}`, () => {
      assert.equal(encodeFrame(packet), frame);
    });
  }

  test("a binary MESSAGE is the raw bytes, without a type prefix (the same object)", () => {
    const data = bytes(1, 2, 3);
    const frame = encodeFrame({ type: PacketType.MESSAGE, data });
    assert.equal(frame, data);
    assert.deepEqual(Array.from(frame as Uint8Array), [1, 2, 3]);
  });

  test("an empty binary MESSAGE is an empty binary frame", () => {
    const frame = encodeFrame({ type: PacketType.MESSAGE, data: bytes() });
    assert.ok(frame instanceof Uint8Array);
    assert.equal((frame as Uint8Array).byteLength, 0);
  });
});

describe("encodeSegment / encodePayload (long-polling)", () => {
  test("text segments are <type><data>", () => {
    assert.equal(encodeSegment({ type: PacketType.MESSAGE, data: "hello" }), "4hello");
    assert.equal(encodeSegment({ type: PacketType.PING }), "2");
    assert.equal(encodeSegment({ type: PacketType.NOOP }), "6");
    assert.equal(encodeSegment({ type: PacketType.OPEN, data: "{}" }), "0{}");
  });

  test("binary segments are b + base64", () => {
    assert.equal(encodeSegment({ type: PacketType.MESSAGE, data: bytes(1, 2, 3) }), "bAQID");
    assert.equal(encodeSegment({ type: PacketType.MESSAGE, data: bytes(0xff, 0xfe) }), "b//4=");
    assert.equal(encodeSegment({ type: PacketType.MESSAGE, data: bytes(0xfb) }), "b+w==");
    assert.equal(encodeSegment({ type: PacketType.MESSAGE, data: bytes() }), "b");
  });

  test("a subarray view is encoded from its own window, not the whole buffer", () => {
    const whole = bytes(9, 9, 1, 2, 3, 9);
    assert.equal(encodeSegment({ type: PacketType.MESSAGE, data: whole.subarray(2, 5) }), "bAQID");
  });

  test("packets are joined with \\x1e (record separator)", () => {
    assert.equal(RECORD_SEPARATOR, "\x1e");
    const payload = encodePayload([
      { type: PacketType.MESSAGE, data: "a" },
      { type: PacketType.MESSAGE, data: bytes(1, 2, 3) },
      { type: PacketType.PING },
    ]);
    assert.equal(payload, "4a\x1ebAQID\x1e2");
  });

  test("a single packet has no separator", () => {
    assert.equal(encodePayload([{ type: PacketType.MESSAGE, data: "hello" }]), "4hello");
    assert.equal(encodePayload([{ type: PacketType.CLOSE }]), "1");
  });

  test("the spec's example payload", () => {
    assert.equal(
      encodePayload([
        { type: PacketType.MESSAGE, data: "hello" },
        { type: PacketType.MESSAGE, data: "€" },
        { type: PacketType.MESSAGE, data: bytes(1, 2, 3, 4) },
      ]),
      "4hello\x1e4€\x1ebAQIDBA==",
    );
  });

  test("an empty list encodes to the empty string", () => {
    assert.equal(encodePayload([]), "");
  });
});

// ---------------------------------------------------------------------------------------------
// decoding

describe("decodeFrame", () => {
  const vectors: Array<[string, Packet]> = [
    ["0{}", { type: PacketType.OPEN, data: "{}" }],
    ["1", { type: PacketType.CLOSE }],
    ["2", { type: PacketType.PING }],
    ["2probe", { type: PacketType.PING, data: "probe" }],
    ["3", { type: PacketType.PONG }],
    ["3probe", { type: PacketType.PONG, data: "probe" }],
    ["4hello", { type: PacketType.MESSAGE, data: "hello" }],
    ["4", { type: PacketType.MESSAGE }],
    ["4€😀", { type: PacketType.MESSAGE, data: "€😀" }],
    ["4a\x1eb", { type: PacketType.MESSAGE, data: "a\x1eb" }],
    ["5", { type: PacketType.UPGRADE }],
    ["6", { type: PacketType.NOOP }],
  ];
  for (const [frame, packet] of vectors) {
    test(`${JSON.stringify(frame)} -> ${JSON.stringify(packet)}`, () => {
      assert.deepEqual(ok(decodeFrame(frame)), packet);
    });
  }

  test("a packet without data has no data key at all", () => {
    assert.equal("data" in ok(decodeFrame("2")), false);
  });

  test("a binary frame is a MESSAGE with those bytes (even if they look like a type digit)", () => {
    const frame = bytes(0x34, 0x68, 0x69); // "4hi" as bytes
    const packet = ok(decodeFrame(frame));
    assert.equal(packet.type, PacketType.MESSAGE);
    assert.equal(packet.data, frame);
  });

  test("an empty binary frame is an empty binary MESSAGE", () => {
    const packet = ok(decodeFrame(bytes()));
    assert.equal(packet.type, PacketType.MESSAGE);
    assert.deepEqual(plain(packet.data), { bytes: [] });
  });

  test("EMPTY_PACKET: the empty text frame", () => {
    err(decodeFrame(""), "EMPTY_PACKET");
  });

  test("INVALID_TYPE: anything but 0-6 first", () => {
    for (const frame of ["7", "9x", "8hello", "/", "a", "b", " 4", "x", "\x1e", "🙂", "-1", "\u0660"]) {
      err(decodeFrame(frame), "INVALID_TYPE");
    }
  });

  test("a text frame starting with b is not base64 binary (only polling uses b)", () => {
    err(decodeFrame("bAQID"), "INVALID_TYPE");
  });
});

describe("decodePayload", () => {
  test("one text packet", () => {
    assert.deepEqual(ok(decodePayload("4hello")), [{ type: PacketType.MESSAGE, data: "hello" }]);
  });

  test("mixed text / binary / bare packets", () => {
    const packets = ok(decodePayload("4a\x1ebAQID\x1e2"));
    assert.deepEqual(packets.map(plainPacket), [
      { type: PacketType.MESSAGE, data: "a" },
      { type: PacketType.MESSAGE, data: { bytes: [1, 2, 3] } },
      { type: PacketType.PING, data: undefined },
    ]);
    assert.ok(packets[1]!.data instanceof Uint8Array);
  });

  test("the spec's example payload", () => {
    assert.deepEqual(ok(decodePayload("4hello\x1e4€\x1ebAQIDBA==")).map(plainPacket), [
      { type: PacketType.MESSAGE, data: "hello" },
      { type: PacketType.MESSAGE, data: "€" },
      { type: PacketType.MESSAGE, data: { bytes: [1, 2, 3, 4] } },
    ]);
  });

  test("base64 padding variants", () => {
    assert.deepEqual(ok(decodePayload("b//4=")).map(plainPacket), [{ type: 4, data: { bytes: [0xff, 0xfe] } }]);
    assert.deepEqual(ok(decodePayload("b+w==")).map(plainPacket), [{ type: 4, data: { bytes: [0xfb] } }]);
    assert.deepEqual(ok(decodePayload("bAQIDBA")).map(plainPacket), [{ type: 4, data: { bytes: [1, 2, 3, 4] } }]);
    assert.deepEqual(ok(decodePayload("b")).map(plainPacket), [{ type: 4, data: { bytes: [] } }]);
  });

  test("upgrade-related packets", () => {
    assert.deepEqual(ok(decodePayload("3\x1e5\x1e6")), [{ type: PacketType.PONG }, { type: PacketType.UPGRADE }, { type: PacketType.NOOP }]);
  });

  test("EMPTY_PACKET: empty payload, empty segment, trailing or leading separator", () => {
    for (const payload of ["", "\x1e", "4a\x1e", "\x1e4a", "4a\x1e\x1e4b"]) err(decodePayload(payload), "EMPTY_PACKET");
  });

  test("INVALID_TYPE: an unknown type in any segment", () => {
    for (const payload of ["9", "7x", "4a\x1e9x", "4a\x1e4b\x1eZ", " "]) err(decodePayload(payload), "INVALID_TYPE");
  });

  test("INVALID_BASE64: bad characters, bad length, misplaced padding", () => {
    for (const payload of ["b!!!", "bAQI*", "bA", "bAQIDB", "b=AQI", "bAQ=D", "bAQID===", "4a\x1eb@@@@", "b AQID", "b-_-_", "bA=", "bAA=", "bAQIDB=="]) {
      err(decodePayload(payload), "INVALID_BASE64");
    }
  });

  test("the first error wins", () => {
    err(decodePayload("b!!!\x1e9"), "INVALID_BASE64");
    err(decodePayload("9\x1eb!!!"), "INVALID_TYPE");
    err(decodePayload("\x1e9"), "EMPTY_PACKET");
  });

  test("TOO_MANY_PACKETS: more segments than maxPackets", () => {
    err(decodePayload("2\x1e2\x1e2", 2), "TOO_MANY_PACKETS");
    err(decodePayload("2", 0), "TOO_MANY_PACKETS");
    assert.equal(ok(decodePayload("2\x1e2", 2)).length, 2);
    assert.equal(ok(decodePayload("2\x1e2\x1e2")).length, 3); // unbounded by default
  });

  test("TOO_MANY_PACKETS is reported only once the extra segment is known to be valid", () => {
    // An invalid segment beyond the limit reports its own error.
    err(decodePayload("2\x1e9", 1), "INVALID_TYPE");
  });
});

// ---------------------------------------------------------------------------------------------
// round trips and fuzz

/** mulberry32: a small seeded PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ["0", "1", "2", "3", "4", "5", "6", "7", "9", "b", "A", "Q", "=", "+", "/", "\x1e", " ", "é", "😀", "\u0000", "\uffff", "{", "}", "\ud800"];

function randomText(rand: () => number, maxLength: number): string {
  const length = Math.floor(rand() * maxLength);
  let s = "";
  for (let i = 0; i < length; i++) {
    s += rand() < 0.8 ? ALPHABET[Math.floor(rand() * ALPHABET.length)]! : String.fromCharCode(Math.floor(rand() * 0x10000));
  }
  return s;
}

function randomBytes(rand: () => number, maxLength: number): Uint8Array {
  const out = new Uint8Array(Math.floor(rand() * maxLength));
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

function randomPacket(rand: () => number): Packet {
  const type = Math.floor(rand() * 7) as PacketType;
  if (type === PacketType.MESSAGE && rand() < 0.4) return { type, data: randomBytes(rand, 40) };
  if (rand() < 0.3) return { type };
  // Text data must not contain the record separator inside a polling payload; keep it non-empty
  // (an empty string and no data encode the same way).
  const data = randomText(rand, 30).replace(/\x1e/g, "") || "x";
  return { type, data };
}

describe("round trips", () => {
  test("decodePayload(encodePayload(packets)) gives the packets back (seeded)", () => {
    const rand = prng(0x5eed);
    for (let round = 0; round < 2000; round++) {
      const packets = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => randomPacket(rand));
      const payload = encodePayload(packets);
      const decoded = ok(decodePayload(payload));
      assert.deepEqual(decoded.map(plainPacket), packets.map(plainPacket), `round ${round}: ${JSON.stringify(payload)}`);
    }
  });

  test("decodeFrame(encodeFrame(packet)) gives the packet back (seeded)", () => {
    const rand = prng(42);
    for (let round = 0; round < 2000; round++) {
      const packet = randomPacket(rand);
      // Binary frames carry no type: only MESSAGE may be binary (which randomPacket guarantees).
      assert.deepEqual(plainPacket(ok(decodeFrame(encodeFrame(packet)))), plainPacket(packet), `round ${round}`);
    }
  });

  test("the frame of a text packet is its polling segment", () => {
    const rand = prng(7);
    for (let round = 0; round < 500; round++) {
      const packet = randomPacket(rand);
      if (typeof packet.data !== "string" && packet.data !== undefined) continue;
      assert.equal(encodeFrame(packet), encodeSegment(packet));
    }
  });
});

describe("fuzz: decoders never throw and return only documented codes", () => {
  test("decodePayload on random text (seeded)", () => {
    const rand = prng(0xdecaf);
    const seen = new Set<string>();
    for (let round = 0; round < 20000; round++) {
      const input = randomText(rand, 24);
      const maxPackets = rand() < 0.3 ? Math.floor(rand() * 4) : Infinity;
      let result: DecodeResult<Packet[]>;
      try {
        result = decodePayload(input, maxPackets);
      } catch (e) {
        assert.fail(`decodePayload threw on ${JSON.stringify(input)}: ${String(e)}`);
      }
      if (result.ok) {
        assert.ok(result.value.length >= 1 && result.value.length <= maxPackets);
        for (const p of result.value) {
          assert.ok(Number.isInteger(p.type) && p.type >= 0 && p.type <= 6);
          if (p.data instanceof Uint8Array) assert.equal(p.type, PacketType.MESSAGE);
          else if (p.data !== undefined) assert.equal(typeof p.data, "string");
        }
        seen.add("ok");
      } else {
        assert.ok(DOCUMENTED_CODES.has(result.code), `undocumented code ${result.code}`);
        assert.deepEqual(Object.keys(result).sort(), ["code", "ok"]);
        seen.add(result.code);
      }
    }
    // The generator reaches every outcome, so the loop actually exercises each path.
    assert.deepEqual([...seen].sort(), ["EMPTY_PACKET", "INVALID_BASE64", "INVALID_TYPE", "TOO_MANY_PACKETS", "ok"]);
  });

  test("decodePayload on mutated valid payloads (seeded)", () => {
    const rand = prng(99);
    for (let round = 0; round < 5000; round++) {
      let payload = encodePayload(Array.from({ length: 1 + Math.floor(rand() * 4) }, () => randomPacket(rand)));
      const edits = 1 + Math.floor(rand() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * (payload.length + 1));
        const op = rand();
        if (op < 0.33) payload = payload.slice(0, at) + payload.slice(at + 1);
        else if (op < 0.66) payload = payload.slice(0, at) + ALPHABET[Math.floor(rand() * ALPHABET.length)]! + payload.slice(at);
        else payload = payload.slice(0, at);
      }
      const result = decodePayload(payload);
      if (!result.ok) assert.ok(DOCUMENTED_CODES.has(result.code));
    }
  });

  test("decodeFrame on random text and bytes (seeded)", () => {
    const rand = prng(1234);
    for (let round = 0; round < 20000; round++) {
      const input: string | Uint8Array = rand() < 0.5 ? randomText(rand, 16) : randomBytes(rand, 16);
      const result = decodeFrame(input);
      if (result.ok) {
        if (typeof input !== "string") assert.equal(result.value.type, PacketType.MESSAGE);
      } else {
        assert.equal(typeof input, "string");
        assert.ok(result.code === "EMPTY_PACKET" || result.code === "INVALID_TYPE", result.code);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// errors.ts

describe("HTTP error bodies", () => {
  const expected: Array<[EngineErrorCode, number, string]> = [
    [EngineErrorCode.UNKNOWN_TRANSPORT, 400, '{"code":0,"message":"Transport unknown"}'],
    [EngineErrorCode.UNKNOWN_SID, 400, '{"code":1,"message":"Session ID unknown"}'],
    [EngineErrorCode.BAD_HANDSHAKE_METHOD, 400, '{"code":2,"message":"Bad handshake method"}'],
    [EngineErrorCode.BAD_REQUEST, 400, '{"code":3,"message":"Bad request"}'],
    [EngineErrorCode.FORBIDDEN, 403, '{"code":4,"message":"Forbidden"}'],
    [EngineErrorCode.UNSUPPORTED_PROTOCOL_VERSION, 400, '{"code":5,"message":"Unsupported protocol version"}'],
  ];
  for (const [code, status, body] of expected) {
    test(`code ${code}: ${status} ${body}`, () => {
      assert.equal(engineErrorStatus(code), status);
      assert.equal(engineErrorBody(code), body);
      assert.deepEqual(JSON.parse(engineErrorBody(code)), { code, message: ENGINE_ERROR_MESSAGES[code] });
    });
  }

  test("the code constants match the protocol numbering", () => {
    assert.deepEqual(EngineErrorCode, {
      UNKNOWN_TRANSPORT: 0,
      UNKNOWN_SID: 1,
      BAD_HANDSHAKE_METHOD: 2,
      BAD_REQUEST: 3,
      FORBIDDEN: 4,
      UNSUPPORTED_PROTOCOL_VERSION: 5,
    });
  });

  test("a custom message replaces the default, JSON-escaped", () => {
    assert.equal(engineErrorBody(EngineErrorCode.FORBIDDEN, "Server is shutting down"), '{"code":4,"message":"Server is shutting down"}');
    assert.equal(engineErrorBody(EngineErrorCode.BAD_REQUEST, 'a "quoted"\nmessage'), '{"code":3,"message":"a \\"quoted\\"\\nmessage"}');
  });
});

// ---------------------------------------------------------------------------------------------
// base64

describe("base64", () => {
  test("known vectors (RFC 4648 section 10)", () => {
    const vectors: Array<[string, string]> = [
      ["", ""],
      ["f", "Zg=="],
      ["fo", "Zm8="],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg=="],
      ["fooba", "Zm9vYmE="],
      ["foobar", "Zm9vYmFy"],
    ];
    for (const [text, encoded] of vectors) {
      const raw = new TextEncoder().encode(text);
      assert.equal(toBase64(raw), encoded);
      assert.deepEqual(Array.from(fromBase64(encoded)!), Array.from(raw));
    }
  });

  test("uses the standard alphabet (+ and /), not base64url", () => {
    assert.equal(toBase64(bytes(0xfb, 0xff, 0xbf)), "+/+/");
    assert.deepEqual(Array.from(fromBase64("+/+/")!), [0xfb, 0xff, 0xbf]);
    assert.equal(fromBase64("-_-_"), null);
  });

  test("encodes only the view's window", () => {
    const whole = bytes(0, 1, 2, 3, 4);
    assert.equal(toBase64(whole.subarray(1, 4)), "AQID");
  });

  test("unpadded input is accepted", () => {
    assert.deepEqual(Array.from(fromBase64("Zg")!), [0x66]);
    assert.deepEqual(Array.from(fromBase64("Zm8")!), [0x66, 0x6f]);
  });

  test("null for text that is not base64", () => {
    for (const text of ["Z", "Zm9vY", "Zm9v!", "Zm 9v", "Zm9v\n", "=Zm9", "Z=m9", "Zm9v===", "é", "Zg=\x00", "A=", "AA=", "=", "==", "A==="]) {
      assert.equal(fromBase64(text), null, JSON.stringify(text));
    }
  });

  test("round trip on random bytes (seeded)", () => {
    const rand = prng(2024);
    for (let round = 0; round < 1000; round++) {
      const data = randomBytes(rand, 100);
      assert.deepEqual(Array.from(fromBase64(toBase64(data))!), Array.from(data));
    }
  });

  test("the fallback without Buffer (btoa/atob) agrees with the Buffer path", async () => {
    const saved = globalThis.Buffer;
    // A fresh copy of the module that captures no Buffer (the query string defeats the module cache).
    const specifier: string = "../../src/util/base64.js?without-buffer";
    let fallback: typeof import("../../src/util/base64.js");
    (globalThis as { Buffer?: unknown }).Buffer = undefined;
    try {
      fallback = (await import(specifier)) as typeof import("../../src/util/base64.js");
    } finally {
      globalThis.Buffer = saved;
    }
    const rand = prng(77);
    for (let round = 0; round < 500; round++) {
      const data = randomBytes(rand, 70000 * (round === 0 ? 1 : 0) + 50);
      const encoded = toBase64(data);
      assert.equal(fallback.toBase64(data), encoded);
      assert.deepEqual(Array.from(fallback.fromBase64(encoded)!), Array.from(data));
    }
    // Both paths accept and refuse the same texts.
    const texts = ["", "Zg", "Zg==", "Zm8", "Zm8=", "A=", "AA=", "==", "=", "Z", "AQID", "AQ=D", "+/+/", "-_", "Zm9vYg", "Zm9vYg="];
    for (let round = 0; round < 3000; round++) {
      let s = "";
      const length = Math.floor(rand() * 9);
      for (let i = 0; i < length; i++) s += "AQZz09+/=-!"[Math.floor(rand() * 11)]!;
      texts.push(s);
    }
    for (const text of texts) {
      const a = fromBase64(text);
      const b = fallback.fromBase64(text);
      assert.deepEqual(a === null ? null : Array.from(a), b === null ? null : Array.from(b), JSON.stringify(text));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// DetachedRequest: headers packed in one string

describe("DetachedRequest", () => {
  const packed = (pairs: Array<[string, string]>) => {
    const packer = new PackedHeaders();
    for (const [name, value] of pairs) packer.add(name, value);
    return new DetachedRequest("GET", "/socket.io/?EIO=4", packer, "10.0.0.1", false);
  };

  test("header() finds the first, a middle and the last header, and nothing else", () => {
    const req = packed([["host", "example.com:80"], ["x-a", "1"], ["a", "2"], ["cookie", "k=v; w=x"], ["empty", ""]]);
    assert.equal(req.header("host"), "example.com:80");
    assert.equal(req.header("a"), "2"); // not x-a's value: a name matches only from a line's start
    assert.equal(req.header("x-a"), "1");
    assert.equal(req.header("cookie"), "k=v; w=x");
    assert.equal(req.header("empty"), "");
    assert.equal(req.header("x"), undefined);
    assert.equal(req.header("hos"), undefined);
    assert.equal(req.header("example.com"), undefined);
  });

  test("headers() unpacks every header in order, values with colons intact", () => {
    const req = packed([["host", "h:1"], ["upgrade", "websocket"], ["empty", ""]]);
    assert.deepEqual(Object.entries(req.headers()), [["host", "h:1"], ["upgrade", "websocket"], ["empty", ""]]);
    assert.notEqual(req.headers(), req.headers()); // a fresh record each time: callers may change theirs
  });

  test("no headers; a record is packed with lower-case names; a line break cannot forge a header", () => {
    assert.deepEqual(packed([]).headers(), {});
    assert.equal(packed([]).header("host"), undefined);
    const fromRecord = new DetachedRequest("GET", "/", { Host: "h", "X-Y": "z" }, "", true);
    assert.deepEqual(fromRecord.headers(), { host: "h", "x-y": "z" });
    const forged = packed([["a", "1\nevil:2"]]);
    assert.deepEqual(forged.headers(), { a: "1 evil:2" });
    assert.equal(forged.header("evil"), undefined);
  });
});

// ---------------------------------------------------------------------------------------------
// parseQuery / pathOf

describe("parseQuery", () => {
  const entries = (url: string) => [...parseQuery(url).entries()];

  test("the engine's query", () => {
    const q = parseQuery("/socket.io/?EIO=4&transport=polling&t=N8hyd6w&sid=abc_-DEF");
    assert.equal(q.get("EIO"), "4");
    assert.equal(q.get("transport"), "polling");
    assert.equal(q.get("t"), "N8hyd6w");
    assert.equal(q.get("sid"), "abc_-DEF");
    assert.equal(q.size, 4);
  });

  test("no query string: empty", () => {
    assert.deepEqual(entries("/socket.io/"), []);
    assert.deepEqual(entries("/socket.io/?"), []);
    assert.deepEqual(entries(""), []);
  });

  test("percent-escapes and + are decoded in keys and values", () => {
    assert.deepEqual(entries("/?a%20b=c%26d&e+f=g+h&u=%E2%82%AC"), [
      ["a b", "c&d"],
      ["e f", "g h"],
      ["u", "€"],
    ]);
  });

  test("%2B is a literal plus, + is a space", () => {
    assert.deepEqual(entries("/?x=1%2B1+2"), [["x", "1+1 2"]]);
  });

  test("a key without = has the empty value; empty parts are skipped", () => {
    assert.deepEqual(entries("/?a&&b=&=c&"), [
      ["a", ""],
      ["b", ""],
      ["", "c"],
    ]);
  });

  test("only the first = splits", () => {
    assert.deepEqual(entries("/?a=b=c"), [["a", "b=c"]]);
  });

  test("a repeated key keeps the last value", () => {
    assert.equal(parseQuery("/?EIO=3&EIO=4").get("EIO"), "4");
    assert.equal(parseQuery("/?EIO=4&EIO=3").get("EIO"), "3");
  });

  test("the fragment is not part of the query", () => {
    assert.deepEqual(entries("/?a=1#b=2"), [["a", "1"]]);
    assert.deepEqual(entries("/?a=1#x?b=2"), [["a", "1"]]);
  });

  test("a malformed escape keeps the raw text instead of failing", () => {
    assert.deepEqual(entries("/?bad=%E0%A4%A&ok=1"), [
      ["bad", "%E0%A4%A"],
      ["ok", "1"],
    ]);
    assert.deepEqual(entries("/?%zz=1"), [["%zz", "1"]]);
  });

  test("never throws on random input (seeded)", () => {
    const rand = prng(555);
    const chars = "?&=#%+aZ09é\u0000";
    for (let round = 0; round < 5000; round++) {
      let url = "/";
      const length = Math.floor(rand() * 20);
      for (let i = 0; i < length; i++) url += chars[Math.floor(rand() * chars.length)]!;
      const q = parseQuery(url);
      for (const [k, v] of q) assert.ok(typeof k === "string" && typeof v === "string");
    }
  });

  test("pathOf strips the query string", () => {
    assert.equal(pathOf("/socket.io/?EIO=4"), "/socket.io/");
    assert.equal(pathOf("/socket.io/"), "/socket.io/");
    assert.equal(pathOf("/a?b?c"), "/a");
  });
});
