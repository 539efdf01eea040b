// Helpers of the Engine.IO codec tests (engine-protocol.test.ts, engine-protocol-v3.test.ts):
// byte literals, byte-array comparison, and the unwrapping of a DecodeResult.

import assert from "node:assert/strict";
import type { DecodeErrorCode, DecodeResult, Packet } from "../../src/engine/protocol/packet.js";

export const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);
/** Buffer and Uint8Array differ for deepStrictEqual; compare plain byte arrays. */
export const plain = (value: unknown): unknown => (value instanceof Uint8Array ? { bytes: Array.from(value) } : value);
export const plainPacket = (p: Packet) => ({ type: p.type, data: plain(p.data) });

/** The value of a successful decode. */
export function ok<T>(result: DecodeResult<T>): T {
  assert.equal(result.ok, true, result.ok ? "" : `unexpected ${result.code}`);
  return (result as { ok: true; value: T }).value;
}

/** A decode that fails with `code`. */
export function err<T>(result: DecodeResult<T>, code: DecodeErrorCode, what?: string): void {
  assert.deepEqual(result, { ok: false, code }, what);
}
