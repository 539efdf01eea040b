// The restricted pickle decoder (src/manager/pickle.ts): python-socketio's messages on a broker
// channel, and anything else that reaches it. Documented behaviour: `{ ok: false, message }` for
// whatever is outside the plain-data subset, truncated or unbalanced; never throws. On success
// the value holds only plain data (null, booleans, numbers, strings, Uint8Array, arrays and
// plain objects) and, with shared references expanded, stays within the decoder's budget (16
// times the input, at least 1 Mi): no cycle, no exponential tree. Inputs are decoded as they are
// and behind a protocol-2 header, so the fuzzer need not find that prefix itself.

import { decodePickle } from "../../src/manager/pickle.js";
import { check, target } from "./harness.js";

/** Walks the value as a tree, checking each node's type; false once it exceeds `budget` (the decoder's own count). */
export function plainWithin(root: unknown, budget: number): boolean {
  let used = 1;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value === "boolean" || typeof value === "number") continue;
    if (typeof value === "string" || value instanceof Uint8Array) {
      used += value.length;
    } else if (Array.isArray(value)) {
      used += value.length;
      if (used > budget) return false;
      for (let i = 0; i < value.length; i++) stack.push(value[i]);
    } else {
      check(typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype, `not plain data: ${typeof value}`);
      for (const key of Object.keys(value)) {
        used += 1 + key.length;
        stack.push((value as Record<string, unknown>)[key]);
        if (used > budget) return false;
      }
    }
    if (used > budget) return false;
  }
  return true;
}

export function fuzzPickle(input: Buffer): void {
  for (const payload of [input, Buffer.concat([Buffer.from([0x80, 0x02]), input])]) {
    const result = decodePickle(payload);
    if (!result.ok) {
      check(typeof result.message === "string", "a refusal carries a message");
      continue;
    }
    check(plainWithin(result.value, Math.max(16 * payload.length, 1 << 20)), "the decoded value stays within the expansion budget");
    for (const tuple of result.tuples) check(Array.isArray(tuple), "tuples are arrays");
  }
}

export const fuzz = target(fuzzPickle);
