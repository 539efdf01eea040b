// The messages of the no-sticky layer on a server's own channel (see ./index.ts): a small JSON
// header and the raw bytes of a body or of WebSocket frames after it, so that a forwarded poll's
// payload crosses the broker as it is, without being re-encoded.
//
// Layout: "SJN" (magic), a 4-byte big-endian header length, the header as UTF-8 JSON, the body.

export type Headers = Record<string, string | string[]>;

/** What travels between a front (the server a request reached) and the owner (the server of the session). */
export type WireMessage =
  // front → owner: an HTTP request of the owner's session. `big`: the body was over the limit;
  // `gone`: the client went away while sending it.
  | { t: "req"; f: string; id: string; m: string; u: string; h: Record<string, string>; a: string; s: boolean; big?: true; gone?: true }
  // front → owner: the front gave up on a request (the client went away, the owner was too slow or
  // declared gone) and answers it no more; `sid`: the session, which ends if its answer was already sent.
  | { t: "abort"; f: string; id: string; sid?: string }
  // owner → front: the answer to a request.
  | { t: "res"; f: string; id: string; st: number; h: Headers }
  // front → owner: a WebSocket upgrade of the owner's session reached the front.
  | { t: "up"; f: string; id: string; u: string; h: Record<string, string>; a: string; s: boolean }
  // owner → front: the upgrade's verdict (`st`: refused with this status, `h` its headers, the body its text).
  | { t: "upr"; f: string; id: string; st: number; h: Headers }
  // front → owner: one frame from the client (`b`: binary); owner → front: frames for the client (`fl`: length and binary flag of each).
  | { t: "wsin"; f: string; id: string; b: boolean }
  | { t: "wsout"; f: string; id: string; fl: Array<[number, 0 | 1]> }
  // owner → front: close the client's WebSocket (`x`: at once, without a closing handshake).
  | { t: "wsclose"; f: string; id: string; c?: number; x?: true }
  // front → owner: the client's WebSocket closed.
  | { t: "wsgone"; f: string; id: string }
  // liveness between two servers that share a session.
  | { t: "ping"; f: string }
  | { t: "pong"; f: string }
  // a server that shuts down tells the servers it shares sessions with.
  | { t: "bye"; f: string };

export interface Decoded {
  message: WireMessage;
  body: Uint8Array;
}

const MAGIC = [0x53, 0x4a, 0x4e];
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

export function encodeWire(message: WireMessage, body: Uint8Array | string | readonly (Uint8Array | string)[] = EMPTY): Uint8Array {
  const header = encoder.encode(JSON.stringify(message));
  const parts = typeof body === "string" || body instanceof Uint8Array ? [body] : body;
  const bytes = parts.map((p) => (typeof p === "string" ? encoder.encode(p) : p));
  let size = 7 + header.byteLength;
  for (const b of bytes) size += b.byteLength;
  const out = new Uint8Array(size);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(3, header.byteLength);
  out.set(header, 7);
  let at = 7 + header.byteLength;
  for (const b of bytes) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}

export function encodeText(text: string): Uint8Array {
  return encoder.encode(text);
}

export function decodeText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Null for whatever is not one of these messages (it is dropped and reported by the caller). */
export function decodeWire(payload: Uint8Array): Decoded | null {
  if (payload.byteLength < 7 || payload[0] !== MAGIC[0] || payload[1] !== MAGIC[1] || payload[2] !== MAGIC[2]) return null;
  const length = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(3);
  if (7 + length > payload.byteLength) return null;
  let message: unknown;
  try {
    message = JSON.parse(decoder.decode(payload.subarray(7, 7 + length)));
  } catch {
    return null;
  }
  if (typeof message !== "object" || message === null) return null;
  const m = message as { t?: unknown; f?: unknown };
  if (typeof m.t !== "string" || typeof m.f !== "string") return null;
  return { message: message as WireMessage, body: payload.subarray(7 + length) };
}

/** Splits a `wsout` body into its frames. Null when the lengths do not add up. */
export function splitFrames(body: Uint8Array, lengths: Array<[number, 0 | 1]>): Array<string | Uint8Array> | null {
  const out: Array<string | Uint8Array> = [];
  let at = 0;
  for (const [length, binary] of lengths) {
    if (!Number.isSafeInteger(length) || length < 0 || at + length > body.byteLength) return null;
    const slice = body.subarray(at, at + length);
    out.push(binary === 1 ? slice : decoder.decode(slice));
    at += length;
  }
  return at === body.byteLength ? out : null;
}
