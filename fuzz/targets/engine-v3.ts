// Engine.IO v3 (socket.io-client 1.x/2.x): WebSocket frames, the text payload framing
// (`<length>:<packet>`), the XHR2 binary framing, JSONP form bodies, and the polling framings that
// pick one by Content-Type. Documented failures: DecodeErrorCode values (packet-v3.ts reuses
// packet.ts's); decodeJsonpBody returns null without a `d` field; nothing throws. Payloads that
// decode are re-encoded in the same framing and must decode to the same packets.

import {
  decodeBinaryPayloadV3,
  decodeFrameV3,
  decodeJsonpBody,
  decodeTextPayloadV3,
  encodeBinaryPayloadV3,
  encodeFrameV3,
  encodeJsonp,
  encodeTextPayloadV3,
  jsonpIndex,
} from "../../src/engine/protocol/packet-v3.js";
import { POLLING_V3_BASE64, POLLING_V3_XHR2, jsonpFraming } from "../../src/engine/transports/polling-framing.js";
import { ENGINE_CODES } from "./engine-v4.js";
import { byteAt, check, checkResult, samePackets, target } from "./harness.js";

const CONTENT_TYPES = [undefined, "text/plain;charset=UTF-8", "application/octet-stream", "APPLICATION/OCTET-STREAM; x=1", "application/x-www-form-urlencoded"];

export function fuzzEngineV3(input: Buffer): void {
  const text = input.toString("utf8");
  const limitByte = byteAt(input, 0) % 9;
  const maxPackets = limitByte === 8 ? Infinity : limitByte;

  for (const frame of [text, input]) {
    const decoded = decodeFrameV3(frame);
    checkResult(decoded, ENGINE_CODES, "decodeFrameV3");
    if (decoded.ok) {
      for (const base64 of [false, true]) {
        const again = decodeFrameV3(encodeFrameV3(decoded.value, base64));
        check(again.ok && samePackets([again.value], [decoded.value]), "v3 frame round trip");
      }
    }
  }

  const textPayload = decodeTextPayloadV3(text, maxPackets);
  checkResult(textPayload, ENGINE_CODES, "decodeTextPayloadV3");
  if (textPayload.ok) {
    check(textPayload.value.length <= maxPackets, "packet count within the limit");
    if (textPayload.value.length > 0) {
      const again = decodeTextPayloadV3(encodeTextPayloadV3(textPayload.value));
      check(again.ok && samePackets(again.value, textPayload.value), "text payload round trip");
    }
    // The JSONP response is a script calling ___eio[N] with the payload as a string literal.
    const script = encodeJsonp("7", encodeTextPayloadV3(textPayload.value));
    check(script.startsWith("___eio[7](") && script.endsWith(");"), "JSONP response shape");
    check(JSON.parse(script.slice(10, -2)) === encodeTextPayloadV3(textPayload.value), "JSONP literal round trip");
  }

  const binaryPayload = decodeBinaryPayloadV3(input, maxPackets);
  checkResult(binaryPayload, ENGINE_CODES, "decodeBinaryPayloadV3");
  if (binaryPayload.ok) {
    check(binaryPayload.value.length > 0 && binaryPayload.value.length <= maxPackets, "packet count within the limit");
    const again = decodeBinaryPayloadV3(encodeBinaryPayloadV3(binaryPayload.value));
    check(again.ok && samePackets(again.value, binaryPayload.value), "binary payload round trip");
  }

  const contentType = CONTENT_TYPES[byteAt(input, 1) % CONTENT_TYPES.length];
  checkResult(POLLING_V3_XHR2.decode(input, contentType, maxPackets), ENGINE_CODES, "POLLING_V3_XHR2.decode");
  checkResult(POLLING_V3_BASE64.decode(input, contentType, maxPackets), ENGINE_CODES, "POLLING_V3_BASE64.decode");
  checkResult(jsonpFraming(text).decode(input, contentType, maxPackets), ENGINE_CODES, "jsonp decode");

  const form = decodeJsonpBody(text);
  check(form === null || typeof form === "string", "decodeJsonpBody returns a string or null");
  check(/^[0-9]*$/.test(jsonpIndex(text)), "the JSONP index is digits only");
}

export const fuzz = target(fuzzEngineV3);
