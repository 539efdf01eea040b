// @socket.io/redis-adapter's classic format (createAdapter, PUBLISH/SUBSCRIBE), read at 8.3.0, and
// @socket.io/redis-emitter's (5.1), which is the same. For a key k (default "socket.io") and a
// namespace n:
//
//   k#n#            broadcasts to the namespace, or to several rooms: msgpack [uid, packet, opts]
//   k#n#room#       broadcasts to exactly one room (same message); servers psubscribe k#n#*
//   k-request#n#    requests: JSON, or msgpack where socket.io uses it (a broadcast with acks)
//   k-response#n#   responses (and k-response#n#uid# with publishOnSpecificResponseChannel)
//
// Requests are { uid, type, requestId?, ... } with type 0 SOCKETS, 1 ALL_ROOMS, 2 REMOTE_JOIN,
// 3 REMOTE_LEAVE, 4 REMOTE_DISCONNECT, 5 REMOTE_FETCH, 6 SERVER_SIDE_EMIT, 7 BROADCAST (with acks);
// responses carry the requestId and, for 6, 8 BROADCAST_CLIENT_COUNT and 9 BROADCAST_ACK, a type.
// The number of servers of a namespace is PUBSUB NUMSUB of its request channel. A message starts
// with "{" when it is JSON (that is how socket.io tells them apart); this side writes JSON where
// socket.io does, and msgpack where the payload holds binary (socket.io would lose it in JSON).

import { hasBinary } from "../../socket/protocol/binary.js";
import type { ExpectedKind, Incoming, Outgoing, WireFormat } from "./format.js";
import { decodeMsgpack, encodeMsgpack } from "./msgpack.js";
import { isRecord, isString, isStringList, readId, readPacket, readSelector, readSockets, type AdapterRequest, type AdapterResponse, type Decoded } from "./messages.js";

const T = { SOCKETS: 0, ALL_ROOMS: 1, REMOTE_JOIN: 2, REMOTE_LEAVE: 3, REMOTE_DISCONNECT: 4, REMOTE_FETCH: 5, SERVER_SIDE_EMIT: 6, BROADCAST: 7, CLIENT_COUNT: 8, BROADCAST_ACK: 9 } as const;

/** JSON or msgpack, as socket.io decides: by the first byte. */
export function parsePayload(payload: Buffer): Decoded<unknown> {
  try {
    if (payload[0] === 0x7b) return { ok: true, value: JSON.parse(payload.toString("utf8")) };
    return { ok: true, value: decodeMsgpack(payload) };
  } catch (err) {
    return { ok: false, message: `undecodable message: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** JSON, unless the value holds binary (then msgpack, which keeps it). */
export function jsonOrMsgpack(value: object): Buffer | string {
  return hasBinary(value) ? encodeMsgpack(value) : JSON.stringify(value);
}

export class ClassicFormat implements WireFormat {
  readonly sharded = false;
  readonly patterns: string[];

  constructor(
    private readonly key: string,
    private readonly specificResponseChannel: boolean,
  ) {
    this.patterns = [`${key}#*`];
  }

  namespaceChannels(nsp: string, uid: string): string[] {
    return [this.requestChannel(nsp), this.responseChannel(nsp), `${this.responseChannel(nsp)}${uid}#`];
  }

  serverCountChannel(nsp: string): string {
    return this.requestChannel(nsp);
  }

  roomChannel(): null {
    return null;
  }

  private requestChannel(nsp: string): string {
    return `${this.key}-request#${nsp}#`;
  }

  private responseChannel(nsp: string): string {
    return `${this.key}-response#${nsp}#`;
  }

  encodeRequest(r: AdapterRequest): Outgoing {
    const request = this.requestChannel(r.nsp);
    switch (r.kind) {
      case "broadcast": {
        const opts = { rooms: r.opts.rooms, except: r.opts.except, flags: r.flags ?? {} };
        const packet = { type: r.packet.type, data: r.packet.data, nsp: r.nsp };
        if (r.requestId === undefined) {
          const channel = `${this.key}#${r.nsp}#` + (r.opts.rooms.length === 1 ? `${r.opts.rooms[0]}#` : "");
          return { channel, payload: encodeMsgpack([r.uid, packet, opts]) };
        }
        return { channel: request, payload: encodeMsgpack({ uid: r.uid, requestId: r.requestId, type: T.BROADCAST, packet, opts }) };
      }
      case "sockets_join":
      case "sockets_leave":
        return { channel: request, payload: JSON.stringify({ uid: r.uid, type: r.kind === "sockets_join" ? T.REMOTE_JOIN : T.REMOTE_LEAVE, opts: r.opts, rooms: r.rooms }) };
      case "disconnect_sockets":
        return { channel: request, payload: JSON.stringify({ uid: r.uid, type: T.REMOTE_DISCONNECT, opts: r.opts, close: r.close }) };
      case "remote_join":
      case "remote_leave":
        return { channel: request, payload: JSON.stringify({ uid: r.uid, requestId: r.requestId, type: r.kind === "remote_join" ? T.REMOTE_JOIN : T.REMOTE_LEAVE, sid: r.sid, room: r.room }) };
      case "remote_disconnect":
        return { channel: request, payload: JSON.stringify({ uid: r.uid, requestId: r.requestId, type: T.REMOTE_DISCONNECT, sid: r.sid, close: r.close }) };
      case "fetch_sockets":
        return { channel: request, payload: JSON.stringify({ uid: r.uid, requestId: r.requestId, type: T.REMOTE_FETCH, opts: r.opts }) };
      case "socket_ids":
        return { channel: request, payload: JSON.stringify({ uid: r.uid, requestId: r.requestId, type: T.SOCKETS, rooms: r.rooms }) };
      case "all_rooms":
        return { channel: request, payload: JSON.stringify({ uid: r.uid, requestId: r.requestId, type: T.ALL_ROOMS }) };
      case "server_side_emit": {
        const body: Record<string, unknown> = { uid: r.uid, type: T.SERVER_SIDE_EMIT, data: r.data };
        if (r.requestId !== undefined) body.requestId = r.requestId;
        return { channel: request, payload: jsonOrMsgpack(body) };
      }
    }
  }

  encodeResponse(request: { uid: string; nsp: string }, _uid: string, r: AdapterResponse): Outgoing {
    const channel = this.specificResponseChannel ? `${this.responseChannel(request.nsp)}${request.uid}#` : this.responseChannel(request.nsp);
    switch (r.kind) {
      case "client_count":
        return { channel, payload: JSON.stringify({ type: T.CLIENT_COUNT, requestId: r.requestId, clientCount: r.clientCount }) };
      case "broadcast_ack":
        return { channel, payload: encodeMsgpack({ type: T.BROADCAST_ACK, requestId: r.requestId, packet: r.packet }) };
      case "fetch_sockets":
      case "socket_ids":
        return { channel, payload: jsonOrMsgpack({ requestId: r.requestId, sockets: r.sockets }) };
      case "all_rooms":
        return { channel, payload: JSON.stringify({ requestId: r.requestId, rooms: r.rooms }) };
      case "server_side_emit":
        return { channel, payload: jsonOrMsgpack({ type: T.SERVER_SIDE_EMIT, requestId: r.requestId, data: r.data }) };
      case "done":
        return { channel, payload: JSON.stringify({ requestId: r.requestId }) };
    }
  }

  decode(channel: string, payload: Buffer, expected: ExpectedKind): Decoded<Incoming> {
    const requestPrefix = `${this.key}-request#`;
    // The namespace of a request is its channel's (k-request#n#).
    if (channel.startsWith(requestPrefix) && channel.endsWith("#")) return this.decodeRequest(payload, channel.slice(requestPrefix.length, -1));
    if (channel.startsWith(`${this.key}-response#`)) return this.decodeResponse(payload, expected);
    if (channel.startsWith(`${this.key}#`)) return this.decodeBroadcast(channel, payload);
    return { ok: true, value: { type: "ignore", reason: `channel ${channel}` } };
  }

  private decodeBroadcast(channel: string, payload: Buffer): Decoded<Incoming> {
    let value: unknown;
    try {
      value = decodeMsgpack(payload);
    } catch (err) {
      return { ok: false, message: `undecodable broadcast: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (!Array.isArray(value) || value.length < 2) return { ok: false, message: "a broadcast is not [uid, packet, opts]" };
    const [uid, rawPacket, rawOpts] = value as unknown[];
    const packet = readPacket(rawPacket);
    const opts = readSelector(rawOpts ?? {});
    if (!isString(uid) || packet === null || opts === null) return { ok: false, message: "malformed broadcast" };
    // The pattern k#* also matches the channels of a longer key that starts with "k#" (another
    // cluster's): only k#<the packet's namespace># is this cluster's, as the adapter's own k#n#* is.
    if (!channel.startsWith(`${this.key}#${packet.nsp}#`)) return { ok: true, value: { type: "ignore", reason: `broadcast of ${packet.nsp} on ${channel}` } };
    const flags = isRecord(rawOpts) && isRecord(rawOpts.flags) ? rawOpts.flags : {};
    return { ok: true, value: { type: "request", request: { kind: "broadcast", uid, nsp: packet.nsp, packet, opts, flags } } };
  }

  private decodeRequest(payload: Buffer, nsp: string): Decoded<Incoming> {
    const parsed = parsePayload(payload);
    if (!parsed.ok) return parsed;
    const m = parsed.value;
    if (!isRecord(m)) return { ok: false, message: "a request is not an object" };
    // The emitter sends requests without a uid; socket.io's adapter treats them as from nobody.
    const uid = m.uid === undefined ? "emitter" : m.uid;
    if (!isString(uid)) return { ok: false, message: "malformed request uid" };
    const requestId = m.requestId === undefined ? undefined : readId(m.requestId);
    if (requestId === null) return { ok: false, message: "malformed requestId" };
    const bad = (what: string): Decoded<Incoming> => ({ ok: false, message: `malformed ${what} request` });
    const request = (r: AdapterRequest): Decoded<Incoming> => ({ ok: true, value: { type: "request", request: r } });
    switch (m.type) {
      case T.SOCKETS:
        if (requestId === undefined || !isStringList(m.rooms ?? [])) return bad("SOCKETS");
        return request({ kind: "socket_ids", uid, nsp, requestId, rooms: (m.rooms ?? []) as string[] });
      case T.ALL_ROOMS:
        if (requestId === undefined) return bad("ALL_ROOMS");
        return request({ kind: "all_rooms", uid, nsp, requestId });
      case T.REMOTE_JOIN:
      case T.REMOTE_LEAVE: {
        const join = m.type === T.REMOTE_JOIN;
        if (m.opts !== undefined && m.opts !== null) {
          const opts = readSelector(m.opts);
          const rooms = readSelector({ rooms: m.rooms })?.rooms;
          if (opts === null || rooms === undefined) return bad(join ? "REMOTE_JOIN" : "REMOTE_LEAVE");
          return request({ kind: join ? "sockets_join" : "sockets_leave", uid, nsp, opts, rooms });
        }
        if (requestId === undefined || !isString(m.sid) || !(isString(m.room) || typeof m.room === "number")) return bad(join ? "REMOTE_JOIN" : "REMOTE_LEAVE");
        return request({ kind: join ? "remote_join" : "remote_leave", uid, nsp, requestId, sid: m.sid, room: String(m.room) });
      }
      case T.REMOTE_DISCONNECT: {
        const close = m.close === true;
        if (m.opts !== undefined && m.opts !== null) {
          const opts = readSelector(m.opts);
          if (opts === null) return bad("REMOTE_DISCONNECT");
          return request({ kind: "disconnect_sockets", uid, nsp, opts, close });
        }
        if (requestId === undefined || !isString(m.sid)) return bad("REMOTE_DISCONNECT");
        return request({ kind: "remote_disconnect", uid, nsp, requestId, sid: m.sid, close });
      }
      case T.REMOTE_FETCH: {
        const opts = readSelector(m.opts ?? {});
        if (requestId === undefined || opts === null) return bad("REMOTE_FETCH");
        return request({ kind: "fetch_sockets", uid, nsp, requestId, opts });
      }
      case T.SERVER_SIDE_EMIT: {
        if (!Array.isArray(m.data) || m.data.length === 0) return bad("SERVER_SIDE_EMIT");
        return request({ kind: "server_side_emit", uid, nsp, data: m.data, ...(requestId !== undefined ? { requestId } : {}) });
      }
      case T.BROADCAST: {
        const packet = readPacket(m.packet);
        const opts = readSelector(m.opts ?? {});
        if (requestId === undefined || packet === null || opts === null) return bad("BROADCAST");
        const flags = isRecord(m.opts) && isRecord(m.opts.flags) ? m.opts.flags : {};
        return request({ kind: "broadcast", uid, nsp, packet: { ...packet, nsp }, opts, flags, requestId });
      }
      default:
        return { ok: true, value: { type: "ignore", reason: `request type ${String(m.type)}` } };
    }
  }

  private decodeResponse(payload: Buffer, expected: ExpectedKind): Decoded<Incoming> {
    const parsed = parsePayload(payload);
    if (!parsed.ok) return parsed;
    const m = parsed.value;
    if (!isRecord(m)) return { ok: false, message: "a response is not an object" };
    const requestId = readId(m.requestId);
    if (requestId === null) return { ok: false, message: "a response without a requestId" };
    const kind = expected(requestId);
    // Not ours (another server's request, or one that timed out): nothing to decode.
    if (kind === undefined) return { ok: true, value: { type: "ignore", reason: "response to another server" } };
    const response = (r: AdapterResponse): Decoded<Incoming> => ({ ok: true, value: { type: "response", response: r } });
    const bad: Decoded<Incoming> = { ok: false, message: `malformed ${kind} response` };
    if (m.type === T.CLIENT_COUNT) {
      return typeof m.clientCount === "number" ? response({ kind: "client_count", requestId, clientCount: m.clientCount }) : bad;
    }
    if (m.type === T.BROADCAST_ACK) return response({ kind: "broadcast_ack", requestId, packet: m.packet });
    switch (kind) {
      case "server_side_emit":
        return response({ kind, requestId, data: m.data });
      case "fetch_sockets": {
        const sockets = readSockets(m.sockets);
        return sockets === null ? bad : response({ kind, requestId, sockets });
      }
      case "socket_ids":
        return isStringList(m.sockets) ? response({ kind, requestId, sockets: m.sockets }) : bad;
      case "all_rooms":
        return Array.isArray(m.rooms) ? response({ kind, requestId, rooms: m.rooms.map(String) }) : bad;
      case "done":
        return response({ kind, requestId });
      default:
        return bad;
    }
  }
}
