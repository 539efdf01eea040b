// How packets travel in long-polling bodies, per protocol generation and client capability. A
// session's framing is chosen once, at the handshake (from EIO, b64 and j), as the reference server
// chooses its transport; the polling transport itself is the same for all of them.

import { decodePayload, encodePayload, type DecodeResult, type Packet } from "../protocol/packet.js";
import {
  decodeBinaryPayloadV3,
  decodeJsonpBody,
  decodeTextPayloadV3,
  encodeBinaryPayloadV3,
  encodeJsonp,
  encodeTextPayloadV3,
  hasBinaryPacket,
  jsonpIndex,
} from "../protocol/packet-v3.js";
import type { OutPacket } from "../out-packet.js";
import type { EngineProtocol } from "../options.js";

export interface PollingFraming {
  /** The Engine.IO revision whose bodies these are. */
  readonly protocol: EngineProtocol;
  /** The body of a poll response that carries these packets. */
  encode(packets: readonly OutPacket[]): string | Uint8Array;
  /** The Content-Type of a body that `encode` returned. */
  contentType(body: string | Uint8Array): string;
  /** Decodes the body of a POST. */
  decode(body: Uint8Array, contentType: string | undefined, maxPackets: number): DecodeResult<Packet[]>;
}

const TEXT = "text/plain; charset=UTF-8";
const BINARY = "application/octet-stream";
const JAVASCRIPT = "text/javascript; charset=UTF-8";

const utf8 = new TextDecoder("utf-8", { fatal: true });

function text(body: Uint8Array): string | null {
  try {
    return utf8.decode(body);
  } catch {
    return null;
  }
}

const INVALID_UTF8 = { ok: false, code: "INVALID_UTF8" } as const;

/** Engine.IO v4: packets joined by the record separator, binary as `b<base64>`. */
export const POLLING_V4: PollingFraming = {
  protocol: 4,
  encode: encodePayload,
  contentType: () => TEXT,
  decode(body, _contentType, maxPackets) {
    const payload = text(body);
    return payload === null ? INVALID_UTF8 : decodePayload(payload, maxPackets);
  },
};

/** v3 text framing only: clients that asked for base64 (`b64=1`). */
export const POLLING_V3_BASE64: PollingFraming = {
  protocol: 3,
  encode: encodeTextPayloadV3,
  contentType: () => TEXT,
  decode: decodeV3,
};

/**
 * v3 XHR2 clients: a payload that holds binary uses the binary framing (the client switches its
 * XHR to an ArrayBuffer response on `application/octet-stream`), any other the text framing.
 */
export const POLLING_V3_XHR2: PollingFraming = {
  protocol: 3,
  encode: (packets) => (hasBinaryPacket(packets) ? encodeBinaryPayloadV3(packets) : encodeTextPayloadV3(packets)),
  contentType: (body) => (typeof body === "string" ? TEXT : BINARY),
  decode: decodeV3,
};

function decodeV3(body: Uint8Array, contentType: string | undefined, maxPackets: number): DecodeResult<Packet[]> {
  if (contentType !== undefined && contentType.toLowerCase().startsWith(BINARY)) return decodeBinaryPayloadV3(body, maxPackets);
  const payload = text(body);
  return payload === null ? INVALID_UTF8 : decodeTextPayloadV3(payload, maxPackets);
}

/**
 * v3 JSONP, for browsers without XHR2 or CORS: responses call `___eio[j](payload)` in the page's
 * script tag, POSTs are forms with the payload in field `d`. Always the text framing.
 */
export function jsonpFraming(j: string): PollingFraming {
  const index = jsonpIndex(j);
  return {
    protocol: 3,
    encode: (packets) => encodeJsonp(index, encodeTextPayloadV3(packets)),
    contentType: () => JAVASCRIPT,
    decode(body, _contentType, maxPackets) {
      const form = text(body);
      if (form === null) return INVALID_UTF8;
      const payload = decodeJsonpBody(form);
      return payload === null ? { ok: false, code: "EMPTY_PACKET" } : decodeTextPayloadV3(payload, maxPackets);
    },
  };
}
