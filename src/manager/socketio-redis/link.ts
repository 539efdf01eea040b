// The Redis connections of the socket.io-compatible manager (ioredis; a standalone Redis or a Redis
// Cluster): one publishes, one subscribes to a set of channels and patterns that grows and shrinks
// while the server runs (namespaces, and rooms in the sharded dynamic modes). Same failure
// behaviour as the generic Redis driver (../drivers/redis.ts): publishing never waits for a
// connection (rejected at once during an outage, so the manager reports the operation lost), both
// connections reconnect with exponential backoff, a silent link is noticed by a timeout and a
// heartbeat, and the subscriber subscribes to everything again after each reconnection.
//
// On a Redis Cluster, plain publications all go to one node (the master owning the slot of
// `orderKey`, the "/" request channel): each node forwards them to the others in the order it got
// them, so one server's operations keep their order on every channel, as on a single Redis.
// SPUBLISH goes to the owner of each channel's slot: between two channels of different slots
// there is no order (socket.io's sharded adapter has the same property). Server counts add up the
// subscribers of every node, as socket.io's adapter does.

import calculateSlot from "cluster-key-slot";
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from "ioredis";
import type { RedisReconnectOptions } from "../drivers/redis.js";

export interface SocketIORedisLinkOptions {
  /** Default `REDIS_URL` or "redis://127.0.0.1:6379". Ignored with `cluster`. */
  url?: string;
  /** A Redis Cluster: its startup nodes and ioredis Cluster options. */
  cluster?: { nodes: ClusterNode[]; options?: ClusterOptions };
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

type Client = Redis | Cluster;

export class SocketIORedisLink {
  private pub: Client | null = null;
  private sub: Client | null = null;
  /** Cluster, plain pub/sub: the node every publication goes to. */
  private pinned: { key: string; node: Redis } | null = null;
  private readonly channels = new Set<string>();
  private readonly patterns = new Set<string>();
  private pubReady = false;
  private subReady = false;
  private up = false;
  private everUp = false;
  private closed = false;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private settleStart: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private readonly lastError = new Map<Client, string>();

  constructor(
    private readonly options: SocketIORedisLinkOptions,
    private readonly sharded: boolean,
    private readonly events: LinkEvents,
    /** Cluster, plain pub/sub: the channel whose slot owner takes every publication. */
    private readonly orderKey: string,
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
    const base = { enableOfflineQueue: false, maxRetriesPerRequest: 0, socketTimeout: timeout, retryStrategy };
    const pub = (this.pub = this.create({ ...base, autoResendUnfulfilledCommands: false, commandTimeout: timeout }));
    const sub = (this.sub = this.create({ ...base, autoResubscribe: false }));
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
    // (A Redis Cluster subscribes on connections of its own, which this PING would not reach.)
    this.heartbeat = setInterval(() => {
      if (this.subReady && sub instanceof Redis) sub.ping().catch(() => {});
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
    else if (pub instanceof Cluster) await (this.slotOwner(pub) ?? pub).publish(channel, payload);
    else await pub.publish(channel, payload);
  }

  /** The master that owns `orderKey`'s slot, or null before the slot map is known. */
  private slotOwner(pub: Cluster): Redis | null {
    const key = pub.slots[calculateSlot(this.orderKey)]?.[0];
    if (key === undefined) return null;
    const pinned = this.pinned;
    if (pinned !== null && pinned.key === key && pinned.node.status !== "end") return pinned.node;
    const node = pub.nodes("master").find((n) => `${n.options.host}:${n.options.port}` === key) ?? null;
    this.pinned = node === null ? null : { key, node };
    return node;
  }

  /** How many connections subscribe to `channel`: socket.io's count of the servers of a namespace. */
  async subscribers(channel: string): Promise<number> {
    const pub = this.pub;
    if (pub === null || this.closed) throw new Error("the Redis link is not started");
    const command = this.sharded ? "SHARDNUMSUB" : "NUMSUB";
    const nodes: Redis[] = pub instanceof Cluster ? pub.nodes("all") : [pub];
    const replies = await Promise.all(nodes.map((node) => node.call("PUBSUB", command, channel) as Promise<unknown[]>));
    let total = 0;
    for (const reply of replies) {
      const count = Number(reply[1]);
      if (!Number.isSafeInteger(count)) throw new Error(`unexpected PUBSUB reply ${JSON.stringify(reply)}`);
      total += count;
    }
    return total;
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

  private create(extra: RedisOptions): Client {
    const cluster = this.options.cluster;
    if (cluster !== undefined) {
      const { retryStrategy, ...rest } = extra;
      return new Cluster(cluster.nodes, {
        ...cluster.options,
        shardedSubscribers: this.sharded,
        enableOfflineQueue: false,
        clusterRetryStrategy: (times: number) => (typeof retryStrategy === "function" ? retryStrategy(times) : null),
        redisOptions: { ...cluster.options?.redisOptions, ...this.options.redisOptions, ...rest },
      });
    }
    const url = this.options.url ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
    return new Redis(url, { ...this.options.redisOptions, ...extra });
  }

  private async subscribeAll(sub: Client): Promise<void> {
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
  private failedSubscription(sub: Client, err: unknown): void {
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

  private reportOnce(client: Client, err: Error): void {
    if (this.closed || this.lastError.get(client) === err.message) return;
    this.lastError.set(client, err.message);
    this.events.error(err, "connect");
  }
}
