// @socket.io/redis-adapter's sharded format (createShardedAdapter, SPUBLISH/SSUBSCRIBE, Redis 7+),
// read at 8.3.0 with socket.io-adapter 2.5's ClusterAdapter, whose messages it carries. For a
// channel prefix p (default "socket.io") and a namespace n:
//
//   p#n#          every message of the namespace
//   p#n#uid#      responses to the server whose adapter id is uid
//   p#n#room#     broadcasts to exactly one room, in the "dynamic" subscription modes: a server
//                 subscribes while it has members of the room ("dynamic": rooms that are not a
//                 socket id, and socket ids that do not look like one (20 characters);
//                 "dynamic-private": every room)
//
// A message is { uid, nsp, type, data } with type 3 BROADCAST {packet, opts, requestId?},
// 4 SOCKETS_JOIN {opts, rooms}, 5 SOCKETS_LEAVE, 6 DISCONNECT_SOCKETS {opts, close},
// 7 FETCH_SOCKETS {opts, requestId}, 8 FETCH_SOCKETS_RESPONSE {requestId, sockets},
// 9 SERVER_SIDE_EMIT {packet, requestId?}, 10 SERVER_SIDE_EMIT_RESPONSE {requestId, packet},
// 11 BROADCAST_CLIENT_COUNT {requestId, clientCount}, 12 BROADCAST_ACK {requestId, packet};
// 1, 2 and 13 (heartbeats, close) belong to the heartbeat adapters and are ignored. JSON, except
// messages of types 3, 8, 9, 10 and 12 whose data holds binary (msgpack). The number of servers
// is PUBSUB SHARDNUMSUB of p#n#. This format has no ALL_ROOMS and no SOCKETS request.

import { hasBinary } from "../../socket/protocol/binary.js";
import type { ExpectedKind, Incoming, Outgoing, WireFormat } from "./format.js";
import { parsePayload } from "./classic.js";
import { encodeMsgpack } from "./msgpack.js";
import { isRecord, isString, readId, readPacket, readSelector, readSockets, type AdapterRequest, type AdapterResponse, type Decoded } from "./messages.js";

const T = {
  BROADCAST: 3,
  SOCKETS_JOIN: 4,
  SOCKETS_LEAVE: 5,
  DISCONNECT_SOCKETS: 6,
  FETCH_SOCKETS: 7,
  FETCH_SOCKETS_RESPONSE: 8,
  SERVER_SIDE_EMIT: 9,
  SERVER_SIDE_EMIT_RESPONSE: 10,
  BROADCAST_CLIENT_COUNT: 11,
  BROADCAST_ACK: 12,
} as const;

const MAY_CONTAIN_BINARY = new Set<number>([T.BROADCAST, T.BROADCAST_ACK, T.FETCH_SOCKETS_RESPONSE, T.SERVER_SIDE_EMIT, T.SERVER_SIDE_EMIT_RESPONSE]);

export type SubscriptionMode = "static" | "dynamic" | "dynamic-private";

/** socket.io's test for a room that is a socket id (its ids are 20 characters). */
const looksLikeASocketId = (room: string): boolean => room.length === 20;

function encode(message: { uid: string; nsp: string; type: number; data: Record<string, unknown> }): Buffer | string {
  return MAY_CONTAIN_BINARY.has(message.type) && hasBinary(message.data) ? encodeMsgpack(message) : JSON.stringify(message);
}

export class ShardedFormat implements WireFormat {
  readonly sharded = true;
  readonly patterns: string[] = [];

  constructor(
    private readonly prefix: string,
    private readonly mode: SubscriptionMode,
  ) {}

  private channel(nsp: string): string {
    return `${this.prefix}#${nsp}#`;
  }

  namespaceChannels(nsp: string, uid: string): string[] {
    return [this.channel(nsp), `${this.channel(nsp)}${uid}#`];
  }

  serverCountChannel(nsp: string): string {
    return this.channel(nsp);
  }

  roomChannel(nsp: string, room: string, isSid: boolean): string | null {
    const separate = this.mode === "dynamic-private" || (this.mode === "dynamic" && (!isSid || !looksLikeASocketId(room)));
    return separate ? `${this.channel(nsp)}${room}#` : null;
  }

  encodeRequest(r: AdapterRequest): Outgoing {
    const main = this.channel(r.nsp);
    const msg = (type: number, data: Record<string, unknown>): Outgoing => ({ channel: main, payload: encode({ uid: r.uid, nsp: r.nsp, type, data }) });
    switch (r.kind) {
      case "broadcast": {
        const opts = { rooms: r.opts.rooms, except: r.opts.except, flags: r.flags ?? {} };
        const data: Record<string, unknown> = { packet: { type: r.packet.type, data: r.packet.data, nsp: r.nsp }, opts };
        if (r.requestId !== undefined) {
          data.requestId = r.requestId;
          return msg(T.BROADCAST, data);
        }
        // As socket.io's computeChannel: one room, no acknowledgements, and a mode that gives the room its channel.
        const room = r.opts.rooms.length === 1 ? r.opts.rooms[0]! : null;
        const dynamic = room !== null && (this.mode === "dynamic-private" || (this.mode === "dynamic" && !looksLikeASocketId(room)));
        const out = msg(T.BROADCAST, data);
        return dynamic ? { ...out, channel: `${main}${room}#` } : out;
      }
      case "sockets_join":
      case "sockets_leave":
        return msg(r.kind === "sockets_join" ? T.SOCKETS_JOIN : T.SOCKETS_LEAVE, { opts: { ...r.opts, flags: {} }, rooms: r.rooms });
      case "disconnect_sockets":
        return msg(T.DISCONNECT_SOCKETS, { opts: { ...r.opts, flags: {} }, close: r.close });
      case "fetch_sockets":
        return msg(T.FETCH_SOCKETS, { opts: { ...r.opts, flags: {} }, requestId: r.requestId });
      case "server_side_emit":
        return msg(T.SERVER_SIDE_EMIT, { packet: r.data, ...(r.requestId !== undefined ? { requestId: r.requestId } : {}) });
      case "remote_join":
      case "remote_leave":
        return msg(r.kind === "remote_join" ? T.SOCKETS_JOIN : T.SOCKETS_LEAVE, { opts: { rooms: [r.sid], except: [], flags: {} }, rooms: [r.room] });
      case "remote_disconnect":
        return msg(T.DISCONNECT_SOCKETS, { opts: { rooms: [r.sid], except: [], flags: {} }, close: r.close });
      case "socket_ids":
      case "all_rooms":
        throw new Error(`the sharded format has no ${r.kind} request`);
    }
  }

  encodeResponse(request: { uid: string; nsp: string }, uid: string, r: AdapterResponse): Outgoing {
    const channel = `${this.channel(request.nsp)}${request.uid}#`;
    const msg = (type: number, data: Record<string, unknown>): Outgoing => ({ channel, payload: encode({ uid, nsp: request.nsp, type, data }) });
    switch (r.kind) {
      case "client_count":
        return msg(T.BROADCAST_CLIENT_COUNT, { requestId: r.requestId, clientCount: r.clientCount });
      case "broadcast_ack":
        return msg(T.BROADCAST_ACK, { requestId: r.requestId, packet: r.packet });
      case "fetch_sockets":
        return msg(T.FETCH_SOCKETS_RESPONSE, { requestId: r.requestId, sockets: r.sockets });
      case "server_side_emit":
        return msg(T.SERVER_SIDE_EMIT_RESPONSE, { requestId: r.requestId, packet: r.data });
      case "socket_ids":
      case "all_rooms":
      case "done":
        throw new Error(`the sharded format has no ${r.kind} response`);
    }
  }

  decode(channel: string, payload: Buffer, expected: ExpectedKind): Decoded<Incoming> {
    const parsed = parsePayload(payload);
    if (!parsed.ok) return parsed;
    const m = parsed.value;
    if (!isRecord(m) || !isString(m.uid) || !isString(m.nsp) || typeof m.type !== "number") return { ok: false, message: "malformed message (uid, nsp, type)" };
    const { uid, nsp } = m;
    const data = isRecord(m.data) ? m.data : {};
    const bad = (what: string): Decoded<Incoming> => ({ ok: false, message: `malformed ${what} message` });
    const request = (r: AdapterRequest): Decoded<Incoming> => ({ ok: true, value: { type: "request", request: r } });
    const requestId = data.requestId === undefined ? undefined : readId(data.requestId);
    if (requestId === null) return bad("requestId of a");
    switch (m.type) {
      case T.BROADCAST: {
        const packet = readPacket(data.packet, nsp);
        const opts = readSelector(data.opts ?? {});
        if (packet === null || opts === null) return bad("BROADCAST");
        const flags = isRecord(data.opts) && isRecord(data.opts.flags) ? data.opts.flags : {};
        return request({ kind: "broadcast", uid, nsp, packet: { ...packet, nsp }, opts, flags, ...(requestId !== undefined ? { requestId } : {}) });
      }
      case T.SOCKETS_JOIN:
      case T.SOCKETS_LEAVE: {
        const opts = readSelector(data.opts ?? {});
        const rooms = readSelector({ rooms: data.rooms })?.rooms;
        if (opts === null || rooms === undefined) return bad("SOCKETS_JOIN/LEAVE");
        return request({ kind: m.type === T.SOCKETS_JOIN ? "sockets_join" : "sockets_leave", uid, nsp, opts, rooms });
      }
      case T.DISCONNECT_SOCKETS: {
        const opts = readSelector(data.opts ?? {});
        if (opts === null) return bad("DISCONNECT_SOCKETS");
        return request({ kind: "disconnect_sockets", uid, nsp, opts, close: data.close === true });
      }
      case T.FETCH_SOCKETS: {
        const opts = readSelector(data.opts ?? {});
        if (opts === null || requestId === undefined) return bad("FETCH_SOCKETS");
        return request({ kind: "fetch_sockets", uid, nsp, requestId, opts });
      }
      case T.SERVER_SIDE_EMIT: {
        if (!Array.isArray(data.packet) || data.packet.length === 0) return bad("SERVER_SIDE_EMIT");
        return request({ kind: "server_side_emit", uid, nsp, data: data.packet, ...(requestId !== undefined ? { requestId } : {}) });
      }
      case T.FETCH_SOCKETS_RESPONSE:
      case T.SERVER_SIDE_EMIT_RESPONSE:
      case T.BROADCAST_CLIENT_COUNT:
      case T.BROADCAST_ACK: {
        if (requestId === undefined) return bad("response");
        if (expected(requestId) === undefined) return { ok: true, value: { type: "ignore", reason: "response to another server" } };
        const response = (r: AdapterResponse): Decoded<Incoming> => ({ ok: true, value: { type: "response", response: r } });
        if (m.type === T.FETCH_SOCKETS_RESPONSE) {
          const sockets = readSockets(data.sockets);
          return sockets === null ? bad("FETCH_SOCKETS_RESPONSE") : response({ kind: "fetch_sockets", requestId, uid, sockets });
        }
        if (m.type === T.SERVER_SIDE_EMIT_RESPONSE) return response({ kind: "server_side_emit", requestId, uid, data: data.packet });
        if (m.type === T.BROADCAST_ACK) return response({ kind: "broadcast_ack", requestId, uid, packet: data.packet });
        return typeof data.clientCount === "number" ? response({ kind: "client_count", requestId, uid, clientCount: data.clientCount }) : bad("BROADCAST_CLIENT_COUNT");
      }
      default:
        return { ok: true, value: { type: "ignore", reason: `message type ${m.type} on ${channel}` } };
    }
  }
}
