/**
 * Binary attachment handling for Socket.IO protocol v5 (BINARY_EVENT / BINARY_ACK).
 *
 * Spec (socket.io-protocol v5, "Packet encoding"): every binary value in the payload is
 * replaced by `{"_placeholder":true,"num":<index>}` and the binary itself is sent as its
 * own Engine.IO binary message right after the text packet, in `num` order.
 *
 * Pure code: no `node:*` imports and no `Buffer`, so it also runs outside Node.
 */

/** A placeholder as it appears in the JSON payload. Key order matches the wire format. */
export interface Placeholder {
  _placeholder: true;
  num: number;
}

/** Binary values we recognise: ArrayBuffer and every ArrayBuffer view (Buffer, typed arrays, DataView). */
export function isBinary(value: unknown): value is ArrayBuffer | ArrayBufferView {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/**
 * The exact bytes of a binary value as a Uint8Array. A Uint8Array (including a Node Buffer)
 * is returned as is — no copy; other views are re-viewed over the same memory, honouring
 * byteOffset/byteLength (a pooled Buffer or a subarray must not leak neighbouring bytes).
 */
export function toBytes(value: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return new Uint8Array(value);
}

/** Reads an optional `toJSON` method without assuming the object's shape. */
function getToJSON(value: object): ((this: unknown) => unknown) | undefined {
  const candidate: unknown = (value as { toJSON?: unknown }).toJSON;
  return typeof candidate === "function" ? (candidate as (this: unknown) => unknown) : undefined;
}

/** Defines an own enumerable data property; plain assignment of "__proto__" would change the prototype instead. */
function defineValue(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * True when `value` contains binary anywhere in nested arrays/objects.
 * Like socket.io-parser's is-binary.ts, an object's `toJSON()` result is inspected instead of
 * the object itself (what JSON.stringify would serialise), but not the result's own toJSON.
 * Cycles are tolerated (a revisited ancestor counts as "no binary") so this never overflows.
 */
export function hasBinary(value: unknown): boolean {
  return hasBinaryInner(value, false, new Set());
}

function hasBinaryInner(value: unknown, viaToJSON: boolean, ancestors: Set<object>): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (isBinary(value)) return true;
  if (ancestors.has(value)) return false;
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (hasBinaryInner(value[i], false, ancestors)) return true;
      }
      return false;
    }
    const toJSON = viaToJSON ? undefined : getToJSON(value);
    if (toJSON !== undefined) return hasBinaryInner(toJSON.call(value), true, ancestors);
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (hasBinaryInner(record[key], false, ancestors)) return true;
    }
    return false;
  } finally {
    ancestors.delete(value);
  }
}

/**
 * Replaces every binary in `data` with a placeholder, numbering them depth-first in the order
 * JSON.stringify visits them (array index order, then Object.keys order), and collects their bytes.
 * Subtrees without binary are returned as the very same objects (no copies), so a custom
 * serializer still sees class instances, Dates, etc. Only containers on a path to a binary are
 * shallow-copied; the caller's data is never mutated.
 */
export function deconstruct(data: unknown): { data: unknown; buffers: Uint8Array[] } {
  const buffers: Uint8Array[] = [];
  const out = deconstructInner(data, buffers, false, new Set());
  return { data: out, buffers };
}

function deconstructInner(value: unknown, buffers: Uint8Array[], viaToJSON: boolean, ancestors: Set<object>): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (isBinary(value)) {
    const placeholder: Placeholder = { _placeholder: true, num: buffers.length };
    buffers.push(toBytes(value));
    return placeholder;
  }
  // A cycle is left in place: the JSON codec will report it, which is the right error.
  if (ancestors.has(value)) return value;
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        const next = deconstructInner(item, buffers, false, ancestors);
        if (copy === undefined && next !== item) copy = value.slice(0, i);
        if (copy !== undefined) copy[i] = next;
      }
      return copy ?? value;
    }
    const toJSON = viaToJSON ? undefined : getToJSON(value);
    if (toJSON !== undefined) {
      const replaced = toJSON.call(value);
      const next = deconstructInner(replaced, buffers, true, ancestors);
      // No binary inside: keep the original so the serializer applies toJSON itself.
      return next === replaced ? value : next;
    }
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    let copy: object | undefined;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      const item = record[key];
      const next = deconstructInner(item, buffers, false, ancestors);
      if (copy === undefined && next !== item) {
        copy = {};
        for (let j = 0; j < k; j++) defineValue(copy, keys[j], record[keys[j]]);
      }
      if (copy !== undefined) defineValue(copy, key, next);
    }
    return copy ?? value;
  } finally {
    ancestors.delete(value);
  }
}

/** Where one placeholder sits: `holder[key]` is replaced by attachment number `num` (= slot index). */
export interface PlaceholderSlot {
  holder: object;
  key: string;
}

export type PlaceholderScan = { ok: true; slots: PlaceholderSlot[] } | { ok: false; message: string };

function isPlaceholderObject(value: object): boolean {
  return !Array.isArray(value) && Object.hasOwn(value, "_placeholder") && (value as { _placeholder?: unknown })._placeholder === true;
}

/**
 * Locates the placeholders inside `root[rootKey]` and checks them against the announced
 * attachment count, before any attachment arrives (so a bad packet fails on its text part
 * instead of after buffering binaries).
 *
 * Rules: `num` must be an integer in [0, count) and every attachment must be referenced exactly
 * once. socket.io-parser (binary.ts `_reconstructPacket`) only checks `typeof num === "number"
 * && 0 <= num < buffers.length` at reconstruction time and ignores unreferenced buffers; we are
 * stricter because every conforming encoder emits exactly one placeholder per attachment.
 *
 * Iterative walk (explicit stack): the JSON may be nested arbitrarily deep, and recursion would
 * throw RangeError. A visited set guards against cycles/shared nodes a custom codec might create.
 */
export function findPlaceholders(root: object, rootKey: string, count: number): PlaceholderScan {
  const slots: Array<PlaceholderSlot | undefined> = new Array<PlaceholderSlot | undefined>(count).fill(undefined);
  let found = 0;
  const visited = new Set<object>();
  const stack: object[] = [];

  // Returns an error message, or undefined when the child is fine.
  const visit = (holder: object, key: string, child: unknown): string | undefined => {
    if (typeof child !== "object" || child === null) return undefined;
    if (!isPlaceholderObject(child)) {
      if (!visited.has(child)) {
        visited.add(child);
        stack.push(child);
      }
      return undefined;
    }
    const num: unknown = (child as { num?: unknown }).num;
    if (typeof num !== "number" || !Number.isInteger(num) || num < 0 || num >= count) {
      return `placeholder num ${String(num)} is not an integer in [0, ${count})`;
    }
    if (slots[num] !== undefined) return `placeholder num ${num} is used more than once`;
    slots[num] = { holder, key };
    found++;
    return undefined;
  };

  const rootError = visit(root, rootKey, (root as Record<string, unknown>)[rootKey]);
  if (rootError !== undefined) return { ok: false, message: rootError };
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const error = visit(node, String(i), node[i]);
        if (error !== undefined) return { ok: false, message: error };
      }
    } else {
      const record = node as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        const error = visit(node, key, record[key]);
        if (error !== undefined) return { ok: false, message: error };
      }
    }
  }
  if (found !== count) {
    return { ok: false, message: `packet announces ${count} attachment(s) but references ${found}` };
  }
  return { ok: true, slots: slots as PlaceholderSlot[] };
}

/**
 * Puts attachment i where placeholder num=i was. Uses defineProperty so a placeholder under a
 * `"__proto__"` key (an own data property created by JSON.parse) is replaced as data, never via
 * the Object.prototype.__proto__ setter (which would swap the holder's prototype).
 */
export function fillPlaceholders(slots: readonly PlaceholderSlot[], attachments: readonly Uint8Array[]): void {
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i];
    defineValue(slot.holder, slot.key, attachments[i]);
  }
}
