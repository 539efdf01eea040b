// One timer structure for every deadline a server keeps (heartbeats, ping timeouts, upgrade and
// connect timeouts, ack timeouts), instead of a setTimeout per connection.
//
// Entries with the same delay are appended in time order, so each per-delay list is already sorted
// by deadline: scheduling and cancelling are O(1) (intrusive doubly-linked lists), and firing
// walks only the due heads. One real timer is armed for the earliest head. The clock is injected
// so that session state machines can be tested without waiting.
//
// Long delays are coalesced: an entry may fire up to 1/64 of its delay late (at most 1 s, and only
// for delays of 2 s or more), never early. Each wake-up of the real timer costs a timer callback
// and an event-loop turn; 15,000 clients with a 25 s heartbeat would otherwise wake the process
// for almost every ping, where one wake-up per ~390 ms now sends every ping due by then in one
// batch (and one flush). Short delays (tests, small ack timeouts) stay exact.

export interface Clock {
  now(): number;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(callback, ms) {
    const handle = setTimeout(callback, ms) as { unref?: () => void };
    // Heartbeats alone must not keep a process alive; the listening socket does that.
    handle.unref?.();
    return handle;
  },
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Whoever owns a timer entry is told which of its timers fired, so no closure is needed per entry. */
export interface TimerTarget {
  onTimer(kind: number): void;
}

/**
 * A place in the queue. Whoever is told when it fires subclasses it (a session is its own heartbeat
 * entry: no target field, no second object), or uses TimerEntry to name a target.
 */
export abstract class TimerNode {
  /** Whole milliseconds (rounded up: never early), so that V8 keeps it unboxed (a double field costs a heap number per entry). */
  deadline = 0;
  /** @internal */ seq = 0;
  /** @internal */ list: TimerList | null = null;
  /** @internal */ prev: TimerNode | null = null;
  /** @internal */ next: TimerNode | null = null;
  constructor(public kind: number) {}
  get scheduled(): boolean {
    return this.list !== null;
  }
  /** Called by the queue when the entry is due, with the kind it was scheduled with. */
  abstract onTimer(kind: number): void;
}

export class TimerEntry extends TimerNode {
  readonly target: TimerTarget;
  constructor(
    /** Told when the entry fires; null: a subclass that overrides onTimer (TimerNode spares the field). */
    target: TimerTarget | null,
    kind: number,
  ) {
    super(kind);
    this.target = target ?? this;
  }
  onTimer(kind: number): void {
    this.target.onTimer(kind);
  }
}

/** Delays from this long on may fire late by up to slackOf(delay). */
export const COALESCE_MIN_DELAY = 2000;

/** How late an entry with this delay may fire: 1/64 of the delay, at most 1 s; 0 below COALESCE_MIN_DELAY. */
export function slackOf(delay: number): number {
  return delay < COALESCE_MIN_DELAY ? 0 : Math.min(1000, Math.floor(delay / 64));
}

class TimerList {
  head: TimerNode | null = null;
  tail: TimerNode | null = null;
  readonly slack: number;
  constructor(readonly delay: number) {
    this.slack = slackOf(delay);
  }
}

export class TimerQueue {
  private readonly lists = new Map<number, TimerList>();
  private handle: unknown = null;
  private armedFor = Infinity;
  private size = 0;
  private seq = 0;
  private readonly onFire = () => this.fire();

  constructor(readonly clock: Clock = systemClock) {}

  /** (Re)schedules the entry `delay` ms from now, with the given kind. */
  schedule(entry: TimerNode, delay: number, kind: number = entry.kind): void {
    if (entry.list !== null) this.unlink(entry);
    entry.kind = kind;
    entry.deadline = Math.ceil(this.clock.now() + delay);
    entry.seq = this.seq++;
    let list = this.lists.get(delay);
    if (list === undefined) {
      list = new TimerList(delay);
      this.lists.set(delay, list);
    }
    entry.list = list;
    entry.prev = list.tail;
    entry.next = null;
    if (list.tail) list.tail.next = entry;
    else list.head = entry;
    list.tail = entry;
    this.size++;
    const wake = entry.deadline + list.slack;
    if (wake < this.armedFor) this.arm(wake);
  }

  cancel(entry: TimerNode): void {
    // The armed timer is left alone: a wake-up that finds nothing due just re-arms.
    if (entry.list !== null) this.unlink(entry);
  }

  /** Number of scheduled entries (for tests and metrics). */
  get pending(): number {
    return this.size;
  }

  /** Stops the real timer; entries stay linked but will not fire until something is scheduled. */
  stop(): void {
    if (this.handle !== null) this.clock.clearTimer(this.handle);
    this.handle = null;
    this.armedFor = Infinity;
  }

  private unlink(entry: TimerNode): void {
    const list = entry.list!;
    if (entry.prev) entry.prev.next = entry.next;
    else list.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else list.tail = entry.prev;
    entry.list = entry.prev = entry.next = null;
    this.size--;
    if (list.head === null) this.lists.delete(list.delay);
  }

  /** Arms the real timer for `wake` (a deadline plus its list's slack). */
  private arm(wake: number): void {
    if (this.handle !== null) this.clock.clearTimer(this.handle);
    this.armedFor = wake;
    // +1: timers may fire a hair early relative to performance.now(); firing late by 1 ms is harmless.
    this.handle = this.clock.setTimer(this.onFire, Math.max(0, Math.ceil(wake - this.clock.now())) + 1);
  }

  /** Runs every due entry. Public so tests with a manual clock can drive it. */
  fire(): void {
    // Called directly (tests), the armed timer would otherwise stay set and wake the queue again.
    if (this.handle !== null) this.clock.clearTimer(this.handle);
    this.handle = null;
    this.armedFor = Infinity;
    const now = this.clock.now();
    // Entries scheduled by a callback during this pass wait for the next one, even with delay 0.
    const lastSeq = this.seq;
    // Due entries run in deadline order across lists (a late wake-up may find several lists due).
    // There are only a handful of lists (one per distinct delay), so a linear pick is cheap.
    for (;;) {
      let next: TimerNode | null = null;
      for (const list of this.lists.values()) {
        const head = list.head;
        if (head !== null && head.deadline <= now && head.seq < lastSeq && (next === null || head.deadline < next.deadline)) next = head;
      }
      if (next === null) break;
      this.unlink(next);
      try {
        next.onTimer(next.kind);
      } catch {
        // A target's failure must not stop the other deadlines; targets log their own errors.
      }
    }
    // Every entry due by now has run, slack or not; the next wake-up is the earliest head's deadline
    // plus its list's slack (a list's entries are in deadline order, so its head wakes first).
    let earliest = Infinity;
    for (const list of this.lists.values()) if (list.head && list.head.deadline + list.slack < earliest) earliest = list.head.deadline + list.slack;
    if (earliest !== Infinity) this.arm(earliest);
  }
}
