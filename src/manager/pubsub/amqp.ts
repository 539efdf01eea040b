// "sockjet/amqp": the cluster manager over RabbitMQ (AMQP 0-9-1, amqplib), python-socketio's
// KombuManager counterpart. The driver (exchange per channel, queue per process) is
// src/manager/drivers/amqp.ts; everything cluster-related is the generic PubSubManager.

import { AmqpDriver, type AmqpDriverOptions } from "../drivers/amqp.js";
import { PubSubManager, type PubSubManagerOptions } from "./manager.js";

export * from "../drivers/amqp.js";

export interface AmqpManagerOptions extends Omit<PubSubManagerOptions, "driver">, AmqpDriverOptions {}

/** `new Server({ clientManager: new AmqpManager({ url: "amqp://guest:guest@127.0.0.1:5672" }) })` */
export class AmqpManager extends PubSubManager {
  constructor(options: AmqpManagerOptions = {}) {
    super({ ...options, driver: new AmqpDriver(options) });
  }
}
