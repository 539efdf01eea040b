// The Redis connections of the socket.io-compatible manager: ../drivers/redis-pair.ts's pair (a
// standalone Redis or a Redis Cluster; the same failure behaviour and order guarantee as the
// generic Redis driver), subscribed to a set of channels and patterns that grows and shrinks while
// the server runs (namespaces, and rooms in the sharded dynamic modes), and asked for subscriber
// counts (PUBSUB NUMSUB / SHARDNUMSUB).
//
// On a Redis Cluster, plain publications all go to one node (the master owning the slot of
// `orderKey`, the "/" request channel): each node forwards them to the others in the order it got
// them, so one server's operations keep their order on every channel, as on a single Redis.
// SPUBLISH goes to the owner of each channel's slot: between two channels of different slots
// there is no order (socket.io's sharded adapter has the same property). Server counts add up the
// subscribers of every node, as socket.io's adapter does.

import { Cluster, type Redis } from "ioredis";
import { RedisPair, subscribeChannels, type RedisClient, type RedisConnectionOptions } from "../drivers/redis-pair.js";

export interface SocketIORedisLinkOptions extends RedisConnectionOptions {
  /** A publish or PUBSUB query that gets no reply in this many ms is rejected (default 5000); also the heartbeat interval. */
  publishTimeout?: number;
}

export interface LinkEvents {
  message(channel: string, payload: Buffer): void;
  error(error: Error, stage: "connect" | "subscribe" | "receive"): void;
  disconnect(): void;
  reconnect(): void;
}

export class SocketIORedisLink {
  private pair: RedisPair | null = null;
  private readonly channels = new Set<string>();
  private readonly patterns = new Set<string>();
  private closed = false;

  constructor(
    private readonly options: SocketIORedisLinkOptions,
    private readonly sharded: boolean,
    private readonly events: LinkEvents,
    /** Cluster, plain pub/sub: the channel whose slot owner takes every publication. */
    private readonly orderKey: string,
  ) {}

  get connected(): boolean {
    return this.pair?.connected ?? false;
  }

  /** Connects both connections and subscribes to what was added so far; resolves when both are usable. */
  start(): Promise<void> {
    if (this.pair !== null) return Promise.reject(new Error("SocketIORedisLink.start called twice"));
    if (this.closed) return Promise.reject(new Error("link closed"));
    const events = this.events;
    this.pair = new RedisPair(this.options, this.sharded, {
      resubscribe: (sub) => this.subscribeAll(sub),
      message: (channel, payload) => events.message(channel.toString(), payload),
    }, {
      onError: (error, stage) => events.error(error, stage),
      onDisconnect: () => events.disconnect(),
      onReconnect: () => events.reconnect(),
    });
    return this.pair.ready;
  }

  /** Subscribes (now if connected, else on the next connection). */
  async subscribe(channel: string): Promise<void> {
    if (this.channels.has(channel)) return;
    this.channels.add(channel);
    const sub = this.pair?.subscriber ?? null;
    if (sub === null) return;
    try {
      await subscribeChannels(sub, [channel], this.sharded);
    } catch (err) {
      this.pair?.failedSubscription(sub, err);
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    if (!this.channels.delete(channel)) return;
    const sub = this.pair?.subscriber ?? null;
    if (sub === null) return;
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
    const pair = this.pair;
    if (pair === null || this.closed) throw new Error("the Redis link is not started");
    await pair.publish(channel, payload, this.orderKey);
  }

  /** How many connections subscribe to `channel`: socket.io's count of the servers of a namespace. */
  async subscribers(channel: string): Promise<number> {
    const pair = this.pair;
    if (pair === null || this.closed) throw new Error("the Redis link is not started");
    const pub = pair.publisher;
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
    this.pair?.close(new Error("link closed"));
  }

  private async subscribeAll(sub: RedisClient): Promise<void> {
    await subscribeChannels(sub, [...this.channels], this.sharded);
    if (this.patterns.size > 0) await sub.psubscribe(...this.patterns);
  }
}
