// "sockjet/emitter": reach the clients of a sockjet cluster from any process that is not a
// Socket.IO server (a job worker, a cron script, the CLI) — python-socketio's write-only manager.
// It publishes the same operations the servers publish, on the same channel, and subscribes only
// to receive the acknowledgements addressed to its own host id, which is what makes `call()`
// possible from outside a server.

import type { PubSubDriver } from "../manager/driver.js";
import { ClusterNode, type ClusterErrorEvent, type ClusterEvents } from "../manager/pubsub/node.js";
import type { ClusterMessage } from "../manager/pubsub/envelope.js";
import { fromArgList, toArgList } from "../socket/args.js";
import { SockjetError, TimeoutError } from "../socket/errors.js";
import type { DisconnectOptions } from "../socket/types.js";
import { RESERVED_EVENTS } from "../socket/protocol/packet.js";
import type { JsonCodec } from "../socket/protocol/packet.js";
import { resolveLogger, type Logger } from "../util/logger.js";
import { LazyDriver, loadDriver } from "./driver-url.js";

export { Args, args } from "../socket/args.js";
export type { DisconnectOptions } from "../socket/types.js";
export { brokerOf, loadDriver } from "./driver-url.js";

export interface EmitterOptions {
  /** A broker driver (RedisDriver, the AMQP or NATS driver, `InMemoryBroker.driver()`). */
  driver?: PubSubDriver;
  /** Or a broker URL: redis://, rediss://, amqp://, amqps://, nats://. */
  url?: string;
  /** Must match the servers' channel. Default "socketio". */
  channel?: string;
  /** Redis URLs only: sharded pub/sub (must match the servers). */
  sharded?: boolean;
  hostId?: string;
  json?: JsonCodec;
  logger?: boolean | Logger;
  /** How long an operation waits for the first broker connection, ms (default 10000). */
  connectTimeout?: number;
}

export interface EmitterEmitOptions {
  /** A sid or room, or several; default everyone in the namespace. */
  to?: string | readonly string[];
  /** Alias of `to`. */
  room?: string | readonly string[];
  skipSid?: string | readonly string[];
  /** Default "/". */
  namespace?: string;
}

export interface EmitterCallOptions {
  /** The sid to call. */
  to: string;
  namespace?: string;
  /** ms to wait for the acknowledgement (default 60000). */
  timeout?: number;
}

function list(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === "string" ? [value] : [...value];
}

function checkEvent(event: string): void {
  if (typeof event !== "string" || event === "") throw new SockjetError("INVALID_ARGUMENT", "event name must be a non-empty string");
  if (RESERVED_EVENTS.has(event)) throw new SockjetError("INVALID_ARGUMENT", `"${event}" is a reserved event name`);
}

function checkNamespace(namespace: string): void {
  if (typeof namespace !== "string" || !namespace.startsWith("/")) throw new SockjetError("INVALID_ARGUMENT", `namespace must start with "/": ${namespace}`);
}

export class Emitter {
  private readonly node: ClusterNode;
  private readonly connectTimeout: number;
  private readonly pending = new Set<(err: Error) => void>();
  private started: Promise<void> | null = null;
  private closed = false;

  constructor(options: EmitterOptions) {
    let driver = options.driver;
    if (driver === undefined) {
      const url = options.url;
      if (url === undefined) throw new SockjetError("INVALID_ARGUMENT", "Emitter needs a driver or a url");
      driver = new LazyDriver(() => loadDriver(url, options.sharded !== undefined ? { sharded: options.sharded } : {}));
    }
    const logger = resolveLogger(options.logger);
    this.connectTimeout = options.connectTimeout ?? 10_000;
    this.node = new ClusterNode({
      driver,
      channel: options.channel ?? "socketio",
      ...(options.hostId !== undefined ? { hostId: options.hostId } : {}),
      ...(options.json !== undefined ? { json: options.json } : {}),
      ackTimeout: 60_000,
      logger: () => logger,
      onMessage: () => {},
      callbacksOnly: true,
    });
  }

  get hostId(): string {
    return this.node.hostId;
  }

  get connected(): boolean {
    return this.node.connected;
  }

  /** `"error"` (connection and receive failures), `"disconnect"`, `"reconnect"`. */
  on<K extends keyof ClusterEvents>(event: K, listener: ClusterEvents[K]): this {
    this.node.on(event, listener);
    return this;
  }

  off<K extends keyof ClusterEvents>(event: K, listener: ClusterEvents[K]): this {
    this.node.off(event, listener);
    return this;
  }

  /**
   * Connects (once). Operations call it themselves; call it to fail early. Until the first
   * connection succeeds, an operation fails on the first connection error or after
   * `connectTimeout`, instead of waiting for the driver's retries.
   */
  async connect(): Promise<void> {
    if (this.closed) throw new Error("emitter closed");
    this.started ??= this.node.start();
    if (this.node.connected) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onError: ((event: ClusterErrorEvent) => void) | undefined;
    const failure = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`could not reach the broker within ${this.connectTimeout} ms`)), this.connectTimeout);
      onError = (event) => {
        if (event.stage === "connect" && !this.node.connected) reject(event.error);
      };
      this.node.on("error", onError);
    });
    try {
      await Promise.race([this.started, failure]);
    } finally {
      clearTimeout(timer);
      this.node.off("error", onError!);
    }
  }

  /**
   * Emits to the clients of every server. `data` is the single argument (`undefined` for none,
   * `args(a, b)` for several). Rejects when the broker does not take the message.
   */
  async emit(event: string, data?: unknown, options: EmitterEmitOptions = {}): Promise<void> {
    checkEvent(event);
    const namespace = options.namespace ?? "/";
    checkNamespace(namespace);
    const rooms = [...list(options.to), ...list(options.room)];
    await this.publish({
      type: "emit",
      host: this.hostId,
      namespace,
      event,
      args: toArgList(data),
      rooms: rooms.length > 0 ? rooms : null,
      skip: list(options.skipSid),
    });
  }

  /** The "message" event. */
  send(data: unknown, options: EmitterEmitOptions = {}): Promise<void> {
    return this.emit("message", data, options);
  }

  /**
   * Emits to one sid, wherever it is connected, and resolves with its acknowledgement (undefined,
   * the value, or `Args` for several). Rejects with TimeoutError (`ACK_TIMEOUT`) when none comes.
   */
  async call(event: string, data: unknown, options: EmitterCallOptions): Promise<unknown> {
    checkEvent(event);
    const namespace = options.namespace ?? "/";
    checkNamespace(namespace);
    if (typeof options.to !== "string") throw new SockjetError("INVALID_ARGUMENT", "call needs a sid in `to`");
    const timeout = options.timeout ?? 60_000;
    await this.connect();
    return new Promise((resolve, reject) => {
      let request = "";
      const finish = (): void => {
        clearTimeout(timer);
        this.node.dropRoute(request);
        this.pending.delete(fail);
      };
      const fail = (err: Error): void => {
        finish();
        reject(err);
      };
      const timer = setTimeout(() => fail(new TimeoutError(`no acknowledgement from ${options.to} within ${timeout} ms`)), timeout);
      request = this.node.registerRoute((...reply: unknown[]) => {
        finish();
        resolve(fromArgList(reply));
      }, timeout);
      this.pending.add(fail);
      const message: ClusterMessage = {
        type: "emit",
        host: this.hostId,
        namespace,
        event,
        args: toArgList(data),
        rooms: [options.to],
        skip: [],
        request,
      };
      this.node.send(message).then((error) => {
        if (error !== null) fail(error);
      }, fail);
    });
  }

  enterRoom(sid: string, room: string, namespace = "/"): Promise<void> {
    checkNamespace(namespace);
    return this.publish({ type: "enter_room", host: this.hostId, namespace, sid, room });
  }

  leaveRoom(sid: string, room: string, namespace = "/"): Promise<void> {
    checkNamespace(namespace);
    return this.publish({ type: "leave_room", host: this.hostId, namespace, sid, room });
  }

  /** Removes every client, on every server, from a room. */
  closeRoom(room: string, namespace = "/"): Promise<void> {
    checkNamespace(namespace);
    return this.publish({ type: "close_room", host: this.hostId, namespace, room });
  }

  /**
   * Disconnects a client from a namespace, on whichever server holds it. `{ close: true }` closes
   * its whole connection: every namespace, then the transport.
   */
  disconnect(sid: string, namespace = "/", options: DisconnectOptions = {}): Promise<void> {
    checkNamespace(namespace);
    return this.publish({ type: "disconnect", host: this.hostId, namespace, sid, ...(options.close === true ? { close: true } : {}) });
  }

  /** The same operations, scoped to one namespace. */
  of(namespace: string): NamespaceEmitter {
    checkNamespace(namespace);
    return new NamespaceEmitter(this, namespace);
  }

  /** Closes the broker connection; pending calls reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const fail of [...this.pending]) fail(new Error("emitter closed"));
    await this.node.close();
  }

  private async publish(message: ClusterMessage): Promise<void> {
    await this.connect();
    const error = await this.node.send(message);
    if (error !== null) throw error;
  }
}

/** An Emitter bound to one namespace (`emitter.of("/chat")`). */
export class NamespaceEmitter {
  constructor(
    private readonly emitter: Emitter,
    readonly namespace: string,
  ) {}
  emit(event: string, data?: unknown, options: Omit<EmitterEmitOptions, "namespace"> = {}): Promise<void> {
    return this.emitter.emit(event, data, { ...options, namespace: this.namespace });
  }
  send(data: unknown, options: Omit<EmitterEmitOptions, "namespace"> = {}): Promise<void> {
    return this.emitter.send(data, { ...options, namespace: this.namespace });
  }
  call(event: string, data: unknown, options: Omit<EmitterCallOptions, "namespace">): Promise<unknown> {
    return this.emitter.call(event, data, { ...options, namespace: this.namespace });
  }
  enterRoom(sid: string, room: string): Promise<void> {
    return this.emitter.enterRoom(sid, room, this.namespace);
  }
  leaveRoom(sid: string, room: string): Promise<void> {
    return this.emitter.leaveRoom(sid, room, this.namespace);
  }
  closeRoom(room: string): Promise<void> {
    return this.emitter.closeRoom(room, this.namespace);
  }
  disconnect(sid: string, options: DisconnectOptions = {}): Promise<void> {
    return this.emitter.disconnect(sid, this.namespace, options);
  }
}
