// Engine.IO protocol v3 packet and payload codec (socket.io 1.x/2.x clients): pure functions, no I/O.
// Spec: https://github.com/socketio/engine.io-protocol (v3 branch), and where the text is silent,
// engine.io-parser 2.2 as the v3 clients use it (read at 2.2.1).
//
// What differs from v4 (packet.ts):
// - WebSocket: a binary frame starts with its packet type as a byte (0x04 for MESSAGE); a client
//   that cannot send binary (b64=1) sends `b4<base64>` text frames instead.
// - Long-polling payloads are not joined by a separator but length-prefixed, in one of two framings:
//   * text:   `<length>:<packet>` per packet, the length counted in UTF-16 code units (JavaScript
//             string length), binary packets as `b4<base64>`;
//   * binary (XHR2 clients, when a payload holds binary): per packet one byte 0 (text) or 1
//             (binary), the decimal digits of the length as bytes 0-9, a byte 255, then the packet:
//             text as UTF-8 (the length counts bytes), binary as its type byte and the data.
// - JSONP (`j=N`): the text framing wrapped in `___eio[N]("...");`, and POSTs as form bodies `d=...`.

import { fromBase64, toBase64 } from "../../util/base64.js";
import { PacketType, type DecodeErrorCode, type DecodeResult, type Packet } from "./packet.js";

const TYPE_CHARS = ["0", "1", "2", "3", "4", "5", "6"];

/** A decimal length with more digits than this cannot be a real payload entry (and would lose precision). */
const MAX_LENGTH_DIGITS = 15;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

function fail(code: DecodeErrorCode): { ok: false; code: DecodeErrorCode } {
  return { ok: false, code };
}

// ---- single packets ------------------------------------------------------------------------------

/** A binary MESSAGE as a v3 WebSocket binary frame: the type byte, then the data. */
export function binaryFrameV3(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.byteLength + 1);
  out[0] = PacketType.MESSAGE;
  out.set(data, 1);
  return out;
}

/** A binary MESSAGE as v3 text (base64 mode, and the text payload framing): `b4<base64>`. */
export function base64PacketV3(data: Uint8Array): string {
  return "b4" + toBase64(data);
}

/** One packet as a v3 WebSocket frame. `base64`: the client asked for text only (b64=1). */
export function encodeFrameV3(packet: Packet, base64 = false): string | Uint8Array {
  const { data } = packet;
  if (data instanceof Uint8Array) return base64 ? base64PacketV3(data) : binaryFrameV3(data);
  return data === undefined ? TYPE_CHARS[packet.type]! : TYPE_CHARS[packet.type]! + data;
}

/** One packet as v3 text (the segment of a text payload, before its length prefix). */
export function encodeSegmentV3(packet: Packet): string {
  const { data } = packet;
  if (data instanceof Uint8Array) return base64PacketV3(data);
  return data === undefined ? TYPE_CHARS[packet.type]! : TYPE_CHARS[packet.type]! + data;
}

function decodeTextV3(text: string): DecodeResult<Packet> {
  if (text.length === 0) return fail("EMPTY_PACKET");
  if (text.charCodeAt(0) === 98 /* 'b' */) {
    // Only messages carry binary.
    if (text.charCodeAt(1) !== 52 /* '4' */) return fail("INVALID_TYPE");
    const bytes = fromBase64(text.slice(2));
    if (bytes === null) return fail("INVALID_BASE64");
    return { ok: true, value: { type: PacketType.MESSAGE, data: bytes } };
  }
  const code = text.charCodeAt(0) - 48;
  if (code < 0 || code > 6) return fail("INVALID_TYPE");
  const type = code as PacketType;
  return { ok: true, value: text.length > 1 ? { type, data: text.slice(1) } : { type } };
}

function decodeBinaryV3(bytes: Uint8Array): DecodeResult<Packet> {
  if (bytes.byteLength === 0) return fail("EMPTY_PACKET");
  if (bytes[0] !== PacketType.MESSAGE) return fail("INVALID_TYPE");
  return { ok: true, value: { type: PacketType.MESSAGE, data: bytes.subarray(1) } };
}

/** Decodes one v3 WebSocket frame (text, `b4<base64>` text, or a type byte and binary data). */
export function decodeFrameV3(frame: string | Uint8Array): DecodeResult<Packet> {
  return typeof frame === "string" ? decodeTextV3(frame) : decodeBinaryV3(frame);
}

// ---- payloads ------------------------------------------------------------------------------------

/**
 * What a payload encoder reads of a packet. An OutPacket supplies `segmentV3` from its cache, so a
 * broadcast builds each packet's v3 text once, whatever the number of v3 recipients.
 */
export interface PayloadPacketV3 extends Packet {
  readonly segmentV3?: string;
}

/** The text framing: `<length>:<packet>` for each packet (binary packets base64). */
export function encodeTextPayloadV3(packets: readonly PayloadPacketV3[]): string {
  let out = "";
  for (let i = 0; i < packets.length; i++) {
    const p = packets[i]!;
    const segment = p.segmentV3 ?? encodeSegmentV3(p);
    out += segment.length + ":" + segment;
  }
  return out;
}

export function hasBinaryPacket(packets: readonly Packet[]): boolean {
  for (let i = 0; i < packets.length; i++) if (packets[i]!.data instanceof Uint8Array) return true;
  return false;
}

/** The XHR2 binary framing (see the header comment); used for payloads that hold binary. */
export function encodeBinaryPayloadV3(packets: readonly Packet[]): Uint8Array {
  const parts: { binary: boolean; bytes: Uint8Array; length: string }[] = [];
  let total = 0;
  for (const p of packets) {
    const { data } = p;
    let bytes: Uint8Array;
    let binary = false;
    if (data instanceof Uint8Array) {
      bytes = binaryFrameV3(data);
      binary = true;
    } else {
      bytes = utf8Encoder.encode(data === undefined ? TYPE_CHARS[p.type]! : TYPE_CHARS[p.type]! + data);
    }
    const length = String(bytes.byteLength);
    parts.push({ binary, bytes, length });
    total += 2 + length.length + bytes.byteLength;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const { binary, bytes, length } of parts) {
    out[at++] = binary ? 1 : 0;
    for (let i = 0; i < length.length; i++) out[at++] = length.charCodeAt(i) - 48;
    out[at++] = 255;
    out.set(bytes, at);
    at += bytes.byteLength;
  }
  return out;
}

/** Decodes the text framing. `maxPackets` bounds the work one request can cause. */
export function decodeTextPayloadV3(payload: string, maxPackets = Infinity): DecodeResult<Packet[]> {
  if (payload.length === 0) return fail("EMPTY_PACKET");
  const packets: Packet[] = [];
  let at = 0;
  while (at < payload.length) {
    const colon = payload.indexOf(":", at);
    if (colon === -1 || colon === at || colon - at > MAX_LENGTH_DIGITS) return fail("INVALID_LENGTH");
    let length = 0;
    for (let i = at; i < colon; i++) {
      const digit = payload.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) return fail("INVALID_LENGTH");
      length = length * 10 + digit;
    }
    const start = colon + 1;
    if (start + length > payload.length) return fail("INVALID_LENGTH");
    // An empty entry (`0:`) carries no packet; engine.io-parser skips it too.
    if (length > 0) {
      if (packets.length >= maxPackets) return fail("TOO_MANY_PACKETS");
      const decoded = decodeTextV3(payload.slice(start, start + length));
      if (!decoded.ok) return decoded;
      packets.push(decoded.value);
    }
    at = start + length;
  }
  return { ok: true, value: packets };
}

/** Decodes the XHR2 binary framing. */
export function decodeBinaryPayloadV3(payload: Uint8Array, maxPackets = Infinity): DecodeResult<Packet[]> {
  if (payload.byteLength === 0) return fail("EMPTY_PACKET");
  const packets: Packet[] = [];
  let at = 0;
  while (at < payload.byteLength) {
    const kind = payload[at]!;
    if (kind > 1) return fail("INVALID_LENGTH");
    let length = 0;
    let i = at + 1;
    for (; i < payload.byteLength && payload[i] !== 255; i++) {
      const digit = payload[i]!;
      if (digit > 9 || i - at > MAX_LENGTH_DIGITS) return fail("INVALID_LENGTH");
      length = length * 10 + digit;
    }
    if (i === at + 1 || i === payload.byteLength) return fail("INVALID_LENGTH");
    const start = i + 1;
    if (start + length > payload.byteLength) return fail("INVALID_LENGTH");
    if (packets.length >= maxPackets) return fail("TOO_MANY_PACKETS");
    const body = payload.subarray(start, start + length);
    let decoded: DecodeResult<Packet>;
    if (kind === 1) decoded = decodeBinaryV3(body);
    else {
      let text: string;
      try {
        text = utf8Decoder.decode(body);
      } catch {
        return fail("INVALID_UTF8");
      }
      decoded = decodeTextV3(text);
    }
    if (!decoded.ok) return decoded;
    packets.push(decoded.value);
    at = start + length;
  }
  return { ok: true, value: packets };
}

// ---- JSONP ---------------------------------------------------------------------------------------

/**
 * The callback index of a JSONP session (`j=N`), reduced to its digits as the reference server
 * does: whatever the query says, the response can only call `___eio[<digits>]`.
 */
export function jsonpIndex(j: string): string {
  return j.replace(/[^0-9]/g, "");
}

/**
 * A text payload as a JSONP response body. JSON.stringify makes it a JavaScript string literal,
 * except for U+2028 and U+2029, which JSON allows in strings and older JavaScript does not.
 */
export function encodeJsonp(index: string, payload: string): string {
  const literal = JSON.stringify(payload).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
  return "___eio[" + index + "](" + literal + ");";
}

/**
 * The payload of a JSONP POST: the form field `d`, whose newlines the client escaped (a form
 * submission would turn a bare newline into CRLF): `\n` stands for a newline and `\\n` for the
 * two characters `\` `n`. Returns null when there is no `d` field.
 */
export function decodeJsonpBody(form: string): string | null {
  const d = new URLSearchParams(form).get("d");
  if (d === null) return null;
  return d.replace(/(\\)?\\n/g, (match, slash: string | undefined) => (slash ? match : "\n")).replace(/\\\\n/g, "\\n");
}
