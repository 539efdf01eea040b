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
export interface ManagerHost {
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

export interface ClientManager {
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
