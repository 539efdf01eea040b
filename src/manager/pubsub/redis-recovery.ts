// A connection state recovery store in Redis, so that a client recovers on any server of a
// cluster (the role socket.io's redis-streams adapter plays for socket.io). It works with any
// client manager (Redis, RabbitMQ or NATS as the broker): it needs Redis only for itself.
//
//   <prefix>:log:<namespace>   a stream: one entry per emit without acknowledgement, written by
//                              the server that emits it before the emit leaves; the entry id is
//                              the event's offset on every server. Trimmed to maxLogEntries and
//                              to the retention time; expires when the namespace goes quiet.
//   <prefix>:session:<pid>     a disconnected socket's session (JSON), expiring with the window;
//                              taken with GETDEL, so it is restored at most once.
//
// Order of a restore (Server.openSocket): the session and every entry after the client's offset
// are read; the socket then joins its rooms on the new server and the entries logged meanwhile
// are read (catchUp). An event is logged before it is published, so each one is either in those
// reads or delivered live to the joined socket. One in both is told apart by its offset (ids are
// ordered): the socket drops every live event at or before the last id read, for its whole life,
// because that live copy may come at any time after the reads (its own server delivers it once
// its XADD is answered, which can be after the catch-up's answer is handled; another server's
// crosses the broker, with no bound on the delay).

import { Redis, type RedisOptions } from "ioredis";
import type { EmitOperation } from "../manager.js";
import type { MissedEvent, RecoveryHost, RecoverySession, RecoveryStore, RestoredSession } from "../../socket/recovery.js";
import { defaultJson, type JsonCodec } from "../../socket/protocol/packet.js";
import { decodeMessage, encodeMessage } from "./envelope.js";

export interface RedisRecoveryStoreOptions {
  /** Default `REDIS_URL` or "redis://127.0.0.1:6379". Ignored with `client`. */
  url?: string;
  /** Extra ioredis options (TLS, password, db...). Ignored with `client`. */
  redisOptions?: RedisOptions;
  /** An ioredis connection to use (the store does not close it). Not a Redis Cluster connection. */
  client?: Redis;
  /** Key prefix shared by every server of the cluster (default "sockjet:recovery"). */
  prefix?: string;
  /**
   * Most events kept per namespace (default 10000, trimmed approximately, as XADD's `MAXLEN ~`).
   * A client whose offset has been trimmed away gets a fresh session.
   */
  maxLogEntries?: number;
  /** JSON codec for the sessions (default JSON); session data must survive it. */
  json?: JsonCodec;
  /**
   * Milliseconds a Redis command may take (default 1000; ioredis's `commandTimeout`, for the
   * connection the store makes). Every emit waits for its XADD: while Redis is away or silent, an
   * emit goes out after this long without an offset (logged), rather than wait for Redis.
   */
  commandTimeout?: number;
}

/**
 * Offsets are the entry ids behind a prefix: a server that receives an emit from another one can
 * tell a numbered event from one that no server numbered (see observe).
 */
const OFFSET_PREFIX = "sjr:";
const OFFSET = /^sjr:(\d{1,16})-(\d{1,16})$/;

type StreamEntry = [id: Buffer, fields: Buffer[]];

/** A logged emit, decoded. */
interface Logged {
  id: string;
  /** A mark that an event went out unnumbered (from the emitter, the CLI, a python worker): it cannot be replayed. */
  gap: boolean;
  rooms: readonly string[] | null;
  skip: readonly string[];
  event: string;
  args: unknown[];
  bytes: number;
}

function reaches(entry: Logged, session: RecoverySession): boolean {
  if (entry.skip.includes(session.sid)) return false;
  const rooms = entry.rooms;
  if (rooms === null) return true;
  return rooms.includes(session.sid) || session.rooms.some((room) => rooms.includes(room));
}

function isSession(value: unknown): value is RecoverySession {
  if (typeof value !== "object" || value === null) return false;
  const s = value as Record<string, unknown>;
  return (
    typeof s.namespace === "string" &&
    typeof s.sid === "string" &&
    typeof s.pid === "string" &&
    Array.isArray(s.rooms) &&
    s.rooms.every((room) => typeof room === "string") &&
    (s.data === null || typeof s.data === "object")
  );
}

/** ms and sequence of an offset's entry id, or null. */
function parseOffset(offset: string): [number, number] | null {
  const m = OFFSET.exec(offset);
  return m === null ? null : [Number(m[1]), Number(m[2])];
}

export class RedisRecoveryStore implements RecoveryStore {
  readonly scope = "cluster" as const;
  private host: RecoveryHost | null = null;
  private readonly redis: Redis;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly maxLogEntries: number;
  private readonly json: JsonCodec;
  /** Log key → when it was last trimmed by time and its expiry renewed. */
  private readonly maintained = new Map<string, number>();
  /** Session writes not yet answered (close() waits for them). */
  private readonly writes = new Set<Promise<unknown>>();
  /**
   * Namespaces where an event went out that could not be logged (Redis away or silent): a gap
   * mark is owed to their log. Sessions written before the outage outlive it, so without the mark
   * a client away during the outage would later recover without that event. The mark is written
   * as soon as Redis answers again (on reconnect, before this server's next entry, and before this
   * server reads the log for a restore).
   */
  private readonly owedGaps = new Set<string>();

  constructor(options: RedisRecoveryStoreOptions = {}) {
    this.owned = options.client === undefined;
    this.redis =
      options.client ?? new Redis(options.url ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { commandTimeout: options.commandTimeout ?? 1000, ...options.redisOptions });
    this.prefix = options.prefix ?? "sockjet:recovery";
    this.maxLogEntries = options.maxLogEntries ?? 10_000;
    if (!Number.isSafeInteger(this.maxLogEntries) || this.maxLogEntries < 1) throw new RangeError(`maxLogEntries must be a positive integer, got ${this.maxLogEntries}`);
    this.json = options.json ?? defaultJson;
  }

  start(host: RecoveryHost): void {
    this.host = host;
    if (this.owned) this.redis.on("error", (err: Error) => host.logger.warn("recovery store: Redis connection error", { err }));
    this.redis.on("ready", () => {
      if (this.owedGaps.size > 0) this.payGaps().catch((err: unknown) => host.logger.error("recovery store: owed gap marks could not be written yet", { err }));
    });
  }

  async record(operation: EmitOperation): Promise<unknown[]> {
    const { namespace, event, args, rooms, skip } = operation;
    const payload = encodeMessage({ type: "emit", host: "", namespace, event, args, rooms: rooms === null ? null : [...rooms], skip: [...skip] }, this.json);
    let id: string;
    try {
      id = await this.append(namespace, "m", payload);
    } catch (err) {
      this.owedGaps.add(namespace);
      throw err;
    }
    return [...args, OFFSET_PREFIX + id];
  }

  /**
   * An emit applied here that no server numbered: published by the write-only emitter, the CLI or
   * a python-socketio worker. It is not in the log, so a client of its rooms that was away when it
   * went out must not be told it missed nothing: a gap mark in the log gives it a fresh session
   * (each server that applies the emit writes one; any one of them is enough).
   */
  observe(operation: EmitOperation): void {
    const last = operation.args[operation.args.length - 1];
    if (typeof last === "string" && OFFSET.test(last)) return;
    const { namespace, rooms, skip } = operation;
    const payload = encodeMessage({ type: "emit", host: "", namespace, event: operation.event, args: [], rooms: rooms === null ? null : [...rooms], skip: [...skip] }, this.json);
    this.append(namespace, "g", payload).catch((err: unknown) => {
      this.owedGaps.add(namespace);
      this.host!.logger.error("recovery store: an unnumbered event could not be marked yet; a mark is owed to the log", { namespace, event: operation.event, err });
    });
  }

  /**
   * Sends the owed gap marks (one for the whole namespace each: every client away then missed
   * something). The XADDs are issued at once, without waiting between them, so that a command the
   * caller issues next on this connection lands after them in the log. A mark that fails is owed
   * again.
   */
  private payGaps(): Promise<void> {
    const writes: Promise<unknown>[] = [];
    for (const namespace of this.owedGaps) {
      this.owedGaps.delete(namespace);
      const mark = encodeMessage({ type: "emit", host: "", namespace, event: "", args: [], rooms: null, skip: [] }, this.json);
      const write = this.redis.call("XADD", this.logKey(namespace), "MAXLEN", "~", String(this.maxLogEntries), "*", "g", Buffer.from(mark.buffer, mark.byteOffset, mark.byteLength));
      writes.push(
        write.catch((err: unknown) => {
          this.owedGaps.add(namespace);
          throw err;
        }),
      );
    }
    return Promise.all(writes).then(() => undefined);
  }

  private async append(namespace: string, field: "m" | "g", payload: Uint8Array): Promise<string> {
    // Owed marks are issued first, so that they precede this entry (one connection keeps the order).
    if (this.owedGaps.size > 0) {
      this.payGaps().catch((err: unknown) => this.host!.logger.error("recovery store: owed gap marks could not be written yet", { err }));
    }
    const key = this.logKey(namespace);
    const id = await this.redis.call("XADD", key, "MAXLEN", "~", String(this.maxLogEntries), "*", field, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
    this.maintain(key);
    return String(id);
  }

  /**
   * Trims the log to the retention time and renews its expiry, at most once a second per
   * namespace (not with every event: two more commands per emit cost more than the XADD itself).
   */
  private maintain(key: string): void {
    const now = Date.now();
    if ((this.maintained.get(key) ?? 0) > now - 1000) return;
    this.maintained.set(key, now);
    const retention = this.host!.limits.retention;
    this.redis
      .pipeline()
      .call("XTRIM", key, "MINID", "~", String(Math.max(0, now - retention)))
      .pexpire(key, retention + 1000)
      .exec()
      .catch((err: unknown) => this.host!.logger.warn("recovery store: log maintenance failed", { key, err }));
  }

  persist(session: RecoverySession): void {
    const host = this.host!;
    const text = this.json.stringify(session);
    const write = this.redis
      .set(this.sessionKey(session.pid), text, "PX", host.limits.maxDisconnectionDuration)
      .catch((err: unknown) => host.logger.error("recovery store: session could not be written; that client will get a fresh session", { sid: session.sid, err }))
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  async restore(namespace: string, pid: string, offset: string): Promise<RestoredSession | null> {
    if (parseOffset(offset) === null) return null;
    // This server's own unlogged events must be marked before it reads the log for anyone.
    if (this.owedGaps.size > 0) await this.payGaps();
    const from = offset.slice(OFFSET_PREFIX.length);
    const text = await this.redis.getdel(this.sessionKey(pid));
    if (text === null) return null;
    let session: unknown;
    try {
      session = this.json.parse(text);
    } catch {
      return null;
    }
    if (!isSession(session) || session.namespace !== namespace || session.pid !== pid) return null;
    const logger = this.host!.logger;
    const entries = (await this.redis.xrangeBuffer(this.logKey(namespace), from, "+")) as StreamEntry[];
    // The client's own last event must still be there: then nothing after it was trimmed.
    if (entries.length === 0 || entries[0]![0].toString() !== from) {
      logger.debug("recovery refused: offset unknown or trimmed from the log", { namespace, sid: session.sid });
      return null;
    }
    const limits = this.host!.limits;
    const missed: MissedEvent[] = [];
    let bytes = 0;
    for (let i = 1; i < entries.length; i++) {
      const logged = this.decode(entries[i]!);
      // An entry that cannot be read could be one the client missed: no partial recovery.
      if (logged === null) return null;
      if (!reaches(logged, session)) continue;
      if (logged.gap) {
        logger.debug("recovery refused: the client missed an event that no server numbered", { namespace, sid: session.sid });
        return null;
      }
      bytes += logged.bytes;
      if (missed.length >= limits.maxMissedPackets || bytes > limits.maxMissedBytes) {
        logger.debug("recovery refused: the client missed more than the per-client bound", { namespace, sid: session.sid });
        return null;
      }
      missed.push({ event: logged.event, args: [...logged.args, OFFSET_PREFIX + logged.id] });
    }
    return { session, missed, through: OFFSET_PREFIX + entries[entries.length - 1]![0].toString() };
  }

  async catchUp(session: RecoverySession, through: string): Promise<{ missed: MissedEvent[]; through: string }> {
    const entries = (await this.redis.xrangeBuffer(this.logKey(session.namespace), "(" + through.slice(OFFSET_PREFIX.length), "+")) as StreamEntry[];
    const missed: MissedEvent[] = [];
    for (const entry of entries) {
      const logged = this.decode(entry);
      if (logged === null) throw new Error(`unreadable recovery log entry ${entry[0].toString()}`);
      if (!reaches(logged, session)) continue;
      // Whether the socket, already in its rooms, got this one live cannot be known: no recovery.
      if (logged.gap) throw new Error("an event that no server numbered went out during the recovery");
      missed.push({ event: logged.event, args: [...logged.args, OFFSET_PREFIX + logged.id] });
    }
    return { missed, through: entries.length > 0 ? OFFSET_PREFIX + entries[entries.length - 1]![0].toString() : through };
  }

  covers(through: string, offset: string): boolean | null {
    const a = parseOffset(offset);
    const b = parseOffset(through);
    if (a === null || b === null) return null;
    return a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.writes]);
    if (this.owned) this.redis.disconnect();
  }

  private decode(entry: StreamEntry): Logged | null {
    const [id, fields] = entry;
    const kind = fields[0]?.toString();
    const payload = fields[1];
    if ((kind !== "m" && kind !== "g") || payload === undefined) return null;
    const decoded = decodeMessage(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength), this.json);
    if (!decoded.ok || decoded.message.type !== "emit") {
      this.host!.logger.warn("recovery store: unreadable log entry", { id: id.toString() });
      return null;
    }
    const m = decoded.message;
    return { id: id.toString(), gap: kind === "g", rooms: m.rooms, skip: m.skip, event: m.event, args: m.args, bytes: payload.byteLength };
  }

  private logKey(namespace: string): string {
    return `${this.prefix}:log:${namespace}`;
  }

  private sessionKey(pid: string): string {
    return `${this.prefix}:session:${pid}`;
  }
}
