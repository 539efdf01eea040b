import type { EngineRequest } from "./http.js";
import type { Clock } from "./timers.js";
import { resolveSessionCookie, type SessionCookie } from "./cookie.js";

export type TransportName = "polling" | "websocket";

/** The Engine.IO protocol revisions the server speaks: 4, and 3 with `allowEIO3`. */
export type EngineProtocol = 3 | 4;

/** Decides whether a cross-origin request may proceed. */
export type OriginCheck = (origin: string, request: EngineRequest) => boolean | Promise<boolean>;

export interface CorsOptions {
  /**
   * Allowed origins. `"*"` or `true` allows any origin; a string, RegExp or a list of them allows
   * those; a function decides per request. Without `cors`, only same-origin requests (and requests
   * with no Origin header, i.e. non-browser clients) are accepted, as python-engineio does.
   * Strings match exactly. A RegExp matches anywhere in the origin unless anchored, as in the
   * `cors` package: `/example\.com/` also allows `https://example.com.evil.test`, so write
   * `/^https:\/\/([a-z0-9-]+\.)?example\.com$/`. A function allows with `true` (or a promise of
   * it) only; anything else, a throw or a rejection refuses.
   */
  origin?: boolean | "*" | string | RegExp | readonly (string | RegExp)[] | OriginCheck;
  /** Send `Access-Control-Allow-Credentials: true` (cookies, HTTP auth). */
  credentials?: boolean;
  /** Preflight `Access-Control-Allow-Methods` (default `GET,HEAD,PUT,PATCH,POST,DELETE`, as the reference server). */
  methods?: readonly string[];
  /** Preflight `Access-Control-Allow-Headers` (default: echo the request's). */
  allowedHeaders?: readonly string[];
  exposedHeaders?: readonly string[];
  /** Preflight cache lifetime in seconds. */
  maxAge?: number;
}

/**
 * The session cookie set on the handshake (engine.io's `cookie` option). Checked when the server is
 * made: a name, path or domain that cannot be written in a Set-Cookie header is a TypeError.
 */
export interface CookieOptions {
  /** Default `"io"`. */
  name?: string;
  /** Default `"/"`; `""` leaves the attribute out. */
  path?: string;
  /** Default true: page scripts cannot read the cookie. */
  httpOnly?: boolean;
  /** Default `"lax"`. `"none"` implies `secure` (browsers drop SameSite=None without it); with `secure: false` it is a RangeError. */
  sameSite?: "lax" | "strict" | "none";
  /** Default false, or true with `sameSite: "none"`. */
  secure?: boolean;
  /** Seconds (Max-Age); default none, a cookie for the browser session. */
  maxAge?: number;
  /** Default none (the cookie goes back only to the host that set it). */
  domain?: string;
}

export interface CompressionOptions {
  /** Responses smaller than this many bytes are sent uncompressed (default 1024). */
  threshold?: number;
}

export interface EngineOptions {
  /** URL path the engine answers on (default `/socket.io/`). */
  path?: string;
  /** Milliseconds between server pings (default 25000). */
  pingInterval?: number;
  /** Milliseconds to wait for a pong before closing (default 20000). */
  pingTimeout?: number;
  /** Milliseconds a WebSocket upgrade may take before the probe is dropped (default 10000). */
  upgradeTimeout?: number;
  /** Largest accepted POST body or WebSocket message, in bytes (default 1e6). Also sent to clients as `maxPayload`. */
  maxHttpBufferSize?: number;
  /**
   * Most packets one long-polling POST may carry (default 10000). A POST with more is answered 400
   * (code 3) and its session is closed with reason `"parse error"`. It bounds the work one request
   * causes (each packet is decoded and dispatched before the next request is read), which the byte
   * limit alone does not: a 1 MB body holds up to 500,000 two-byte packets.
   *
   * Real clients stay far below it. A v4 client sends in one POST everything it queued while its
   * previous POST was in flight (and what it buffered while disconnected), split so that no POST
   * exceeds `maxPayload` bytes: a few packets per round trip for an interactive app, hundreds for a
   * client streaming many small messages on a slow link (python-engineio's limit of 16 per payload
   * had to be raised to 50-128 by such applications). Ten thousand leaves two orders of magnitude
   * of headroom; raise it for clients that queue more than that many messages at a time (e.g. a
   * loop of synchronous emits over long-polling, or a long offline queue). WebSocket messages are
   * not batched and not counted.
   */
  maxPayloadPackets?: number;
  /**
   * Largest amount of data, in bytes, that may wait to be sent to one client (queued by the engine
   * plus accepted by the runtime but not yet written to the OS). A client whose backlog would pass
   * it is disconnected with reason `"buffer full"` (default 1 MiB); it never holds more than this
   * plus one message. A long-polling client that stops polling is held to it too, until its ping
   * timeout ends the session.
   *
   * Why 1 MiB: it is what the server holds in user space, on top of the kernel's socket buffers
   * (several MB on Linux: tcp_wmem up to 4 MiB, plus the client's receive window), so a client
   * behind a slow link keeps several MB of slack before it is cut off, and a poller survives a
   * burst of 1 MiB between two polls. Bun and Deno hold a copy per client (Deno about 1.7 times the
   * bytes), so a limit of 1 MiB keeps one slow reader under 2 MB on every runtime
   * (docs/reliability/slow-readers.md). Raise it for clients that must absorb larger bursts.
   */
  maxBufferedBytes?: number;
  /** Transports clients may use (default both). */
  transports?: readonly TransportName[];
  /**
   * Accept Engine.IO v3 clients (socket.io-client 1.x and 2.x, and other clients of that
   * generation) beside v4 clients on the same path (default false, as in socket.io). Off, their
   * requests get 400 `{"code":5,"message":"Unsupported protocol version"}`.
   */
  allowEIO3?: boolean;
  /** Allow polling → WebSocket upgrades (default true). */
  allowUpgrades?: boolean;
  /** gzip/deflate for long-polling responses (default on, threshold 1024 bytes); `false` to disable. */
  httpCompression?: boolean | CompressionOptions;
  /** WebSocket permessage-deflate (default off: it costs CPU and memory per connection). Passed to the runtime's WebSocket server. */
  perMessageDeflate?: boolean | Record<string, unknown>;
  /** Set a session cookie on the handshake (default off). `true` means `io`, path `/`, HttpOnly, SameSite=Lax. */
  cookie?: boolean | CookieOptions;
  /** Cross-origin policy, applied to HTTP requests and to WebSocket upgrades alike. */
  cors?: CorsOptions;
  /** Accept or refuse a new connection (handshake); refusal answers 403 `{"code":4,"message":"Forbidden"}`. */
  allowRequest?: (request: EngineRequest) => boolean | Promise<boolean>;
  /** Session ID generator (default: 15 cryptographically random bytes, base64url). */
  generateId?: (request: EngineRequest) => string;
  /** Injected clock for timers (tests). */
  clock?: Clock;
}

export interface ResolvedEngineOptions {
  path: string;
  pingInterval: number;
  pingTimeout: number;
  upgradeTimeout: number;
  maxHttpBufferSize: number;
  maxPayloadPackets: number;
  maxBufferedBytes: number;
  transports: readonly TransportName[];
  allowEIO3: boolean;
  allowUpgrades: boolean;
  compressionThreshold: number | null;
  perMessageDeflate: boolean | Record<string, unknown>;
  /** The session cookie's name and serialised attributes; null when off. */
  cookie: SessionCookie | null;
  cors: CorsOptions | null;
  allowRequest: EngineOptions["allowRequest"];
  generateId: EngineOptions["generateId"];
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

export function resolveEngineOptions(options: EngineOptions = {}): ResolvedEngineOptions {
  let path = options.path ?? "/socket.io/";
  if (!path.startsWith("/")) path = "/" + path;
  if (!path.endsWith("/")) path += "/";
  const transports = options.transports ?? ["polling", "websocket"];
  if (transports.length === 0 || transports.some((t) => t !== "polling" && t !== "websocket")) {
    throw new RangeError(`transports must list "polling" and/or "websocket"`);
  }
  const compression = options.httpCompression ?? true;
  return {
    path,
    pingInterval: positive("pingInterval", options.pingInterval, 25_000),
    pingTimeout: positive("pingTimeout", options.pingTimeout, 20_000),
    upgradeTimeout: positive("upgradeTimeout", options.upgradeTimeout, 10_000),
    maxHttpBufferSize: positive("maxHttpBufferSize", options.maxHttpBufferSize, 1_000_000),
    maxPayloadPackets: positiveInteger("maxPayloadPackets", options.maxPayloadPackets, 10_000),
    maxBufferedBytes: positive("maxBufferedBytes", options.maxBufferedBytes, 1024 * 1024),
    transports,
    allowEIO3: options.allowEIO3 ?? false,
    allowUpgrades: options.allowUpgrades ?? true,
    compressionThreshold: compression === false ? null : typeof compression === "object" ? (compression.threshold ?? 1024) : 1024,
    perMessageDeflate: options.perMessageDeflate ?? false,
    cookie: resolveSessionCookie(options.cookie),
    cors: options.cors ?? null,
    allowRequest: options.allowRequest,
    generateId: options.generateId,
  };
}
