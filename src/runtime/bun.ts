// Bun: `Bun.serve({ fetch, websocket })`. HTTP goes through the fetch handler (src/runtime/fetch.ts);
// WebSockets are Bun's native ServerWebSocket (no `ws`), upgraded with `server.upgrade(request,
// { data })`, their frames fed to the engine by the `websocket` handlers. Glue only.
//
// Bun's types are not a dependency: the few members used are declared structurally below.

import type { EngineServer } from "../engine/server.js";
import type { OutFrame, TopicPublisher, WebSocketPeer } from "../engine/http.js";
import {
  deflateThreshold,
  type AcceptedUpgrade,
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
  /** Drops the connection without a closing handshake. */
  terminate?(): void;
  getBufferedAmount?(): number;
  cork?<T>(callback: (ws: BunServerWebSocket) => T): T;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

/** The members of Bun's Server that sockjet uses. */
export interface BunServer {
  readonly port: number;
  readonly hostname?: string;
  upgrade(request: Request, options: { data: WebSocketBinding; headers?: Headers }): boolean;
  requestIP(request: Request): { address: string; port: number } | null;
  /** Per-request idle timeout in seconds (Bun ≥ 1.1.25). */
  timeout?(request: Request, seconds: number): void;
  /** Sends to every WebSocket subscribed to the topic; the frame is built once, in native code. */
  publish(topic: string, data: string | Uint8Array, compress?: boolean): number;
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
  /**
   * Broadcasts to a room or a namespace reach their WebSocket members through Bun's native topic
   * publish (default true). `false` sends every broadcast socket by socket, as on Node and Deno.
   */
  nativePublish?: boolean;
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

/**
 * Bun's `server.publish` as the Socket.IO layer's native publisher: a room or a namespace is a
 * topic, and each frame of a broadcast is framed once and written to every subscriber by Bun.
 * One per handler. It learns Bun's servers from their upgrades (a subscriber exists only after
 * one); topics are per Bun server, so a handler given to several `Bun.serve` publishes on each.
 */
class BunTopicPublisher implements TopicPublisher {
  readonly servers = new Set<BunServer>();

  constructor(
    /** Smallest message compressed, when permessage-deflate is on (as BunSocketBinding). */
    private readonly threshold: number | null,
  ) {}

  publish(topic: string, frames: readonly OutFrame[]): boolean {
    const threshold = this.threshold;
    let dropped = false;
    for (const server of this.servers) {
      for (let i = 0; i < frames.length; i++) {
        const frame = frames[i]!.frame;
        // 0: some subscriber was past backpressureLimit and did not get the frame (-1 only means
        // that some subscriber has a backlog, which is normal).
        if (server.publish(topic, frame, threshold !== null && frame.length >= threshold) === 0) dropped = true;
      }
    }
    return dropped;
  }
}

/** What every Socket.IO WebSocket of one handler shares. */
interface BunSocketSettings {
  /** Smallest message compressed, when permessage-deflate is on (ws's `threshold`). */
  readonly threshold: number | null;
  /** Bun's native publish, unless turned off (`nativePublish: false`). */
  readonly publisher: BunTopicPublisher | null;
}

/**
 * A Bun ServerWebSocket of Socket.IO: its `data` from the upgrade on (the engine's binding), and
 * the engine's peer once open. One object per connection for both roles.
 */
class BunSocketBinding extends WebSocketBinding implements WebSocketPeer {
  private ws: BunServerWebSocket | null = null;
  /** Bun refused a frame of ours: the backlog passed backpressureLimit (= maxBufferedBytes). */
  private dropped = false;

  constructor(
    engine: EngineServer,
    decision: AcceptedUpgrade,
    private readonly settings: BunSocketSettings,
  ) {
    super(engine, decision);
  }

  /** Bun opened the socket: it becomes this binding's peer. */
  attach(ws: BunServerWebSocket): void {
    this.ws = ws;
    this.open(this);
  }

  get publisher(): BunTopicPublisher | null {
    return this.settings.publisher;
  }

  subscribe(topic: string): void {
    const ws = this.ws;
    if (ws !== null && ws.readyState === 1) ws.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    // Bun drops a closed socket's subscriptions by itself.
    const ws = this.ws;
    if (ws !== null && ws.readyState === 1) ws.unsubscribe(topic);
  }

  sendFrames(frames: readonly OutFrame[]): void {
    const ws = this.ws;
    if (ws === null || ws.readyState !== 1) return;
    if (frames.length > 1 && ws.cork !== undefined) ws.cork(() => this.write(ws, frames));
    else this.write(ws, frames);
  }

  private write(ws: BunServerWebSocket, frames: readonly OutFrame[]): void {
    const threshold = this.settings.threshold;
    for (const { frame } of frames) {
      const compress = threshold !== null && frame.length >= threshold;
      // 0: dropped, past backpressureLimit. The engine reads bufferedAmount after this write and
      // closes the session ("buffer full"); a later frame must not reach the client instead.
      if ((typeof frame === "string" ? ws.sendText(frame, compress) : ws.sendBinary(frame, compress)) === 0) {
        this.dropped = true;
        return;
      }
    }
  }

  close(code?: number, reason?: string): void {
    const ws = this.ws;
    if (ws !== null && (ws.readyState === 0 || ws.readyState === 1)) ws.close(code, reason);
  }

  terminate(): void {
    const ws = this.ws;
    if (ws === null || ws.readyState > 1) return;
    if (ws.terminate !== undefined) ws.terminate();
    else ws.close();
  }

  /** Infinity once Bun has dropped a frame: whatever the amount, the client missed a message. */
  get bufferedAmount(): number {
    return this.dropped ? Number.POSITIVE_INFINITY : (this.ws?.getBufferedAmount?.() ?? 0);
  }
}

function hasKeys(record: object): boolean {
  for (const _ in record) return true;
  return false;
}

function bunRuntime(engine: EngineServer, settings: BunSocketSettings): FetchRuntime {
  const idleSeconds = Math.ceil(engine.options.pingInterval / 1000) + 10;
  const publisher = settings.publisher;
  return {
    binding: (engine, decision) => new BunSocketBinding(engine, decision, settings),
    upgrade(request, binding, context) {
      const server = context[0] as BunServer;
      publisher?.servers.add(server);
      const extra = binding.decision.headers;
      // Most handshakes add no header (a cookie, when enabled): no Headers object for them.
      const upgraded = hasKeys(extra) ? server.upgrade(request, { data: binding, headers: toHeaders(extra) }) : server.upgrade(request, { data: binding });
      return upgraded ? undefined : null;
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
  const { websocket: app, nativePublish = true, ...fetchOptions } = options;
  const threshold = deflateThreshold(engine.options.perMessageDeflate);
  const publisher = nativePublish ? new BunTopicPublisher(threshold) : null;
  // The Socket.IO server takes the capability from here too, for sockets that connect on
  // long-polling and upgrade later (see Server.deliverToRoom).
  if (publisher !== null && isPublisherSink(source)) source.addTopicPublisher(publisher);
  const handle = new FetchEngineAdapter(engine, bunRuntime(engine, { threshold, publisher })).handler(fetchOptions);
  return {
    fetch: (request, server) => handle(request, server),
    websocket: {
      // Enforced by Bun before the message is buffered whole; the engine checks again (onFrame).
      maxPayloadLength: engine.options.maxHttpBufferSize,
      perMessageDeflate: threshold !== null,
      // Bun's own buffer for a socket holds at most this plus one message: past it, send() and
      // publish() drop the message and return 0, and the engine closes that socket with
      // "buffer full" (BunSocketBinding.write, Server.deliverNatively). Not closeOnBackpressureLimit:
      // Bun would close with 1006, which reads as the client going away. The app's own WebSockets
      // (BunAppWebSocketHandler) get the same limit; their send() returns 0 past it.
      backpressureLimit: Math.min(engine.options.maxBufferedBytes, 0xffff_ffff),
      open: (ws) => (ws.data instanceof BunSocketBinding ? ws.data.attach(ws) : app?.open?.(ws)),
      message: (ws, message) => (ws.data instanceof WebSocketBinding ? ws.data.message(message) : app?.message?.(ws, message)),
      close: (ws, code, reason) =>
        ws.data instanceof WebSocketBinding ? ws.data.closed(code === 1009 || reason === TOO_BIG_REASON) : app?.close?.(ws, code, reason),
      drain: (ws) => (ws.data instanceof WebSocketBinding ? undefined : app?.drain?.(ws)),
    },
  };
}

/** The sockjet Server, which takes a native publisher (an EngineServer alone has no use for one). */
interface PublisherSink {
  addTopicPublisher(publisher: TopicPublisher): void;
}

function isPublisherSink(source: object): source is PublisherSink {
  return typeof (source as Partial<PublisherSink>).addTopicPublisher === "function";
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
  const { app, staticFiles, websocket, nativePublish, ...rest } = options;
  const handler = bunHandler(source, {
    app: app as FetchApp | undefined,
    staticFiles,
    websocket: websocket as BunAppWebSocketHandler | undefined,
    nativePublish: nativePublish as boolean | undefined,
  });
  return bun.serve({ ...rest, fetch: handler.fetch, websocket: handler.websocket });
}
