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
 * Cycles are tolerated (a revisited ancestor counts as "no binary"). Iterative (an explicit
 * stack), so nesting of every depth is walked without growing the call stack.
 */
export function hasBinary(value: unknown): boolean {
  const ancestors = new Set<object>();
  // Pending work, popped last-in first-out: a value to visit (directly, or as a toJSON result), or
  // the end of an ancestor's subtree.
  const values: unknown[] = [value];
  const steps: number[] = [VISIT];
  while (values.length > 0) {
    const current = values.pop();
    const step = steps.pop()!;
    if (step === LEAVE) {
      ancestors.delete(current as object);
      continue;
    }
    if (typeof current !== "object" || current === null) continue;
    if (isBinary(current)) return true;
    if (ancestors.has(current)) continue;
    ancestors.add(current);
    values.push(current);
    steps.push(LEAVE);
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) {
        values.push(current[i]);
        steps.push(VISIT);
      }
      continue;
    }
    const toJSON = step === VISIT_TOJSON_RESULT ? undefined : getToJSON(current);
    if (toJSON !== undefined) {
      values.push(toJSON.call(current));
      steps.push(VISIT_TOJSON_RESULT);
      continue;
    }
    const record = current as Record<string, unknown>;
    const keys = Object.keys(record);
    for (let k = keys.length - 1; k >= 0; k--) {
      values.push(record[keys[k]!]);
      steps.push(VISIT);
    }
  }
  return false;
}

const VISIT = 0;
const VISIT_TOJSON_RESULT = 1;
const LEAVE = 2;

/**
 * How deeply `value` nests arrays and objects: a primitive is 0, `[]` is 1, `[[1]]` is 2. Answers
 * only whether that exceeds `maxDepth`, and stops as soon as it does. Iterative. `custom`: the
 * value comes from a custom JSON codec, so it may share or cycle through objects (each is visited
 * once) and hold binary values (leaves); JSON.parse's output is a tree of plain data.
 */
export function exceedsDepth(value: unknown, maxDepth: number, custom = false): boolean {
  if (typeof value !== "object" || value === null || (custom && isBinary(value))) return false;
  if (maxDepth < 1) return true;
  const seen = custom ? new Set<object>([value]) : null;
  const nodes: object[] = [value];
  const depths: number[] = [1];
  // Whether `item` must be walked: a container not seen before (false for a primitive or a binary).
  const container = (item: unknown): item is object => {
    if (typeof item !== "object" || item === null) return false;
    if (seen === null) return true;
    if (seen.has(item) || isBinary(item)) return false;
    seen.add(item);
    return true;
  };
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    const childDepth = depths.pop()! + 1;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const item: unknown = node[i];
        if (!container(item)) continue;
        if (childDepth > maxDepth) return true;
        nodes.push(item);
        depths.push(childDepth);
      }
    } else {
      const record = node as Record<string, unknown>;
      for (const key in record) {
        const item = record[key];
        if (!container(item)) continue;
        if (childDepth > maxDepth) return true;
        nodes.push(item);
        depths.push(childDepth);
      }
    }
  }
  return false;
}

export type DeconstructResult = { ok: true; data: unknown; buffers: Uint8Array[] } | { ok: false; message: string };

/** What one deconstruct call shares across its walk. */
interface Walk {
  readonly buffers: Uint8Array[];
  /** The containers on the path from the root to the value being walked (cycle detection). */
  readonly ancestors: Set<object>;
  readonly maxDepth: number;
  tooDeep: boolean;
}

/**
 * Levels walked by plain recursion, the fast path for real data; a subtree below them is walked
 * with an explicit stack, so the call stack never holds more than this many deconstruct frames.
 */
const RECURSION_LEVELS = 32;

/**
 * Replaces every binary in `data` with a placeholder, numbering them depth-first in the order
 * JSON.stringify visits them (array index order, then Object.keys order), and collects their bytes.
 * Subtrees without binary are returned as the very same objects (no copies), so a custom
 * serializer still sees class instances, Dates, etc. Only containers on a path to a binary are
 * shallow-copied; the caller's data is never mutated.
 *
 * Nesting of any depth is walked without growing the call stack beyond RECURSION_LEVELS frames;
 * data nested more than `maxDepth` arrays/objects deep (counted as JSON.stringify would meet them,
 * a toJSON result in its object's place) is refused as a value. Errors thrown by a toJSON method
 * propagate.
 */
export function deconstruct(data: unknown, maxDepth = Number.POSITIVE_INFINITY): DeconstructResult {
  const walk: Walk = { buffers: [], ancestors: new Set(), maxDepth, tooDeep: false };
  const out = deconstructValue(data, false, 0, walk);
  if (walk.tooDeep) return { ok: false, message: `data nested deeper than ${maxDepth} arrays/objects` };
  return { ok: true, data: out, buffers: walk.buffers };
}

function placeholderFor(value: ArrayBuffer | ArrayBufferView, walk: Walk): Placeholder {
  const placeholder: Placeholder = { _placeholder: true, num: walk.buffers.length };
  walk.buffers.push(toBytes(value));
  return placeholder;
}

/** `value`, found inside `level` containers, with its binaries replaced. Recursive down to RECURSION_LEVELS. */
function deconstructValue(value: unknown, viaToJSON: boolean, level: number, walk: Walk): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (isBinary(value)) return placeholderFor(value, walk);
  // A cycle is left in place: the JSON codec will report it, which is the right error.
  const ancestors = walk.ancestors;
  if (ancestors.has(value)) return value;
  if (level >= RECURSION_LEVELS) return deconstructDeep(value, viaToJSON, level, walk);
  const isArray = Array.isArray(value);
  const toJSON = isArray || viaToJSON ? undefined : getToJSON(value);
  if (toJSON === undefined && level + 1 > walk.maxDepth) {
    walk.tooDeep = true;
    return value;
  }
  ancestors.add(value);
  try {
    if (isArray) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        const next = deconstructValue(item, false, level + 1, walk);
        if (walk.tooDeep) return value;
        if (copy === undefined && next !== item) copy = value.slice(0, i);
        if (copy !== undefined) copy[i] = next;
      }
      return copy ?? value;
    }
    if (toJSON !== undefined) {
      const replaced = toJSON.call(value);
      // In its object's place: the same level.
      const next = deconstructValue(replaced, true, level, walk);
      // No binary inside: keep the original so the serializer applies toJSON itself.
      return next === replaced ? value : next;
    }
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    let copy: object | undefined;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      const item = record[key];
      const next = deconstructValue(item, false, level + 1, walk);
      if (walk.tooDeep) return value;
      if (copy === undefined && next !== item) {
        copy = {};
        for (let j = 0; j < k; j++) defineValue(copy, keys[j]!, record[keys[j]!]);
      }
      if (copy !== undefined) defineValue(copy, key, next);
    }
    return copy ?? value;
  } finally {
    ancestors.delete(value);
  }
}

const ARRAY = 0;
const RECORD = 1;
const TOJSON = 2;

/** One container being walked by deconstructDeep, and the shallow copy made once a binary is found inside. */
interface Frame {
  kind: typeof ARRAY | typeof RECORD | typeof TOJSON;
  /** The array or record walked, or (TOJSON) the object whose toJSON result stands in for it. */
  source: object;
  /** How many containers hold this one (its own depth is one more, except for TOJSON: none of its own). */
  level: number;
  /** RECORD: its own enumerable keys, in JSON.stringify's order. */
  keys: string[] | null;
  /** TOJSON: the toJSON result; after the walk, what it became. */
  replaced: unknown;
  result: unknown;
  /** The next child to walk; the child being walked is `index` until its result is accepted. */
  index: number;
  /** The child being walked (read once, so that a getter runs once). */
  child: unknown;
  copy: unknown[] | object | undefined;
}

/** Marks "the value's frame was pushed; its result comes when the frame completes". */
const PENDING: unique symbol = Symbol("pending");

/**
 * deconstructValue for a subtree below RECURSION_LEVELS: the same walk, with an explicit stack
 * of frames instead of the call stack. `value` is a container not yet among the ancestors.
 */
function deconstructDeep(value: object, viaToJSON: boolean, level: number, walk: Walk): unknown {
  const { ancestors, maxDepth } = walk;
  const stack: Frame[] = [];

  // The final value of `item`, found inside `at` containers; or PENDING after pushing its frame.
  const enter = (item: unknown, viaToJSONResult: boolean, at: number): unknown => {
    if (typeof item !== "object" || item === null) return item;
    if (isBinary(item)) return placeholderFor(item, walk);
    if (ancestors.has(item)) return item;
    let frame: Frame;
    if (Array.isArray(item)) {
      frame = { kind: ARRAY, source: item, level: at, keys: null, replaced: undefined, result: undefined, index: 0, child: undefined, copy: undefined };
    } else {
      const toJSON = viaToJSONResult ? undefined : getToJSON(item);
      if (toJSON !== undefined) {
        frame = { kind: TOJSON, source: item, level: at, keys: null, replaced: toJSON.call(item), result: undefined, index: 0, child: undefined, copy: undefined };
      } else {
        frame = { kind: RECORD, source: item, level: at, keys: Object.keys(item), replaced: undefined, result: undefined, index: 0, child: undefined, copy: undefined };
      }
    }
    if (frame.kind !== TOJSON && at + 1 > maxDepth) {
      walk.tooDeep = true;
      return item;
    }
    ancestors.add(item);
    stack.push(frame);
    return PENDING;
  };

  // The child at frame.index became `next`: keep it (copying the container on the first change).
  const accept = (frame: Frame, next: unknown): void => {
    const i = frame.index++;
    const item = frame.child;
    frame.child = undefined;
    if (frame.kind === TOJSON) {
      frame.result = next;
      return;
    }
    if (frame.kind === ARRAY) {
      if (frame.copy === undefined && next !== item) frame.copy = (frame.source as unknown[]).slice(0, i);
      if (frame.copy !== undefined) (frame.copy as unknown[])[i] = next;
      return;
    }
    const keys = frame.keys!;
    if (frame.copy === undefined && next !== item) {
      const copy = {};
      const record = frame.source as Record<string, unknown>;
      for (let j = 0; j < i; j++) defineValue(copy, keys[j]!, record[keys[j]!]);
      frame.copy = copy;
    }
    if (frame.copy !== undefined) defineValue(frame.copy, keys[i]!, next);
  };

  // Leaves the ancestors as found, whatever happens (a toJSON may throw).
  const unwind = () => {
    for (const frame of stack) ancestors.delete(frame.source);
  };
  try {
    const root = enter(value, viaToJSON, level);
    if (root !== PENDING) return root;
    for (;;) {
      const frame = stack[stack.length - 1]!;
      let more: boolean;
      let child: unknown;
      if (frame.kind === ARRAY) {
        const array = frame.source as unknown[];
        more = frame.index < array.length;
        if (more) child = array[frame.index];
      } else if (frame.kind === RECORD) {
        const keys = frame.keys!;
        more = frame.index < keys.length;
        if (more) child = (frame.source as Record<string, unknown>)[keys[frame.index]!];
      } else {
        more = frame.index === 0;
        if (more) child = frame.replaced;
      }
      if (more) {
        frame.child = child;
        const next = enter(child, frame.kind === TOJSON, frame.kind === TOJSON ? frame.level : frame.level + 1);
        if (walk.tooDeep) return value;
        if (next !== PENDING) accept(frame, next);
        continue;
      }
      // Every child walked: the container's own result.
      stack.pop();
      ancestors.delete(frame.source);
      let result: unknown;
      if (frame.kind === TOJSON) {
        // No binary inside: keep the original so the serializer applies toJSON itself.
        result = frame.result === frame.replaced ? frame.source : frame.result;
      } else {
        result = frame.copy ?? frame.source;
      }
      if (stack.length === 0) return result;
      accept(stack[stack.length - 1]!, result);
    }
  } finally {
    unwind();
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
