// Engine.IO v4: WebSocket frames (text and binary), long-polling payloads as strings, and POST
// bodies as bytes through the polling framing (UTF-8 check, then the payload decoder). Documented
// failures: a DecodeResult with one of the DecodeErrorCode values (src/engine/protocol/packet.ts);
// nothing throws. A payload that decodes is re-encoded and must decode to the same packets.

import { decodeFrame, decodePayload, encodeFrame, encodePayload, type DecodeErrorCode } from "../../src/engine/protocol/packet.js";
import { POLLING_V4 } from "../../src/engine/transports/polling-framing.js";
import { byteAt, check, checkResult, samePackets, target } from "./harness.js";

export const ENGINE_CODES: ReadonlySet<DecodeErrorCode> = new Set<DecodeErrorCode>([
  "EMPTY_PACKET",
  "INVALID_TYPE",
  "INVALID_BASE64",
  "TOO_MANY_PACKETS",
  "INVALID_LENGTH",
  "INVALID_UTF8",
]);

export function fuzzEngineV4(input: Buffer): void {
  const text = input.toString("utf8");

  const frame = decodeFrame(text);
  checkResult(frame, ENGINE_CODES, "decodeFrame(text)");
  if (frame.ok) {
    const again = decodeFrame(encodeFrame(frame.value));
    check(again.ok && samePackets([again.value], [frame.value]), "text frame round trip");
  }
  const binary = decodeFrame(input);
  check(binary.ok && binary.value.type === 4 && binary.value.data === input, "a binary frame is a MESSAGE of those bytes");

  // 0 to 7 packets allowed, or no limit: the limit's boundary is explored too.
  const limitByte = byteAt(input, 0) % 9;
  const maxPackets = limitByte === 8 ? Infinity : limitByte;
  const payload = decodePayload(text, maxPackets);
  checkResult(payload, ENGINE_CODES, "decodePayload");
  if (payload.ok) {
    check(payload.value.length > 0 && payload.value.length <= maxPackets, "packet count within the limit");
    const again = decodePayload(encodePayload(payload.value));
    check(again.ok && samePackets(again.value, payload.value), "payload round trip");
  }

  const body = POLLING_V4.decode(input, undefined, maxPackets);
  checkResult(body, ENGINE_CODES, "POLLING_V4.decode");
}

export const fuzz = target(fuzzEngineV4);
