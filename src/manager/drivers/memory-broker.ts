// A broker inside one process, for tests and demos: N servers (and emitters) joined without any
// network. It behaves like Redis pub/sub: every subscriber of a channel receives every message
// published on it (the publisher included), asynchronously and in publication order, and nothing
// is kept for a subscriber that is not connected. `stop()` and `restart()` simulate an outage.

import type { DriverEvents, PubSubDriver } from "../driver.js";

export class InMemoryBroker {
  private readonly drivers = new Set<MemoryDriver>();
  private running = true;
  private queue: Array<() => void> = [];
  private scheduled = false;
  /** Messages taken by the broker since it was created. */
  published = 0;

  /** A new connection to this broker (one per server or emitter). */
  driver(): PubSubDriver {
    return new MemoryDriver(this);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** The broker goes away: every connection is lost, publishing fails, messages in flight are dropped. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.queue = [];
    for (const driver of this.drivers) driver.lost();
  }

  /** The broker is back: connections resubscribe and report it. */
  restart(): void {
    if (this.running) return;
    this.running = true;
    for (const driver of this.drivers) driver.restored();
  }

  /** @internal */
  attach(driver: MemoryDriver): void {
    this.drivers.add(driver);
  }

  /** @internal */
  detach(driver: MemoryDriver): void {
    this.drivers.delete(driver);
  }

  /** @internal */
  publish(channel: string, payload: Uint8Array): void {
    this.published++;
    for (const driver of this.drivers) {
      if (driver.channel !== channel || !driver.subscribed) continue;
      const copy = payload.slice(); // subscribers get bytes, as from a network
      this.queue.push(() => driver.deliver(copy));
    }
    if (!this.scheduled && this.queue.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const deliver of batch) deliver();
  }
}

class MemoryDriver implements PubSubDriver {
  channel: string | null = null;
  subscribed = false;
  private onMessage: ((payload: Uint8Array) => void) | null = null;
  private events: DriverEvents | null = null;
  private closed = false;
  private pendingStart: (() => void) | null = null;
  private rejectStart: ((err: Error) => void) | null = null;

  constructor(private readonly broker: InMemoryBroker) {}

  start(channel: string, onMessage: (payload: Uint8Array) => void, events: DriverEvents): Promise<void> {
    if (this.closed) return Promise.reject(new Error("driver closed"));
    this.channel = channel;
    this.onMessage = onMessage;
    this.events = events;
    this.broker.attach(this);
    if (this.broker.isRunning) {
      this.subscribed = true;
      return Promise.resolve();
    }
    events.onError(new Error("broker unavailable"), "connect");
    return new Promise((resolve, reject) => {
      this.pendingStart = resolve;
      this.rejectStart = reject;
    });
  }

  publish(channel: string, payload: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new Error("driver closed"));
    if (!this.broker.isRunning || this.channel === null) return Promise.reject(new Error("broker unavailable"));
    this.broker.publish(channel, payload);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    this.subscribed = false;
    this.broker.detach(this);
    this.rejectStart?.(new Error("driver closed"));
    this.pendingStart = this.rejectStart = null;
    return Promise.resolve();
  }

  /** @internal */
  deliver(payload: Uint8Array): void {
    if (this.subscribed && !this.closed) this.onMessage?.(payload);
  }

  /** @internal */
  lost(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    this.events?.onDisconnect();
  }

  /** @internal */
  restored(): void {
    if (this.closed || this.channel === null) return;
    this.subscribed = true;
    if (this.pendingStart !== null) {
      const resolve = this.pendingStart;
      this.pendingStart = this.rejectStart = null;
      resolve();
      return;
    }
    this.events?.onReconnect();
  }
}
