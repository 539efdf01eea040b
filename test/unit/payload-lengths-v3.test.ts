// The length prefixes of Engine.IO v3 payloads, digit by digit: the edges that the mutation run
// (docs/reliability/mutation.md) showed no other test pinned. A length is decimal digits only,
// at most 15 of them; the digit 9 is a digit; a '/' (one below '0') is not.

import { test } from "node:test";
import assert from "node:assert/strict";
import { PacketType } from "../../src/engine/protocol/packet.js";
import { decodeBinaryPayloadV3, decodeTextPayloadV3 } from "../../src/engine/protocol/packet-v3.js";

const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

test("text payload: a length with the digit 9 is read (9 characters)", () => {
  const result = decodeTextPayloadV3("9:4abcdefgh");
  assert.deepEqual(result, { ok: true, value: [{ type: PacketType.MESSAGE, data: "abcdefgh" }] });
});

test("text payload: a character just below '0' in a length is refused, not read as -1", () => {
  // '1/' would be 1 * 10 - 1 = 9 if '/' counted as a digit, and the 9 characters would decode.
  assert.deepEqual(decodeTextPayloadV3("1/:4abcdefgh"), { ok: false, code: "INVALID_LENGTH" });
});

test("text payload: more than 15 length digits are refused, even when their value is small", () => {
  assert.deepEqual(decodeTextPayloadV3("000000000000002:4x"), { ok: true, value: [{ type: PacketType.MESSAGE, data: "x" }] });
  assert.deepEqual(decodeTextPayloadV3("0000000000000002:4x"), { ok: false, code: "INVALID_LENGTH" });
});

test("XHR2 payload: a length with the digit 9 is read (9 bytes)", () => {
  const result = decodeBinaryPayloadV3(new Uint8Array([0, 9, 255, ...ascii("4abcdefgh")]));
  assert.deepEqual(result, { ok: true, value: [{ type: PacketType.MESSAGE, data: "abcdefgh" }] });
});

test("XHR2 payload: a length with no digits is INVALID_LENGTH, not an empty packet", () => {
  assert.deepEqual(decodeBinaryPayloadV3(new Uint8Array([0, 255, ...ascii("4a")])), { ok: false, code: "INVALID_LENGTH" });
  assert.deepEqual(decodeBinaryPayloadV3(new Uint8Array([1, 255, 4, 1])), { ok: false, code: "INVALID_LENGTH" });
});

test("text payload: a character just above '9' in a length is refused, not read as 11", () => {
  // '0;' would be 0 * 10 + 11 if ';' counted as a digit, and the 11 characters would decode.
  assert.deepEqual(decodeTextPayloadV3("0;:4abcdefghij"), { ok: false, code: "INVALID_LENGTH" });
});

test("text payload: an entry with no length digits is refused, also when a valid entry follows", () => {
  assert.deepEqual(decodeTextPayloadV3(":2:4x"), { ok: false, code: "INVALID_LENGTH" });
});
