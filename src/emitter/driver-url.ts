// Picks a broker driver from a URL (redis://, rediss://, amqp://, amqps://, nats://, tls://) and
// loads its module only when needed, so the emitter does not depend on every broker client.

import type { DriverEvents, PubSubDriver } from "../manager/driver.js";

export interface UrlDriverOptions {
  /** Redis only: sharded pub/sub. */
  sharded?: boolean;
}

export type BrokerKind = "redis" | "amqp" | "nats";

export function brokerOf(url: string): BrokerKind {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new Error(`not a broker URL: ${url}`);
  }
  switch (protocol) {
    case "redis:":
    case "rediss:":
      return "redis";
    case "amqp:":
    case "amqps:":
      return "amqp";
    case "nats:":
    case "tls:":
      return "nats";
    default:
      throw new Error(`unsupported broker URL scheme ${protocol} (redis:, rediss:, amqp:, amqps:, nats:, tls:)`);
  }
}

type DriverConstructor = new (options: { url: string }) => PubSubDriver;

function driverClass(module: unknown, name: string): DriverConstructor {
  const value: unknown = typeof module === "object" && module !== null ? (module as Record<string, unknown>)[name] : undefined;
  if (typeof value !== "function") throw new Error(`the driver module does not export ${name}`);
  return value as DriverConstructor;
}

export async function loadDriver(url: string, options: UrlDriverOptions = {}): Promise<PubSubDriver> {
  const kind = brokerOf(url);
  if (kind === "redis") {
    const { RedisDriver } = await import("../manager/drivers/redis.js");
    return new RedisDriver({ url, ...(options.sharded !== undefined ? { sharded: options.sharded } : {}) });
  }
  // Loaded only when used, so that amqplib and nats stay optional for everyone else.
  const [specifier, name] = kind === "amqp" ? ["../manager/drivers/amqp.js", "AmqpDriver"] : ["../manager/drivers/nats.js", "NatsDriver"];
  const module: unknown = await import(specifier);
  const Driver = driverClass(module, name);
  return new Driver({ url });
}

/** A driver whose real implementation is loaded when it starts. */
export class LazyDriver implements PubSubDriver {
  private real: PubSubDriver | null = null;
  private closed = false;

  constructor(private readonly load: () => Promise<PubSubDriver>) {}

  async start(channel: string, onMessage: (payload: Uint8Array) => void, events: DriverEvents): Promise<void> {
    const real = await this.load();
    if (this.closed) {
      await real.close();
      throw new Error("driver closed");
    }
    this.real = real;
    await real.start(channel, onMessage, events);
  }

  publish(channel: string, payload: Uint8Array): Promise<void> {
    if (this.real === null) return Promise.reject(new Error("broker connection is not started"));
    return this.real.publish(channel, payload);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.real?.close();
  }
}
