// Redis as the cluster broker, on ioredis (the driver behind "sockjet/redis", see ../pubsub/redis.ts).
//
// Two connections per process, as Redis requires (a subscribed connection can only subscribe):
// one publishes, one is subscribed to the channel. Plain pub/sub (PUBLISH/SUBSCRIBE) by default;
// with `sharded: true`, sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7+), which on Redis Cluster
// keeps each channel's traffic on the shard that owns its slot instead of broadcasting it over the
// cluster bus. Redis pub/sub keeps nothing for absent subscribers: what is published while a
// server is disconnected never reaches it.
//
// The two connections, their failure behaviour (publications rejected at once during an outage,
// reconnection with backoff, a silent link noticed within `publishTimeout`) and the order of one
// server's publications on a Redis Cluster are ./redis-pair.ts's, shared with the socket.io-compatible
// manager; this driver subscribes to its one channel and passes its messages on.

import type { DriverEvents, PubSubDriver } from "../driver.js";
import { RedisPair, subscribeChannels, type RedisConnectionOptions } from "./redis-pair.js";

export type { RedisReconnectOptions } from "./redis-pair.js";

export interface RedisDriverOptions extends RedisConnectionOptions {
  /** Sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7+). Every server and emitter on the channel must agree. */
  sharded?: boolean;
}

export class RedisDriver implements PubSubDriver {
  private pair: RedisPair | null = null;
  private closed = false;

  constructor(private readonly options: RedisDriverOptions = {}) {}

  start(channel: string, onMessage: (payload: Uint8Array) => void, events: DriverEvents): Promise<void> {
    if (this.pair !== null) return Promise.reject(new Error("RedisDriver.start called twice"));
    if (this.closed) return Promise.reject(new Error("driver closed"));
    const sharded = this.options.sharded === true;
    this.pair = new RedisPair(this.options, sharded, {
      resubscribe: (sub) => subscribeChannels(sub, [channel], sharded),
      message: (ch, message) => {
        if (ch.toString() === channel) onMessage(message);
      },
    }, events);
    return this.pair.ready;
  }

  async publish(channel: string, payload: Uint8Array): Promise<void> {
    const pair = this.pair;
    if (pair === null || this.closed) throw new Error("redis driver is not started");
    // The channel is its own order key: every publication of this server goes to its slot's owner.
    await pair.publish(channel, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), channel);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pair?.close(new Error("driver closed"));
  }
}
