/**
 * The packet format of socket.io-msgpack-parser (read at 3.0.2, which uses notepack.io): each
 * Socket.IO packet is one msgpack map `{type, data, nsp, id?}` sent as one binary Engine.IO
 * message. Binary values sit in `data` as msgpack `bin`: no placeholders, no attachments, and no
 * BINARY_EVENT/BINARY_ACK types (that parser refuses types above CONNECT_ERROR).
 *
 * The codec is msgpackr, chosen on measured speed (bench/tools/msgpack-codecs.ts), configured for
 * plain msgpack: its record extension off (other decoders cannot read it), maps decoded as plain
 * objects, 64-bit integers decoded as numbers (notepack.io does the same). No `node:*` imports.
 *
 * Like the JSON codec in packet.ts, encoding and decoding never throw: problems are values.
 */

import { Packr, Unpackr } from "msgpackr";
import { exceedsDepth, isBinary } from "./binary.js";
import { MAX_DEPTH, PacketType, RESERVED_EVENTS, type DecodeErrorCode, type DecodeResult, type EncodeErrorCode, type Packet } from "./packet.js";

/** One encoded packet: the bytes of its one binary Engine.IO message. */
export type MsgpackEncodeResult = { ok: true; bytes: Uint8Array } | { ok: false; code: EncodeErrorCode; message: string; cause?: unknown };

const options = { useRecords: false, mapsAsObjects: true, int64AsType: "number" } as const;

/**
 * Encoder and decoder state of one server. msgpackr's Packr writes into a buffer it keeps and
 * returns a view of the bytes just written; later packs write past them, never over them.
 */
export class MsgpackCodec {
  private readonly packr = new Packr(options);
  private readonly unpackr = new Unpackr(options);
  /** How many packets were encoded (tests check that a broadcast is encoded once). */
  encoded = 0;

  constructor(readonly maxDepth: number = MAX_DEPTH) {}

  encode(packet: Packet): MsgpackEncodeResult {
    let type: PacketType = packet.type;
    // Binary values travel inside the map: the BINARY_* types do not exist in this format.
    if (type === PacketType.BINARY_EVENT) type = PacketType.EVENT;
    else if (type === PacketType.BINARY_ACK) type = PacketType.ACK;
    const data = packet.data;
    // The fast path may only prove what the limit allows: a codec built with maxDepth below 4.
    if (!provedShallow(data, Math.min(4, this.maxDepth)) && exceedsDepth(data, this.maxDepth, true)) {
      return { ok: false, code: "TOO_DEEP", message: `data nested deeper than ${this.maxDepth} arrays/objects` };
    }
    // Key order and omissions as socket.io writes its packets: type, data, nsp, then id.
    const out: { type: PacketType; data?: unknown; nsp: string; id?: number } = { type, data, nsp: packet.nsp };
    if (data === undefined || data === null) delete out.data;
    if (packet.id !== undefined && packet.id !== null) out.id = packet.id;
    try {
      const bytes = this.packr.pack(out);
      this.encoded++;
      return { ok: true, bytes };
    } catch (error) {
      // A cycle overflows the stack, a symbol is an unknown type: the data cannot be sent.
      return { ok: false, code: "UNSERIALIZABLE", message: error instanceof Error ? error.message : String(error), cause: error };
    }
  }

  /** A decoder for the server's connections: stateless, since a packet is always one message. */
  decoder(): MsgpackDecoder {
    return new MsgpackDecoder(this.unpackr, this.maxDepth);
  }
}

/**
 * True when `value` is proved to nest at most `budget` levels (binaries are leaves), without
 * allocating: the common payload skips the iterative depth walk. False means "not proved".
 */
function provedShallow(value: unknown, budget: number): boolean {
  if (typeof value !== "object" || value === null || isBinary(value)) return true;
  if (budget === 0) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!provedShallow(value[i], budget - 1)) return false;
    return true;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) if (!provedShallow(record[key], budget - 1)) return false;
  return true;
}

function fail(code: DecodeErrorCode, message: string): DecodeResult {
  return { ok: false, code, message };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return Object.prototype.toString.call(value) === "[object Object]";
}

/**
 * Decodes one binary Engine.IO message into a packet, with the checks socket.io-msgpack-parser
 * makes (`checkPacket`) and those packet.ts makes for JSON: reserved event names, an ack with an
 * id, a safe integer id, a bounded depth. A text message is an error (the peer speaks JSON).
 */
export class MsgpackDecoder {
  /** Never true: a msgpack packet is complete in one message. */
  readonly pending = false;

  constructor(
    private readonly unpackr: Unpackr,
    private readonly maxDepth: number,
  ) {}

  add(message: string | Uint8Array): DecodeResult {
    if (!(message instanceof Uint8Array)) return fail("INVALID_FORMAT", "text message on a msgpack connection");
    let decoded: unknown;
    try {
      decoded = this.unpackr.unpack(message);
    } catch (error) {
      // Truncated data, trailing bytes, or nesting deep enough to overflow the stack.
      return fail("INVALID_JSON", `not a msgpack value: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!isPlainObject(decoded)) return fail("INVALID_FORMAT", "packet is not a msgpack map");
    const type = decoded.type;
    if (typeof type !== "number" || !Number.isInteger(type) || type < PacketType.CONNECT || type > PacketType.CONNECT_ERROR) {
      return fail("INVALID_TYPE", "invalid packet type");
    }
    const nsp = decoded.nsp;
    if (typeof nsp !== "string") return fail("INVALID_FORMAT", "invalid namespace");
    const id = decoded.id;
    if (id !== undefined && !(typeof id === "number" && Number.isSafeInteger(id) && id >= 0)) return fail("INVALID_FORMAT", "invalid packet id");
    const data = decoded.data;
    // Depth D takes at least D bytes; shorter messages need no walk.
    if (message.byteLength > this.maxDepth && exceedsDepth(data, this.maxDepth, true)) {
      return fail("TOO_DEEP", `payload nested deeper than ${this.maxDepth} arrays/objects`);
    }
    switch (type) {
      case PacketType.CONNECT:
        if (data !== undefined && !isPlainObject(data)) return fail("INVALID_PAYLOAD", "CONNECT payload must be an object or absent");
        break;
      case PacketType.DISCONNECT:
        if (data !== undefined) return fail("INVALID_PAYLOAD", "DISCONNECT must not carry a payload");
        break;
      case PacketType.EVENT: {
        const name: unknown = Array.isArray(data) ? data[0] : undefined;
        if (!(typeof name === "number" || (typeof name === "string" && !RESERVED_EVENTS.has(name)))) {
          return fail("INVALID_PAYLOAD", "EVENT payload must be an array starting with a non-reserved event name (string or number)");
        }
        break;
      }
      case PacketType.ACK:
        if (!Array.isArray(data)) return fail("INVALID_PAYLOAD", "ACK payload must be an array");
        if (id === undefined) return fail("INVALID_FORMAT", "ACK packet without an ack id");
        break;
      default:
        // CONNECT_ERROR only travels server → client; the server closes the connection.
        break;
    }
    const packet: Packet = { type: type as PacketType, nsp };
    if (id !== undefined) packet.id = id;
    if (data !== undefined) packet.data = data;
    return { ok: true, packet };
  }
}
