// The Redis connections of the socket.io-compatible manager (ioredis, standalone Redis): one
// publishes, one subscribes to a set of channels and patterns that grows and shrinks while the
// server runs (namespaces, and rooms in the sharded dynamic modes). Same failure behaviour as the
// generic Redis driver (../drivers/redis.ts): publishing never waits for a connection (rejected at
// once during an outage, so the manager reports the operation lost), both connections reconnect
// with exponential backoff, a silent link is noticed by a timeout and a heartbeat, and the
// subscriber subscribes to everything again after each reconnection.

import { Redis, type RedisOptions } from "ioredis";
import type { RedisReconnectOptions } from "../drivers/redis.js";

export interface SocketIORedisLinkOptions {
  /** Default `REDIS_URL` or "redis://127.0.0.1:6379". */
  url?: string;
  /** Extra ioredis options for both connections (TLS, password, db...). */
  redisOptions?: RedisOptions;
  /** A publish or PUBSUB query that gets no reply in this many ms is rejected (default 5000); also the heartbeat interval. */
  publishTimeout?: number;
  reconnect?: RedisReconnectOptions;
}

export interface LinkEvents {
  message(channel: string, payload: Buffer): void;
  error(error: Error, stage: "connect" | "subscribe" | "receive"): void;
  disconnect(): void;
  reconnect(): void;
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

export class SocketIORedisLink {
  private pub: Redis | null = null;
  private sub: Redis | null = null;
  private readonly channels = new Set<string>();
  private readonly patterns = new Set<string>();
  private pubReady = false;
  private subReady = false;
  private up = false;
  private everUp = false;
  private closed = false;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private settleStart: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private readonly lastError = new Map<Redis, string>();

  constructor(
    private readonly options: SocketIORedisLinkOptions,
    private readonly sharded: boolean,
    private readonly events: LinkEvents,
  ) {}

  get connected(): boolean {
    return this.up;
  }

  /** Connects both connections and subscribes to what was added so far; resolves when both are usable. */
  start(): Promise<void> {
    if (this.pub !== null) return Promise.reject(new Error("SocketIORedisLink.start called twice"));
    if (this.closed) return Promise.reject(new Error("link closed"));
    const min = this.options.reconnect?.minDelay ?? 100;
    const max = this.options.reconnect?.maxDelay ?? 5000;
    const retryStrategy = (times: number): number => Math.min(max, min * 2 ** Math.min(times - 1, 20));
    const timeout = this.options.publishTimeout ?? 5000;
    const url = this.options.url ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
    const base = { ...this.options.redisOptions, enableOfflineQueue: false, maxRetriesPerRequest: 0, socketTimeout: timeout, retryStrategy };
    const pub = (this.pub = new Redis(url, { ...base, autoResendUnfulfilledCommands: false, commandTimeout: timeout }));
    const sub = (this.sub = new Redis(url, { ...base, autoResubscribe: false }));
    const promise = new Promise<void>((resolve, reject) => (this.settleStart = { resolve, reject }));
    pub.on("ready", () => {
      this.lastError.delete(pub);
      this.pubReady = true;
      this.update();
    });
    sub.on("ready", () => {
      this.lastError.delete(sub);
      void this.subscribeAll(sub);
    });
    for (const client of [pub, sub]) {
      client.on("error", (err: Error) => this.reportOnce(client, err));
      client.on("close", () => {
        if (client === pub) this.pubReady = false;
        else this.subReady = false;
        this.update();
      });
    }
    this.heartbeat = setInterval(() => {
      if (this.subReady) sub.ping().catch(() => {});
    }, timeout);
    this.heartbeat.unref?.();
    const deliver = (channel: Buffer, payload: Buffer): void => {
      try {
        this.events.message(channel.toString(), payload);
      } catch (err) {
        this.events.error(asError(err), "receive");
      }
    };
    if (this.sharded) sub.on("smessageBuffer", deliver);
    else {
      // A channel matched by a pattern and subscribed by name arrives twice; they do not overlap here.
      sub.on("messageBuffer", deliver);
      sub.on("pmessageBuffer", (_pattern: Buffer, channel: Buffer, payload: Buffer) => deliver(channel, payload));
    }
    return promise;
  }

  /** Subscribes (now if connected, else on the next connection). */
  async subscribe(channel: string): Promise<void> {
    if (this.channels.has(channel)) return;
    this.channels.add(channel);
    const sub = this.sub;
    if (sub === null || !this.subReady) return;
    try {
      if (this.sharded) await sub.ssubscribe(channel);
      else await sub.subscribe(channel);
    } catch (err) {
      this.failedSubscription(sub, err);
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    if (!this.channels.delete(channel)) return;
    const sub = this.sub;
    if (sub === null || !this.subReady) return;
    try {
      if (this.sharded) await sub.sunsubscribe(channel);
      else await sub.unsubscribe(channel);
    } catch {
      // Still subscribed: its messages are ignored (a room without members here), and the next reconnection drops it.
    }
  }

  /** A pattern subscription (plain pub/sub only); set before start. */
  psubscribe(pattern: string): void {
    this.patterns.add(pattern);
  }

  async publish(channel: string, payload: Buffer | string): Promise<void> {
    const pub = this.pub;
    if (pub === null || this.closed) throw new Error("the Redis link is not started");
    if (this.sharded) await pub.spublish(channel, payload);
    else await pub.publish(channel, payload);
  }

  /** How many connections subscribe to `channel`: socket.io's count of the servers of a namespace. */
  async subscribers(channel: string): Promise<number> {
    const pub = this.pub;
    if (pub === null || this.closed) throw new Error("the Redis link is not started");
    const reply = (await pub.call("PUBSUB", this.sharded ? "SHARDNUMSUB" : "NUMSUB", channel)) as unknown[];
    const count = Number(reply[1]);
    if (!Number.isSafeInteger(count)) throw new Error(`unexpected PUBSUB reply ${JSON.stringify(reply)}`);
    return count;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.settleStart?.reject(new Error("link closed"));
    this.settleStart = null;
    for (const client of [this.sub, this.pub]) {
      if (client === null) continue;
      client.removeAllListeners("close");
      client.disconnect();
    }
  }

  private async subscribeAll(sub: Redis): Promise<void> {
    try {
      const channels = [...this.channels];
      if (channels.length > 0) {
        // One SSUBSCRIBE per channel: a multi-channel SSUBSCRIBE must stay within one hash slot.
        if (this.sharded) for (const channel of channels) await sub.ssubscribe(channel);
        else await sub.subscribe(...channels);
      }
      if (this.patterns.size > 0) await sub.psubscribe(...this.patterns);
    } catch (err) {
      this.failedSubscription(sub, err);
      return;
    }
    this.subReady = true;
    this.update();
  }

  /** Start over with a fresh connection (and the backoff) rather than stay connected but deaf. */
  private failedSubscription(sub: Redis, err: unknown): void {
    if (this.closed) return;
    this.events.error(asError(err), "subscribe");
    sub.disconnect(true);
  }

  private update(): void {
    if (this.closed) return;
    const up = this.pubReady && this.subReady;
    if (up === this.up) return;
    this.up = up;
    if (up && !this.everUp) {
      this.everUp = true;
      this.settleStart?.resolve();
      this.settleStart = null;
    } else if (up) this.events.reconnect();
    else if (this.everUp) this.events.disconnect();
  }

  private reportOnce(client: Redis, err: Error): void {
    if (this.closed || this.lastError.get(client) === err.message) return;
    this.lastError.set(client, err.message);
    this.events.error(err, "connect");
  }
}
