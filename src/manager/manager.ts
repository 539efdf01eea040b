// The client manager: where room membership lives and how server operations are carried out.
// Every operation is plain data addressed by namespace, sid and room, so a broker-backed manager
// can publish it and let each server apply it to its own clients (python-socketio's queue
// messages `emit`, `enter_room`, `leave_room`, `close_room`, `disconnect`, `callback` map onto
// these one to one). The in-memory manager applies them locally.

import type { AckCallback } from "../socket/types.js";
import type { Logger } from "../util/logger.js";

/** Who receives an emit: everyone in the namespace, or the union of rooms (a sid is its own room), minus skip. */
export interface EmitOperation {
  type: "emit";
  namespace: string;
  event: string;
  args: unknown[];
  /** null: every client of the namespace. */
  rooms: readonly string[] | null;
  skip: readonly string[];
  /** Local only: a broker manager turns it into a request id and routes the replies back. */
  callback?: AckCallback;
  /** Local only: how long (ms) the caller waits for acknowledgements (`call()`'s timeout); a broker manager routes replies back that long. */
  timeout?: number;
}

export interface RoomOperation {
  type: "enter_room" | "leave_room";
  namespace: string;
  sid: string;
  room: string;
}

export interface CloseRoomOperation {
  type: "close_room";
  namespace: string;
  room: string;
}

export interface DisconnectOperation {
  type: "disconnect";
  namespace: string;
  sid: string;
  /** Close the client's whole connection (every namespace, then the transport), not only this namespace. */
  close?: boolean;
}

export type Operation = EmitOperation | RoomOperation | CloseRoomOperation | DisconnectOperation;

/** What the server offers a manager: delivery to, and control of, the clients connected to this process. */
export interface ManagerHost extends QueryHost {
  /** Encodes the event once and writes it to each local sid in `sids` (sids that are not local are skipped). */
  deliver(namespace: string, sids: Iterable<string>, event: string, args: unknown[]): void;
  /**
   * Optional. Delivers to every member of one room of a namespace (`room` null: the whole
   * namespace), skipping nobody, without acknowledgements: a unit that a runtime able to publish
   * natively (Bun's topic publish) can take as one topic. `members` are the room's local sids, for
   * the recipients that the native publish does not reach (long-polling, no native capability).
   * `size` is their number. Without the capability it is `deliver(namespace, members, ...)`. A
   * manager that calls it reports every room change of a local sid with `joinedRoom` / `leftRoom`,
   * so that subscriptions follow.
   */
  deliverToRoom?(namespace: string, room: string | null, members: Iterable<string>, size: number, event: string, args: unknown[]): void;
  /** Optional. A local sid entered a room other than its own (see deliverToRoom). */
  joinedRoom?(namespace: string, sid: string, room: string): void;
  /** Optional. A local sid left a room other than its own (see deliverToRoom). */
  leftRoom?(namespace: string, sid: string, room: string): void;
  /**
   * Optional, set by a server with connection state recovery: sees every emit without
   * acknowledgement about to be delivered here, whether it started here or on another server, and
   * returns the arguments to deliver (in "server" scope the emit is logged and its offset
   * appended; otherwise the same array).
   */
  recordEmit?(operation: EmitOperation): unknown[];
  /** Emits to one local sid with an acknowledgement callback. Returns false if the sid is not here. */
  deliverWithAck(namespace: string, sid: string, event: string, args: unknown[], callback: AckCallback): boolean;
  /**
   * Disconnects a local sid from a namespace (sends DISCONNECT, runs the disconnect handler).
   * `close`: every namespace of the sid's connection, then the connection itself.
   */
  disconnectLocal(namespace: string, sid: string, close?: boolean): void;
  /** Is this sid connected to this process? */
  isLocal(namespace: string, sid: string): boolean;
  /** The server's logger (broker managers log connection loss and lost operations through it). */
  logger?: Logger;
}

export interface ClientManager extends ClusterQueries {
  /** True when every client this manager can reach is connected to this process (no broker). */
  readonly local: boolean;
  /** Called once by the server that owns this manager. */
  initialize(host: ManagerHost): void | Promise<void>;
  /** A local client joined a namespace: it is in its own room. */
  connect(namespace: string, sid: string): void;
  /** A local client left a namespace: it leaves every room. */
  disconnect(namespace: string, sid: string): void;
  /** Runs an operation (locally, and on every other server for broker managers). */
  execute(operation: Operation): Promise<void>;
  /** The rooms a local sid is in, its own room first. */
  getRooms(namespace: string, sid: string): string[];
  /** Local sids in a room (or in the namespace when room is null). */
  getParticipants(namespace: string, room: string | null): string[];
  /** Namespaces with at least one local client. */
  getNamespaces(): string[];
  close(): Promise<void>;
}

// ---- The cluster seen whole: queries and server-side events ------------------------------------------
//
// getRooms / getParticipants above answer for this process only. The queries below answer for the
// whole cluster; the Server's async methods (fetchSockets, fetchRooms, fetchParticipants, allRooms,
// serverSideEmit, serverSideEmitWithAck, serverCount) are thin calls onto them.
//
//   fetchSockets(query, timeout?)   the sockets matching `query` on every server, with their rooms
//                                   and (unless query.data is false) their session data
//   allRooms(namespace, timeout?)   every room of the namespace on every server, sid rooms included
//                                   (socket.io's allRooms)
//   serverSideEmit(emit, timeout?)  runs the server-side handler of `emit.event` on every OTHER
//                                   server (never this one, as socket.io); with emit.ack, resolves
//                                   with one reply per other server, in arrival order; without,
//                                   resolves [] once the message is handed to the broker
//   serverCount()                   the servers this one knows to be alive, itself included
//
// Local answers: a manager answers for this process with InMemoryManager.localSockets() and
// localRooms() (room membership is the manager's own), asking the host for each sid's session data
// (ManagerHost.socketData) and for a server-side event's reply (ManagerHost.serverSideEvent).
// InMemoryManager answers every query locally and at once (one server: nothing to wait for).
//
// Failure answer, the same for every query: when a server the manager expected (see
// serverCount) does not answer within the timeout, or the request cannot be published, or this
// server is cut from the broker, the promise rejects with ClusterQueryError (code
// CLUSTER_INCOMPLETE), whose `expected`, `answered` and `partial` (the merged answers that did
// arrive, this server's own included) say what is known. A timeout left undefined is the
// manager's default (PubSubManager's `queryTimeout`, 5000 ms).

/** Which sockets fetchSockets returns: in one namespace, members of any of `rooms` (null: all), minus `except`'s members. */
export interface SocketQuery {
  namespace: string;
  /** null: every socket of the namespace. A sid is its own room. */
  rooms: readonly string[] | null;
  /** Sockets in any of these rooms are left out (socket.io's `except`). */
  except: readonly string[];
  /** Include each socket's session data (default true); false keeps the answers small (fetchParticipants). */
  data?: boolean;
}

/** One socket as a cluster query returns it (socket.io's RemoteSocket: id, rooms, data). */
export interface SocketDescription {
  sid: string;
  namespace: string;
  /** Its rooms, its own room (the sid) first. */
  rooms: string[];
  /** Its session data (Server.getSession), or undefined when the query asked for none or nothing was saved. */
  data: unknown;
  /** The id of the server that holds it (PubSubManager.hostId; "local" for the in-memory manager). */
  server: string;
}

/** A server-side event sent to the other servers of the cluster. */
export interface ServerSideEmit {
  namespace: string;
  event: string;
  args: unknown[];
  /** Collect one reply from every other server (serverSideEmitWithAck). */
  ack: boolean;
}

/** What the server offers a manager for cluster queries (optional: a host without them answers undefined / no handler). */
export interface QueryHost {
  /** The session data of a local sid (undefined when it has none or is not here). */
  socketData?(namespace: string, sid: string): unknown;
  /**
   * Runs this server's handler of a server-side event sent by server `from`. Resolves with its
   * return value (undefined when there is no handler); rejects when the handler throws or rejects.
   */
  serverSideEvent?(namespace: string, event: string, args: unknown[], from: string): Promise<unknown>;
}

/** The cluster-wide queries every client manager answers (see the comment block above). */
export interface ClusterQueries {
  fetchSockets(query: SocketQuery, timeout?: number): Promise<SocketDescription[]>;
  allRooms(namespace: string, timeout?: number): Promise<string[]>;
  serverSideEmit(emit: ServerSideEmit, timeout?: number): Promise<unknown[]>;
  serverCount(): number;
}
