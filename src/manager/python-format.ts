// python-socketio's message-queue format, as its PubSubManager publishes it (socketio/
// pubsub_manager.py; RedisManager and KombuManager send `pickle.dumps(message)`; releases after
// python-socketio's 2025 switch away from pickle send JSON; its listener accepts both). A message
// is a dict:
//
//   {'method': 'emit', 'event', 'data', 'namespace', 'room', 'skip_sid', 'callback', 'host_id'}
//   {'method': 'disconnect', 'sid', 'namespace'[, 'host_id']}
//   {'method': 'close_room', 'room', 'namespace'[, 'host_id']}
//   {'method': 'enter_room' | 'leave_room', 'sid', 'room', 'namespace', 'host_id'}   (newer releases)
//   {'method': 'callback', 'host_id', 'sid', 'namespace', 'id', 'args'}
//
// `room` and `skip_sid` are a string, a list of strings or None (None room: everyone in the
// namespace). `data` follows python-socketio's Server._emit_internal: a tuple is several
// arguments, None is no argument, anything else is one argument. `callback` is
// `(room, namespace, id)` when the publishing Python server wants the acknowledgement back; the
// reply is the `callback` message above, addressed to that server's host_id.
//
// Pickles are decoded by the restricted decoder in pickle.ts (plain data only, nothing executed).

import { decodePickle } from "./pickle.js";
import { hasBinary } from "../socket/protocol/binary.js";
import type { ClusterMessage, DecodedMessage, PythonCallbackRoute } from "./pubsub/envelope.js";

/** The host id given to python messages that carry none (older python-socketio releases send disconnect and close_room without one). */
export const PYTHON_HOST = "python-socketio";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** A pickle (protocol 2+ starts with PROTO 0x80; protocol 0/1 dicts start with "(" or "}") or a JSON object. */
export function isPythonMessage(payload: Uint8Array): boolean {
  const first = payload[0];
  return first === 0x80 || first === 0x7b || first === 0x28 || first === 0x7d;
}

function stringOrList(value: unknown, what: string): string[] | null | Error {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((v): v is string => typeof v === "string")) return value;
  return new Error(`${what} must be a string, a list of strings or None`);
}

/** Decodes a python-socketio message into the cluster's operations. Never throws. */
export function decodePythonMessage(payload: Uint8Array): DecodedMessage {
  let dict: unknown;
  let tuples: ReadonlySet<unknown[]> = new Set();
  if (payload[0] === 0x7b) {
    try {
      dict = JSON.parse(utf8.decode(payload));
    } catch (err) {
      return { ok: false, message: `malformed python-socketio JSON message: ${err instanceof Error ? err.message : String(err)}` };
    }
  } else {
    const result = decodePickle(payload);
    if (!result.ok) return { ok: false, message: `refused python-socketio pickle: ${result.message}` };
    dict = result.value;
    tuples = result.tuples;
  }
  if (typeof dict !== "object" || dict === null || Array.isArray(dict) || dict instanceof Uint8Array) {
    return { ok: false, message: "python-socketio message is not a dict" };
  }
  const m = dict as Record<string, unknown>;
  const host = typeof m.host_id === "string" ? m.host_id : PYTHON_HOST;
  const namespace = m.namespace === undefined || m.namespace === null ? "/" : m.namespace;
  if (typeof namespace !== "string") return { ok: false, message: "namespace must be a string" };

  switch (m.method) {
    case "emit": {
      if (typeof m.event !== "string") return { ok: false, message: "emit without an event name" };
      const rooms = stringOrList(m.room, "room");
      if (rooms instanceof Error) return { ok: false, message: rooms.message };
      const skip = stringOrList(m.skip_sid, "skip_sid");
      if (skip instanceof Error) return { ok: false, message: skip.message };
      const data = m.data;
      const args = data === null || data === undefined ? [] : Array.isArray(data) && tuples.has(data) ? [...data] : [data];
      const message: ClusterMessage = { type: "emit", host, namespace, event: m.event, args, rooms, skip: skip ?? [] };
      const callback = m.callback;
      if (Array.isArray(callback) && callback.length === 3 && typeof callback[0] === "string" && typeof callback[1] === "string") {
        message.python = { host, sid: callback[0], namespace: callback[1], id: callback[2] };
      }
      return { ok: true, message };
    }
    case "disconnect":
      if (typeof m.sid !== "string") return { ok: false, message: "disconnect without a sid" };
      return { ok: true, message: { type: "disconnect", host, namespace, sid: m.sid } };
    case "close_room":
      if (typeof m.room !== "string") return { ok: false, message: "close_room without a room" };
      return { ok: true, message: { type: "close_room", host, namespace, room: m.room } };
    case "enter_room":
    case "leave_room":
      if (typeof m.sid !== "string" || typeof m.room !== "string") return { ok: false, message: `${m.method} needs a sid and a room` };
      return { ok: true, message: { type: m.method, host, namespace, sid: m.sid, room: m.room } };
    case "callback":
      // Acknowledgements for a Python server's own emits: addressed to it, never to sockjet.
      return { ok: true, message: { type: "callback", host: PYTHON_HOST, to: host, request: `python:${String(m.id)}`, args: [] } };
    default:
      return { ok: false, message: `unknown python-socketio method ${JSON.stringify(m.method)}` };
  }
}

/**
 * The acknowledgement of a Python server's emit, in python-socketio's format (JSON, which every
 * python-socketio 5.x listener accepts). Throws when the arguments hold binary: JSON cannot carry it.
 */
export function encodePythonCallback(route: PythonCallbackRoute, args: readonly unknown[]): Uint8Array {
  if (hasBinary(args)) throw new Error("binary acknowledgement arguments cannot be sent to a python-socketio server (JSON format)");
  return encoder.encode(
    JSON.stringify({ method: "callback", host_id: route.host, sid: route.sid, namespace: route.namespace, id: route.id, args }),
  );
}
