// "sockjet/redis": the cluster manager over Redis pub/sub (ioredis), python-socketio's
// RedisManager counterpart. The driver (plain or sharded pub/sub, Redis Cluster) is
// src/manager/drivers/redis.ts; everything cluster-related is the generic PubSubManager.

import { RedisDriver, type RedisDriverOptions } from "../drivers/redis.js";
import { PubSubManager, type PubSubManagerOptions } from "./manager.js";

export * from "../drivers/redis.js";

export interface RedisManagerOptions extends Omit<PubSubManagerOptions, "driver">, RedisDriverOptions {}

/**
 * A cluster manager over Redis pub/sub (python-socketio's RedisManager):
 * `new Server({ clientManager: new RedisManager({ url: "redis://127.0.0.1:6379" }) })`.
 */
export class RedisManager extends PubSubManager {
  constructor(options: RedisManagerOptions = {}) {
    super({ ...options, driver: new RedisDriver(options) });
  }
}

// The compatibility mode with @socket.io/redis-adapter's channels (docs/socketio-redis-compat.md).
export { SocketIORedisManager, type SocketIORedisManagerOptions } from "../socketio-redis/manager.js";
export type { SubscriptionMode } from "../socketio-redis/sharded.js";

export { RedisRecoveryStore, type RedisRecoveryStoreOptions } from "./redis-recovery.js";
