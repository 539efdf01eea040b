// What every fuzz target shares: the execution counter that scripts/fuzz.mjs reads back (jsfuzz
// itself only prints a count every 3 s), and the checks that turn a broken promise of a decoder
// into a thrown error, which is what jsfuzz records as a crash. The decoders promise never to
// throw, so anything they throw is undocumented and propagates as it is.

import { writeFileSync } from "node:fs";

/** A decoder broke its documented contract (a code outside its list, a round trip that differs). */
export class ContractViolation extends Error {}

let executions = 0;
const statsFile = process.env.FUZZ_STATS;
// jsfuzz's worker leaves with process.exit() after SIGINT (or a crash): "exit" still runs.
if (statsFile !== undefined) process.on("exit", () => writeFileSync(statsFile, JSON.stringify({ executions })));

/** Wraps a target body: counts the inputs it is given. */
export function target(body: (input: Buffer) => void): (input: Buffer) => void {
  return (input) => {
    executions++;
    body(input);
  };
}

export function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new ContractViolation(what);
}

/** A decode result is either a success or a failure whose code is one of the documented ones. */
export function checkResult(result: { ok: boolean; code?: string }, codes: ReadonlySet<string>, what: string): void {
  if (result.ok) return;
  check(typeof result.code === "string" && codes.has(result.code), `${what}: undocumented error ${JSON.stringify(result)}`);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/** A small number from one byte of the input (so the fuzzer also explores the decoders' limits). */
export function byteAt(input: Buffer, index: number): number {
  return index < input.length ? input[index]! : 0;
}

/** Two Engine.IO packet lists are the same: types, and text or bytes of the data. */
export function samePackets(a: readonly { type: number; data?: string | Uint8Array }[], b: readonly { type: number; data?: string | Uint8Array }[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.type !== y.type) return false;
    if (x.data instanceof Uint8Array || y.data instanceof Uint8Array) {
      if (!(x.data instanceof Uint8Array && y.data instanceof Uint8Array && sameBytes(x.data, y.data))) return false;
    } else if (x.data !== y.data) return false;
  }
  return true;
}
