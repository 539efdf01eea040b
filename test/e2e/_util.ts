// Small helpers shared by the end-to-end tests in this directory (not a test file itself).

import assert from "node:assert/strict";
import type { Socket as ClientSocket } from "socket.io-client";
import type { Logger, LogFields } from "../../src/index.js";

export interface LogEntry {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields: LogFields | undefined;
}

/** A logger object that records every call. */
export function captureLogger(): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const make = (level: LogEntry["level"]) => (message: string, fields?: LogFields) => {
    entries.push({ level, message, fields });
  };
  return { logger: { debug: make("debug"), info: make("info"), warn: make("warn"), error: make("error") }, entries };
}

/** The bytes of a binary value received on either side, after checking that it is binary. */
export function bytesOf(value: unknown): number[] {
  if (value instanceof ArrayBuffer) return [...new Uint8Array(value)];
  if (ArrayBuffer.isView(value)) return [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)];
  assert.fail(`expected binary data, got ${Object.prototype.toString.call(value)} ${JSON.stringify(value)}`);
}

/** The float32 values encoded in a received binary value. */
export function float32Of(value: unknown): number[] {
  return [...new Float32Array(new Uint8Array(bytesOf(value)).buffer)];
}

/** Emits with an acknowledgement callback and resolves with all the ack arguments. */
export function emitAck(socket: ClientSocket, event: string, ...args: unknown[]): Promise<unknown[]> {
  return new Promise((resolve) => socket.emit(event, ...args, (...reply: unknown[]) => resolve(reply)));
}

/**
 * Records every event a client receives (name and arguments). `next(event)` waits for the next
 * occurrence of an event not yet consumed by an earlier `next`.
 */
export class Inbox {
  readonly events: Array<{ event: string; args: unknown[] }> = [];
  private waiters: Array<{ event: string; resolve: (args: unknown[]) => void }> = [];
  private consumed = new Map<string, number>();

  constructor(socket: ClientSocket) {
    socket.onAny((event: string, ...args: unknown[]) => {
      this.events.push({ event, args });
      const i = this.waiters.findIndex((w) => w.event === event);
      if (i >= 0) {
        const [waiter] = this.waiters.splice(i, 1);
        this.consumed.set(event, (this.consumed.get(event) ?? 0) + 1);
        waiter!.resolve(args);
      }
    });
  }

  /** All argument lists received for an event. */
  all(event: string): unknown[][] {
    return this.events.filter((e) => e.event === event).map((e) => e.args);
  }

  count(event: string): number {
    return this.all(event).length;
  }

  /** The next not-yet-consumed occurrence of `event` (already received or future). */
  next(event: string): Promise<unknown[]> {
    const seen = this.all(event);
    const used = this.consumed.get(event) ?? 0;
    if (seen.length > used) {
      this.consumed.set(event, used + 1);
      return Promise.resolve(seen[used]!);
    }
    return new Promise((resolve) => this.waiters.push({ event, resolve }));
  }

  /** Waits for a marker event carrying `value` as its first argument. */
  async marker(event: string, value: unknown): Promise<void> {
    for (;;) {
      const args = await this.next(event);
      if (args[0] === value) return;
    }
  }

  clear(): void {
    this.events.length = 0;
    this.consumed.clear();
  }
}

/** Rejects if `promise` has not settled within `ms` (a bound on waiting, never a timing assertion). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
