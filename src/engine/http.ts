// The engine's view of HTTP, independent of any runtime. A runtime adapter (Node's http, a fetch
// handler on Bun or Deno) wraps its native request in these interfaces; transports are written once
// against them.

export interface EngineRequest {
  readonly method: string;
  /** Path and query string as received, e.g. `/socket.io/?EIO=4&transport=polling`. */
  readonly url: string;
  /** A request header by lower-case name; repeated headers joined with ", ". */
  header(name: string): string | undefined;
  /** All headers with lower-case names (built on demand: only the connect handler's environ needs it). */
  headers(): Record<string, string>;
  readonly remoteAddress: string;
  /** Whether the connection is TLS (used for same-origin checks and cookies). */
  readonly secure: boolean;
  /** The runtime's own request object (Node's IncomingMessage, a fetch Request...); undefined once detached. */
  readonly raw: unknown;
  /**
   * A copy holding only plain data (method, url, headers, address), so that a long-lived session
   * does not keep the runtime's request object, its socket references and parser state alive.
   */
  detach?(): EngineRequest;
}

/**
 * A request reduced to plain data (see EngineRequest.detach). Every session keeps one for as long
 * as it lives (the environ of later namespace connects, `getEnviron`), so its headers are kept
 * packed in one string, `name:value\n` per header, rather than as an object of separate strings
 * (fewer objects per idle connection: about 100 bytes less of JS heap per client on Node with a
 * minimal client's headers). `headers()` unpacks a new record on each call; the environ that uses
 * it is built once per connect.
 */
export class DetachedRequest implements EngineRequest {
  private readonly packed: string;
  /** The WebSocket key, the one header that differs on every upgrade: kept apart so that `packed` can be shared. */
  private readonly key: string | undefined;
  readonly url: string;
  readonly remoteAddress: string;
  constructor(
    readonly method: string,
    url: string,
    headers: PackedHeaders | Record<string, string>,
    remoteAddress: string,
    readonly secure: boolean,
  ) {
    const packer = headers instanceof PackedHeaders ? headers : packRecord(headers);
    // Sessions of the same kind of client repeat these exactly: one copy serves them all.
    this.packed = shareString(packer.done());
    this.key = packer.key;
    this.url = shareString(url);
    this.remoteAddress = shareString(remoteAddress);
  }
  /** Always undefined: the runtime's request is not kept (on the prototype, not a field per session). */
  get raw(): undefined {
    return undefined;
  }
  header(name: string): string | undefined {
    if (name === UNIQUE_HEADER && this.key !== undefined) return this.key;
    const packed = this.packed;
    const key = name + ":";
    let at = packed.startsWith(key) ? 0 : packed.indexOf("\n" + key);
    if (at === -1) return undefined;
    if (at > 0) at++;
    const end = packed.indexOf("\n", at);
    return packed.slice(at + key.length, end);
  }
  headers(): Record<string, string> {
    const out: Record<string, string> = {};
    const packed = this.packed;
    for (let at = 0; at < packed.length; ) {
      const end = packed.indexOf("\n", at);
      const colon = packed.indexOf(":", at);
      const name = packed.slice(at, colon);
      // The key's line holds no value: it marks the key's place among the headers.
      setOwn(out, name, name === UNIQUE_HEADER && this.key !== undefined && colon + 1 === end ? this.key : packed.slice(colon + 1, end));
      at = end + 1;
    }
    return out;
  }
  detach(): EngineRequest {
    return this;
  }
}

/**
 * `record[key] = value`, except that a key named `__proto__` (a header or query parameter anyone
 * can send) becomes an own property like any other instead of an assignment to the prototype,
 * which for a string value is silently ignored.
 */
export function setOwn(record: Record<string, string>, key: string, value: string): void {
  if (key === "__proto__") Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}

/** The header whose value is random on every WebSocket upgrade (RFC 6455 §4.1). */
const UNIQUE_HEADER = "sec-websocket-key";

/**
 * Builds a DetachedRequest's header string: add() lower-case names with their joined values. The
 * WebSocket key is kept apart (its line in the string has no value), so that the string is the
 * same for every upgrade of the same kind of client.
 */
export class PackedHeaders {
  private readonly parts: string[] = [];
  /** The value of the first `sec-websocket-key` header; undefined when there was none. */
  key: string | undefined = undefined;
  add(name: string, value: string): void {
    // Neither a name nor (per RFC 9110, enforced by every runtime's parser) a value holds a line
    // break or a name a colon; a value is still cleaned so that a hand-made request cannot break
    // the format.
    const clean = value.includes("\n") ? value.replaceAll("\n", " ") : value;
    if (name === UNIQUE_HEADER && this.key === undefined) {
      this.key = clean;
      this.parts.push(name, ":\n");
    } else this.parts.push(name, ":", clean, "\n");
  }
  /** One flat string (join, unlike repeated `+`, does not leave a rope of the pieces). */
  done(): string {
    return this.parts.join("");
  }
}

function packRecord(record: Record<string, string>): PackedHeaders {
  const packer = new PackedHeaders();
  for (const name in record) packer.add(name.toLowerCase(), record[name]!);
  return packer;
}

/**
 * Strings a session keeps for its life that many sessions repeat exactly (a handshake's URL, its
 * address, its headers but the WebSocket key): one copy each. Bounded: emptied when full, so that
 * unique values only pass through.
 */
const sharedStrings = new Map<string, string>();
const SHARED_MAX = 1024;
const SHARED_MAX_LENGTH = 1024;

export function shareString(value: string): string {
  if (value.length > SHARED_MAX_LENGTH) return value;
  const known = sharedStrings.get(value);
  if (known !== undefined) return known;
  if (sharedStrings.size >= SHARED_MAX) sharedStrings.clear();
  sharedStrings.set(value, value);
  return value;
}

export type BodyResult = { ok: true; body: Uint8Array } | { ok: false; reason: "too-large" | "aborted" };

export type ResponseHeaders = Record<string, string | string[]>;

/** One HTTP request and the means to answer it. */
export interface HttpExchange {
  readonly request: EngineRequest;
  /** Reads the whole body, giving up (and stopping the upload) once it exceeds `limit` bytes. */
  readBody(limit: number): Promise<BodyResult>;
  respond(status: number, headers: ResponseHeaders, body: string | Uint8Array): void;
  /** Called at most once if the client goes away before `respond` (a pending long-poll). */
  onAbort(listener: () => void): void;
}

/** A WebSocket as the engine sees it: frames out, close. Frames in arrive via `WebSocketTransport.onFrame`. */
export interface WebSocketPeer {
  /** Sends frames in order, written together (one syscall where the runtime allows). */
  sendFrames(frames: readonly OutFrame[]): void;
  close(code?: number, reason?: string): void;
  /**
   * Drops the connection at once, without a closing handshake, freeing what is still buffered for
   * it (a client that stopped reading would never answer one). Where absent, `close` is used.
   */
  terminate?(): void;
  /**
   * What the runtime holds per pending frame beyond its bytes, counted by the engine for each queued
   * packet as `bufferedAmount` counts it for each pending frame (Deno: about 1 KB); 0 when absent.
   */
  readonly frameOverhead?: number;
  /**
   * Bytes accepted by `sendFrames` (or by a publish) but not yet handed to the OS; Infinity once the
   * runtime has dropped a frame for this socket (the session then closes with "buffer full").
   */
  readonly bufferedAmount: number;
  /**
   * The capability of runtimes that publish natively to topics (Bun's `server.publish`): present
   * only there, and shared by every peer of the same runtime server. With it come `subscribe` and
   * `unsubscribe`. The Socket.IO layer asks for it; nothing in the engine needs it.
   */
  readonly publisher?: TopicPublisher | null;
  /** Adds this socket to a topic's subscribers (only with `publisher`). */
  subscribe?(topic: string): void;
  /** Removes this socket from a topic's subscribers (only with `publisher`). */
  unsubscribe?(topic: string): void;
}

/**
 * A runtime's native publish: the runtime frames each message once and writes it to every socket
 * subscribed to the topic, all in native code. A publish leaves at once (it does not wait for the
 * engine's per-turn flush), so the caller writes what it queued earlier for a subscriber first.
 */
export interface TopicPublisher {
  /**
   * Sends the frames, in order, to every WebSocket subscribed to `topic` on this runtime server.
   * Returns true when the runtime dropped a frame for some subscriber because that subscriber's
   * backlog was past its limit (maxBufferedBytes): the caller closes those subscribers.
   */
  publish(topic: string, frames: readonly OutFrame[]): boolean;
}

/** What a peer sends: an outgoing packet that caches its encoded forms (see OutPacket). */
export interface OutFrame {
  readonly frame: string | Uint8Array;
  /** A slot where a runtime adapter caches its own wire form of this frame, shared by every recipient. */
  adapterCache: unknown;
}

/** Compression of long-polling responses, supplied by the runtime. */
export interface Compressor {
  compress(body: Uint8Array, encoding: "gzip" | "deflate"): Promise<Uint8Array>;
}

/** Parses only what the engine needs from a query string, without allocating a URL object. */
export function parseQuery(url: string): Map<string, string> {
  const out = new Map<string, string>();
  const q = url.indexOf("?");
  if (q === -1) return out;
  const end = url.indexOf("#", q);
  const query = end === -1 ? url.slice(q + 1) : url.slice(q + 1, end);
  for (const part of query.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const key = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? "" : part.slice(eq + 1);
    out.set(decodeQueryPart(key), decodeQueryPart(value));
  }
  return out;
}

/** `+` is a space and %-escapes are decoded; malformed escapes keep the raw text rather than fail the request. */
function decodeQueryPart(text: string): string {
  // Engine.IO's own parameters (EIO, transport, sid, t) never need decoding: skip the work.
  if (!text.includes("%") && !text.includes("+")) return text;
  const spaced = text.replaceAll("+", " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

export function pathOf(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}
