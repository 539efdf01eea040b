// What servers on @socket.io/redis-adapter's channels say to each other, independent of the two
// wire formats (classic pub/sub: ./classic.ts; sharded pub/sub: ./sharded.ts). Every message
// names its sender (`uid`: the adapter's id, "emitter" for @socket.io/redis-emitter) and its
// namespace. Socket selection is socket.io's: the members of one of `rooms` (none: the whole
// namespace) minus the members of one of `except` (a socket id is a room of its own).

/** The event packet of a broadcast, as socket.io-parser's object (type 2 EVENT or 5 BINARY_EVENT; data [event, ...args]). */
export interface BroadcastPacket {
  type: number;
  data: unknown[];
  nsp: string;
}

export interface Selector {
  rooms: string[];
  except: string[];
}

/** One socket of a fetchSockets answer (socket.io's RemoteSocket details). */
export interface SocketDetails {
  id: string;
  handshake: Record<string, unknown>;
  rooms: string[];
  data: unknown;
}

export type AdapterRequest =
  /** An emit; with `requestId` the receivers count their recipients and send each client's acknowledgement back. */
  | { kind: "broadcast"; uid: string; nsp: string; packet: BroadcastPacket; opts: Selector; flags?: Record<string, unknown>; requestId?: string }
  | { kind: "sockets_join" | "sockets_leave"; uid: string; nsp: string; opts: Selector; rooms: string[] }
  | { kind: "disconnect_sockets"; uid: string; nsp: string; opts: Selector; close: boolean }
  /** Classic format's older single-socket form, answered with an empty response once done. */
  | { kind: "remote_join" | "remote_leave"; uid: string; nsp: string; requestId: string; sid: string; room: string }
  | { kind: "remote_disconnect"; uid: string; nsp: string; requestId: string; sid: string; close: boolean }
  | { kind: "fetch_sockets"; uid: string; nsp: string; requestId: string; opts: Selector }
  /** Classic only: the ids of the sockets in `rooms` (socket.io's adapter.sockets()). */
  | { kind: "socket_ids"; uid: string; nsp: string; requestId: string; rooms: string[] }
  /** Classic only. */
  | { kind: "all_rooms"; uid: string; nsp: string; requestId: string }
  /** `data` is [event, ...args]; with `requestId` each server answers once. */
  | { kind: "server_side_emit"; uid: string; nsp: string; data: unknown[]; requestId?: string };

export type AdapterResponse =
  | { kind: "client_count"; requestId: string; uid?: string; clientCount: number }
  | { kind: "broadcast_ack"; requestId: string; uid?: string; packet: unknown }
  | { kind: "fetch_sockets"; requestId: string; uid?: string; sockets: SocketDetails[] }
  | { kind: "socket_ids"; requestId: string; uid?: string; sockets: string[] }
  | { kind: "all_rooms"; requestId: string; uid?: string; rooms: string[] }
  | { kind: "server_side_emit"; requestId: string; uid?: string; data: unknown }
  /** The answer to a remote_join/remote_leave/remote_disconnect. */
  | { kind: "done"; requestId: string; uid?: string };

export type Decoded<T> = { ok: true; value: T } | { ok: false; message: string };

export const isString = (v: unknown): v is string => typeof v === "string";
export const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** The `opts` of a message: rooms and except lists (absent lists are empty, as socket.io's `new Set(undefined)`). */
export function readSelector(v: unknown): Selector | null {
  if (!isRecord(v)) return null;
  const rooms = v.rooms ?? [];
  const except = v.except ?? [];
  // socket.io accepts numeric rooms too; they travel as numbers and mean the room of that name.
  const list = (x: unknown): string[] | null => (Array.isArray(x) && x.every((r) => isString(r) || typeof r === "number") ? x.map(String) : null);
  const r = list(rooms);
  const e = list(except);
  return r === null || e === null ? null : { rooms: r, except: e };
}

/** A packet as a broadcast carries it: an event with a name. */
export function readPacket(v: unknown, nsp?: string): BroadcastPacket | null {
  if (!isRecord(v)) return null;
  const { type, data } = v;
  if (typeof type !== "number" || !Array.isArray(data)) return null;
  const packetNsp = v.nsp === undefined ? (nsp ?? "/") : v.nsp;
  if (!isString(packetNsp)) return null;
  return { type, data, nsp: packetNsp };
}

/** The request id of a message: socket.io's are strings; a number is read as its decimal string. */
export function readId(v: unknown): string | null {
  if (isString(v)) return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return null;
}

export function readSockets(v: unknown): SocketDetails[] | null {
  if (!Array.isArray(v)) return null;
  const out: SocketDetails[] = [];
  for (const s of v) {
    if (!isRecord(s) || !isString(s.id)) return null;
    out.push({ id: s.id, handshake: isRecord(s.handshake) ? s.handshake : {}, rooms: isStringList(s.rooms) ? s.rooms : [], data: s.data });
  }
  return out;
}
