// Bun: `Bun.serve({ fetch, websocket })`. HTTP goes through the fetch handler (src/runtime/fetch.ts);
// WebSockets are Bun's native ServerWebSocket (no `ws`), upgraded with `server.upgrade(request,
// { data })`, their frames fed to the engine by the `websocket` handlers. Glue only.
//
// Bun's types are not a dependency: the few members used are declared structurally below.

import type { EngineServer } from "../engine/server.js";
import type { OutFrame, WebSocketPeer } from "../engine/http.js";
import {
  deflateThreshold,
  engineOf,
  FetchEngineAdapter,
  toHeaders,
  WebSocketBinding,
  type FetchApp,
  type FetchHandlerOptions,
  type FetchRuntime,
} from "./fetch.js";

/** The members of Bun's ServerWebSocket that sockjet uses. */
export interface BunServerWebSocket {
  /** sockjet's binding for Socket.IO sockets; whatever the app passed to `server.upgrade` for its own. */
  readonly data: unknown;
  readonly readyState: number;
  send(data: string | Uint8Array, compress?: boolean): number;
  sendText(data: string, compress?: boolean): number;
  sendBinary(data: Uint8Array, compress?: boolean): number;
  close(code?: number, reason?: string): void;
  getBufferedAmount?(): number;
  cork?<T>(callback: (ws: BunServerWebSocket) => T): T;
}

/** The members of Bun's Server that sockjet uses. */
export interface BunServer {
  readonly port: number;
  readonly hostname?: string;
  upgrade(request: Request, options: { data: WebSocketBinding; headers?: Headers }): boolean;
  requestIP(request: Request): { address: string; port: number } | null;
  /** Per-request idle timeout in seconds (Bun ≥ 1.1.25). */
  timeout?(request: Request, seconds: number): void;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}

/** The `websocket` option of `Bun.serve`. */
export interface BunWebSocketHandler {
  maxPayloadLength: number;
  perMessageDeflate: boolean;
  backpressureLimit: number;
  open(ws: BunServerWebSocket): void;
  message(ws: BunServerWebSocket, message: string | Uint8Array): void;
  close(ws: BunServerWebSocket, code: number, reason: string): void;
  drain(ws: BunServerWebSocket): void;
}

/**
 * The app's own WebSocket handlers, for sockets it upgrades itself (e.g. Hono's `upgradeWebSocket`
 * from hono/bun): Bun has one `websocket` option per server, so sockjet's forwards to these every
 * socket that is not a Socket.IO one. Size and compression limits are sockjet's for all sockets.
 */
export interface BunAppWebSocketHandler {
  open?(ws: BunServerWebSocket): void;
  message?(ws: BunServerWebSocket, message: string | Uint8Array): void;
  close?(ws: BunServerWebSocket, code: number, reason: string): void;
  drain?(ws: BunServerWebSocket): void;
}

export interface BunHandlerOptions extends FetchHandlerOptions {
  /** The app's own WebSocket handlers (see BunAppWebSocketHandler). */
  websocket?: BunAppWebSocketHandler;
}

export interface BunHandler {
  fetch(request: Request, server: BunServer): Promise<Response | undefined>;
  websocket: BunWebSocketHandler;
}

export interface BunServeOptions extends BunHandlerOptions {
  port?: number;
  hostname?: string;
  /** Any other `Bun.serve` option (tls, reusePort, development...) is passed through. */
  [option: string]: unknown;
}

// Bun closes an oversized message itself (maxPayloadLength): the peer sees 1009, the server's close
// handler reports 1006 with this reason.
const TOO_BIG_REASON = "Received too big message";
// Bun's idle timeout (10 s by default, 255 s at most) would cut a long-poll that waits for the next
// ping; a poll is answered at least every pingInterval, so that plus a margin is enough.
const MAX_IDLE_SECONDS = 255;

/** A Bun ServerWebSocket seen as the engine's peer. */
class BunWebSocketPeer implements WebSocketPeer {
  constructor(
    private readonly ws: BunServerWebSocket,
    /** Smallest message compressed, when permessage-deflate is on (ws's `threshold`). */
    private readonly threshold: number | null,
  ) {}

  sendFrames(frames: readonly OutFrame[]): void {
    const ws = this.ws;
    if (ws.readyState !== 1) return;
    if (frames.length > 1 && ws.cork !== undefined) ws.cork(() => this.write(frames));
    else this.write(frames);
  }

  private write(frames: readonly OutFrame[]): void {
    const ws = this.ws;
    const threshold = this.threshold;
    for (const { frame } of frames) {
      const compress = threshold !== null && frame.length >= threshold;
      if (typeof frame === "string") ws.sendText(frame, compress);
      else ws.sendBinary(frame, compress);
    }
  }

  close(code?: number, reason?: string): void {
    if (this.ws.readyState === 0 || this.ws.readyState === 1) this.ws.close(code, reason);
  }

  get bufferedAmount(): number {
    return this.ws.getBufferedAmount?.() ?? 0;
  }
}

function bunRuntime(engine: EngineServer): FetchRuntime {
  const idleSeconds = Math.ceil(engine.options.pingInterval / 1000) + 10;
  return {
    upgrade(request, binding, context) {
      const server = context[0] as BunServer;
      const headers = toHeaders(binding.decision.headers);
      return server.upgrade(request, { data: binding, headers }) ? undefined : null;
    },
    onEngineRequest(request, context) {
      const server = context[0] as BunServer | undefined;
      // 0 disables the timeout: only when the ping interval is beyond what Bun can express.
      server?.timeout?.(request, idleSeconds > MAX_IDLE_SECONDS ? 0 : idleSeconds);
    },
  };
}

/**
 * The `fetch` and `websocket` options for `Bun.serve`, for full control of the other options:
 * `Bun.serve({ port: 3000, ...bunHandler(sio, { app: hono.fetch }) })`.
 */
export function bunHandler(source: EngineServer | { readonly engine: EngineServer }, options: BunHandlerOptions = {}): BunHandler {
  const engine = engineOf(source);
  const { websocket: app, ...fetchOptions } = options;
  const handle = new FetchEngineAdapter(engine, bunRuntime(engine)).handler(fetchOptions);
  const threshold = deflateThreshold(engine.options.perMessageDeflate);
  return {
    fetch: (request, server) => handle(request, server),
    websocket: {
      // Enforced by Bun before the message is buffered whole; the engine checks again (onFrame).
      maxPayloadLength: engine.options.maxHttpBufferSize,
      perMessageDeflate: threshold !== null,
      // Past Bun's limit (16 MiB by default) send() silently drops messages; the engine instead
      // watches getBufferedAmount() and disconnects with "buffer full" past maxBufferedBytes.
      backpressureLimit: 0,
      open: (ws) => (ws.data instanceof WebSocketBinding ? ws.data.open(new BunWebSocketPeer(ws, threshold)) : app?.open?.(ws)),
      message: (ws, message) => (ws.data instanceof WebSocketBinding ? ws.data.message(message) : app?.message?.(ws, message)),
      close: (ws, code, reason) =>
        ws.data instanceof WebSocketBinding ? ws.data.close(code === 1009 || reason === TOO_BIG_REASON) : app?.close?.(ws, code, reason),
      drain: (ws) => (ws.data instanceof WebSocketBinding ? undefined : app?.drain?.(ws)),
    },
  };
}

/**
 * Starts `Bun.serve` with Socket.IO on its path, then `staticFiles`, then `app` (any fetch-style
 * app, e.g. Hono's `app.fetch`), then 404. Other options go to `Bun.serve` unchanged.
 */
export function serveBun(source: EngineServer | { readonly engine: EngineServer }, options: BunServeOptions = {}): BunServer {
  const bun = (globalThis as { Bun?: { serve(options: Record<string, unknown>): BunServer } }).Bun;
  if (bun === undefined) {
    throw new Error("serveBun() needs the Bun runtime; on Node use sio.attach(server) or an integration, on Deno serveDeno()");
  }
  const { app, staticFiles, websocket, ...rest } = options;
  const handler = bunHandler(source, { app: app as FetchApp | undefined, staticFiles, websocket: websocket as BunAppWebSocketHandler | undefined });
  return bun.serve({ ...rest, fetch: handler.fetch, websocket: handler.websocket });
}
