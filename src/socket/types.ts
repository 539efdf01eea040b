import type { Args } from "./args.js";
import type { EngineServerOptions } from "../engine/server.js";
import type { JsonCodec } from "./protocol/packet.js";
import type { ClientManager } from "../manager/manager.js";
import type { ConnectionStateRecoveryOptions } from "./recovery.js";

/** What the `connect` handler learns about the request that opened the connection (python-socketio's `environ`). */
export interface Environ {
  method: string;
  /** Path and query string. */
  url: string;
  path: string;
  query: Record<string, string>;
  /** Lower-case header names. */
  headers: Record<string, string>;
  remoteAddress: string;
  secure: boolean;
  /** The transport of the first request ("polling" or "websocket"). */
  transport: "polling" | "websocket";
  /** The runtime's own request object (Node's IncomingMessage...). */
  raw: unknown;
}

/** Why a client left a namespace, as passed to `disconnect` handlers (documented in the README). */
export const DISCONNECT_REASONS = [
  "client disconnect",
  "server disconnect",
  "ping timeout",
  "transport close",
  "transport error",
  "parse error",
  "buffer full",
  "server shutting down",
] as const;
export type DisconnectReason = (typeof DISCONNECT_REASONS)[number];

/**
 * Typed events: a map from event name to the tuple of arguments it carries, e.g.
 * `{ "chat message": [text: string]; move: [x: number, y: number] }`.
 */
export type EventsMap = { [event: string]: readonly unknown[] };
/** The default: every event name, every argument list. */
export type DefaultEvents = { [event: string]: unknown[] };

/** How typed arguments are passed as the single `data` parameter of emit: none, one, or Args. */
export type EventData<A extends readonly unknown[]> = A extends readonly []
  ? undefined
  : A extends readonly [infer Only]
    ? Only
    : number extends A["length"]
      ? unknown
      : Args<A>;

// Handler types use method syntax so that a handler declaring narrower parameter types
// (`(sid: string, text: string) => ...`) is accepted where the default map says `unknown[]`
// (method parameters are checked bivariantly; function-typed properties are not).
type Bivariant<F extends (...a: never[]) => unknown> = { bivarianceHack(...a: Parameters<F>): ReturnType<F> }["bivarianceHack"];

export type HandlerResult = unknown;
export type EventHandler<A extends readonly unknown[] = unknown[]> = Bivariant<(sid: string, ...args: A) => HandlerResult>;
/** What the connect handler learns besides the request and the auth (its fourth argument). */
export interface ConnectInfo {
  /**
   * The client came back within `connectionStateRecovery`'s window: same sid, its rooms and
   * session restored, and the events it missed are on their way (socket.io's `socket.recovered`).
   * Always false without the option.
   */
  recovered: boolean;
}

/** Return `false` (or a promise of it) or throw ConnectionRefusedError to refuse the connection. */
export type ConnectHandler = Bivariant<(sid: string, environ: Environ, auth: unknown, info: ConnectInfo) => HandlerResult>;
export type DisconnectHandler = Bivariant<(sid: string, reason: DisconnectReason) => HandlerResult>;
/** `on("*", ...)`: every event without a handler of its own; receives the event name first. */
export type CatchAllHandler = Bivariant<(event: string, sid: string, ...args: unknown[]) => HandlerResult>;
/** Handlers registered for namespace "*" receive the namespace before the sid (after the event name for "*"). */
export type AnyNamespaceHandler = Bivariant<(...args: unknown[]) => HandlerResult>;

export type AckCallback = Bivariant<(...args: unknown[]) => void>;

export interface EmitOptions {
  /** A sid or room, or several: the message goes to the union of them. Default: everyone in the namespace. */
  to?: string | readonly string[];
  /** Alias of `to` (python-socketio has both). */
  room?: string | readonly string[];
  /** Sids that must not receive it (e.g. the sender). */
  skipSid?: string | readonly string[];
  /** Default "/". */
  namespace?: string;
  /**
   * Called with the client's acknowledgement arguments. Sent to several clients, it is called once
   * per client that answers.
   */
  callback?: AckCallback;
}

export interface DisconnectOptions {
  /**
   * Close the client's whole connection: it leaves every namespace it joined (each receives a
   * DISCONNECT packet), then its Engine.IO session and transport close (socket.io's
   * `socket.disconnect(true)`). Default false: only the given namespace.
   */
  close?: boolean;
}

export interface CallOptions {
  /** The sid to call (required). */
  to: string;
  namespace?: string;
  /** Milliseconds to wait for the acknowledgement (default 60000, as python-socketio). */
  timeout?: number;
}

/** Options of the cluster-wide queries (fetchRooms, fetchParticipants, allRooms, serverSideEmitWithAck). */
export interface ClusterQueryOptions {
  /** Milliseconds to wait for every other server's answer (default: the manager's `queryTimeout`, 5000). */
  timeout?: number;
}

/** Which sockets `fetchSockets` returns (socket.io's `io.in(room).except(room).fetchSockets()`). */
export interface FetchSocketsOptions extends ClusterQueryOptions {
  namespace?: string;
  /** Members of any of these rooms (a sid is its own room); default every socket of the namespace. */
  room?: string | readonly string[];
  /** Leave out the members of these rooms. */
  except?: string | readonly string[];
  /** Include each socket's session data (default true). */
  data?: boolean;
}

export interface ServerSideEmitOptions {
  namespace?: string;
}

/**
 * A handler of a server-side event (`onServerSideEvent`): receives the data of another server's
 * `serverSideEmit` and the sending server's id; its return value (awaited) is this server's reply
 * to `serverSideEmitWithAck`.
 */
export type ServerSideHandler = (data: unknown, from: string) => unknown;

export interface ServerOptions extends EngineServerOptions {
  /** Where rooms live and how operations reach other servers (default: in-memory). */
  clientManager?: ClientManager;
  /** JSON codec for packets (default JSON.stringify/parse); unused with `parser: "msgpack"`. */
  json?: JsonCodec;
  /**
   * The packet format: "json" (default, Socket.IO's own) or "msgpack", the format of
   * socket.io-msgpack-parser (python-socketio's `serializer='msgpack'`): clients must use that
   * parser. Every server of a cluster should use the same one (each encodes for its own clients,
   * so a mixed cluster delivers, but clients then need the parser of the server they reach).
   */
  parser?: "json" | "msgpack";
  /** Accept a connection before (and regardless of) the connect handler's verdict. */
  alwaysConnect?: boolean;
  /**
   * Namespaces clients may connect to besides those with handlers: a list, or "*" for any.
   * Default ["/"] (the main namespace always accepts connections).
   */
  namespaces?: "*" | readonly string[];
  /** Milliseconds an Engine.IO connection may stay without joining any namespace (default 45000). */
  connectTimeout?: number;
  /** Largest number of binary attachments in one packet (default 10). */
  maxAttachments?: number;
  /**
   * Milliseconds a binary packet's attachments may take to arrive after its text part (default
   * 60000). Past it the connection closes with reason "parse error". Without it, a client could
   * announce `maxAttachments` attachments, send all but one and go quiet (pings still answered):
   * the server would hold up to (maxAttachments - 1) x maxHttpBufferSize bytes for as long as the
   * connection lasts. Real clients send the attachments right after the text; raise it for
   * clients that upload many megabytes in one packet over slow links.
   */
  attachmentTimeout?: number;
  /**
   * Most namespaces one Engine.IO connection may be in at once (default 100). A CONNECT past it is
   * refused with CONNECT_ERROR "Too many namespaces on this connection"; the connection and its
   * other namespaces stay. Relevant when clients may name namespaces (`namespaces: "*"`, a "*"
   * handler), where one connection could otherwise join thousands.
   */
  maxNamespacesPerConnection?: number;
  /**
   * socket.io 4.6's connection state recovery, off by default: `{}` turns it on with the defaults.
   * A client that loses its connection and comes back within `maxDisconnectionDuration` gets its
   * sid, rooms, session and the events it missed; the connect handler's fourth argument says
   * `recovered: true`. Every event sent without acknowledgement then carries an offset as its last
   * argument (clients without recovery support see it as one more argument). See
   * docs/connection-state-recovery.md.
   */
  connectionStateRecovery?: ConnectionStateRecoveryOptions;
}
