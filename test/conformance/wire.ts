// Raw wire clients for the conformance tests: HTTP requests over node:http (exact status, headers
// and body bytes, no decompression, one connection per request: test/support/http-request.ts) and
// a `ws` WebSocket that records every frame. Waits are bounded; nothing here asserts on timing.

import assert from "node:assert/strict";
import { WebSocket } from "ws";
import { http, type HttpReply } from "../support/http-request.js";

export { http, type HttpReply };

/** The outcome of a request the server may answer or cut off (both are allowed in a few cases). */
export type HttpOutcome = { kind: "reply"; reply: HttpReply } | { kind: "aborted"; error: Error };

export function httpOutcome(...args: Parameters<typeof http>): Promise<HttpOutcome> {
  return http(...args).then(
    (reply): HttpOutcome => ({ kind: "reply", reply }),
    (error: Error): HttpOutcome => ({ kind: "aborted", error }),
  );
}

/** The exact JSON body of an Engine.IO HTTP error. */
export const errorJson = (code: number, message: string) => JSON.stringify({ code, message });
export const E = {
  transport: errorJson(0, "Transport unknown"),
  sid: errorJson(1, "Session ID unknown"),
  method: errorJson(2, "Bad handshake method"),
  bad: errorJson(3, "Bad request"),
  version: errorJson(5, "Unsupported protocol version"),
} as const;

/** Asserts an Engine.IO error reply: status and the exact JSON body. */
export function assertError(reply: HttpReply, status: number, body: string, what = ""): void {
  assert.equal(reply.status, status, `${what} status (body ${JSON.stringify(reply.text)})`);
  assert.equal(reply.text, body, `${what} body`);
  assert.match(String(reply.headers["content-type"]), /^application\/json/, `${what} content-type`);
}

/** Resolves with `promise`, or rejects once `ms` have passed (a bound on waiting, never an assertion on speed). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` every few ms until it holds; throws after `timeout` ms. */
export async function until(check: () => boolean, timeout: number, what: string): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** True when a long-poll's payload holds a PING packet. */
export const hasPing = (payload: string): boolean => payload.split("\x1e").includes("2");

/**
 * Runs a scenario built around a GET the server holds, on a fresh session each time, until a run
 * is not disturbed by a PING falling due and taking that GET (which a loaded machine allows:
 * pingInterval is 300 ms). The scenario returns null when that happened.
 */
export async function unlessPinged<T>(scenario: () => Promise<T | null>, attempts = 5): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const result = await scenario();
    if (result !== null) return result;
  }
  throw new Error(`a PING took the waiting GET in each of ${attempts} attempts`);
}

/** The Engine.IO OPEN packet as the reference server writes it (key order included). */
export function openPacketRe(upgrades: string[], pingInterval: number, pingTimeout: number, maxPayload: number): RegExp {
  const ups = upgrades.map((u) => `"${u}"`).join(",");
  return new RegExp(
    `^0\\{"sid":"([^"]+)","upgrades":\\[${ups}\\],"pingInterval":${pingInterval},"pingTimeout":${pingTimeout},"maxPayload":${maxPayload}\\}$`,
  );
}

// ---------------------------------------------------------------------------------------------
// long-polling

/** A long-polling session driven by hand: every request is explicit. */
export class Polling {
  private pending: string[] = [];

  constructor(
    readonly port: number,
    readonly base: string,
    readonly sid: string,
  ) {}

  get url(): string {
    return `${this.base}&sid=${encodeURIComponent(this.sid)}`;
  }

  get(headers: Record<string, string> = {}): Promise<HttpReply> {
    return http(this.port, this.url, { headers });
  }

  post(body: string | Buffer, headers: Record<string, string> = { "Content-Type": "text/plain;charset=UTF-8" }): Promise<HttpReply> {
    return http(this.port, this.url, { method: "POST", body, headers });
  }

  /** POSTs and requires 200 "ok". */
  async send(body: string): Promise<void> {
    const reply = await this.post(body);
    assert.equal(reply.status, 200, `POST ${JSON.stringify(body)} -> ${reply.status} ${reply.text}`);
    assert.equal(reply.text, "ok");
  }

  /**
   * The next GET's payload with any PING packets taken out (and answered with a POSTed PONG): on a
   * loaded machine a ping can fall due between a POST and the GET that collects its echo. A
   * payload of pings only is answered and followed by another GET.
   */
  async getPayload(): Promise<HttpReply & { payload: string }> {
    for (;;) {
      const reply = await this.get();
      if (reply.status !== 200) return { ...reply, payload: reply.text };
      const packets = reply.text.split("\x1e");
      const rest = packets.filter((p) => p !== "2");
      if (rest.length < packets.length) await this.send("3");
      if (rest.length > 0) return { ...reply, payload: rest.join("\x1e") };
    }
  }

  /**
   * The next Engine.IO packet the server sends, GETting as needed. Pings are answered with a POSTed
   * pong and skipped unless `keepPings`.
   */
  async nextPacket(keepPings = false): Promise<string> {
    for (;;) {
      if (this.pending.length === 0) {
        const reply = await this.get();
        assert.equal(reply.status, 200, `GET -> ${reply.status} ${reply.text}`);
        this.pending = reply.text.split("\x1e");
      }
      const packet = this.pending.shift()!;
      if (packet === "2" && !keepPings) {
        await this.send("3");
        continue;
      }
      return packet;
    }
  }

  /** Answers (and drops) PINGs already received but not yet returned by nextPacket. */
  async answerBufferedPings(): Promise<void> {
    const rest = this.pending.filter((p) => p !== "2");
    if (rest.length === this.pending.length) return;
    this.pending = rest;
    await this.send("3");
  }

  /** Packets already received but not yet returned by nextPacket. */
  get buffered(): readonly string[] {
    return this.pending;
  }
}

/** Polling handshake: asserts the reply shape and returns the session. */
export async function pollingHandshake(port: number, base: string): Promise<{ session: Polling; open: string; reply: HttpReply }> {
  const reply = await http(port, base);
  assert.equal(reply.status, 200, `handshake -> ${reply.status} ${reply.text}`);
  const match = /^0\{"sid":"([^"]+)"/.exec(reply.text);
  assert.ok(match, `not an OPEN packet: ${reply.text}`);
  return { session: new Polling(port, base, match[1]!), open: reply.text, reply };
}

// ---------------------------------------------------------------------------------------------
// WebSocket

export type Frame = string | Buffer;

/**
 * A bare `ws` client. Text frames arrive as strings, binary frames as Buffers. With `autoPong`
 * (default on) each "2" is answered with "3" the moment it arrives, so a test that is busy
 * elsewhere never times out; `next()` skips pings, `nextFrame()` returns them too.
 */
export class Wire {
  readonly ws: WebSocket;
  autoPong: boolean;
  readonly frames: Frame[] = [];
  private readonly queue: Frame[] = [];
  private readonly waiters: Array<(f: Frame | null) => void> = [];
  private isClosed = false;
  /** Resolves with the HTTP status when the server answers the upgrade with something other than 101. */
  readonly refused: Promise<{ status: number; body: string }>;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  openedAt101 = false;

  constructor(url: string, options: { autoPong?: boolean; headers?: Record<string, string> } = {}) {
    this.autoPong = options.autoPong ?? true;
    this.ws = new WebSocket(url, { headers: options.headers ?? {} });
    this.ws.on("error", () => {
      // a close follows; tests assert on it
    });
    this.ws.on("message", (data: Buffer, isBinary: boolean) => {
      const frame: Frame = isBinary ? Buffer.from(data) : data.toString("utf8");
      this.frames.push(frame);
      if (frame === "2" && this.autoPong && this.ws.readyState === WebSocket.OPEN) this.ws.send("3");
      const waiter = this.waiters.shift();
      if (waiter) waiter(frame);
      else this.queue.push(frame);
    });
    this.refused = new Promise((resolve) => {
      this.ws.once("unexpected-response", (_req, res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
          this.ws.terminate();
        });
        res.on("error", () => resolve({ status: res.statusCode ?? 0, body: "" }));
      });
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", () => {
        this.openedAt101 = true;
        resolve();
      });
      this.ws.once("close", () => reject(new Error("closed before the WebSocket opened")));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) =>
      this.ws.once("close", (code: number, reason: Buffer) => {
        this.isClosed = true;
        for (const w of this.waiters.splice(0)) w(null);
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  /** The next frame, pings included; fails if the socket closes first or nothing comes within `ms`. */
  async nextFrame(ms = 5000): Promise<Frame> {
    const queued = this.queue.shift();
    if (queued !== undefined) return queued;
    if (this.isClosed) assert.fail("the WebSocket closed; no frame");
    const frame = await within(new Promise<Frame | null>((resolve) => this.waiters.push(resolve)), ms, "WebSocket frame");
    if (frame === null) assert.fail("the WebSocket closed; no frame");
    return frame;
  }

  /** The next frame that is not a ping. */
  async next(ms = 5000): Promise<Frame> {
    for (;;) {
      const frame = await this.nextFrame(ms);
      if (frame !== "2") return frame;
    }
  }

  async nextText(ms = 5000): Promise<string> {
    const frame = await this.next(ms);
    assert.equal(typeof frame, "string", `expected a text frame, got binary ${Buffer.isBuffer(frame) ? [...frame].join(",") : ""}`);
    return frame as string;
  }

  /** Drops queued pings (already answered when autoPong is on). */
  dropQueuedPings(): void {
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i] === "2") this.queue.splice(i, 1);
  }

  get pendingFrames(): readonly Frame[] {
    return this.queue;
  }

  send(data: string | Uint8Array): void {
    this.ws.send(data);
  }

  /** Waits (bounded) for the close; returns its code. */
  waitClose(ms = 5000): Promise<{ code: number; reason: string }> {
    return within(this.closed, ms, "WebSocket close");
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/** Opens a WebSocket-only Engine.IO session and returns it with its OPEN packet text. */
export async function wsHandshake(url: string, options: { autoPong?: boolean } = {}): Promise<{ wire: Wire; open: string; sid: string }> {
  const wire = new Wire(url, options);
  await within(wire.opened, 5000, "WebSocket open");
  const open = await wire.nextFrame();
  assert.equal(typeof open, "string", "the OPEN packet is a text frame");
  const match = /^0\{"sid":"([^"]+)"/.exec(open as string);
  assert.ok(match, `not an OPEN packet: ${String(open)}`);
  return { wire, open: open as string, sid: match[1]! };
}

export const bytes = (frame: Frame): number[] => {
  assert.ok(Buffer.isBuffer(frame), `expected a binary frame, got text ${JSON.stringify(frame)}`);
  return [...frame];
};
