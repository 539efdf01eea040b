// The default recovery store: the log of recent events and the disconnected sessions in this
// server's memory. Each server numbers the events it delivers itself, so under a broker manager a
// client recovers only on the server it left (it gets a fresh session elsewhere).
//
// The log is one queue for every namespace, in the order events were delivered here; each entry
// is one broadcast: its target (rooms, skipped sids) and its encoded packets, the same objects
// every live recipient got. A session needs the entries after the offset it last processed that
// it would have received; that is exact only if none of them has left the log, so the store
// remembers the highest number it ever evicted and refuses any offset below it.

import type { OutPacket } from "../engine/out-packet.js";
import type { EmitOperation } from "../manager/manager.js";
import type { MissedEvent, RecoveryHost, RecoverySession, RecoveryStore, RestoredSession } from "./recovery.js";
import { randomId } from "../util/random-id.js";

/** Bookkeeping bytes counted per logged event besides its encoded size. */
const ENTRY_OVERHEAD = 64;

interface LogEntry {
  seq: number;
  namespace: string;
  /** null: every client of the namespace. */
  rooms: readonly string[] | null;
  skip: readonly string[];
  packets: OutPacket[];
  bytes: number;
  at: number;
}

interface KeptSession {
  session: RecoverySession;
  expires: number;
}

function sizeOf(packets: readonly OutPacket[]): number {
  let bytes = ENTRY_OVERHEAD;
  for (const p of packets) bytes += p.size;
  return bytes;
}

/** Would a client with these rooms (its sid included) have received the entry? */
function reaches(entry: LogEntry, session: RecoverySession): boolean {
  if (entry.namespace !== session.namespace) return false;
  if (entry.skip.includes(session.sid)) return false;
  const rooms = entry.rooms;
  if (rooms === null) return true;
  return rooms.includes(session.sid) || session.rooms.some((room) => rooms.includes(room));
}

export class MemoryRecoveryStore implements RecoveryStore {
  readonly scope = "server" as const;
  private host: RecoveryHost | null = null;
  /** Offsets of another server instance (or of this one before a restart) never match. */
  private readonly epoch = randomId().slice(0, 8) + ".";
  private seq = 0;
  /** Entries in number order; `head` is the first one still in the log (those before it are cleared). */
  private entries: Array<LogEntry | undefined> = [];
  private head = 0;
  private bytes = 0;
  /** The highest number evicted: an offset below it may have lost events after it. */
  private evictedThrough = 0;
  private readonly sessions = new Map<string, KeptSession>();
  private readonly encoded = new WeakMap<unknown[], OutPacket[]>();
  private sweeper: ReturnType<typeof setInterval> | null = null;

  start(host: RecoveryHost): void {
    this.host = host;
    // Expiry happens as events are logged; the sweep frees memory of a server that went quiet.
    this.sweeper = setInterval(() => this.expire(Date.now()), Math.min(host.limits.maxDisconnectionDuration, 60_000));
    this.sweeper.unref?.();
  }

  /** Events logged and bytes held (for tests and monitoring). */
  get stats(): { events: number; bytes: number; sessions: number } {
    return { events: this.entries.length - this.head, bytes: this.bytes, sessions: this.sessions.size };
  }

  record(operation: EmitOperation): unknown[] {
    const host = this.host!;
    const seq = ++this.seq;
    const args = [...operation.args, this.epoch + seq.toString(36)];
    // Encoded here, once: delivery takes these packets (packetsFor) instead of encoding again.
    const packets = host.encode(operation.namespace, operation.event, args);
    this.encoded.set(args, packets);
    const entry: LogEntry = { seq, namespace: operation.namespace, rooms: operation.rooms, skip: operation.skip, packets, bytes: sizeOf(packets), at: Date.now() };
    this.entries.push(entry);
    this.bytes += entry.bytes;
    this.expire(entry.at);
    return args;
  }

  packetsFor(args: unknown[]): OutPacket[] | undefined {
    return this.encoded.get(args);
  }

  persist(session: RecoverySession): void {
    const limits = this.host!.limits;
    this.sessions.delete(session.pid);
    this.sessions.set(session.pid, { session, expires: Date.now() + limits.maxDisconnectionDuration });
    // Insertion order is age order: past the bound the oldest session goes.
    while (this.sessions.size > limits.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
  }

  restore(namespace: string, pid: string, offset: string): RestoredSession | null {
    const kept = this.sessions.get(pid);
    if (kept === undefined || kept.session.namespace !== namespace) return null;
    this.sessions.delete(pid);
    const now = Date.now();
    const logger = this.host!.logger;
    if (kept.expires < now) return null;
    const after = this.seqOf(offset);
    if (after === null || after < this.evictedThrough || after > this.seq) {
      logger.debug("recovery refused: offset unknown or its events have left the log", { namespace, sid: kept.session.sid });
      return null;
    }
    const limits = this.host!.limits;
    const missed: MissedEvent[] = [];
    let bytes = 0;
    for (let i = this.firstAfter(after); i < this.entries.length; i++) {
      const entry = this.entries[i]!;
      if (!reaches(entry, kept.session)) continue;
      bytes += entry.bytes - ENTRY_OVERHEAD;
      if (missed.length >= limits.maxMissedPackets || bytes > limits.maxMissedBytes) {
        logger.debug("recovery refused: the client missed more than the per-client bound", { namespace, sid: kept.session.sid });
        return null;
      }
      missed.push({ packets: entry.packets });
    }
    return { session: kept.session, missed };
  }

  async close(): Promise<void> {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
    this.entries = [];
    this.head = 0;
    this.bytes = 0;
    this.sessions.clear();
  }

  private seqOf(offset: string): number | null {
    if (!offset.startsWith(this.epoch)) return null;
    const digits = offset.slice(this.epoch.length);
    if (!/^[0-9a-z]{1,11}$/.test(digits)) return null;
    return parseInt(digits, 36);
  }

  /** Index of the first entry numbered above `seq` (entries are in number order). */
  private firstAfter(seq: number): number {
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drops entries past the byte bound or the retention time, and expired sessions. */
  private expire(now: number): void {
    const limits = this.host!.limits;
    const oldest = now - limits.retention;
    while (this.head < this.entries.length) {
      const entry = this.entries[this.head]!;
      if (this.bytes <= limits.maxLogBytes && entry.at >= oldest) break;
      this.bytes -= entry.bytes;
      this.evictedThrough = entry.seq;
      this.entries[this.head++] = undefined;
    }
    // Compacted once the evicted prefix is half the array: amortised O(1) per event.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    for (const [pid, kept] of this.sessions) {
      if (kept.expires >= now) break;
      this.sessions.delete(pid);
    }
  }
}
