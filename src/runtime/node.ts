// Glue between Node's http/https servers (plus `ws` for WebSockets) and the runtime-independent
// engine. Everything protocol-related lives in src/engine; this file only converts types.

import { STATUS_CODES, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import type { Socket as NetSocket } from "node:net";
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import { WebSocketServer, type WebSocket } from "ws";
import type { EngineServer, UpgradeDecision } from "../engine/server.js";
import type { BodyResult, EngineRequest, HttpExchange, OutFrame, ResponseHeaders, WebSocketPeer } from "../engine/http.js";
import { DetachedRequest, PackedHeaders, pathOf, setOwn } from "../engine/http.js";
import type { WebSocketTransport } from "../engine/transports/websocket.js";
import { serveStatic, type StaticFiles } from "./static.js";
import { buildFrame, buildTextFrame } from "./ws-frame.js";

export type NodeHttpServer = HttpServer | HttpsServer;
export type NodeRequestListener = (req: IncomingMessage, res: ServerResponse) => void;

const gzip = promisify(zlib.gzip);
const deflate = promisify(zlib.deflate);

class NodeRequest implements EngineRequest {
  private _headers: Record<string, string> | null = null;
  private _remoteAddress: string | undefined = undefined;
  constructor(readonly raw: IncomingMessage) {}
  /**
   * Read on first use and kept: the socket's address is gone once the connection closes (the
   * engine reads it at a polling handshake for that reason). getpeername is a syscall, so
   * requests that never need it (every later poll) do not pay for it.
   */
  get remoteAddress(): string {
    return (this._remoteAddress ??= this.raw.socket.remoteAddress ?? "");
  }
  get method(): string {
    return this.raw.method ?? "GET";
  }
  get url(): string {
    return this.raw.url ?? "/";
  }
  get secure(): boolean {
    return (this.raw.socket as { encrypted?: boolean }).encrypted === true;
  }
  header(name: string): string | undefined {
    const value = this.raw.headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  }
  detach(): EngineRequest {
    const packer = new PackedHeaders();
    const raw = this.raw.headers;
    for (const name in raw) {
      const value = raw[name];
      if (value !== undefined) packer.add(name, Array.isArray(value) ? value.join(", ") : value);
    }
    return new DetachedRequest(this.method, this.url, packer, this.remoteAddress, this.secure);
  }
  headers(): Record<string, string> {
    if (this._headers === null) {
      const out: Record<string, string> = {};
      for (const [key, value] of Object.entries(this.raw.headers)) {
        if (value !== undefined) setOwn(out, key, Array.isArray(value) ? value.join(", ") : value);
      }
      this._headers = out;
    }
    return this._headers;
  }
}

/** A request and its response; it is its own request (one object fewer per pending long-poll). */
class NodeExchange extends NodeRequest implements HttpExchange {
  constructor(
    req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    super(req);
  }

  get request(): NodeRequest {
    return this;
  }

  readBody(limit: number): Promise<BodyResult> {
    const req = this.raw;
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      this.stopUpload();
      return Promise.resolve({ ok: false, reason: "too-large" });
    }
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      const finish = (result: BodyResult) => {
        if (done) return;
        done = true;
        req.off("data", onData).off("end", onEnd).off("error", onAbort).off("aborted", onAbort);
        resolve(result);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          this.stopUpload();
          finish({ ok: false, reason: "too-large" });
        } else chunks.push(chunk);
      };
      const onEnd = () => finish({ ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
      const onAbort = () => finish({ ok: false, reason: "aborted" });
      req.on("data", onData).on("end", onEnd).on("error", onAbort).on("aborted", onAbort);
    });
  }

  /** Stops reading an oversized upload: the response will say why, then the connection closes. */
  private stopUpload(): void {
    this.res.shouldKeepAlive = false;
    this.raw.pause();
  }

  respond(status: number, headers: ResponseHeaders, body: string | Uint8Array): void {
    const res = this.res;
    if (res.headersSent || res.writableEnded) return;
    res.writeHead(status, headers);
    res.end(body);
    if (!res.shouldKeepAlive) res.once("finish", () => this.raw.socket.destroySoon?.());
  }

  onAbort(listener: () => void): void {
    // One shared listener, the callback on the response: a pending long-poll holds no closure and
    // no once() wrapper of its own (about 200 bytes of JS heap per polling session).
    const res = this.res as TaggedResponse;
    res[kAbortListener] = listener;
    res.on("close", onResponseClose);
  }
}

const kAbortListener = Symbol("sockjet.abortListener");
type TaggedResponse = ServerResponse & { [kAbortListener]?: (() => void) | undefined };

/** A response closed: the client went away unless it was answered (HttpExchange.onAbort). */
function onResponseClose(this: TaggedResponse): void {
  const listener = this[kAbortListener];
  if (listener === undefined) return;
  this[kAbortListener] = undefined;
  if (!this.writableEnded) listener();
}

/** The Node adapter's cached wire form of an outgoing packet: its complete WebSocket frame. */
class NodeFrame {
  constructor(readonly bytes: Buffer) {}
}

/** The complete frame of a packet, built on first use and shared by every recipient. */
function nodeFrame(frame: OutFrame): Buffer {
  const cached = frame.adapterCache;
  if (cached instanceof NodeFrame) return cached.bytes;
  const data = frame.frame;
  const built = new NodeFrame(typeof data === "string" ? buildTextFrame(data) : buildFrame(data, true));
  frame.adapterCache = built;
  return built.bytes;
}

/** Each frame through ws.send (permessage-deflate compresses per socket). */
function sendEach(ws: WebSocket, frames: readonly OutFrame[], compress: boolean): void {
  for (const frame of frames) {
    const data = frame.frame;
    ws.send(data, { binary: typeof data !== "string", compress });
  }
}

/** A WebSocket from `ws`, seen as the engine's peer (no permessage-deflate: see CompressingNodePeer). */
class NodeWebSocketPeer implements WebSocketPeer {
  constructor(protected readonly ws: WebSocket) {}

  sendFrames(frames: readonly OutFrame[]): void {
    const ws = this.ws;
    if (ws.readyState !== 1) return;
    const raw = (ws as unknown as { _socket?: NetSocket })._socket;
    if (raw === undefined) {
      sendEach(ws, frames, false);
      return;
    }
    // Without permessage-deflate a frame is the same bytes for every recipient: build it once per
    // packet (cached on the packet) and write it straight to the TCP socket. ws itself only writes
    // whole control frames (pong, close), so frames never interleave. Corking makes everything
    // queued for this socket in this turn leave in one writev.
    if (frames.length === 1) {
      raw.write(nodeFrame(frames[0]!)); // one frame: one write, no cork bookkeeping
      return;
    }
    raw.cork();
    for (const frame of frames) raw.write(nodeFrame(frame));
    raw.uncork();
  }

  close(code?: number, reason?: string): void {
    if (this.ws.readyState === 0 || this.ws.readyState === 1) this.ws.close(code, reason);
  }

  /** ws's close() would keep the backlog for its 30 s close timeout: destroy the TCP socket now. */
  terminate(): void {
    this.ws.terminate();
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
}

/** The peer when the server has permessage-deflate on: a subclass rather than a flag per socket. */
class CompressingNodePeer extends NodeWebSocketPeer {
  override sendFrames(frames: readonly OutFrame[]): void {
    if (this.ws.readyState === 1) sendEach(this.ws, frames, true);
  }
}

const kTransport = Symbol("sockjet.transport");
const kUpgradeHeaders = Symbol("sockjet.upgradeHeaders");
type TaggedWebSocket = WebSocket & { [kTransport]?: WebSocketTransport };
type TaggedRequest = IncomingMessage & { [kUpgradeHeaders]?: ResponseHeaders };

// One listener function for all sockets; the transport travels on the socket object.
function onWsMessage(this: TaggedWebSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  this[kTransport]?.onFrame(isBinary ? bytes : bytes.toString("utf8"));
}
function onWsClose(this: TaggedWebSocket): void {
  this[kTransport]?.onClose();
}
function onWsError(this: TaggedWebSocket, err: Error & { code?: string }): void {
  // `close` follows every error; the engine learns about it there. An oversized message (refused
  // by ws's maxPayload before the engine sees it) is a transport error, as in WebSocketTransport.onFrame.
  const transport = this[kTransport];
  if (err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH" && transport?.socket && !transport.probe) {
    transport.socket.onTransportClose(transport, "transport error");
  }
}
function ignoreSocketError(): void {}

export interface NodeAdapterOptions {
  /** Extra static files served by `handler()` (the counterpart of python-socketio's WSGIApp `static_files`). */
  staticFiles?: StaticFiles;
}

/** Serves an EngineServer on Node's http/https servers. */
export class NodeEngineAdapter {
  // Private, so that the published declarations do not import `ws`'s types (its @types/ws is a devDependency).
  private readonly wss: WebSocketServer;
  private readonly compress: boolean;

  constructor(readonly engine: EngineServer) {
    const options = engine.options;
    this.compress = options.perMessageDeflate !== false;
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: options.maxHttpBufferSize,
      perMessageDeflate: options.perMessageDeflate,
    });
    this.wss.on("headers", (headers: string[], req: TaggedRequest) => {
      const extra = req[kUpgradeHeaders];
      if (extra) for (const [k, v] of Object.entries(extra)) for (const item of Array.isArray(v) ? v : [v]) headers.push(`${k}: ${item}`);
    });
    engine.compressor = {
      compress: (body, encoding) => (encoding === "gzip" ? gzip(body) : deflate(body)),
    };
  }

  /** Does this URL belong to the engine? */
  matches(url: string | undefined): boolean {
    return url !== undefined && pathOf(url).startsWith(this.engine.options.path);
  }

  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    void this.engine.handleRequest(new NodeExchange(req, res));
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", ignoreSocketError);
    const request = new NodeRequest(req);
    // prepareUpgrade never throws nor rejects (it answers 400 itself).
    const decision = this.engine.prepareUpgrade(request);
    if (decision instanceof Promise) void decision.then((d) => this.completeUpgrade(req, socket, head, d));
    else this.completeUpgrade(req, socket, head, decision);
  }

  /**
   * Never throws: this runs in the server's `upgrade` listener (a throw there ends the process) or
   * in a promise continuation (an unhandled rejection, the same). A failure is logged and the
   * socket closed without the error's text.
   */
  private completeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, decision: UpgradeDecision): void {
    try {
      this.performUpgrade(req, socket, head, decision);
    } catch (err) {
      this.engine.logger.error("upgrade failed", { err, url: req.url });
      if (!socket.destroyed) socket.destroy();
    }
  }

  private performUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, decision: UpgradeDecision): void {
    if (socket.destroyed) return;
    if (!decision.ok) {
      rejectUpgrade(socket, decision.status, decision.headers, decision.body);
      return;
    }
    (req as TaggedRequest)[kUpgradeHeaders] = decision.headers;
    // ws writes the 101 response and calls back synchronously; corked, the response and the
    // engine's open packet leave in one write.
    socket.cork();
    this.wss.handleUpgrade(req, socket, head, (ws: TaggedWebSocket) => {
      socket.off("error", ignoreSocketError);
      ws.on("message", onWsMessage);
      ws.on("close", onWsClose);
      ws.on("error", onWsError);
      ws[kTransport] = this.engine.acceptWebSocket(decision, this.compress ? new CompressingNodePeer(ws) : new NodeWebSocketPeer(ws));
    });
    socket.uncork();
  }

  /**
   * Takes over the engine's path on an http/https server: requests to it are answered here, all
   * others go to the listeners the server already had.
   */
  attach(server: NodeHttpServer): void {
    const previous = server.listeners("request") as NodeRequestListener[];
    server.removeAllListeners("request");
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      if (this.matches(req.url)) return this.handleRequest(req, res);
      if (this.engine.pages !== null && this.servePage(req, res)) return;
      if (previous.length === 0) {
        res.writeHead(404, { "Content-Type": "text/plain" }).end("Not Found");
        return;
      }
      for (const listener of previous) listener.call(server, req, res);
    });
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.matches(req.url)) this.handleUpgrade(req, socket, head);
      else if (server.listenerCount("upgrade") === 1) rejectUpgrade(socket, 404, {}, "");
    });
  }

  /**
   * A request listener that serves the engine, then static files, then `app`, then 404: the
   * counterpart of python-socketio's WSGIApp. Its `upgrade` property handles WebSocket upgrades.
   */
  handler(app?: NodeRequestListener, options: NodeAdapterOptions = {}): NodeRequestListener & { upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void } {
    const staticFiles = options.staticFiles;
    const listener = (req: IncomingMessage, res: ServerResponse) => {
      if (this.matches(req.url)) return this.handleRequest(req, res);
      if (this.engine.pages !== null && this.servePage(req, res)) return;
      if (staticFiles && serveStatic(staticFiles, req, res)) return;
      if (app) return app(req, res);
      res.writeHead(404, { "Content-Type": "text/plain" }).end("Not Found");
    };
    const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.matches(req.url)) this.handleUpgrade(req, socket, head);
      else rejectUpgrade(socket, 404, {}, "");
    };
    return Object.assign(listener, { upgrade });
  }

  /** A page of the engine's page source (the Admin UI's, see instrument()); false when the path is not one. */
  private servePage(req: IncomingMessage, res: ServerResponse): boolean {
    const page = this.engine.pages!.page(req.method ?? "GET", pathOf(req.url ?? "/"));
    if (page === null) return false;
    res.writeHead(page.status, page.headers);
    res.end(req.method === "HEAD" ? undefined : page.body);
    return true;
  }

  close(): void {
    this.wss.close();
  }
}

function rejectUpgrade(socket: Duplex, status: number, headers: ResponseHeaders, body: string): void {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  for (const [k, v] of Object.entries(headers)) for (const item of Array.isArray(v) ? v : [v]) head += `${k}: ${item}\r\n`;
  socket.end(head + "\r\n" + body);
}
