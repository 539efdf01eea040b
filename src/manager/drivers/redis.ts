// Redis as the cluster broker, on ioredis (the driver behind "sockjet/redis", see ../pubsub/redis.ts).
//
// Two connections per process, as Redis requires (a subscribed connection can only subscribe):
// one publishes, one is subscribed to the channel. Plain pub/sub (PUBLISH/SUBSCRIBE) by default;
// with `sharded: true`, sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7+), which on Redis Cluster
// keeps each channel's traffic on the shard that owns its slot instead of broadcasting it over the
// cluster bus. Redis pub/sub keeps nothing for absent subscribers: what is published while a
// server is disconnected never reaches it.
//
// Failure behaviour: publishing never waits for a connection (no offline queue, no resend of
// in-flight commands, a command timeout), so a publication during an outage is rejected at once
// and the manager reports it lost. Both connections reconnect with exponential backoff; the
// subscriber resubscribes itself, and `onReconnect` fires only when both are usable again.
//
// A link that goes silent without a reset (a partition, a pulled cable) closes nothing by
// itself: publishes would only time out while ioredis kept their bytes queued on the socket,
// growing with the outage and sent when the link came back (messages already reported lost
// delivered late), and the subscriber would wait, deaf, without a "disconnect". So both
// connections drop themselves when the broker stays silent for `publishTimeout` while a reply is
// due (ioredis's socketTimeout), and the subscribed connection, which otherwise never expects a
// reply, is pinged every `publishTimeout` ms (PING is allowed while subscribed).
//
// Ordering on Redis Cluster: ioredis sends a keyless command such as PUBLISH to a random node, and
// each node forwards it to the others over its own cluster-bus link, so two publications from one
// server could overtake each other (a room join arriving after the emit to that room). Plain
// publications are therefore always sent to one node, the master owning the channel's slot, which
// keeps one server's operations in order for every subscriber (SPUBLISH goes there by itself).

import calculateSlot from "cluster-key-slot";
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from "ioredis";
import type { DriverEvents, PubSubDriver } from "../driver.js";

export interface RedisReconnectOptions {
  /** First retry delay, ms (default 100). */
  minDelay?: number;
  /** Longest retry delay, ms (default 5000); the delay doubles from minDelay up to this. */
  maxDelay?: number;
}

export interface RedisDriverOptions {
  /** Default `REDIS_URL` or "redis://127.0.0.1:6379". Ignored with `cluster`. */
  url?: string;
  /** Extra ioredis options for both connections (TLS, password, db...). */
  redisOptions?: RedisOptions;
  /** A Redis Cluster: its startup nodes and ioredis Cluster options. */
  cluster?: { nodes: ClusterNode[]; options?: ClusterOptions };
  /** Sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7+). Every server and emitter on the channel must agree. */
  sharded?: boolean;
  /**
   * A publish that gets no reply in this many ms is rejected (default 5000). A connection on which
   * the broker stays silent this long while a reply is due is dropped and reconnected, and the
   * subscribed connection is pinged at this interval so that a silent link is noticed there too.
   */
  publishTimeout?: number;
  reconnect?: RedisReconnectOptions;
}

type Client = Redis | Cluster;

function defaultUrl(): string {
  return process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
}

export class RedisDriver implements PubSubDriver {
  private pub: Client | null = null;
  private sub: Client | null = null;
  private channel = "";
  private pubReady = false;
  private subReady = false;
  private up = false;
  private everUp = false;
  private closed = false;
  private events: DriverEvents | null = null;
  private settleStart: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  /** Cluster, plain pub/sub: the node every publication goes to (see the ordering note above). */
  private pinned: { key: string; node: Redis } | null = null;
  /** Last error message per connection, so a retry loop reports a failure once, not every attempt. */
  private readonly lastError = new Map<Client, string>();

  constructor(private readonly options: RedisDriverOptions = {}) {}

  start(channel: string, onMessage: (payload: Uint8Array) => void, events: DriverEvents): Promise<void> {
    if (this.pub !== null) return Promise.reject(new Error("RedisDriver.start called twice"));
    if (this.closed) return Promise.reject(new Error("driver closed"));
    this.channel = channel;
    this.events = events;
    const min = this.options.reconnect?.minDelay ?? 100;
    const max = this.options.reconnect?.maxDelay ?? 5000;
    const retryStrategy = (times: number): number => Math.min(max, min * 2 ** Math.min(times - 1, 20));
    const timeout = this.options.publishTimeout ?? 5000;
    const publisher: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: timeout,
      socketTimeout: timeout,
    };
    const subscriber: RedisOptions = { enableOfflineQueue: false, autoResubscribe: false, maxRetriesPerRequest: 0, socketTimeout: timeout };

    const promise = new Promise<void>((resolve, reject) => (this.settleStart = { resolve, reject }));
    const pub = (this.pub = this.create({ ...publisher, retryStrategy }));
    const sub = (this.sub = this.create({ ...subscriber, retryStrategy }));

    pub.on("ready", () => {
      this.lastError.delete(pub);
      this.pubReady = true;
      this.update();
    });
    sub.on("ready", () => {
      this.lastError.delete(sub);
      void this.subscribe(sub);
    });
    for (const client of [pub, sub]) {
      client.on("error", (err: Error) => this.reportOnce(client, err, "connect"));
      client.on("close", () => {
        if (client === pub) this.pubReady = false;
        else this.subReady = false;
        this.update();
      });
    }
    // The subscriber's heartbeat: a silent link fails the PING's socketTimeout and reconnects.
    // (Redis Cluster subscribes on connections of its own, which this PING would not reach.)
    this.heartbeat = setInterval(() => {
      if (this.subReady && sub instanceof Redis) sub.ping().catch(() => {});
    }, timeout);
    this.heartbeat.unref?.();
    const sharded = this.options.sharded === true;
    sub.on(sharded ? "smessageBuffer" : "messageBuffer", (ch: Buffer, message: Buffer) => {
      if (ch.toString() !== this.channel) return;
      try {
        onMessage(message);
      } catch (err) {
        events.onError(err instanceof Error ? err : new Error(String(err)), "receive");
      }
    });
    return promise;
  }

  async publish(channel: string, payload: Uint8Array): Promise<void> {
    const pub = this.pub;
    if (pub === null || this.closed) throw new Error("redis driver is not started");
    const message = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    if (this.options.sharded) await pub.spublish(channel, message);
    else if (pub instanceof Cluster) await (this.slotOwner(pub, channel) ?? pub).publish(channel, message);
    else await pub.publish(channel, message);
  }

  /** The master that owns `channel`'s slot, or null before the slot map is known. */
  private slotOwner(pub: Cluster, channel: string): Redis | null {
    const key = pub.slots[calculateSlot(channel)]?.[0];
    if (key === undefined) return null;
    const pinned = this.pinned;
    if (pinned !== null && pinned.key === key && pinned.node.status !== "end") return pinned.node;
    const node = pub.nodes("master").find((n) => `${n.options.host}:${n.options.port}` === key) ?? null;
    this.pinned = node === null ? null : { key, node };
    return node;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.settleStart?.reject(new Error("driver closed"));
    this.settleStart = null;
    for (const client of [this.sub, this.pub]) {
      if (client === null) continue;
      client.removeAllListeners("close");
      client.disconnect();
    }
  }

  private create(extra: RedisOptions): Client {
    const cluster = this.options.cluster;
    if (cluster !== undefined) {
      const { retryStrategy, ...rest } = extra;
      return new Cluster(cluster.nodes, {
        ...cluster.options,
        shardedSubscribers: this.options.sharded === true,
        enableOfflineQueue: false,
        clusterRetryStrategy: (times: number) => (typeof retryStrategy === "function" ? retryStrategy(times) : null),
        redisOptions: { ...cluster.options?.redisOptions, ...rest },
      });
    }
    return new Redis(this.options.url ?? defaultUrl(), { ...this.options.redisOptions, ...extra });
  }

  private async subscribe(sub: Client): Promise<void> {
    try {
      if (this.options.sharded) await sub.ssubscribe(this.channel);
      else await sub.subscribe(this.channel);
    } catch (err) {
      if (this.closed) return;
      this.events?.onError(err instanceof Error ? err : new Error(String(err)), "subscribe");
      // Start over with a fresh connection (and the backoff) rather than stay connected but deaf.
      sub.disconnect(true);
      return;
    }
    this.subReady = true;
    this.update();
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
    } else if (up) {
      this.events?.onReconnect();
    } else if (this.everUp) {
      this.events?.onDisconnect();
    }
  }

  private reportOnce(client: Client, err: Error, stage: "connect"): void {
    if (this.closed) return;
    if (this.lastError.get(client) === err.message) return;
    this.lastError.set(client, err.message);
    this.events?.onError(err, stage);
  }
}
