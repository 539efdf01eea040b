// Liveness between servers that share sessions. A server that waits on another (a front with a
// forwarded request or a relayed WebSocket, an owner with a long-poll or a WebSocket held through a
// front) holds a lease on that server; while any lease is held, the other server must be heard
// from: every message from it counts, and after `interval` ms of silence it is pinged. Silence for
// `timeout` ms (or its goodbye) declares it lost, and every lease is told, so that the client gets
// an answer (a 400, a closed WebSocket) and reconnects instead of waiting on a dead server.
//
// Servers that share nothing exchange nothing: no cluster-wide heartbeat, no membership list.

export interface Lease {
  /** The server this lease waits on is gone (timed out or said goodbye). Called once. */
  onPeerLost(): void;
}

interface Link {
  readonly leases: Set<Lease>;
  lastHeard: number;
  lastPing: number;
}

export class PeerLinks {
  private readonly links = new Map<string, Link>();
  /** Servers declared lost, and when: requests for their sessions are answered at once. */
  private readonly lost = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | null = null;
  /** When the timer last ran (null: not since start). */
  private lastTick: number | null = null;

  constructor(
    private readonly ping: (node: string) => void,
    private readonly interval: number,
    private readonly timeout: number,
    /** Told when a server is declared lost, with the number of leases that were waiting on it. */
    private readonly onLost: (node: string, leases: number, silence: number) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  private get period(): number {
    return Math.max(50, Math.floor(this.interval / 2));
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), this.period);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.lastTick = null;
  }

  /**
   * The timer's run. A run long overdue means this process itself did not run (a busy event loop,
   * a starved CPU): what the other servers sent meanwhile is still unread in the socket, and
   * timers run before I/O is read. That time is no silence of theirs: it is not counted, so that a
   * slow server does not declare the others gone (and end their sessions) on its own delay.
   */
  tick(): void {
    const now = this.now();
    const late = this.lastTick === null ? 0 : now - this.lastTick - this.period;
    this.lastTick = now;
    if (late > this.interval) for (const link of this.links.values()) link.lastHeard = Math.min(now, link.lastHeard + late);
    this.check();
  }

  acquire(node: string, lease: Lease): void {
    let link = this.links.get(node);
    if (link === undefined) {
      // A new wait starts with a full grace period, whatever was heard before.
      const now = this.now();
      this.links.set(node, (link = { leases: new Set(), lastHeard: now, lastPing: now }));
    }
    link.leases.add(lease);
  }

  release(node: string, lease: Lease): void {
    const link = this.links.get(node);
    if (link === undefined) return;
    link.leases.delete(lease);
    if (link.leases.size === 0) this.links.delete(node);
  }

  /** A message from `node` arrived. */
  heard(node: string): void {
    const link = this.links.get(node);
    if (link !== undefined) link.lastHeard = this.now();
    // Declared lost by mistake (a slow broker): it is alive after all, and new requests may go to it.
    if (this.lost.size > 0) this.lost.delete(node);
  }

  isLost(node: string): boolean {
    return this.lost.has(node);
  }

  /** The servers this one waits on now. */
  nodes(): string[] {
    return [...this.links.keys()];
  }

  /** Leases held on `node`, for tests and metrics. */
  leasesOn(node: string): number {
    return this.links.get(node)?.leases.size ?? 0;
  }

  /** `node` is gone: every lease on it is told, and new requests for it are refused for a while. */
  declareLost(node: string): void {
    const now = this.now();
    this.lost.set(node, now);
    const link = this.links.get(node);
    if (link === undefined) return;
    this.links.delete(node);
    this.onLost(node, link.leases.size, now - link.lastHeard);
    for (const lease of link.leases) lease.onPeerLost();
  }

  private check(): void {
    const now = this.now();
    for (const [node, link] of this.links) {
      const silence = now - link.lastHeard;
      if (silence >= this.timeout) this.declareLost(node);
      else if (silence >= this.interval && now - link.lastPing >= this.interval) {
        link.lastPing = now;
        this.ping(node);
      }
    }
    // Forget lost servers after a while: their sids are long gone from every client.
    for (const [node, since] of this.lost) if (now - since > 60 * this.timeout) this.lost.delete(node);
  }
}
