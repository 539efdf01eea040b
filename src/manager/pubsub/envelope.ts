// sockjet's cluster message format: one broker message per operation, binary-safe.
//
//   bytes 0-3   magic "\0SJ" and format version 1            (00 53 4A 01)
//   bytes 4-7   n = length of the JSON header, uint32 big-endian
//   n bytes     the header, UTF-8 JSON (fields below)
//   then, for each attachment announced by the header: uint32 big-endian length, then the bytes
//
// Binary values inside `args` (Buffer, typed arrays, ArrayBuffer, DataView) are replaced by
// Socket.IO's placeholders `{"_placeholder":true,"num":i}` and carried as attachments, exactly as
// the Socket.IO packet encoding does (socket.io-protocol v5). Header fields:
//
//   emit        {"type":"emit","host","namespace","event","args","rooms":[..]|null,"skip":[..],"request"?,"attachments"?}
//   enter_room  {"type":"enter_room","host","namespace","sid","room"}      (likewise leave_room)
//   close_room  {"type":"close_room","host","namespace","room"}
//   disconnect  {"type":"disconnect","host","namespace","sid","close"?}   (close: the whole connection)
//   callback    {"type":"callback","host","to","request","args","attachments"?}
//
// Cluster queries and membership (src/manager/pubsub/queries.ts):
//
//   heartbeat      {"type":"heartbeat","host"}                 a server is alive (periodic, and on joining)
//   leave          {"type":"leave","host"}                     a server is closing
//   fetch_sockets  {"type":"fetch_sockets","host","request","namespace","rooms":[..]|null,"except":[..],"data":bool}
//   all_rooms      {"type":"all_rooms","host","request","namespace"}
//   server_emit    {"type":"server_emit","host","namespace","event","args","request"?,"attachments"?}
//   response       {"type":"response","host","to","request","args":[answer],"attachments"?}
//
// `host` is the publisher's host id; `request` names an emit whose acknowledgements must be routed
// back, as `callback` messages addressed (`to`) to that host, or a query whose answers come back
// as `response` messages addressed to it (a server_emit without `request` wants no answers). The first byte (0x00) can start
// neither a pickle (0x80) nor a JSON object, so python-socketio's messages on the same channel are
// told apart by their first byte.
//
// Decoding returns a result, never throws.

import { deconstruct, findPlaceholders, fillPlaceholders } from "../../socket/protocol/binary.js";
import { defaultJson, type JsonCodec } from "../../socket/protocol/packet.js";

/** Where a python-socketio server wants an acknowledgement sent (its emit's `callback` tuple). */
export interface PythonCallbackRoute {
  host: string;
  sid: string;
  namespace: string;
  id: unknown;
}

export type ClusterMessage =
  | {
      type: "emit";
      host: string;
      namespace: string;
      event: string;
      args: unknown[];
      /** null: every client of the namespace. */
      rooms: string[] | null;
      skip: string[];
      /** Acknowledgements go back to `host` as callback messages carrying this id. */
      request?: string;
      /** Set by the python codec: acknowledgements go back in python-socketio's format. */
      python?: PythonCallbackRoute;
    }
  | { type: "enter_room" | "leave_room"; host: string; namespace: string; sid: string; room: string }
  | { type: "close_room"; host: string; namespace: string; room: string }
  | { type: "disconnect"; host: string; namespace: string; sid: string; close?: boolean }
  | { type: "callback"; host: string; to: string; request: string; args: unknown[] }
  | { type: "heartbeat" | "leave"; host: string }
  | { type: "fetch_sockets"; host: string; request: string; namespace: string; rooms: string[] | null; except: string[]; data: boolean }
  | { type: "all_rooms"; host: string; request: string; namespace: string }
  | { type: "server_emit"; host: string; namespace: string; event: string; args: unknown[]; request?: string }
  | { type: "response"; host: string; to: string; request: string; args: unknown[] };

export type DecodedMessage = { ok: true; message: ClusterMessage } | { ok: false; message: string };

const MAGIC = [0x00, 0x53, 0x4a, 0x01] as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** True when the payload starts with sockjet's magic bytes. */
export function isSockjetMessage(payload: Uint8Array): boolean {
  return payload.length >= 8 && payload[0] === MAGIC[0] && payload[1] === MAGIC[1] && payload[2] === MAGIC[2];
}

const typePrefix = /^\{"type":"([a-z_]+)"/;

/**
 * The message type, read from the first bytes of the header without parsing it (sockjet writes
 * "type" first); null when it cannot be told that way. Lets a process skip what it does not need.
 */
export function peekType(payload: Uint8Array): string | null {
  if (!isSockjetMessage(payload)) return null;
  const head = new TextDecoder().decode(payload.subarray(8, Math.min(payload.length, 8 + 32)));
  return typePrefix.exec(head)?.[1] ?? null;
}

/** Encodes a message. Throws what the JSON codec throws (cycles, BigInt) — the caller reports it. */
export function encodeMessage(message: ClusterMessage, json: JsonCodec = defaultJson): Uint8Array {
  let header: Record<string, unknown> = { ...message };
  delete header.python;
  let buffers: Uint8Array[] = [];
  if (message.type === "emit" || message.type === "callback" || message.type === "server_emit" || message.type === "response") {
    // No depth limit here (the receiving servers' Socket.IO encoder applies its own): cannot fail.
    const split = deconstruct(message.args);
    if (!split.ok) throw new Error(split.message);
    if (split.buffers.length > 0) {
      header = { ...header, args: split.data, attachments: split.buffers.length };
      buffers = split.buffers;
    }
  }
  const text = encoder.encode(json.stringify(header));
  let size = 8 + text.length;
  for (const b of buffers) size += 4 + b.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(4, text.length);
  out.set(text, 8);
  let pos = 8 + text.length;
  for (const b of buffers) {
    view.setUint32(pos, b.length);
    out.set(b, pos + 4);
    pos += 4 + b.length;
  }
  return out;
}

const isString = (v: unknown): v is string => typeof v === "string";
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

/** Decodes a sockjet message and checks every field it needs. Binaries come back as Buffers. */
export function decodeMessage(payload: Uint8Array, json: JsonCodec = defaultJson): DecodedMessage {
  if (!isSockjetMessage(payload)) return { ok: false, message: "not a sockjet cluster message" };
  if (payload[3] !== MAGIC[3]) return { ok: false, message: `unsupported sockjet message version ${payload[3]}` };
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const length = view.getUint32(4);
  if (8 + length > payload.length) return { ok: false, message: "truncated header" };
  let header: unknown;
  try {
    header = json.parse(decoder.decode(payload.subarray(8, 8 + length)));
  } catch (err) {
    return { ok: false, message: `malformed header: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) return { ok: false, message: "header is not an object" };
  const h = header as Record<string, unknown>;
  if (!isString(h.host)) return { ok: false, message: "missing host" };

  // Attachments.
  const count = h.attachments ?? 0;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 0) return { ok: false, message: "bad attachment count" };
  const attachments: Uint8Array[] = [];
  let pos = 8 + length;
  for (let i = 0; i < count; i++) {
    if (pos + 4 > payload.length) return { ok: false, message: "truncated attachment" };
    const size = view.getUint32(pos);
    if (pos + 4 + size > payload.length) return { ok: false, message: "truncated attachment" };
    attachments.push(Buffer.from(payload.buffer, payload.byteOffset + pos + 4, size));
    pos += 4 + size;
  }
  if (pos !== payload.length) return { ok: false, message: "trailing bytes after the message" };
  if (count > 0) {
    const scan = findPlaceholders(h, "args", count);
    if (!scan.ok) return { ok: false, message: scan.message };
    fillPlaceholders(scan.slots, attachments);
  }

  switch (h.type) {
    case "emit": {
      const { host, namespace, event, args, rooms, skip, request } = h;
      if (!isString(namespace) || !isString(event) || !Array.isArray(args)) return { ok: false, message: "malformed emit" };
      if (!(rooms === null || isStringList(rooms)) || !isStringList(skip)) return { ok: false, message: "malformed emit rooms" };
      if (request !== undefined && !isString(request)) return { ok: false, message: "malformed emit request" };
      const message: ClusterMessage = { type: "emit", host, namespace, event, args: args as unknown[], rooms, skip };
      if (request !== undefined) message.request = request;
      return { ok: true, message };
    }
    case "enter_room":
    case "leave_room": {
      const { host, namespace, sid, room } = h;
      if (!isString(namespace) || !isString(sid) || !isString(room)) return { ok: false, message: `malformed ${h.type}` };
      return { ok: true, message: { type: h.type, host, namespace, sid, room } };
    }
    case "close_room": {
      const { host, namespace, room } = h;
      if (!isString(namespace) || !isString(room)) return { ok: false, message: "malformed close_room" };
      return { ok: true, message: { type: "close_room", host, namespace, room } };
    }
    case "disconnect": {
      const { host, namespace, sid, close } = h;
      if (!isString(namespace) || !isString(sid)) return { ok: false, message: "malformed disconnect" };
      if (close !== undefined && typeof close !== "boolean") return { ok: false, message: "malformed disconnect close" };
      return { ok: true, message: close === true ? { type: "disconnect", host, namespace, sid, close } : { type: "disconnect", host, namespace, sid } };
    }
    case "callback": {
      const { host, to, request, args } = h;
      if (!isString(to) || !isString(request) || !Array.isArray(args)) return { ok: false, message: "malformed callback" };
      return { ok: true, message: { type: "callback", host, to, request, args: args as unknown[] } };
    }
    case "heartbeat":
    case "leave":
      return { ok: true, message: { type: h.type, host: h.host } };
    case "fetch_sockets": {
      const { host, request, namespace, rooms, except, data } = h;
      if (!isString(request) || !isString(namespace) || !(rooms === null || isStringList(rooms)) || !isStringList(except) || typeof data !== "boolean") {
        return { ok: false, message: "malformed fetch_sockets" };
      }
      return { ok: true, message: { type: "fetch_sockets", host, request, namespace, rooms, except, data } };
    }
    case "all_rooms": {
      const { host, request, namespace } = h;
      if (!isString(request) || !isString(namespace)) return { ok: false, message: "malformed all_rooms" };
      return { ok: true, message: { type: "all_rooms", host, request, namespace } };
    }
    case "server_emit": {
      const { host, namespace, event, args, request } = h;
      if (!isString(namespace) || !isString(event) || !Array.isArray(args)) return { ok: false, message: "malformed server_emit" };
      if (request !== undefined && !isString(request)) return { ok: false, message: "malformed server_emit request" };
      const message: ClusterMessage = { type: "server_emit", host, namespace, event, args: args as unknown[] };
      if (request !== undefined) message.request = request;
      return { ok: true, message };
    }
    case "response": {
      const { host, to, request, args } = h;
      if (!isString(to) || !isString(request) || !Array.isArray(args)) return { ok: false, message: "malformed response" };
      return { ok: true, message: { type: "response", host, to, request, args: args as unknown[] } };
    }
    default:
      return { ok: false, message: `unknown message type ${JSON.stringify(h.type)}` };
  }
}
