// python-socketio's message-queue format (src/manager/python-format.ts): a pickle or JSON dict
// turned into a cluster operation. Documented behaviour: `{ ok: false, message }` for anything
// that is not one of python-socketio's messages; never throws. A success is a well-formed
// cluster message (the fields the manager reads have their types). Inputs are tried as they are,
// as JSON (behind "{") and as a protocol-2 pickle.

import { decodePythonMessage, isPythonMessage } from "../../src/manager/python-format.js";
import type { ClusterMessage } from "../../src/manager/pubsub/envelope.js";
import { check, target } from "./harness.js";

const isString = (v: unknown): boolean => typeof v === "string";
const isStringList = (v: unknown): boolean => Array.isArray(v) && v.every(isString);

function wellFormed(m: ClusterMessage): boolean {
  if (!isString(m.host)) return false;
  switch (m.type) {
    case "emit":
      return isString(m.namespace) && isString(m.event) && Array.isArray(m.args) && (m.rooms === null || isStringList(m.rooms)) && isStringList(m.skip);
    case "enter_room":
    case "leave_room":
      return isString(m.namespace) && isString(m.sid) && isString(m.room);
    case "close_room":
      return isString(m.namespace) && isString(m.room);
    case "disconnect":
      return isString(m.namespace) && isString(m.sid);
    case "callback":
      return isString(m.to) && isString(m.request) && Array.isArray(m.args);
    default:
      // Queries and membership messages are sockjet's own: python-socketio's format has none.
      return false;
  }
}

export function fuzzPythonMessage(input: Buffer): void {
  const variants = [input, Buffer.concat([Buffer.from("{"), input]), Buffer.concat([Buffer.from([0x80, 0x02]), input])];
  for (const payload of variants) {
    check(typeof isPythonMessage(payload) === "boolean", "isPythonMessage is a boolean");
    const decoded = decodePythonMessage(payload);
    if (!decoded.ok) {
      check(typeof decoded.message === "string", "a refusal carries a message");
      continue;
    }
    check(wellFormed(decoded.message), `malformed operation: ${decoded.message.type}`);
  }
}

export const fuzz = target(fuzzPythonMessage);
