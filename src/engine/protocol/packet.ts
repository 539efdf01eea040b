// Engine.IO protocol v4 packet and payload codec: pure functions, no I/O.
// Spec: https://github.com/socketio/engine.io-protocol (v4), sections "Packet encoding" and "Payload".

import { fromBase64, toBase64 } from "../../util/base64.js";

export const PacketType = { OPEN: 0, CLOSE: 1, PING: 2, PONG: 3, MESSAGE: 4, UPGRADE: 5, NOOP: 6 } as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

export interface Packet {
  type: PacketType;
  /** Text data, or binary data (binary is only valid for MESSAGE packets). */
  data?: string | Uint8Array;
}

/** Packets inside an HTTP long-polling payload are joined by the ASCII record separator. */
export const RECORD_SEPARATOR = "\x1e";

export type DecodeErrorCode = "EMPTY_PACKET" | "INVALID_TYPE" | "INVALID_BASE64" | "TOO_MANY_PACKETS" | "INVALID_LENGTH" | "INVALID_UTF8";
export type DecodeResult<T> = { ok: true; value: T } | { ok: false; code: DecodeErrorCode };

const TYPE_CHARS = ["0", "1", "2", "3", "4", "5", "6"];

/**
 * Encodes a packet as one WebSocket frame: text packets become `<type><data>`, binary MESSAGE
 * packets are sent as the raw bytes (a binary frame carries no type prefix in v4).
 */
export function encodeFrame(packet: Packet): string | Uint8Array {
  const { data } = packet;
  if (data instanceof Uint8Array) return data;
  return data === undefined ? TYPE_CHARS[packet.type]! : TYPE_CHARS[packet.type]! + data;
}

/** Encodes a packet as one segment of a long-polling payload: binary becomes `b<base64>`. */
export function encodeSegment(packet: Packet): string {
  const { data } = packet;
  if (data instanceof Uint8Array) return "b" + toBase64(data);
  return data === undefined ? TYPE_CHARS[packet.type]! : TYPE_CHARS[packet.type]! + data;
}

export function encodePayload(packets: readonly Packet[]): string {
  if (packets.length === 1) return encodeSegment(packets[0]!);
  let out = "";
  for (let i = 0; i < packets.length; i++) {
    if (i > 0) out += RECORD_SEPARATOR;
    out += encodeSegment(packets[i]!);
  }
  return out;
}

/** Decodes one WebSocket frame. A binary frame is a MESSAGE carrying those bytes. */
export function decodeFrame(frame: string | Uint8Array): DecodeResult<Packet> {
  if (typeof frame !== "string") return { ok: true, value: { type: PacketType.MESSAGE, data: frame } };
  return decodeText(frame);
}

/**
 * The result of each packet that is its type alone (a pong, a noop, an upgrade), decoded once and
 * shared: every heartbeat's pong would otherwise allocate two objects. Frozen, since every reader
 * of such a packet gets the same one.
 */
const BARE_PACKETS: readonly DecodeResult<Packet>[] = TYPE_CHARS.map((_, type) => Object.freeze({ ok: true as const, value: Object.freeze({ type: type as PacketType }) }));

function decodeText(text: string): DecodeResult<Packet> {
  if (text.length === 0) return { ok: false, code: "EMPTY_PACKET" };
  const code = text.charCodeAt(0) - 48; // '0'
  if (code < 0 || code > 6) return { ok: false, code: "INVALID_TYPE" };
  if (text.length === 1) return BARE_PACKETS[code]!;
  return { ok: true, value: { type: code as PacketType, data: text.slice(1) } };
}

function decodeSegment(segment: string): DecodeResult<Packet> {
  if (segment.charCodeAt(0) === 98 /* 'b' */) {
    const bytes = fromBase64(segment.slice(1));
    if (bytes === null) return { ok: false, code: "INVALID_BASE64" };
    return { ok: true, value: { type: PacketType.MESSAGE, data: bytes } };
  }
  return decodeText(segment);
}

/**
 * Decodes a long-polling payload (the body of a POST). `maxPackets` bounds the work a single
 * request can cause; the byte size is bounded before this is called (maxHttpBufferSize).
 */
export function decodePayload(payload: string, maxPackets = Infinity): DecodeResult<Packet[]> {
  const packets: Packet[] = [];
  let start = 0;
  for (;;) {
    const end = payload.indexOf(RECORD_SEPARATOR, start);
    const segment = end === -1 ? payload.slice(start) : payload.slice(start, end);
    const decoded = decodeSegment(segment);
    if (!decoded.ok) return decoded;
    if (packets.length >= maxPackets) return { ok: false, code: "TOO_MANY_PACKETS" };
    packets.push(decoded.value);
    if (end === -1) return { ok: true, value: packets };
    start = end + 1;
  }
}
