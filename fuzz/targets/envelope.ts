// The cluster envelope (src/manager/pubsub/envelope.ts): whatever arrives on the broker channel.
// Each input is decoded as it is, and also framed as a header (magic, version 1, length) around
// its bytes up to the first 0xff, with the rest as the attachment section, so that the JSON and
// attachment checks are reached. Documented failure: `{ ok: false, message }`; nothing throws.
// A decoded message is re-encoded, decoded and encoded again: the two encodings are the same.

import { decodeMessage, encodeMessage, isSockjetMessage, peekType } from "../../src/manager/pubsub/envelope.js";
import { check, sameBytes, target } from "./harness.js";

function framed(input: Buffer): Buffer {
  const cut = input.indexOf(0xff);
  const header = cut === -1 ? input : input.subarray(0, cut);
  const rest = cut === -1 ? Buffer.alloc(0) : input.subarray(cut + 1);
  const prefix = Buffer.from([0x00, 0x53, 0x4a, 0x01, 0, 0, 0, 0]);
  prefix.writeUInt32BE(header.length, 4);
  return Buffer.concat([prefix, header, rest]);
}

export function fuzzEnvelope(input: Buffer): void {
  for (const payload of [input, framed(input)]) {
    const type = peekType(payload);
    check(type === null || /^[a-z_]+$/.test(type), "peekType is a lower-case word or null");
    const decoded = decodeMessage(payload);
    if (!decoded.ok) {
      check(typeof decoded.message === "string", "a failure carries a message");
      continue;
    }
    check(isSockjetMessage(payload), "only sockjet messages decode");
    const first = encodeMessage(decoded.message);
    const again = decodeMessage(first);
    check(again.ok, `a re-encoded message decodes: ${again.ok ? "" : again.message}`);
    check(sameBytes(encodeMessage(again.message), first), "encoding is stable");
  }
}

export const fuzz = target(fuzzEnvelope);
