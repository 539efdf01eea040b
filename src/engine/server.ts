// The Engine.IO server: routes HTTP requests and WebSocket upgrades to sessions, performs the
// handshake, and answers protocol errors exactly as the reference server does. It knows nothing
// of any runtime: adapters (src/runtime) turn native requests into HttpExchange/EngineRequest and
// native WebSockets into WebSocketPeer.

import { sessionCookieValue } from "./cookie.js";
import { corsHeaders, isOriginAllowed, preflightHeaders } from "./cors.js";
import { EngineErrorCode, engineErrorBody, engineErrorStatus } from "./protocol/errors.js";
import { PacketType } from "./protocol/packet.js";
import { OutPacket } from "./out-packet.js";
import { EngineSocket, type CloseReason } from "./socket.js";
import { PollingTransport } from "./transports/polling.js";
import { jsonpFraming, POLLING_V3_BASE64, POLLING_V3_XHR2, POLLING_V4, type PollingFraming } from "./transports/polling-framing.js";
import { WebSocketTransport } from "./transports/websocket.js";
import { TimerQueue, systemClock } from "./timers.js";
import { parseQuery, type Compressor, type EngineRequest, type HttpExchange, type ResponseHeaders, type WebSocketPeer } from "./http.js";
import { resolveEngineOptions, type EngineOptions, type EngineProtocol, type ResolvedEngineOptions } from "./options.js";
import type { SessionHost, TrafficMeter } from "./session-host.js";
import type { PageSource } from "./pages.js";
import type { SessionRouter, WebSocketRelay } from "./session-router.js";
import { resolveLogger, type Logger } from "../util/logger.js";
import { randomId } from "../util/random-id.js";

/** Receives every session's events. One object serves all sessions, so no closure is kept per connection. */
export interface EngineHandler {
  onOpen(socket: EngineSocket): void;
  onMessage(socket: EngineSocket, data: string | Uint8Array): void;
  onClose(socket: EngineSocket, reason: CloseReason): void;
}

/**
 * Where sessions live. A Map by default; kept behind an interface so that a later deployment without
 * sticky sessions can look a session up elsewhere.
 */
export interface SessionTable {
  get(sid: string): EngineSocket | undefined;
  set(sid: string, socket: EngineSocket): void;
  delete(sid: string): void;
  readonly size: number;
  values(): IterableIterator<EngineSocket>;
}

export interface EngineServerOptions extends EngineOptions {
  logger?: boolean | Logger;
  /** Runs queued flushes; defaults to setImmediate (end of the current event-loop turn). */
  scheduleFlush?: (callback: () => void) => void;
}

export type UpgradeDecision =
  | {
      ok: true;
      headers: ResponseHeaders;
      request: EngineRequest;
      sid: string | null;
      newSid: string | null;
      protocol: EngineProtocol;
      /** v3 clients that cannot take binary frames (`b64=1`) get binary packets as base64 text. */
      base64: boolean;
      /** Set when the session lives on another server (see SessionRouter): the WebSocket relays to it. */
      relay?: WebSocketRelay;
    }
  | { ok: false; status: number; headers: ResponseHeaders; body: string };

type EngineEvents = {
  connection: (socket: EngineSocket) => void;
  message: (socket: EngineSocket, data: string | Uint8Array) => void;
  close: (socket: EngineSocket, reason: CloseReason) => void;
};

const JSON_HEADERS = { "Content-Type": "application/json" } as const;
const encoder = new TextEncoder();

function defaultScheduler(): (callback: () => void) => void {
  const g = globalThis as { setImmediate?: (cb: () => void) => unknown };
  if (typeof g.setImmediate === "function") {
    const setImmediate = g.setImmediate;
    return (cb) => void setImmediate(cb);
  }
  return (cb) => void setTimeout(cb, 0);
}

export class EngineServer implements SessionHost {
  readonly options: ResolvedEngineOptions;
  readonly timers: TimerQueue;
  readonly logger: Logger;
  /** Set by the runtime adapter when it can compress (Node: zlib). */
  compressor: Compressor | null = null;
  readonly sessions: SessionTable = new Map<string, EngineSocket>();
  /** Told of every write when set (the Admin UI's bytes and packets out, see sockjet's instrument()). */
  meter: TrafficMeter | null = null;
  /** Pages served beside the engine's path by the runtime adapters (the Admin UI's, see instrument()). */
  pages: PageSource | null = null;
  /** Set for a cluster without sticky sessions (src/manager/nosticky); consulted only for sids not held here. */
  router: SessionRouter | null = null;

  private handler: EngineHandler;
  private readonly listeners: { [K in keyof EngineEvents]: EngineEvents[K][] } = { connection: [], message: [], close: [] };
  private readonly dirty: EngineSocket[] = [];
  private flushScheduled = false;
  /** > 0 while a runtime delivers one incoming message (see beginInline). */
  private inlineDepth = 0;
  private readonly schedule: (callback: () => void) => void;
  private readonly runFlush = () => this.flushDirty();
  private closing = false;
  /** The open packet after the sid, per transport and protocol: the same for every session. */
  private readonly openTails = new Map<string, string>();

  constructor(options: EngineServerOptions = {}) {
    this.options = resolveEngineOptions(options);
    this.timers = new TimerQueue(options.clock ?? systemClock);
    this.logger = resolveLogger(options.logger);
    this.schedule = options.scheduleFlush ?? defaultScheduler();
    const listeners = this.listeners;
    this.handler = {
      onOpen: (socket) => listeners.connection.forEach((fn) => fn(socket)),
      onMessage: (socket, data) => listeners.message.forEach((fn) => fn(socket, data)),
      onClose: (socket, reason) => listeners.close.forEach((fn) => fn(socket, reason)),
    };
  }

  /** Event-style API for using the engine on its own (like python-engineio's `@eio.on`). */
  on<K extends keyof EngineEvents>(event: K, listener: EngineEvents[K]): this {
    this.listeners[event].push(listener);
    return this;
  }

  /** Replaces the event listeners with one handler object (used by the Socket.IO server). */
  setHandler(handler: EngineHandler): void {
    this.handler = handler;
  }

  get clientsCount(): number {
    return this.sessions.size;
  }

  /** Sends a message to one session; false if it is not connected. */
  send(sid: string, data: string | Uint8Array): boolean {
    return this.sessions.get(sid)?.send(data) ?? false;
  }

  disconnect(sid: string): void {
    this.sessions.get(sid)?.close("forced close");
  }

  // ---- HTTP --------------------------------------------------------------------------------

  /**
   * Handles a plain HTTP request addressed to the engine's path. Returns a promise only when an
   * asynchronous hook (an origin function, allowRequest) or a POST body is involved.
   */
  handleRequest(exchange: HttpExchange): void | Promise<void> {
    let outcome: void | Promise<void>;
    try {
      const originOk = isOriginAllowed(this.options.cors, exchange.request);
      outcome = originOk instanceof Promise ? originOk.then((ok) => this.routeRequest(exchange, ok)) : this.routeRequest(exchange, originOk);
    } catch (err) {
      return this.requestFailed(exchange, err);
    }
    // One catch at the end of every asynchronous path: a throw in a continuation (a custom
    // generateId after an asynchronous allowRequest, a response header Node refuses) must end as
    // the generic answer and a log line, never as an unhandled rejection (which ends a Node
    // process) or an unanswered request.
    return outcome instanceof Promise ? outcome.catch((err: unknown) => this.requestFailed(exchange, err)) : outcome;
  }

  private routeRequest(exchange: HttpExchange, originOk: boolean): void | Promise<void> {
    const request = exchange.request;
    try {
      if (!originOk) {
        // No CORS headers here: a refused origin must not be told it may read the response.
        exchange.respond(403, { ...JSON_HEADERS }, engineErrorBody(EngineErrorCode.FORBIDDEN));
        return;
      }
      if (request.method === "OPTIONS") {
        const headers: ResponseHeaders = {};
        preflightHeaders(this.options.cors, request, headers);
        exchange.respond(204, headers, "");
        return;
      }
      const query = parseQuery(request.url);
      const protocol = this.protocolOf(query);
      if (protocol === null) return this.fail(exchange, EngineErrorCode.UNSUPPORTED_PROTOCOL_VERSION);
      const transport = query.get("transport");
      if (transport !== "polling" && transport !== "websocket") return this.fail(exchange, EngineErrorCode.UNKNOWN_TRANSPORT);
      if (!this.options.transports.includes(transport)) return this.fail(exchange, EngineErrorCode.UNKNOWN_TRANSPORT);
      const sid = query.get("sid");
      if (sid === undefined) {
        if (request.method !== "GET") return this.fail(exchange, EngineErrorCode.BAD_HANDSHAKE_METHOD);
        // A WebSocket handshake must come as an upgrade request, not a plain GET.
        if (transport !== "polling") return this.fail(exchange, EngineErrorCode.BAD_REQUEST);
        const allowed = this.allowed(request);
        // The framing carries the session's protocol.
        const framing = protocol === 4 ? POLLING_V4 : this.framingV3(query);
        // allowed() never rejects; a throw in handshakePolling is caught by handleRequest.
        if (allowed instanceof Promise) return allowed.then((ok) => this.handshakePolling(exchange, ok, framing));
        return this.handshakePolling(exchange, allowed, framing);
      }
      const socket = this.sessions.get(sid);
      if (socket === undefined) {
        if (this.router !== null && transport === "polling" && this.router.isRemote(sid)) return this.router.forward(exchange, sid);
        return this.fail(exchange, EngineErrorCode.UNKNOWN_SID);
      }
      if (transport !== "polling" || !(socket.transport instanceof PollingTransport)) return this.fail(exchange, EngineErrorCode.BAD_REQUEST);
      if (request.method === "GET") socket.transport.onGet(exchange);
      else if (request.method === "POST") return socket.transport.onPost(exchange);
      else this.fail(exchange, EngineErrorCode.BAD_REQUEST);
    } catch (err) {
      this.requestFailed(exchange, err);
    }
  }

  /**
   * An exception while answering a request: logged with the error, answered with the protocol's
   * generic 400 (code 3, "Bad request"). The error's text never reaches the client.
   */
  private requestFailed(exchange: HttpExchange, err: unknown): void {
    this.logger.error("request failed", { err, url: exchange.request.url });
    try {
      this.fail(exchange, EngineErrorCode.BAD_REQUEST);
    } catch {
      // already answered
    }
  }

  /** The Engine.IO revision a request asks for, or null when this server does not speak it. */
  private protocolOf(query: Map<string, string>): EngineProtocol | null {
    const eio = query.get("EIO");
    if (eio === "4") return 4;
    if (eio === "3" && this.options.allowEIO3) return 3;
    return null;
  }

  /** A v3 polling session's framing, from its handshake (as the reference server picks its transport). */
  private framingV3(query: Map<string, string>): PollingFraming {
    const j = query.get("j");
    if (j !== undefined) return jsonpFraming(j);
    return query.has("b64") ? POLLING_V3_BASE64 : POLLING_V3_XHR2;
  }

  private handshakePolling(exchange: HttpExchange, allowed: boolean, framing: PollingFraming): void {
    const request = exchange.request;
    if (!allowed) return this.fail(exchange, EngineErrorCode.FORBIDDEN);
    if (this.closing) return this.fail(exchange, EngineErrorCode.FORBIDDEN, "Server is shutting down");
    const sid = this.newId(request);
    const transport = new PollingTransport(this, framing);
    const socket = new EngineSocket(this, sid, request, transport);
    transport.socket = socket;
    this.sessions.set(sid, socket);
    const body = framing.encode([this.openPacket(sid, "polling", framing.protocol)]);
    const headers: ResponseHeaders = { "Content-Type": framing.contentType(body) };
    corsHeaders(this.options.cors, request, headers);
    this.setCookie(sid, headers);
    exchange.respond(200, headers, body);
    // The handshake's connection may close before the connect handler reads the environ, and
    // adapters read the peer address lazily (then keep it): read it while it is there.
    void request.remoteAddress;
    this.logger.debug("session opened", { sid, transport: "polling" });
    this.openHandler(socket);
  }

  // ---- WebSocket -----------------------------------------------------------------------------

  /**
   * Decides whether a WebSocket upgrade request may proceed; the adapter answers it accordingly.
   * Synchronous unless an asynchronous hook (origin function, allowRequest) is configured.
   */
  prepareUpgrade(request: EngineRequest): UpgradeDecision | Promise<UpgradeDecision> {
    // Never throws, never rejects: an exception (a custom generateId, an adapter's header) is
    // logged and refused with the generic 400, so that no adapter can turn it into an error page.
    const refuse = (err: unknown): UpgradeDecision => {
      this.logger.error("upgrade request failed", { err, url: request.url });
      return upgradeFailure(EngineErrorCode.BAD_REQUEST);
    };
    try {
      const decision = this.decideUpgradeRequest(request);
      return decision instanceof Promise ? decision.catch(refuse) : decision;
    } catch (err) {
      return refuse(err);
    }
  }

  private decideUpgradeRequest(request: EngineRequest): UpgradeDecision | Promise<UpgradeDecision> {
    const query = parseQuery(request.url);
    const protocol = this.protocolOf(query);
    if (protocol === null) return upgradeFailure(EngineErrorCode.UNSUPPORTED_PROTOCOL_VERSION);
    const transport = query.get("transport");
    if (transport !== "websocket" || !this.options.transports.includes("websocket")) return upgradeFailure(EngineErrorCode.UNKNOWN_TRANSPORT);
    const originOk = isOriginAllowed(this.options.cors, request);
    const sid = query.get("sid") ?? null;
    const base64 = protocol === 3 && query.has("b64");
    if (originOk instanceof Promise) return originOk.then((ok) => this.decideUpgrade(request, sid, ok, protocol, base64));
    return this.decideUpgrade(request, sid, originOk, protocol, base64);
  }

  private decideUpgrade(request: EngineRequest, sid: string | null, originOk: boolean, protocol: EngineProtocol, base64: boolean): UpgradeDecision | Promise<UpgradeDecision> {
    if (!originOk) return upgradeFailure(EngineErrorCode.FORBIDDEN);
    if (sid !== null) {
      const socket = this.sessions.get(sid);
      if (socket === undefined) {
        if (this.router !== null && this.options.allowUpgrades && this.router.isRemote(sid)) return this.router.prepareUpgrade(request, sid, protocol, base64);
        return upgradeFailure(EngineErrorCode.UNKNOWN_SID);
      }
      if (!this.options.allowUpgrades || socket.readyState !== "open") return upgradeFailure(EngineErrorCode.BAD_REQUEST);
      // A session that is already upgrading or upgraded still gets its WebSocket handshake, and
      // acceptWebSocket closes that socket at once: the reference server does so, and some clients
      // raise a failed handshake as an unexpected exception where a closed socket is routine.
      return { ok: true, headers: {}, request, sid, newSid: null, protocol: socket.protocol, base64 };
    }
    const allowed = this.allowed(request);
    if (allowed instanceof Promise) return allowed.then((ok) => this.acceptNewUpgrade(request, ok, protocol, base64));
    return this.acceptNewUpgrade(request, allowed, protocol, base64);
  }

  private acceptNewUpgrade(request: EngineRequest, allowed: boolean, protocol: EngineProtocol, base64: boolean): UpgradeDecision {
    if (!allowed) return upgradeFailure(EngineErrorCode.FORBIDDEN);
    if (this.closing) return upgradeFailure(EngineErrorCode.FORBIDDEN, "Server is shutting down");
    const newSid = this.newId(request);
    const headers: ResponseHeaders = {};
    this.setCookie(newSid, headers);
    return { ok: true, headers, request, sid: null, newSid, protocol, base64 };
  }

  /**
   * Binds an accepted WebSocket to the engine. The adapter must call `onFrame` on the returned
   * transport for each message and `onClose` when the socket closes.
   */
  acceptWebSocket(decision: Extract<UpgradeDecision, { ok: true }>, peer: WebSocketPeer): WebSocketTransport {
    const { protocol, base64 } = decision;
    if (decision.relay !== undefined) return decision.relay.accept(peer);
    if (decision.sid !== null) {
      const transport = new WebSocketTransport(this, peer, true, protocol, base64);
      const socket = this.sessions.get(decision.sid);
      // The session may have ended while the upgrade handshake was in flight.
      if (socket === undefined || socket.readyState !== "open" || socket.upgrading || socket.transportName !== "polling") {
        transport.close();
        return transport;
      }
      transport.socket = socket;
      socket.beginUpgrade(transport);
      return transport;
    }
    const sid = decision.newSid!;
    const transport = new WebSocketTransport(this, peer, false, protocol, base64);
    const socket = new EngineSocket(this, sid, decision.request, transport);
    transport.socket = socket;
    this.sessions.set(sid, socket);
    peer.sendFrames([this.openPacket(sid, "websocket", protocol)]);
    this.logger.debug("session opened", { sid, transport: "websocket" });
    this.openHandler(socket);
    return transport;
  }

  /** Closes every session and stops the timers. */
  close(): void {
    this.closing = true;
    for (const socket of [...this.sessions.values()]) socket.close("server shutting down");
    this.flushDirty();
    // Polling sessions still waiting for their last poll keep their grace timer (unref'd, so it does
    // not hold the process): they take the CLOSE packet on that poll or are released when it fires.
    if (this.sessions.size === 0) this.timers.stop();
  }

  // ---- SessionHost -------------------------------------------------------------------------------

  scheduleFlush(socket: EngineSocket): void {
    this.dirty.push(socket);
    // Between beginInline and endInline the write happens at endInline: nothing to schedule.
    if (!this.flushScheduled && this.inlineDepth === 0) {
      this.flushScheduled = true;
      this.schedule(this.runFlush);
    }
  }

  onSessionMessage(socket: EngineSocket, data: string | Uint8Array): void {
    try {
      this.handler.onMessage(socket, data);
    } catch (err) {
      this.logger.error("message handler failed", { sid: socket.id, err });
    }
  }

  onSessionClosed(socket: EngineSocket, reason: CloseReason): void {
    this.logger.debug("session closed", { sid: socket.id, reason });
    try {
      this.handler.onClose(socket, reason);
    } catch (err) {
      this.logger.error("close handler failed", { sid: socket.id, err });
    }
  }

  releaseSession(socket: EngineSocket): void {
    if (this.sessions.get(socket.id) === socket) this.sessions.delete(socket.id);
    if (this.closing && this.sessions.size === 0) this.timers.stop();
  }

  respondError(exchange: HttpExchange, code: EngineErrorCode, message?: string, status = engineErrorStatus(code)): void {
    const headers: ResponseHeaders = { ...JSON_HEADERS };
    corsHeaders(this.options.cors, exchange.request, headers);
    exchange.respond(status, headers, engineErrorBody(code, message));
  }

  respondOk(exchange: HttpExchange): void {
    const headers: ResponseHeaders = { "Content-Type": "text/html; charset=UTF-8" };
    corsHeaders(this.options.cors, exchange.request, headers);
    exchange.respond(200, headers, "ok");
  }

  respondPoll(exchange: HttpExchange, payload: string | Uint8Array, contentType: string): void {
    const headers: ResponseHeaders = { "Content-Type": contentType };
    corsHeaders(this.options.cors, exchange.request, headers);
    const threshold = this.options.compressionThreshold;
    const compressor = this.compressor;
    // A UTF-16 code unit is at most 3 UTF-8 bytes: the exact byte count is checked below.
    if (threshold !== null && compressor !== null && (typeof payload === "string" ? payload.length * 3 : payload.byteLength) >= threshold) {
      const encoding = pickEncoding(exchange.request.header("accept-encoding"));
      if (encoding !== null) {
        const body = typeof payload === "string" ? encoder.encode(payload) : payload;
        if (body.byteLength >= threshold) {
          headers["Content-Encoding"] = encoding;
          compressor.compress(body, encoding).then(
            (compressed) => exchange.respond(200, headers, compressed),
            (err: unknown) => {
              this.logger.warn("compression failed; sending uncompressed", { err });
              delete headers["Content-Encoding"];
              exchange.respond(200, headers, body);
            },
          );
          return;
        }
      }
    }
    exchange.respond(200, headers, payload);
  }

  /**
   * For runtimes that hand each incoming WebSocket message to its own callback (Bun, Deno): call
   * `beginInline()` before passing the message on and `endInline()` after it; what the message
   * caused synchronously (an ack, a reply, a broadcast) is written before the callback returns
   * rather than at the end of the event-loop turn. Bun corks writes made inside its message
   * callback, and the scheduled flush (a setImmediate per message on these runtimes, where
   * messages rarely share a turn) is not needed at all. Work that completes later (an async
   * handler) is flushed the usual way.
   */
  beginInline(): void {
    this.inlineDepth++;
  }

  endInline(): void {
    if (--this.inlineDepth === 0 && this.dirty.length > 0) this.flushDirty();
  }

  // ---- internals ---------------------------------------------------------------------------------

  private flushDirty(): void {
    this.flushScheduled = false;
    const dirty = this.dirty;
    // Sockets queued while flushing (a handler emitting) are flushed in this same pass.
    for (let i = 0; i < dirty.length; i++) {
      try {
        dirty[i]!.flush();
      } catch (err) {
        this.logger.error("flush failed", { sid: dirty[i]!.id, err });
      }
    }
    dirty.length = 0;
  }

  private openHandler(socket: EngineSocket): void {
    try {
      this.handler.onOpen(socket);
    } catch (err) {
      this.logger.error("connection handler failed", { sid: socket.id, err });
    }
  }

  private openPacket(sid: string, transport: "polling" | "websocket", protocol: EngineProtocol): OutPacket {
    // Everything after the sid is the same for every session: built once per transport and protocol.
    const key = transport + protocol;
    let tail = this.openTails.get(key);
    if (tail === undefined) this.openTails.set(key, (tail = this.buildOpenTail(transport, protocol)));
    // Generated sids are base64url; a custom generateId may return anything, so escape it.
    return new OutPacket(PacketType.OPEN, '{"sid":' + JSON.stringify(sid) + tail);
  }

  private buildOpenTail(transport: "polling" | "websocket", protocol: EngineProtocol): string {
    const o = this.options;
    const upgrades = transport === "polling" && o.allowUpgrades && o.transports.includes("websocket") ? ["websocket"] : [];
    // v3 has no maxPayload: its clients do not split their POSTs.
    const open = protocol === 4 ? { upgrades, pingInterval: o.pingInterval, pingTimeout: o.pingTimeout, maxPayload: o.maxHttpBufferSize } : { upgrades, pingInterval: o.pingInterval, pingTimeout: o.pingTimeout };
    return "," + JSON.stringify(open).slice(1);
  }

  private allowed(request: EngineRequest): boolean | Promise<boolean> {
    const hook = this.options.allowRequest;
    if (hook === undefined) return true;
    const refuse = (err: unknown) => {
      this.logger.warn("allowRequest threw; refusing", { err });
      return false;
    };
    try {
      const verdict = hook(request);
      return verdict instanceof Promise ? verdict.then((v) => v === true, refuse) : verdict === true;
    } catch (err) {
      return refuse(err);
    }
  }

  private newId(request: EngineRequest): string {
    const generate = this.options.generateId;
    for (;;) {
      const base = generate ? generate(request) : randomId();
      const id = this.router === null ? base : this.router.prefix + base;
      if (!this.sessions.get(id)) return id;
    }
  }

  private setCookie(sid: string, headers: ResponseHeaders): void {
    const cookie = this.options.cookie;
    if (cookie !== null) headers["Set-Cookie"] = sessionCookieValue(cookie, sid);
  }

  private fail(exchange: HttpExchange, code: EngineErrorCode, message?: string): void {
    this.respondError(exchange, code, message);
  }
}

function upgradeFailure(code: EngineErrorCode, message?: string): UpgradeDecision {
  return { ok: false, status: engineErrorStatus(code), headers: { ...JSON_HEADERS }, body: engineErrorBody(code, message) };
}

function pickEncoding(accept: string | undefined): "gzip" | "deflate" | null {
  if (!accept) return null;
  const lower = accept.toLowerCase();
  if (/\bgzip\b/.test(lower)) return "gzip";
  if (/\bdeflate\b/.test(lower)) return "deflate";
  return null;
}
