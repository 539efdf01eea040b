// Raw Engine.IO clients for the wire-level tests: node:http requests (raw headers, no automatic
// decompression), fetch, and `ws` sockets with a message queue. No timing assertions anywhere.

import type { IncomingHttpHeaders } from "node:http";
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import type { Socket as ClientSocket } from "socket.io-client";
import type { ServerOptions } from "../../src/index.js";
import type { Server } from "../../src/index.js";
import { startServer, until, type TestServer } from "../support/harness.js";

export const EIO = "/socket.io/?EIO=4";
export const POLL = `${EIO}&transport=polling`;
export const WSQ = `${EIO}&transport=websocket`;

/** One HTTP request over node:http: the bytes as sent by the server, no decompression. */
export { http as raw, type HttpReply as RawResponse } from "../support/http-request.js";

/** A fetch whose JSON error body is returned parsed, along with the status. */
export async function fetchJson(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

export interface OpenPacket {
  sid: string;
  upgrades: string[];
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
}

export function parseOpen(text: string): OpenPacket {
  assert.equal(text[0], "0", `not an open packet: ${text}`);
  return JSON.parse(text.slice(1)) as OpenPacket;
}

/** Polling handshake with fetch; returns the sid and the open packet. */
export async function handshake(ts: TestServer, init: RequestInit = {}): Promise<OpenPacket & { headers: Headers }> {
  const res = await fetch(ts.url + POLL, init);
  assert.equal(res.status, 200, "handshake");
  return { ...parseOpen(await res.text()), headers: res.headers };
}

export const pollUrl = (ts: TestServer, sid: string) => `${ts.url}${POLL}&sid=${encodeURIComponent(sid)}`;

export async function get(ts: TestServer, sid: string): Promise<string> {
  const res = await fetch(pollUrl(ts, sid));
  assert.equal(res.status, 200);
  return res.text();
}

export async function post(ts: TestServer, sid: string, body: string): Promise<string> {
  const res = await fetch(pollUrl(ts, sid), { method: "POST", body, headers: { "Content-Type": "text/plain;charset=UTF-8" } });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return text;
}

/** Waits until the server holds a GET for this polling session (so the next request is truly concurrent). */
export async function untilPollWaiting(ts: TestServer, sid: string): Promise<void> {
  await until(() => ts.sio.engine.sessions.get(sid)?.transport.writable === true, 5000, "the GET to reach the server");
}

/** Polling session joined to the main namespace: returns the engine sid and the Socket.IO sid. */
export async function pollingConnect(ts: TestServer): Promise<{ sid: string; nsSid: string }> {
  const { sid } = await handshake(ts);
  assert.equal(await post(ts, sid, "40"), "ok");
  const reply = await get(ts, sid);
  const match = /^40(\{.*\})$/.exec(reply);
  assert.ok(match, `expected a CONNECT reply, got ${reply}`);
  return { sid, nsSid: (JSON.parse(match[1]!) as { sid: string }).sid };
}

export const errorBody = (code: number, message: string) => ({ code, message });
export const ERR = {
  transport: errorBody(0, "Transport unknown"),
  sid: errorBody(1, "Session ID unknown"),
  method: errorBody(2, "Bad handshake method"),
  bad: errorBody(3, "Bad request"),
  forbidden: errorBody(4, "Forbidden"),
  version: errorBody(5, "Unsupported protocol version"),
} as const;

// ---------------------------------------------------------------------------------------------
// WebSocket

/** A `ws` client with an awaitable queue of received messages (text as string, binary as Buffer). */
export class RawWs {
  readonly ws: WebSocket;
  private readonly queue: Array<string | Buffer> = [];
  private readonly waiters: Array<(m: string | Buffer) => void> = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  responseHeaders: IncomingHttpHeaders = {};

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers });
    this.ws.on("upgrade", (res) => (this.responseHeaders = res.headers));
    this.ws.on("message", (data: Buffer, isBinary: boolean) => {
      const message = isBinary ? data : data.toString("utf8");
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.queue.push(message);
    });
    this.ws.on("error", () => {
      // close follows; tests assert on it
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      this.ws.once("close", () => reject(new Error("closed before open")));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => this.ws.once("close", (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
  }

  /** The next message, skipping server pings unless `keepPings`. */
  async next(keepPings = false): Promise<string | Buffer> {
    for (;;) {
      const message = this.queue.shift() ?? (await new Promise<string | Buffer>((resolve) => this.waiters.push(resolve)));
      if (!keepPings && message === "2") {
        this.send("3");
        continue;
      }
      return message;
    }
  }

  async nextText(): Promise<string> {
    const m = await this.next();
    assert.equal(typeof m, "string", "expected a text frame");
    return m as string;
  }

  send(data: string | Buffer): void {
    this.ws.send(data);
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/** A WebSocket-only session joined to "/": returns the socket, its engine sid and Socket.IO sid. */
export async function wsConnect(ts: TestServer, query = ""): Promise<{ raw: RawWs; sid: string; nsSid: string }> {
  const raw = new RawWs(`ws://127.0.0.1:${ts.port}${WSQ}${query}`);
  await raw.opened;
  const open = parseOpen(await raw.nextText());
  raw.send("40");
  const reply = await raw.nextText();
  const match = /^40(\{.*\})$/.exec(reply);
  assert.ok(match, `expected a CONNECT reply, got ${reply}`);
  return { raw, sid: open.sid, nsSid: (JSON.parse(match[1]!) as { sid: string }).sid };
}

/** A WebSocket upgrade the server must refuse: its status and JSON body. */
export function wsRefusal(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; text: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on("open", () => {
      ws.terminate();
      reject(new Error("upgrade unexpectedly accepted"));
    });
    ws.on("error", () => {});
    ws.on("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // keep text
        }
        resolve({ status: res.statusCode ?? 0, body, text });
        ws.terminate();
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// servers with a healthy official client

export interface Fixture {
  ts: TestServer;
  /** An official socket.io-client, connected before the bad requests. */
  healthy: ClientSocket;
  /** Socket.IO sid → disconnect reason, for sessions the server closed. */
  disconnects: Map<string, string>;
  /** Proves the healthy client still works: an echo with ack round trip. */
  check(): Promise<void>;
  close(): Promise<void>;
}

let checks = 0;

/**
 * A server with an `echo` handler (acks its argument), a `ping-me` handler (emits `pong-you` back to
 * the sender) and a recorded `disconnect`; plus a connected official client.
 */
export async function fixture(options: ServerOptions = {}, mode: "websocket" | "polling" = "websocket", setup?: (sio: Server) => void): Promise<Fixture> {
  const disconnects = new Map<string, string>();
  const ts = await startServer({ logger: false, ...options }, (sio) => {
    sio.on("echo", (_sid: string, data: unknown) => data);
    sio.on("ping-me", async (sid: string, data: unknown) => {
      await sio.emit("pong-you", data, { to: sid });
    });
    sio.on("disconnect", (sid: string, reason: string) => {
      disconnects.set(sid, reason);
    });
    setup?.(sio);
  });
  const healthy = await ts.connect(mode);
  return {
    ts,
    healthy,
    disconnects,
    async check() {
      const token = `still alive ${++checks}`;
      assert.equal(healthy.connected, true, "the official client is still connected");
      const reply: unknown = await healthy.timeout(4000).emitWithAck("echo", token);
      assert.equal(reply, token);
    },
    close: () => ts.close(),
  };
}
