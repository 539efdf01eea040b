// socket.io-client 2.x (Engine.IO v3, Socket.IO protocol v4) for the tests, with the narrow types
// the tests use: the package (the devDependency alias socket.io-client-v2) has no TypeScript types.
// Also its reference codecs, engine.io-parser 2 and socket.io-parser 3, for raw v3 requests.
//
// In Node the v2 client cannot do XHR2 (its XMLHttpRequest has no `responseType`), so its
// long-polling always asks for base64 (`b64=1`), forceBase64 or not; the binary (XHR2) polling
// framing that browsers use is exercised with the reference codecs instead.

import { createRequire } from "node:module";

type Listener = (...args: never[]) => void;

/** What the tests pass to `ioV2` (or to `manager.socket` for `query`). */
export interface V2Options {
  transports?: Array<"polling" | "websocket">;
  forceBase64?: boolean;
  /** The handshake's query (the auth of "/"), and the namespace connect's query (`0/nsp?query,`). */
  query?: Record<string, string>;
  forceNew?: boolean;
  reconnection?: boolean;
}

export interface V2Engine {
  readonly id: string;
  readonly readyState: string;
  readonly transport: { readonly name: string; readonly query: Readonly<Record<string, unknown>> };
  once(event: "upgrade", listener: () => void): unknown;
}

export interface V2Manager {
  readonly engine: V2Engine;
  /** The socket of another namespace on the same connection (cached by namespace). */
  socket(namespace: string, options?: Pick<V2Options, "query">): V2Socket;
}

export interface V2Socket {
  readonly connected: boolean;
  readonly nsp: string;
  readonly io: V2Manager;
  on(event: string, listener: Listener): V2Socket;
  once(event: string, listener: Listener): V2Socket;
  /** An event; a function as the last argument asks for an acknowledgement. */
  emit(event: string, ...args: unknown[]): V2Socket;
  close(): V2Socket;
}

const require = createRequire(import.meta.url);
const V2_ENTRY = require.resolve("socket.io-client-v2");
const fromV2 = createRequire(V2_ENTRY);

export const ioV2 = require("socket.io-client-v2") as (url: string, options?: V2Options) => V2Socket;

/** engine.io-parser 2 (the v3 packet and payload codec), as socket.io-client 2 uses it. */
export interface EngineParserV2 {
  encodePayloadAsBinary(packets: Array<{ type: "message"; data: string | Buffer }>, callback: (payload: Buffer) => void): void;
  decodePayload(data: string | Buffer, callback: (packet: { type: string; data?: string | Buffer }, index: number, total: number) => boolean | void): void;
}

export const engineParserV2 = fromV2("engine.io-parser") as EngineParserV2;

export interface SocketPacketV2 {
  type: number;
  nsp: string;
  id?: number;
  data?: unknown;
}

/** socket.io-parser 3 (Socket.IO protocol v4). */
export interface SocketParserV2 {
  readonly BINARY_EVENT: number;
  readonly BINARY_ACK: number;
  Encoder: new () => { encode(packet: SocketPacketV2, callback: (encoded: Array<string | Buffer>) => void): void };
  Decoder: new () => { add(chunk: string | Buffer): void; on(event: "decoded", listener: (packet: SocketPacketV2) => void): unknown };
}

export const socketParserV2 = fromV2("socket.io-parser") as SocketParserV2;

/** Resolves on the socket's (namespace's) connect; rejects on an "error" or "connect_error" first. */
export function v2Connected(socket: V2Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once("connect", () => resolve());
    socket.once("error", (data: unknown) => reject(new Error(`refused: ${JSON.stringify(data)}`)));
    socket.once("connect_error", (err: Error) => reject(err));
  });
}

/** Resolves once the connection is on WebSocket (after an upgrade from polling). */
export function v2Upgraded(socket: V2Socket): Promise<void> {
  const engine = socket.io.engine;
  return new Promise((resolve) => {
    if (engine.transport.name === "websocket") return resolve();
    engine.once("upgrade", () => resolve());
  });
}

/** Resolves with the data of the namespace's refusal ("error" event); rejects if it connects instead. */
export function v2Refusal(socket: V2Socket): Promise<unknown> {
  return new Promise((resolve, reject) => {
    socket.once("error", (data: unknown) => resolve(data));
    socket.once("connect", () => reject(new Error(`${socket.nsp} connected, but a refusal was expected`)));
  });
}

/** The next occurrence of an event, with its arguments. */
export function v2Next(socket: V2Socket, event: string): Promise<unknown[]> {
  return new Promise((resolve) => socket.once(event, (...values: unknown[]) => resolve(values)));
}

/** Every occurrence of an event from now on (its argument lists, in order). */
export function v2Record(socket: V2Socket, event: string): unknown[][] {
  const seen: unknown[][] = [];
  socket.on(event, (...values: unknown[]) => void seen.push(values));
  return seen;
}

/** Emits with an acknowledgement callback and resolves with all the ack arguments. */
export function v2EmitAck(socket: V2Socket, event: string, ...args: unknown[]): Promise<unknown[]> {
  return new Promise((resolve) => socket.emit(event, ...args, (...reply: unknown[]) => resolve(reply)));
}
