// The two Redis connections (ioredis; a standalone Redis or a Redis Cluster) that every Redis
// pub/sub participant needs, as Redis requires (a subscribed connection can only subscribe): one
// publishes, one subscribes. Shared by the generic driver (./redis.ts: one channel) and the
// socket.io-compatible manager's link (../socketio-redis/link.ts: channels and patterns that come
// and go); what each subscribes to, and what a message means, stays with them.
//
// Failure behaviour: publishing never waits for a connection (no offline queue, no resend of
// in-flight commands, a command timeout), so a publication during an outage is rejected at once
// and the manager reports it lost. Both connections reconnect with exponential backoff; after each
// connection of the subscriber its owner subscribes again (`resubscribe`), and `onReconnect` fires
// only when both are usable again.
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
// publications are therefore all sent to one node, the master owning the slot of the owner's
// `orderKey`, which keeps one server's operations in order for every subscriber. SPUBLISH goes to
// the owner of each channel's slot by itself.

import calculateSlot from "cluster-key-slot";
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from "ioredis";

export interface RedisReconnectOptions {
  /** First retry delay, ms (default 100). */
  minDelay?: number;
  /** Longest retry delay, ms (default 5000); the delay doubles from minDelay up to this. */
  maxDelay?: number;
}

export interface RedisConnectionOptions {
  /** Default `REDIS_URL` or "redis://127.0.0.1:6379". Ignored with `cluster`. */
  url?: string;
  /**
   * Extra ioredis options for both connections (TLS, password, db...); on a Redis Cluster, for
   * every node connection, over the Cluster options' own `redisOptions`.
   */
  redisOptions?: RedisOptions;
  /** A Redis Cluster: its startup nodes and ioredis Cluster options. */
  cluster?: { nodes: ClusterNode[]; options?: ClusterOptions };
  /**
   * A publish that gets no reply in this many ms is rejected (default 5000). A connection on which
   * the broker stays silent this long while a reply is due is dropped and reconnected, and the
   * subscribed connection is pinged at this interval so that a silent link is noticed there too.
   */
  publishTimeout?: number;
  reconnect?: RedisReconnectOptions;
}

export type RedisClient = Redis | Cluster;

/** How a pair reports its state: DriverEvents without the "publish" stage (a failed publication is its caller's to report). */
export interface RedisPairEvents {
  onError(error: Error, stage: "connect" | "subscribe" | "receive"): void;
  onDisconnect(): void;
  onReconnect(): void;
}

/** What the owner of a pair subscribes to and does with a message. */
export interface RedisSubscriptions {
  /**
   * Subscribes `sub` to everything wanted, after each connection of the subscriber (ioredis's
   * autoResubscribe is off so that a failure is seen). A rejection is reported (stage "subscribe")
   * and starts over with a fresh connection.
   */
  resubscribe(sub: RedisClient): Promise<void>;
  /** A message on a subscribed channel or through a pattern; what it throws is reported (stage "receive"). */
  message(channel: Buffer, payload: Buffer): void;
}

/** SUBSCRIBE `channels` in one command, or SSUBSCRIBE them one by one: a multi-channel SSUBSCRIBE must stay within one hash slot. */
export async function subscribeChannels(sub: RedisClient, channels: readonly string[], sharded: boolean): Promise<void> {
  if (channels.length === 0) return;
  if (sharded) for (const channel of channels) await sub.ssubscribe(channel);
  else await sub.subscribe(...channels);
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

export class RedisPair {
  /** Resolves when both connections are usable for the first time; rejects if the pair is closed before. */
  readonly ready: Promise<void>;
  private readonly pub: RedisClient;
  private readonly sub: RedisClient;
  private pubReady = false;
  private subReady = false;
  private up = false;
  private everUp = false;
  private closed = false;
  private settleStart: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private readonly heartbeat: ReturnType<typeof setInterval>;
  /** Cluster, plain pub/sub: the node every publication goes to (see the ordering note above). */
  private pinned: { key: string; node: Redis } | null = null;
  /** Last error message per connection, so a retry loop reports a failure once, not every attempt. */
  private readonly lastError = new Map<RedisClient, string>();

  /** Opens both connections at once. */
  constructor(
    private readonly options: RedisConnectionOptions,
    /** Sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7+). */
    private readonly sharded: boolean,
    private readonly subscriptions: RedisSubscriptions,
    private readonly events: RedisPairEvents,
  ) {
    const min = options.reconnect?.minDelay ?? 100;
    const max = options.reconnect?.maxDelay ?? 5000;
    const retryStrategy = (times: number): number => Math.min(max, min * 2 ** Math.min(times - 1, 20));
    const timeout = options.publishTimeout ?? 5000;
    const base: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 0, socketTimeout: timeout, retryStrategy };
    this.ready = new Promise<void>((resolve, reject) => (this.settleStart = { resolve, reject }));
    const pub = (this.pub = this.create({ ...base, autoResendUnfulfilledCommands: false, commandTimeout: timeout }));
    const sub = (this.sub = this.create({ ...base, autoResubscribe: false }));

    pub.on("ready", () => {
      this.lastError.delete(pub);
      this.pubReady = true;
      this.update();
    });
    sub.on("ready", () => {
      this.lastError.delete(sub);
      void this.resubscribe(sub);
    });
    for (const client of [pub, sub]) {
      client.on("error", (err: Error) => this.reportOnce(client, err));
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
    const deliver = (channel: Buffer, payload: Buffer): void => {
      try {
        subscriptions.message(channel, payload);
      } catch (err) {
        events.onError(asError(err), "receive");
      }
    };
    if (sharded) sub.on("smessageBuffer", deliver);
    else {
      // Only patterns that the owner subscribed to deliver here (none for the generic driver). A
      // channel matched by a pattern and subscribed by name would arrive twice: owners keep them apart.
      sub.on("messageBuffer", deliver);
      sub.on("pmessageBuffer", (_pattern: Buffer, channel: Buffer, payload: Buffer) => deliver(channel, payload));
    }
  }

  /** Both connections usable (and subscribed). */
  get connected(): boolean {
    return this.up;
  }

  /** The publishing connection, for commands other than publications (PUBSUB NUMSUB...). */
  get publisher(): RedisClient {
    return this.pub;
  }

  /** The subscribed connection while it is usable, else null (the next `resubscribe` will include what is wanted then). */
  get subscriber(): RedisClient | null {
    return this.subReady ? this.sub : null;
  }

  /**
   * Publishes `payload` on `channel`. On a Redis Cluster, a plain publication goes to the master
   * owning `orderKey`'s slot (see the ordering note above); SPUBLISH goes to `channel`'s owner.
   */
  async publish(channel: string, payload: Buffer | string, orderKey: string): Promise<void> {
    const pub = this.pub;
    if (this.sharded) await pub.spublish(channel, payload);
    else if (pub instanceof Cluster) await (this.slotOwner(pub, orderKey) ?? pub).publish(channel, payload);
    else await pub.publish(channel, payload);
  }

  /** A failed subscription: reported, then a fresh connection (and the backoff) rather than stay connected but deaf. */
  failedSubscription(sub: RedisClient, err: unknown): void {
    if (this.closed) return;
    this.events.onError(asError(err), "subscribe");
    sub.disconnect(true);
  }

  /** Disconnects both; a `ready` still pending rejects with `reason`. */
  close(reason: Error): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.settleStart?.reject(reason);
    this.settleStart = null;
    for (const client of [this.sub, this.pub]) {
      client.removeAllListeners("close");
      client.disconnect();
    }
  }

  /** The master that owns `key`'s slot, or null before the slot map is known. */
  private slotOwner(pub: Cluster, key: string): Redis | null {
    const owner = pub.slots[calculateSlot(key)]?.[0];
    if (owner === undefined) return null;
    const pinned = this.pinned;
    if (pinned !== null && pinned.key === owner && pinned.node.status !== "end") return pinned.node;
    const node = pub.nodes("master").find((n) => `${n.options.host}:${n.options.port}` === owner) ?? null;
    this.pinned = node === null ? null : { key: owner, node };
    return node;
  }

  private create(extra: RedisOptions): RedisClient {
    const cluster = this.options.cluster;
    if (cluster !== undefined) {
      const { retryStrategy, ...rest } = extra;
      return new Cluster(cluster.nodes, {
        ...cluster.options,
        shardedSubscribers: this.sharded,
        // Publishing never waits for a connection, on a Cluster as on a single Redis.
        enableOfflineQueue: false,
        clusterRetryStrategy: (times: number) => (typeof retryStrategy === "function" ? retryStrategy(times) : null),
        redisOptions: { ...cluster.options?.redisOptions, ...this.options.redisOptions, ...rest },
      });
    }
    return new Redis(this.options.url ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { ...this.options.redisOptions, ...extra });
  }

  private async resubscribe(sub: RedisClient): Promise<void> {
    try {
      await this.subscriptions.resubscribe(sub);
    } catch (err) {
      this.failedSubscription(sub, err);
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
      this.events.onReconnect();
    } else if (this.everUp) {
      this.events.onDisconnect();
    }
  }

  private reportOnce(client: RedisClient, err: Error): void {
    if (this.closed || this.lastError.get(client) === err.message) return;
    this.lastError.set(client, err.message);
    this.events.onError(err, "connect");
  }
}
