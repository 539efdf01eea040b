// "sockjet/nats": the cluster manager over NATS core pub/sub (the `nats` client). The driver is
// src/manager/drivers/nats.ts; everything cluster-related is the generic PubSubManager.

import { NatsDriver, type NatsDriverOptions } from "../drivers/nats.js";
import { PubSubManager, type PubSubManagerOptions } from "./manager.js";

export * from "../drivers/nats.js";

export interface NatsManagerOptions extends Omit<PubSubManagerOptions, "driver">, NatsDriverOptions {}

/** `new Server({ clientManager: new NatsManager({ url: "nats://127.0.0.1:4222" }) })` */
export class NatsManager extends PubSubManager {
  constructor(options: NatsManagerOptions = {}) {
    super({ ...options, driver: new NatsDriver(options) });
  }
}
