// Deno: `Deno.serve` with the fetch handler (src/runtime/fetch.ts); WebSockets are Deno's own
// standard WebSocket from `Deno.upgradeWebSocket(request)` (no `ws`). Glue only.
//
// Not the default on Deno: docs/runtimes.md leads with the Node path (`sio.attach`/`sio.listen`,
// node:http and `ws` through Deno's Node compatibility), which writes a socket's burst of frames
// in one writev. Here every `send` is one frame and one `sendto`, Engine.IO allows one packet per
// frame, and Deno 2.9 exposes no socket under `Deno.upgradeWebSocket` to write pre-built frames to
// (no `Deno.upgradeHttp`): a burst costs about five times the CPU per delivery (docs/performance.md).
//
// What Deno cannot do, checked at start-up or documented in the README:
// - permessage-deflate: Deno's server WebSocket never negotiates it, so `perMessageDeflate` throws.
// - a size limit below Deno's own (64 MiB): an oversized message is refused by the engine once Deno
//   has received it whole (WebSocketTransport.onFrame closes with 1009, reason "transport error").
//
// Deno's types are not a dependency: the few members used are declared structurally below.

import type { EngineServer } from "../engine/server.js";
import type { OutFrame, WebSocketPeer } from "../engine/http.js";
import { engineOf, FetchEngineAdapter, WebSocketBinding, type FetchApp, type FetchHandlerOptions, type FetchRuntime } from "./fetch.js";

/** The members of Deno's `ServeHandlerInfo` that sockjet uses. */
export interface DenoServeHandlerInfo {
  readonly remoteAddr: { readonly hostname: string; readonly port: number };
}

/** The members of `Deno.HttpServer` returned by `serveDeno`. */
export interface DenoHttpServer {
  readonly addr: { readonly hostname: string; readonly port: number };
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
}

interface DenoGlobal {
  upgradeWebSocket(request: Request, options?: { idleTimeout?: number }): { socket: WebSocket; response: Response };
  serve(options: Record<string, unknown>, handler: (request: Request, info: DenoServeHandlerInfo) => Promise<Response>): DenoHttpServer;
}

export interface DenoServeOptions extends FetchHandlerOptions {
  port?: number;
  hostname?: string;
  /** Any other `Deno.serve` option (signal, onListen, cert, key...) is passed through. */
  [option: string]: unknown;
}

const kBinding = Symbol("sockjet.binding");
/**
 * Memory Deno holds per pending WebSocket send beyond its bytes (see
 * StandardWebSocketBinding.bufferedAmount). Measured on Deno 2.9: 0.75 to 1.7 KB, depending on
 * the message size and on what the stalled connection holds besides; the upper end is counted.
 */
const DENO_SEND_OVERHEAD = 2048;
type BoundWebSocket = WebSocket & { [kBinding]: StandardWebSocketBinding };

/**
 * A standard WebSocket (Deno's server side): the engine's binding from the upgrade on, and its
 * peer once open. One object per connection for both roles.
 */
class StandardWebSocketBinding extends WebSocketBinding implements WebSocketPeer {
  ws: WebSocket | null = null;
  readonly frameOverhead = DENO_SEND_OVERHEAD;
  /** Frames and bytes sent so far: their ratio estimates how many sends a backlog is made of. */
  private frames = 0;
  private bytes = 0;

  sendFrames(frames: readonly OutFrame[]): void {
    const ws = this.ws;
    if (ws === null || ws.readyState !== 1) return;
    for (const { frame } of frames) {
      ws.send(frame as string | ArrayBufferView<ArrayBuffer>);
      this.frames++;
      this.bytes += frame.length;
    }
  }

  close(code?: number, reason?: string): void {
    const ws = this.ws;
    if (ws !== null && (ws.readyState === 0 || ws.readyState === 1)) ws.close(code, reason);
  }

  /**
   * Deno's count of bytes not yet written, plus what each pending send costs Deno beyond its bytes
   * (an async op per send, with its copy of the data: a backlog of 100-byte messages costs ten
   * times its bytes or more). Counted, it keeps maxBufferedBytes a bound on memory whatever the
   * message size.
   */
  get bufferedAmount(): number {
    const pending = this.ws?.bufferedAmount ?? 0;
    if (pending === 0 || this.bytes === 0) return pending;
    return pending + Math.ceil((pending * this.frames) / this.bytes) * DENO_SEND_OVERHEAD;
  }
}

// One listener of each kind for all sockets; the binding travels on the socket object.
function onOpen(this: BoundWebSocket): void {
  const binding = this[kBinding];
  binding.open(binding);
}
function onMessage(this: BoundWebSocket, event: Event): void {
  this[kBinding].message((event as MessageEvent<string | ArrayBuffer>).data);
}
function onClose(this: BoundWebSocket): void {
  this[kBinding].closed();
}

function denoGlobal(): DenoGlobal {
  const deno = (globalThis as { Deno?: DenoGlobal }).Deno;
  if (deno === undefined || typeof deno.upgradeWebSocket !== "function") {
    throw new Error("serveDeno()/denoHandler() need the Deno runtime; on Node use sio.attach(server) or an integration, on Bun serveBun()");
  }
  return deno;
}

function denoRuntime(deno: DenoGlobal): FetchRuntime {
  return {
    binding: (engine, decision) => new StandardWebSocketBinding(engine, decision),
    upgrade(request, binding) {
      let upgraded: { socket: WebSocket; response: Response };
      try {
        upgraded = deno.upgradeWebSocket(request);
      } catch {
        return null; // not a valid WebSocket handshake (e.g. no Sec-WebSocket-Key): answered 400
      }
      const { socket, response } = upgraded;
      // Frames arrive as ArrayBuffer (the engine wants bytes, not Blobs).
      socket.binaryType = "arraybuffer";
      const bound = binding as StandardWebSocketBinding;
      bound.ws = socket;
      (socket as BoundWebSocket)[kBinding] = bound;
      socket.addEventListener("open", onOpen);
      socket.addEventListener("message", onMessage);
      socket.addEventListener("close", onClose);
      for (const [name, value] of Object.entries(binding.decision.headers)) {
        for (const item of Array.isArray(value) ? value : [value]) response.headers.append(name, item);
      }
      return response;
    },
  };
}

/** `(request, info) => Response` for `Deno.serve(...)`, Socket.IO with WebSocket included. */
export function denoHandler(source: EngineServer | { readonly engine: EngineServer }, options: FetchHandlerOptions = {}): (request: Request, info: DenoServeHandlerInfo) => Promise<Response> {
  const engine = engineOf(source);
  if (engine.options.perMessageDeflate !== false) {
    throw new Error(
      "perMessageDeflate is not supported on Deno: Deno.upgradeWebSocket() does not negotiate permessage-deflate. " +
        "Remove the option, or serve with Node or Bun.",
    );
  }
  const handle = new FetchEngineAdapter(engine, denoRuntime(denoGlobal())).handler(options);
  // Deno always answers an upgrade with its own Response: never undefined here.
  return (request, info) => handle(request, info) as Promise<Response>;
}

/**
 * Starts `Deno.serve` with Socket.IO on its path, then `staticFiles`, then `app` (any fetch-style
 * app, e.g. Hono's `app.fetch`), then 404. Other options go to `Deno.serve` unchanged.
 */
export function serveDeno(source: EngineServer | { readonly engine: EngineServer }, options: DenoServeOptions = {}): DenoHttpServer {
  const { app, staticFiles, ...rest } = options;
  const handler = denoHandler(source, { app: app as FetchApp | undefined, staticFiles });
  return denoGlobal().serve(rest, handler);
}
