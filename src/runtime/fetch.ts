// Glue between the web-standard fetch model (`Request` in, `Response` out) and the
// runtime-independent engine: the handler that Bun, Deno, Hono and edge runtimes call. Fetch has no
// WebSocket upgrade, so each runtime brings its own through a `FetchRuntime` (src/runtime/bun.ts,
// src/runtime/deno.ts); this file only converts types. Nothing here imports `node:*` eagerly: static
// files load `node:fs` on first use, compression uses CompressionStream.

import type { EngineServer, UpgradeDecision } from "../engine/server.js";
import { EngineErrorCode, engineErrorBody } from "../engine/protocol/errors.js";
import { DetachedRequest, PackedHeaders, shareString, type BodyResult, type EngineRequest, type HttpExchange, type ResponseHeaders, type WebSocketPeer } from "../engine/http.js";
import type { WebSocketTransport } from "../engine/transports/websocket.js";
import type { StaticFiles } from "./static.js";

/**
 * Another fetch-style application (Hono's `app.fetch`, an itty-router, a plain function) that
 * answers everything that is not Socket.IO or a static file. It receives the runtime's extra
 * arguments unchanged (Bun's server, Deno's connection info, @hono/node-server's bindings).
 */
export type FetchApp = (request: Request, ...context: never[]) => Response | Promise<Response>;

export interface FetchHandlerOptions {
  /** Answers requests outside the Socket.IO path and the static files; without it they get 404. */
  app?: FetchApp;
  /** URL path → file, directory or `{ filename, contentType }` (python-socketio's `static_files`). */
  staticFiles?: StaticFiles;
}

/** `(request, ...runtime context) => Response`: what `Deno.serve`, `Bun.serve`, Hono and workers call. */
export type FetchHandler = (request: Request, ...context: unknown[]) => Promise<Response>;

export type AcceptedUpgrade = Extract<UpgradeDecision, { ok: true }>;

/** What a runtime adds to the fetch handler: its WebSocket upgrade and per-request tuning. */
export interface FetchRuntime {
  /**
   * Turns an upgrade request the engine accepted into a WebSocket bound to `binding`. Returns the
   * response to give the runtime (Deno's 101), or undefined when the runtime answers by itself
   * (Bun, after `server.upgrade`); `null` when the upgrade could not be performed.
   */
  upgrade(request: Request, binding: WebSocketBinding, context: readonly unknown[]): Response | undefined | null;
  /** Called for every request on the engine's path before it is handled (Bun lifts its idle timeout for long-polls). */
  onEngineRequest?(request: Request, context: readonly unknown[]): void;
  /** Makes the binding of an accepted upgrade (Bun's is also the peer: one object per connection); default `new WebSocketBinding`. */
  binding?(engine: EngineServer, decision: AcceptedUpgrade): WebSocketBinding;
}

const EMPTY_BODY = new Uint8Array(0);

/** A fetch Request as the engine sees it. */
class FetchRequest implements EngineRequest {
  readonly method: string;
  /** A handshake's plain-data copy, made at once (see the constructor). */
  private copy: DetachedRequest | null = null;
  constructor(
    readonly raw: Request,
    /** Path and query, as the engine expects (`/socket.io/?EIO=4...`). */
    readonly url: string,
    readonly remoteAddress: string,
    readonly secure: boolean,
    handshake: boolean,
  ) {
    this.method = raw.method;
    // A handshake's headers become the session's environ, read by the connect handler after the
    // response has gone, and Deno refuses to read a Request's headers then ("Request closed").
    if (handshake) this.copy = this.detach();
  }
  header(name: string): string | undefined {
    if (this.copy !== null) return this.copy.header(name);
    return this.raw.headers.get(name) ?? undefined;
  }
  /** Plain data only, so that a long-lived session does not keep the Request (see EngineRequest.detach). */
  detach(): DetachedRequest {
    if (this.copy !== null) return this.copy;
    const packer = new PackedHeaders();
    // Headers iterate with lower-case names, repeated ones already joined with ", ".
    this.raw.headers.forEach((value, name) => packer.add(name, value));
    return new DetachedRequest(this.method, this.url, packer, this.remoteAddress, this.secure);
  }
  headers(): Record<string, string> {
    return this.detach().headers();
  }
}

/** One request and the promise of its response; a pending long-poll is simply an unsettled promise. */
class FetchExchange implements HttpExchange {
  readonly response: Promise<Response>;
  private resolve!: (response: Response) => void;
  private settled = false;
  private abortListener: (() => void) | null = null;

  constructor(readonly request: FetchRequest) {
    this.response = new Promise((resolve) => (this.resolve = resolve));
  }

  async readBody(limit: number): Promise<BodyResult> {
    const raw = this.request.raw;
    const declared = Number(raw.headers.get("content-length") ?? NaN);
    const body = raw.body;
    if (Number.isFinite(declared) && declared > limit) {
      body?.cancel().catch(ignore);
      return { ok: false, reason: "too-large" };
    }
    if (body === null) return { ok: true, body: EMPTY_BODY };
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > limit) {
          // Stop the upload; the 413 that follows tells the client why.
          reader.cancel().catch(ignore);
          return { ok: false, reason: "too-large" };
        }
        chunks.push(value);
      }
    } catch {
      return { ok: false, reason: "aborted" };
    }
    if (chunks.length === 1) return { ok: true, body: chunks[0]! };
    const out = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return { ok: true, body: out };
  }

  respond(status: number, headers: ResponseHeaders, body: string | Uint8Array): void {
    if (this.settled) return;
    // A 204 (CORS preflight) must not carry a body, not even an empty one. Built before settling:
    // if the runtime refuses a header, the engine's error answer can still take this exchange.
    const content = status === 204 || body.length === 0 ? null : (body as BodyInit);
    const response = new Response(content, { status, headers: toHeaders(headers) });
    this.settle();
    this.resolve(response);
  }

  onAbort(listener: () => void): void {
    if (this.settled) return;
    const signal = this.request.raw.signal;
    const fire = () => {
      this.abortListener = null;
      if (this.settled) return;
      this.settle();
      listener();
      // Nobody reads it: the client is gone. Settling lets the runtime release the request.
      this.resolve(new Response(null, { status: 400 }));
    };
    if (signal.aborted) {
      queueMicrotask(fire);
      return;
    }
    this.abortListener = fire;
    signal.addEventListener("abort", fire, { once: true });
  }

  private settle(): void {
    this.settled = true;
    // Deno aborts `request.signal` after every successful response (and warns when a listener is
    // still attached then); a long-poll that was answered is no longer interested anyway.
    if (this.abortListener !== null) {
      this.request.raw.signal.removeEventListener("abort", this.abortListener);
      this.abortListener = null;
    }
  }
}

function ignore(): void {}

export function toHeaders(headers: ResponseHeaders): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const item of value) out.append(name, item);
    else out.set(name, value as string);
  }
  return out;
}

/** Path and query of an absolute request URL, without allocating a URL object. */
function pathAndQuery(url: string): string {
  const scheme = url.indexOf("://");
  if (scheme === -1) return url;
  const slash = url.indexOf("/", scheme + 3);
  if (slash !== -1) return url.slice(slash);
  const query = url.indexOf("?", scheme + 3);
  return query === -1 ? "/" : "/" + url.slice(query);
}

function pathOnly(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

/**
 * The client's address from the runtime's per-request context, recognised by shape: Bun passes its
 * Server (`requestIP`), Deno its ServeHandlerInfo (`remoteAddr`), @hono/node-server its bindings
 * (`incoming`). Anything else yields "".
 */
function remoteAddressOf(request: Request, context: readonly unknown[]): string {
  const first = context[0] as
    | {
        requestIP?: (request: Request) => { address: string } | null;
        remoteAddr?: { hostname?: string };
        incoming?: { socket?: { remoteAddress?: string } };
      }
    | null
    | undefined;
  if (first === null || typeof first !== "object") return "";
  if (typeof first.requestIP === "function") return first.requestIP(request)?.address ?? "";
  if (first.remoteAddr?.hostname !== undefined) return first.remoteAddr.hostname;
  return first.incoming?.socket?.remoteAddress ?? "";
}

function isWebSocketUpgrade(request: Request): boolean {
  return request.method === "GET" && request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** gzip/deflate of long-polling responses with the standard CompressionStream, where the runtime has it. */
function streamCompressor(): EngineServer["compressor"] {
  if (typeof CompressionStream !== "function") return null;
  return {
    async compress(body, encoding) {
      const stream = new Blob([body as BlobPart]).stream().pipeThrough(new CompressionStream(encoding));
      return new Uint8Array(await new Response(stream).arrayBuffer());
    },
  };
}

type StaticModule = typeof import("./static.js");
type FsModule = typeof import("node:fs/promises");
let staticModules: Promise<[StaticModule, FsModule]> | null = null;

/** A static file as a Response, or null when the URL is not in the map (python-socketio's `static_files`). */
async function staticResponse(files: StaticFiles, request: Request, path: string): Promise<Response | null> {
  if (request.method !== "GET" && request.method !== "HEAD") return null;
  // Loaded on first use, so that the handler runs where there is no file system until it is needed.
  staticModules ??= Promise.all([import("./static.js"), import("node:fs/promises")]);
  const [{ resolveStatic }, { readFile }] = await staticModules;
  const found = resolveStatic(files, path);
  if (found === null) return null;
  const body = request.method === "HEAD" ? null : ((await readFile(found.filename)) as BodyInit);
  return new Response(body, { status: 200, headers: { "Content-Type": found.contentType } });
}

/** Serves an EngineServer through fetch-style handlers. */
export class FetchEngineAdapter {
  constructor(
    readonly engine: EngineServer,
    private readonly runtime: FetchRuntime | null = null,
  ) {
    engine.compressor ??= streamCompressor();
  }

  /** Does this path belong to the engine? */
  matches(path: string): boolean {
    return path.startsWith(this.engine.options.path);
  }

  /**
   * Serves Socket.IO, then static files, then `app`, then 404 (python-socketio's ASGIApp). Resolves
   * to undefined only when the runtime answered a WebSocket upgrade itself (Bun).
   */
  handler(options: FetchHandlerOptions = {}): (request: Request, ...context: unknown[]) => Promise<Response | undefined> {
    const app = options.app as ((request: Request, ...context: unknown[]) => Response | Promise<Response>) | undefined;
    const staticFiles = options.staticFiles;
    return async (request, ...context) => {
      const url = pathAndQuery(request.url);
      const path = pathOnly(url);
      if (this.matches(path)) return this.handleEngine(request, url, context);
      const pages = this.engine.pages;
      if (pages !== null) {
        // The Admin UI's page when instrument() serves it (see src/engine/pages.ts).
        const page = pages.page(request.method, path);
        if (page !== null) return new Response(request.method === "HEAD" ? null : (page.body as BodyInit), { status: page.status, headers: page.headers });
      }
      if (staticFiles !== undefined) {
        let response: Response | null;
        try {
          response = await staticResponse(staticFiles, request, path);
        } catch (err) {
          // A file that vanished or cannot be read between the lookup and the read. Not passed
          // on: the runtime's default error page would show the error (Bun's, in development,
          // with the file's path and a stack trace).
          this.engine.logger.error("static file failed", { err, path });
          return new Response("Internal Server Error", { status: 500, headers: { "Content-Type": "text/plain" } });
        }
        if (response !== null) return response;
      }
      // The app's own errors are the app's (and its framework's) to answer.
      if (app !== undefined) return app(request, ...context);
      return new Response("Not Found", { status: 404, headers: { "Content-Type": "text/plain" } });
    };
  }

  /**
   * Never rejects: a rejection would reach the runtime's default error handler, and Bun's shows the
   * error's message and stack to the client in development. Failures are logged and answered with
   * the protocol's generic 400 (code 3).
   */
  private handleEngine(request: Request, url: string, context: readonly unknown[]): Promise<Response | undefined> {
    try {
      return this.routeEngine(request, url, context).catch((err: unknown) => this.failed(request, err));
    } catch (err) {
      return Promise.resolve(this.failed(request, err));
    }
  }

  private failed(request: Request, err: unknown): Response {
    this.engine.logger.error("request failed", { err, url: request.url });
    return new Response(engineErrorBody(EngineErrorCode.BAD_REQUEST), { status: 400, headers: { "Content-Type": "application/json" } });
  }

  private routeEngine(request: Request, url: string, context: readonly unknown[]): Promise<Response | undefined> {
    const runtime = this.runtime;
    const handshake = url.indexOf("?sid=") === -1 && url.indexOf("&sid=") === -1;
    const engineRequest = new FetchRequest(request, handshake ? shareString(url) : url, shareString(remoteAddressOf(request, context)), request.url.startsWith("https:"), handshake);
    // Without a runtime upgrade, an upgrade request is an ordinary GET: the engine answers 400
    // (code 3), and polling clients simply stay on polling.
    if (runtime !== null && isWebSocketUpgrade(request)) {
      // Decided in this turn unless an allowRequest/CORS hook is asynchronous.
      const decision = this.engine.prepareUpgrade(engineRequest);
      if (decision instanceof Promise) return decision.then((d) => this.upgrade(runtime, request, d, context));
      return Promise.resolve(this.upgrade(runtime, request, decision, context));
    }
    // Not for upgrades: the WebSocket has its own idle timeout once upgraded.
    runtime?.onEngineRequest?.(request, context);
    const exchange = new FetchExchange(engineRequest);
    void this.engine.handleRequest(exchange);
    return exchange.response;
  }

  private upgrade(runtime: FetchRuntime, request: Request, decision: UpgradeDecision, context: readonly unknown[]): Response | undefined {
    if (!decision.ok) return new Response(decision.body, { status: decision.status, headers: toHeaders(decision.headers) });
    const binding = runtime.binding?.(this.engine, decision) ?? new WebSocketBinding(this.engine, decision);
    const response = runtime.upgrade(request, binding, context);
    if (response === null) return new Response("WebSocket upgrade failed", { status: 400, headers: { "Content-Type": "text/plain" } });
    return response;
  }
}

/**
 * The engine's side of one runtime-native WebSocket (Bun's ServerWebSocket, Deno's WebSocket): the
 * runtime calls `open` once the socket is open, `message` per frame and `closed` once.
 */
export class WebSocketBinding {
  private transport: WebSocketTransport | null = null;
  private _decision: AcceptedUpgrade | null;

  constructor(
    private readonly engine: EngineServer,
    decision: AcceptedUpgrade,
  ) {
    this._decision = decision;
  }

  /** The engine's answer to the upgrade request, until the socket opens (its headers go on the 101). */
  get decision(): AcceptedUpgrade {
    if (this._decision === null) throw new Error("the WebSocket is already open");
    return this._decision;
  }

  open(peer: WebSocketPeer): void {
    const decision = this._decision;
    if (decision === null) return;
    // Not kept: the decision holds the upgrade Request (and its headers), which an idle
    // connection must not (the session keeps a detached copy of what it needs).
    this._decision = null;
    this.transport = this.engine.acceptWebSocket(decision, peer);
  }

  message(data: string | ArrayBuffer | ArrayBufferView): void {
    const transport = this.transport;
    if (transport === null) return;
    const engine = this.engine;
    engine.beginInline();
    try {
      if (typeof data === "string") transport.onFrame(data);
      else if (data instanceof ArrayBuffer) transport.onFrame(new Uint8Array(data));
      else transport.onFrame(data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } finally {
      engine.endInline();
    }
  }

  /** The socket closed. `tooLarge`: the runtime refused a message above maxHttpBufferSize (a transport error, as on Node). */
  closed(tooLarge = false): void {
    const transport = this.transport;
    if (transport === null) return;
    if (tooLarge && transport.socket !== null && !transport.probe) transport.socket.onTransportClose(transport, "transport error");
    transport.onClose();
  }
}

/** permessage-deflate's size threshold (ws's option and default), shared so that every runtime compresses the same messages. */
export function deflateThreshold(option: boolean | Record<string, unknown>): number | null {
  if (option === false) return null;
  const threshold = typeof option === "object" ? option.threshold : undefined;
  return typeof threshold === "number" ? threshold : 1024;
}

/** Accepts a sockjet Server (anything with an `engine`) or a bare EngineServer. */
export function engineOf(source: EngineServer | { readonly engine: EngineServer }): EngineServer {
  return "engine" in source ? source.engine : source;
}
