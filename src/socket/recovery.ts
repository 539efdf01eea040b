// Connection state recovery (socket.io 4.6's `connectionStateRecovery`): a client that loses its
// connection and comes back within a window gets its sid, rooms, session and the events it missed.
//
// The wire, as socket.io and its official client define it (protocol v5 only):
//   - the server's CONNECT answer carries `{ sid, pid }`: pid is the private id of the session,
//     never shown to other clients;
//   - every event the server sends without an acknowledgement carries an offset as its last
//     argument; the client keeps the last one it processed;
//   - on reconnect the client's CONNECT auth carries `{ pid, offset }` beside its own auth;
//   - a recovered connection is answered with the same sid and pid (the client sets its
//     `recovered` flag when the pid is unchanged), then the missed events, in order.
//
// The offset belongs to one broadcast, not to one recipient, so it is appended to the arguments
// before the packet is encoded: the encoded packet, offset included, is still shared by every
// recipient (encode once). This file is the server's side of it (options, the pid, which
// disconnects are recoverable, the cache that lets delivery reuse the packet the store encoded);
// where the log and the sessions live is a RecoveryStore (recovery-memory.ts: this server's
// memory; sockjet/redis: Redis, shared by a cluster).

import type { OutPacket } from "../engine/out-packet.js";
import type { EmitOperation } from "../manager/manager.js";
import type { Logger } from "../util/logger.js";
import type { DisconnectReason } from "./types.js";
import { MemoryRecoveryStore } from "./recovery-memory.js";

export interface ConnectionStateRecoveryOptions {
  /**
   * Milliseconds a disconnected client's session is kept (default 120000, as socket.io). A client
   * that comes back later gets a fresh session.
   */
  maxDisconnectionDuration?: number;
  /**
   * Most events one client may have missed (default 1000). A client that missed more gets a fresh
   * session rather than a flood of old events.
   */
  maxMissedPackets?: number;
  /**
   * Most bytes of encoded events one client may have missed (default 1 MiB, and never more than
   * the engine's `maxBufferedBytes`, which its replay must fit in). Past it: a fresh session.
   */
  maxMissedBytes?: number;
  /**
   * Most bytes the log of recent events holds in total, every namespace together (default 16 MiB;
   * each event counts its encoded size plus 64 bytes of bookkeeping). The oldest events leave
   * first; a client whose missed events include one that left gets a fresh session.
   */
  maxLogBytes?: number;
  /** Most disconnected sessions kept at once (default 10000); past it the oldest is dropped. */
  maxSessions?: number;
  /**
   * Where the log and the sessions live. Default: this server's memory (a client recovers only
   * on the server it left). `new RedisRecoveryStore(...)` from "sockjet/redis" keeps them in
   * Redis, so that a client recovers on any server of a cluster.
   */
  store?: RecoveryStore;
}

/** What a disconnected socket leaves behind. */
export interface RecoverySession {
  namespace: string;
  sid: string;
  /** The private id the client presents to recover. */
  pid: string;
  /** Rooms other than the sid's own. */
  rooms: string[];
  /** The session object (getSession/saveSession), null if none was saved. */
  data: object | null;
}

/** A missed event: already encoded (offset included), or as data the server encodes. */
export type MissedEvent = { packets: readonly OutPacket[] } | { event: string; args: unknown[] };

export interface RestoredSession {
  session: RecoverySession;
  /** In the order the client would have received them; each carries its offset as last argument. */
  missed: MissedEvent[];
  /**
   * Stores whose restore waits for I/O (scope "cluster"): the last log offset that was read. Live
   * events whose offset is covered by the last offset read (this or catchUp's) are duplicates of
   * missed ones, whenever they reach the socket, and are dropped.
   */
  through?: string;
}

/** What the server offers its store. */
export interface RecoveryHost {
  readonly logger: Logger;
  /** The limits, defaults applied. */
  readonly limits: RecoveryLimits;
  /** Encodes an event without acknowledgement (the offset already in `args`); throws ENCODE_FAILED. */
  encode(namespace: string, event: string, args: unknown[]): OutPacket[];
}

export interface RecoveryLimits {
  maxDisconnectionDuration: number;
  /** How long a logged event is kept: the window plus the time a dead transport may take to be noticed. */
  retention: number;
  maxMissedPackets: number;
  maxMissedBytes: number;
  maxLogBytes: number;
  maxSessions: number;
}

/**
 * Where the recent events and the disconnected sessions are kept. Two scopes:
 * - "server": each server numbers the events it delivers (every emit applied here, from this
 *   server or from another one of a cluster), synchronously; offsets mean something to it alone.
 * - "cluster": the emitting server numbers each event once in a shared log before it leaves, so
 *   an offset means the same on every server.
 */
export interface RecoveryStore {
  readonly scope: "server" | "cluster";
  /** Called once by the server that owns the store. */
  start(host: RecoveryHost): void;
  /**
   * Logs an emit (one without acknowledgement) and returns its arguments with the offset appended.
   * Scope "server" answers synchronously and may hand its encoded packets to the server through
   * `packetsFor`.
   */
  record(operation: EmitOperation): unknown[] | Promise<unknown[]>;
  /**
   * Scope "cluster": an emit without acknowledgement applied on this server (from here or from
   * elsewhere); the store sees there the events that no server numbered (write-only emitter, CLI,
   * python-socketio workers), which it cannot replay.
   */
  observe?(operation: EmitOperation): void;
  /** The packets `record` encoded for these arguments, if it did (scope "server"). */
  packetsFor?(args: unknown[]): OutPacket[] | undefined;
  /** A socket left for a recoverable reason: keep its session for the window. */
  persist(session: RecoverySession): void;
  /**
   * The session of `pid` in `namespace` and the events after `offset` that it would have received;
   * null when there is none (unknown, expired, already taken, offset too old, past a bound). A
   * session is taken at most once.
   */
  restore(namespace: string, pid: string, offset: string): RestoredSession | null | Promise<RestoredSession | null>;
  /**
   * Scope "cluster": the events logged after `through` that the session would receive, read after
   * the socket joined its rooms (so that what was logged in between is in one or the other).
   */
  catchUp?(session: RecoverySession, through: string): Promise<{ missed: MissedEvent[]; through: string }>;
  /** Scope "cluster": is the event with this offset at or before `through`? (null: not an offset of this store) */
  covers?(through: string, offset: string): boolean | null;
  close(): Promise<void>;
}

/**
 * The reasons after which a session is kept (socket.io's list, in sockjet's names): the
 * connection was lost, not closed on purpose by either side.
 */
const RECOVERABLE: ReadonlySet<DisconnectReason> = new Set<DisconnectReason>(["transport close", "transport error", "ping timeout", "server shutting down"]);

/** Longest pid or offset looked up (pids are 20 characters, offsets at most about 40). */
const MAX_ID_LENGTH = 64;

function limit(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`connectionStateRecovery.${name} must be a positive integer, got ${v}`);
  return v;
}

/** The server's side of recovery (one per Server with the option on). */
export class Recovery {
  readonly store: RecoveryStore;
  readonly limits: RecoveryLimits;
  /** Scope "cluster": the offset of each encoded event, for the de-duplication after a restore. */
  private readonly offsets = new WeakMap<readonly OutPacket[], string>();

  constructor(options: ConnectionStateRecoveryOptions, engine: { maxBufferedBytes: number; pingInterval: number; pingTimeout: number }) {
    const window = limit("maxDisconnectionDuration", options.maxDisconnectionDuration, 120_000);
    this.limits = {
      maxDisconnectionDuration: window,
      retention: window + engine.pingInterval + engine.pingTimeout,
      maxMissedPackets: limit("maxMissedPackets", options.maxMissedPackets, 1000),
      maxMissedBytes: Math.min(limit("maxMissedBytes", options.maxMissedBytes, 1024 * 1024), engine.maxBufferedBytes),
      maxLogBytes: limit("maxLogBytes", options.maxLogBytes, 16 * 1024 * 1024),
      maxSessions: limit("maxSessions", options.maxSessions, 10_000),
    };
    this.store = options.store ?? new MemoryRecoveryStore();
  }

  get scope(): "server" | "cluster" {
    return this.store.scope;
  }

  static recoverable(reason: DisconnectReason): boolean {
    return RECOVERABLE.has(reason);
  }

  /**
   * The `{ pid, offset }` a reconnecting official client puts in its CONNECT auth, or null. Ids
   * this server hands out are short: longer ones are not looked up (a client could otherwise make
   * a store look up megabyte-long keys).
   */
  static claimOf(auth: unknown): { pid: string; offset: string } | null {
    if (typeof auth !== "object" || auth === null) return null;
    const { pid, offset } = auth as { pid?: unknown; offset?: unknown };
    if (typeof pid !== "string" || typeof offset !== "string") return null;
    return pid.length <= MAX_ID_LENGTH && offset.length <= MAX_ID_LENGTH ? { pid, offset } : null;
  }

  /** The packets the store already encoded for an emit's arguments (scope "server"), if any. */
  cached(args: unknown[]): OutPacket[] | undefined {
    return this.store.packetsFor?.(args);
  }

  /** Scope "cluster": remembers the offset of an encoded event (the last argument, when it is one of the store's). */
  noteEncoded(args: unknown[], packets: readonly OutPacket[]): void {
    const last = args[args.length - 1];
    if (typeof last === "string") this.offsets.set(packets, last);
  }

  /**
   * Scope "cluster", for a socket restored from the log up to `through`: whether live packets are
   * an event logged at or before it, so already replayed to the socket (SocketRecovery.replayed).
   * Offsets of one namespace's log are ordered: such an event was in the restore's reads.
   */
  replayedThrough(through: string): (packets: readonly OutPacket[]) => boolean {
    const { offsets, store } = this;
    return (packets) => {
      const offset = offsets.get(packets);
      return offset !== undefined && store.covers?.(through, offset) === true;
    };
  }
}
