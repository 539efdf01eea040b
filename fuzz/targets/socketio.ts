// Socket.IO v5 (and v4) packets with binary attachments: the per-connection Decoder fed a sequence
// of Engine.IO messages cut from the input (0xff separates messages; a message starting with 0x01
// is binary, any other is text), so a text packet announcing N attachments is followed by
// whatever comes: too few or too many buffers, text in between, placeholders out of range or
// repeated, deep nesting. Documented failures: DecodeResult with a DecodeErrorCode of
// src/socket/protocol/packet.ts; the decoder never throws and is reusable after an error. Every
// complete packet is re-encoded, decoded again and encoded again: the two encodings are the same.

import { DECODE_ERROR_CODES, Decoder, encodePacket, type DecodeErrorCode, type Packet } from "../../src/socket/protocol/packet.js";
import { byteAt, check, checkResult, sameBytes, target } from "./harness.js";

export const SOCKET_CODES: ReadonlySet<DecodeErrorCode> = new Set<DecodeErrorCode>(DECODE_ERROR_CODES);

/** The input as Engine.IO messages (see the header comment). */
export function messagesOf(input: Buffer): (string | Uint8Array)[] {
  const out: (string | Uint8Array)[] = [];
  let start = 0;
  for (;;) {
    const end = input.indexOf(0xff, start);
    const part = input.subarray(start, end === -1 ? input.length : end);
    out.push(part[0] === 0x01 ? part.subarray(1) : part.toString("utf8"));
    if (end === -1) return out;
    start = end + 1;
  }
}

/** Decodes the messages in one fresh decoder (a small maxDepth too, so depth limits are reached). */
export function decodeAll(messages: readonly (string | Uint8Array)[], maxAttachments: number, maxDepth: number): Packet[] {
  const decoder = new Decoder({ maxAttachments, maxDepth });
  const packets: Packet[] = [];
  for (const message of messages) {
    const result = decoder.add(message);
    checkResult(result, SOCKET_CODES, "Decoder.add");
    if (!result.ok) {
      check(!decoder.pending, "no partial packet is kept after an error");
      continue;
    }
    if (result.packet !== null) {
      check(!decoder.pending, "a complete packet leaves nothing pending");
      packets.push(result.packet);
    } else check(decoder.pending, "packet:null means attachments are pending");
  }
  return packets;
}

function reencode(packet: Packet, maxAttachments: number, maxDepth: number): { text: string; attachments: Uint8Array[] } {
  const encoded = encodePacket(packet, undefined, maxDepth);
  check(encoded.ok, `a decoded packet encodes: ${JSON.stringify(encoded)}`);
  const again = decodeAll([encoded.text, ...encoded.attachments], maxAttachments, maxDepth);
  check(again.length === 1, `a re-encoded packet decodes to one packet: ${encoded.text}`);
  const second = encodePacket(again[0]!, undefined, maxDepth);
  check(second.ok && second.text === encoded.text, `encoding is stable: ${encoded.text}`);
  check(second.attachments.length === encoded.attachments.length && second.attachments.every((a, i) => sameBytes(a, encoded.attachments[i]!)), "attachments are stable");
  return encoded;
}

export function fuzzSocketIO(input: Buffer): void {
  const maxAttachments = 1 + (byteAt(input, 0) % 10);
  const maxDepth = byteAt(input, 1) % 2 === 0 ? 1000 : 3;
  const packets = decodeAll(messagesOf(input), maxAttachments, maxDepth);
  for (const packet of packets) reencode(packet, maxAttachments, maxDepth);
}

export const fuzz = target(fuzzSocketIO);
