/**
 * Socket.IO protocol v5 packet codec (https://socket.io/docs/v4/socket-io-protocol/).
 *
 * Wire format of the text part of a packet:
 *
 *   <type digit>[<attachments count>-][<nsp>,][<ack id digits>][<JSON payload>]
 *
 * Binary packets (BINARY_EVENT / BINARY_ACK) are followed by `count` Engine.IO binary
 * messages, one per attachment, referenced from the JSON by `{"_placeholder":true,"num":i}`.
 *
 * Pure code: no `node:*` imports, no Buffer, no timers. The decoder reports every problem as a
 * value (DecodeResult) and never throws, whatever it is fed.
 *
 * Validation follows socket.io-parser 4.2.x (read at 4.2.7: `Decoder.decodeString` and
 * `Decoder.isPayloadValid`), tightened where that parser is lax only by accident — each such
 * place is commented below.
 */

import { deconstruct, exceedsDepth, fillPlaceholders, findPlaceholders, type PlaceholderSlot } from "./binary.js";

export { hasBinary } from "./binary.js";

export const PacketType = {
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
} as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

export interface Packet {
  type: PacketType;
  nsp: string;
  id?: number;
  data?: unknown;
}

export interface JsonCodec {
  stringify(value: unknown): string;
  parse(text: string): unknown;
}

export const defaultJson: JsonCodec = {
  stringify: (value: unknown): string => JSON.stringify(value),
  parse: (text: string): unknown => JSON.parse(text) as unknown,
};

/** One encoded packet: the text Engine.IO message, then binary attachments each sent as its own Engine.IO binary message. */
export interface EncodedPacket {
  text: string;
  attachments: Uint8Array[];
}

/**
 * The deepest nesting of arrays and objects a packet's data may have, in both directions: the
 * event array `["name", ...args]` counts as one level, so an argument may nest 999 more. Deeper
 * data is refused by the decoder (the connection is closed, "parse error") and by the encoder (an
 * error value): without a bound, nested data would overflow the call stack of recursive code that
 * meets it (JSON.stringify overflows above about 4,000 levels on Node 20, a handler's own
 * recursion sooner), and a payload the server accepted could not be echoed back. A thousand is far
 * beyond real data and within what every runtime's JSON.stringify handles.
 */
export const MAX_DEPTH = 1000;

export type EncodeErrorCode = "TOO_DEEP" | "UNSERIALIZABLE";

/** An encoded packet, or why the packet's data cannot be encoded (the encoder never throws). */
export type EncodeResult = ({ ok: true } & EncodedPacket) | { ok: false; code: EncodeErrorCode; message: string; cause?: unknown };

const DEFAULT_NSP = "/";

const NO_BINARY: { data: unknown; buffers: Uint8Array[] } = { data: undefined, buffers: [] };

/**
 * The common case, an event name with a few plain values, has no binary: this check proves it
 * without allocating, so only payloads that may hold binary pay for the placeholder walk. It
 * answers false ("not sure") for anything deeper than `depth`, class instances (binaries, Dates
 * and other toJSON carriers included) and an own `toJSON` key.
 */
function plainWithoutBinary(value: unknown, depth: number): boolean {
  if (typeof value !== "object" || value === null) return true;
  if (depth === 0) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!plainWithoutBinary(value[i], depth - 1)) return false;
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (key === "toJSON" || !plainWithoutBinary(record[key], depth - 1)) return false;
  }
  return true;
}

/**
 * Encodes a packet.
 *
 * If an EVENT/ACK payload contains binary anywhere (Uint8Array incl. Buffer, any ArrayBuffer
 * view, ArrayBuffer; nested in arrays/objects), it is sent as BINARY_EVENT/BINARY_ACK with the
 * binaries replaced by `{"_placeholder":true,"num":i}` in depth-first order. Conversely a
 * BINARY_* packet whose data holds no binary is sent as plain EVENT/ACK, because a binary packet
 * with 0 attachments is rejected by socket.io-parser ("Illegal attachments").
 *
 * The default namespace "/" is omitted; others are written followed by ",". As in
 * socket.io-parser, a `null`/`undefined` data or id is omitted. The namespace is written as
 * given: it should start with "/" and contain no "," or the peer cannot parse it back.
 *
 * Never throws: EVENT/ACK data nested deeper than `maxDepth` is TOO_DEEP, and whatever
 * `json.stringify` or a `toJSON` method throws (a cycle, a BigInt, a stack overflow) is
 * UNSERIALIZABLE, with the thrown error as `cause`.
 */
export function encodePacket(packet: Packet, json: JsonCodec = defaultJson, maxDepth: number = MAX_DEPTH): EncodeResult {
  let type: PacketType = packet.type;
  let data: unknown = packet.data;
  let attachments: Uint8Array[] = [];

  if (type === PacketType.EVENT || type === PacketType.ACK || type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK) {
    const isEvent = type === PacketType.EVENT || type === PacketType.BINARY_EVENT;
    let split: { data: unknown; buffers: Uint8Array[] };
    if (plainWithoutBinary(data, Math.min(4, maxDepth))) split = NO_BINARY;
    else {
      let walked: ReturnType<typeof deconstruct>;
      try {
        walked = deconstruct(data, maxDepth);
      } catch (error) {
        return unserializable(error);
      }
      if (!walked.ok) return { ok: false, code: "TOO_DEEP", message: walked.message };
      split = walked;
    }
    if (split.buffers.length > 0) {
      data = split.data;
      attachments = split.buffers;
      type = isEvent ? PacketType.BINARY_EVENT : PacketType.BINARY_ACK;
    } else {
      type = isEvent ? PacketType.EVENT : PacketType.ACK;
    }
  }

  let text = String(type);
  if (attachments.length > 0) text += `${attachments.length}-`;
  if (packet.nsp && packet.nsp !== DEFAULT_NSP) text += `${packet.nsp},`;
  if (packet.id !== undefined && packet.id !== null) text += String(packet.id);
  if (data !== undefined && data !== null) {
    let payload: unknown;
    try {
      payload = json.stringify(data);
    } catch (error) {
      return unserializable(error);
    }
    // JSON.stringify returns undefined for functions/symbols; never put the word "undefined" on the wire.
    if (typeof payload === "string") text += payload;
  }
  return { ok: true, text, attachments };
}

function unserializable(error: unknown): EncodeResult {
  return { ok: false, code: "UNSERIALIZABLE", message: error instanceof Error ? error.message : String(error), cause: error };
}

/** Every code a Socket.IO decoder (JSON or msgpack) fails with: the documented answers to bad input. */
export const DECODE_ERROR_CODES = [
  "INVALID_TYPE",
  "INVALID_FORMAT",
  "INVALID_JSON",
  "INVALID_PAYLOAD",
  "INVALID_ATTACHMENTS",
  "UNEXPECTED_BINARY",
  "TOO_MANY_ATTACHMENTS",
  "TOO_DEEP",
] as const;

export type DecodeErrorCode = (typeof DECODE_ERROR_CODES)[number];

export type DecodeResult = { ok: true; packet: Packet | null } | { ok: false; code: DecodeErrorCode; message: string };

export interface DecoderOptions {
  json?: JsonCodec;
  /** Upper bound on the attachments count a binary packet may announce (socket.io-parser default: 10). */
  maxAttachments?: number;
  /** The deepest nesting of arrays/objects a payload may have (default MAX_DEPTH); deeper is TOO_DEEP. */
  maxDepth?: number;
}

/**
 * Event names socket.io-parser's `Decoder.isPayloadValid` refuses for EVENT/BINARY_EVENT
 * (its RESERVED_EVENTS list): they have a special meaning on one side or the other, and a peer
 * emitting them could fake lifecycle events. The official parser rejects them at parse time
 * ("invalid payload"), so we do the same here rather than leaving it to the socket layer.
 */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set([
  "connect", // client side
  "connect_error", // client side
  "disconnect", // both sides
  "disconnecting", // server side
  "newListener", // Node.js EventEmitter
  "removeListener", // Node.js EventEmitter
]);

const CHAR_0 = 48;
const CHAR_9 = 57;
const CHAR_DASH = 45;
const CHAR_SLASH = 47;
/** Number.MAX_SAFE_INTEGER has 16 decimal digits; more significant digits can never be safe. */
const MAX_SAFE_DIGITS = 16;

function fail(code: DecodeErrorCode, message: string): { ok: false; code: DecodeErrorCode; message: string } {
  return { ok: false, code, message };
}

/** Index just past the run of ASCII digits starting at `start`. Linear, no allocation. */
function scanDigits(text: string, start: number): number {
  let i = start;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c < CHAR_0 || c > CHAR_9) break;
    i++;
  }
  return i;
}

/**
 * Value of the digit run text[start, end). Returns Infinity instead of an imprecise number when
 * there are too many significant digits, without converting a huge run (e.g. 10 MB of digits).
 * Leading zeros are accepted, as `Number("007")` is in socket.io-parser.
 */
function digitsValue(text: string, start: number, end: number): number {
  let first = start;
  while (first < end - 1 && text.charCodeAt(first) === CHAR_0) first++;
  if (end - first > MAX_SAFE_DIGITS) return Number.POSITIVE_INFINITY;
  return Number(text.slice(first, end));
}

/** socket.io-parser's isObject: a plain `{...}` value (not an array, not null). */
function isPlainObject(value: unknown): boolean {
  return Object.prototype.toString.call(value) === "[object Object]";
}

/**
 * EVENT/BINARY_EVENT payload: an array whose first element is the event name. Like
 * socket.io-parser 4.2.x we accept a number as event name too (`typeof payload[0] === "number"`)
 * and reject reserved names. An empty array fails because its first element is undefined.
 */
function isEventPayload(payload: unknown): boolean {
  if (!Array.isArray(payload) || payload.length === 0) return false;
  const name: unknown = payload[0];
  if (typeof name === "number") return true;
  return typeof name === "string" && !RESERVED_EVENTS.has(name);
}

/** Result of parsing one text message: a packet plus how many attachments it still needs. */
type TextParse = { ok: true; packet: Packet; attachments: number } | { ok: false; code: DecodeErrorCode; message: string };

function parseText(text: string, json: JsonCodec, maxAttachments: number, maxDepth: number): TextParse {
  const length = text.length;

  // Type: exactly one digit 0-6. (socket.io-parser uses Number(str.charAt(0)), which maps "" and
  // " " to 0 = CONNECT by accident; we require a real digit.)
  const typeDigit = length > 0 ? text.charCodeAt(0) - CHAR_0 : -1;
  if (!(typeDigit >= PacketType.CONNECT && typeDigit <= PacketType.BINARY_ACK)) {
    return fail("INVALID_TYPE", length === 0 ? "empty packet" : `unknown packet type ${JSON.stringify(text.charAt(0))}`);
  }
  const type = typeDigit as PacketType;
  const isBinaryType = type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK;
  let i = 1;

  // Attachments count: "<digits>-", only for binary types. socket.io-parser requires an integer
  // >= 1 (a binary packet with 0 attachments is "Illegal attachments") and > maxAttachments is
  // "too many attachments". It compares loosely (`buf != Number(buf)`), so it also lets through
  // "1e0" or " 1"; we accept decimal digits only.
  let attachments = 0;
  if (isBinaryType) {
    const end = scanDigits(text, i);
    if (end === i || text.charCodeAt(end) !== CHAR_DASH) {
      return fail("INVALID_FORMAT", "binary packet without a valid '<count>-' attachments prefix");
    }
    const count = digitsValue(text, i, end);
    if (count < 1) return fail("INVALID_FORMAT", "binary packet must announce at least one attachment");
    if (count > maxAttachments) return fail("TOO_MANY_ATTACHMENTS", `packet announces more than ${maxAttachments} attachments`);
    if (!Number.isSafeInteger(count)) return fail("INVALID_FORMAT", "attachments count is not a safe integer");
    attachments = count;
    i = end + 1;
  }

  // Namespace: present only when the next char is "/"; it runs to the first "," (consumed) or,
  // when there is no comma, to the end of the text (socket.io-parser does the same).
  let nsp = DEFAULT_NSP;
  if (text.charCodeAt(i) === CHAR_SLASH) {
    const comma = text.indexOf(",", i);
    if (comma === -1) {
      nsp = text.slice(i);
      i = length;
    } else {
      nsp = text.slice(i, comma);
      i = comma + 1;
    }
  }

  // Ack id: a run of digits. socket.io-parser feeds it to Number() unbounded (a long run becomes
  // an imprecise float or Infinity, and its loose `Number(c) == c` test even counts " " as a
  // digit); we accept ASCII digits only and reject values beyond Number.MAX_SAFE_INTEGER.
  let id: number | undefined;
  const idEnd = scanDigits(text, i);
  if (idEnd > i) {
    const value = digitsValue(text, i, idEnd);
    if (!Number.isSafeInteger(value)) return fail("INVALID_FORMAT", "ack id is larger than Number.MAX_SAFE_INTEGER");
    id = value;
    i = idEnd;
  }

  // Payload: everything left is JSON. socket.io-parser maps a JSON error to "invalid payload";
  // we report it separately as INVALID_JSON.
  const hasData = i < length;
  let data: unknown;
  if (hasData) {
    try {
      data = json.parse(text.slice(i));
    } catch (error) {
      return fail("INVALID_JSON", `payload is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    // JSON of depth D has at least 2D characters, so a shorter payload from JSON.parse needs no
    // walk. A custom codec's output is always walked, once per object (it may share or cycle).
    const custom = json !== defaultJson;
    if ((custom || length - i >= 2 * (maxDepth + 1)) && exceedsDepth(data, maxDepth, custom)) {
      return fail("TOO_DEEP", `payload nested deeper than ${maxDepth} arrays/objects`);
    }
  }

  // Per-type payload rules (socket.io-parser `Decoder.isPayloadValid`). That parser only runs the
  // check when a payload is present, so it accepts e.g. "2", "3" or "4" with no payload at all;
  // an EVENT without a name, an ACK without arguments or a CONNECT_ERROR without a reason is
  // meaningless, so here those payloads are required.
  switch (type) {
    case PacketType.CONNECT:
      if (hasData && !isPlainObject(data)) return fail("INVALID_PAYLOAD", "CONNECT payload must be an object or absent");
      break;
    case PacketType.DISCONNECT:
      if (hasData) return fail("INVALID_PAYLOAD", "DISCONNECT must not carry a payload");
      break;
    case PacketType.CONNECT_ERROR:
      if (!hasData || !(typeof data === "string" || isPlainObject(data))) {
        return fail("INVALID_PAYLOAD", "CONNECT_ERROR payload must be a string or an object");
      }
      break;
    case PacketType.EVENT:
    case PacketType.BINARY_EVENT:
      if (!hasData || !isEventPayload(data)) {
        return fail("INVALID_PAYLOAD", "EVENT payload must be an array starting with a non-reserved event name (string or number)");
      }
      break;
    case PacketType.ACK:
    case PacketType.BINARY_ACK:
      if (!hasData || !Array.isArray(data)) return fail("INVALID_PAYLOAD", "ACK payload must be an array");
      // socket.io-parser does not check this, but an ack that names no request cannot be
      // delivered; it is a header (format) problem, not a payload one.
      if (id === undefined) return fail("INVALID_FORMAT", "ACK packet without an ack id");
      break;
  }

  // Ids on CONNECT/DISCONNECT/CONNECT_ERROR are tolerated (socket.io-parser keeps them too);
  // the socket layer ignores them.
  const packet: Packet = { type, nsp };
  if (id !== undefined) packet.id = id;
  if (hasData) packet.data = data;
  return { ok: true, packet, attachments };
}

/**
 * What the server needs of a per-connection decoder: the JSON Decoder below, or the msgpack one
 * (msgpack.ts), which is never pending.
 */
export interface PacketDecoder {
  add(message: string | Uint8Array): DecodeResult;
  readonly pending: boolean;
}

/** A binary packet whose text part arrived and which is waiting for its attachments. */
interface PartialPacket {
  packet: Packet;
  /** Wrapper whose `data` key holds the payload, so placeholder slots always have a holder. */
  root: { data: unknown };
  slots: PlaceholderSlot[];
  received: Uint8Array[];
}

/**
 * Stateful per-connection decoder. add() takes one Engine.IO message (string = text,
 * Uint8Array = binary). Returns packet:null while a binary packet still awaits attachments;
 * returns the complete packet (placeholders replaced by the Uint8Array attachments, exactly the
 * objects received) when the last attachment arrives. BINARY_EVENT/BINARY_ACK keep their type.
 * Never throws. After an error the decoder holds no partial packet and can be reused, though a
 * server would normally close the connection (socket.io closes it on any parser error).
 */
export class Decoder {
  readonly #json: JsonCodec;
  readonly #maxAttachments: number;
  readonly #maxDepth: number;
  #partial: PartialPacket | null = null;

  constructor(options: DecoderOptions = {}) {
    this.#json = options.json ?? defaultJson;
    this.#maxAttachments = options.maxAttachments ?? 10;
    this.#maxDepth = options.maxDepth ?? MAX_DEPTH;
  }

  /** true while attachments are pending */
  get pending(): boolean {
    return this.#partial !== null;
  }

  /** drop any partial binary packet */
  reset(): void {
    this.#partial = null;
  }

  add(message: string | Uint8Array): DecodeResult {
    try {
      return this.#add(message);
    } catch (error) {
      // Unreachable with the default codec; a custom codec could return exotic objects
      // (proxies, frozen objects) that make the placeholder walk throw. Keep the promise of
      // "errors are values".
      this.#partial = null;
      return fail("INVALID_PAYLOAD", `cannot decode packet: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #add(message: string | Uint8Array): DecodeResult {
    if (typeof message === "string") return this.#addText(message);
    if (message instanceof Uint8Array) return this.#addBinary(message);
    // Only reachable from untyped callers.
    this.#partial = null;
    return fail("INVALID_FORMAT", "message must be a string or a Uint8Array");
  }

  #addText(text: string): DecodeResult {
    if (this.#partial !== null) {
      // socket.io-parser: "got plaintext data when reconstructing a packet".
      this.#partial = null;
      return fail("INVALID_ATTACHMENTS", "text packet received while binary attachments were pending");
    }
    const parsed = parseText(text, this.#json, this.#maxAttachments, this.#maxDepth);
    if (!parsed.ok) return parsed;
    if (parsed.attachments === 0) return { ok: true, packet: parsed.packet };

    const root = { data: parsed.packet.data };
    const scan = findPlaceholders(root, "data", parsed.attachments);
    if (!scan.ok) return fail("INVALID_ATTACHMENTS", scan.message);
    this.#partial = { packet: parsed.packet, root, slots: scan.slots, received: [] };
    return { ok: true, packet: null };
  }

  #addBinary(bytes: Uint8Array): DecodeResult {
    const partial = this.#partial;
    if (partial === null) {
      // socket.io-parser: "got binary data when not reconstructing a packet".
      return fail("UNEXPECTED_BINARY", "binary message received while no binary packet was pending");
    }
    partial.received.push(bytes);
    if (partial.received.length < partial.slots.length) return { ok: true, packet: null };
    this.#partial = null;
    fillPlaceholders(partial.slots, partial.received);
    partial.packet.data = partial.root.data;
    return { ok: true, packet: partial.packet };
  }
}
