// RabbitMQ (AMQP 0-9-1) driver on amqplib.
//
// Topology, per channel: an exchange (fanout by default, named after the channel; python-socketio's
// KombuManager declares the same one: fanout, non-durable, not auto-deleted), and per process an
// exclusive, auto-delete, server-named queue bound to it, consumed with noAck. Publishing goes
// through a separate ConfirmChannel, so `publish` resolves only once the broker has accepted the
// message, and rejects on a nack, a closed channel, a blocked connection, no connection at all, or
// after `publishTimeout`.
//
// Recovery is amqplib's own (`connect(url, { recovery })`: exponential backoff, capped, with
// jitter). Its `setup` hook re-declares the exchange, queue and binding and restarts the consumer on
// every connection. A channel that dies on its own (the connection still open) takes the connection
// down with it so the same recovery path rebuilds everything. The queue is per connection, so what
// was published while this process was disconnected is not delivered to it afterwards; what this
// process tried to publish meanwhile was rejected. Nothing is lost silently.
//
// A link that goes silent without a reset (a partition, a pulled cable) is noticed by AMQP
// heartbeats only after twice the negotiated period (RabbitMQ proposes 60 s), and even then
// amqplib only ends the socket, whose queued bytes would still leave when the link came back.
// Until then every publish times out while its bytes stay queued on the socket, growing with the
// outage, to be delivered late, already reported lost. So a confirmation that times out destroys
// the socket (amqplib then closes the connection and recovery starts over), and every
// `publishTimeout` ms without a confirmation pending, one round trip on the publishing channel
// (checkExchange) checks the link, so that a process that does not publish notices too.

import { Buffer } from "node:buffer";
import { connect } from "amqplib";
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options, RecoveringChannelModel, SocketOptions } from "amqplib";
import type { DriverEvents, PubSubDriver } from "../driver.js";

export interface AmqpBackoffOptions {
  /** First reconnect delay, ms (default 100). */
  min?: number;
  /** Cap on the reconnect delay, ms (default 10000). */
  max?: number;
  /** Growth factor per attempt (default 2). */
  factor?: number;
  /** Random spread, a fraction of the delay, 0-1 (default 0.2). */
  jitter?: number;
}

export interface AmqpDriverOptions {
  /** Broker URL (amqplib syntax, e.g. `amqp://guest:guest@localhost:5672/vhost?heartbeat=10`) or connection fields. Default `amqp://guest:guest@localhost:5672`. */
  url?: string | Options.Connect;
  /** Exchange name. Default: the channel name. */
  exchange?: string;
  /** `fanout` (default) ignores routing keys; `topic` publishes and binds with routing key = channel, so several channels can share one exchange. */
  exchangeType?: "fanout" | "topic";
  /** Exchange declaration options. Default `{ durable: false, autoDelete: false }` (what python-socketio's KombuManager declares; a mismatch is a channel error). */
  exchangeOptions?: Options.AssertExchange;
  /** Reconnect backoff. */
  backoff?: AmqpBackoffOptions;
  /** How long `publish` waits for the broker's confirm before rejecting (and dropping the connection as dead), ms (default 5000); also the interval of the idle link check. */
  publishTimeout?: number;
  /** TCP/TLS connect timeout per attempt, ms (default 10000). */
  connectTimeout?: number;
  /**
   * Retries of the first connection before `start()` rejects. Default: unlimited, so a server that
   * boots while the broker is down joins the cluster when it comes up (failures are reported through
   * `onError`, stage "connect"; `close()` ends the wait). After the first connection, retries never
   * stop until `close()`.
   */
  initialRetries?: number;
  /** Passed to amqplib's `connect` (TLS options, clientProperties, ...). */
  socketOptions?: SocketOptions;
}

export const AMQP_DEFAULT_URL = "amqp://guest:guest@localhost:5672";

/** The live AMQP objects of one connection. */
interface Session {
  model: ChannelModel;
  publisher: ConfirmChannel;
  consumer: Channel;
  /** Exchanges declared on this connection (the started channel's is declared by setup). */
  declared: Map<string, Promise<void>>;
  blocked: string | null;
  dead: boolean;
}

function toError(value: unknown, fallback: string): Error {
  if (value instanceof Error) return value;
  return new Error(value === undefined || value === null ? fallback : `${fallback}: ${String(value)}`);
}

const ignore = (): void => {};

export class AmqpDriver implements PubSubDriver {
  private readonly url: string | Options.Connect;
  private readonly exchangeType: "fanout" | "topic";
  private readonly exchangeOptions: Options.AssertExchange;
  private readonly publishTimeout: number;
  private readonly options: AmqpDriverOptions;

  private connection: RecoveringChannelModel | null = null;
  private session: Session | null = null;
  private channel: string | null = null;
  private events: DriverEvents | null = null;
  private onMessage: ((payload: Uint8Array) => void) | null = null;
  private connectedOnce = false;
  private lastConnectError: string | null = null;
  private down = false;
  private closed = false;
  /** Publishes waiting for their confirm; the idle link check runs only when there are none. */
  private confirming = 0;
  private checking = false;
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(options: AmqpDriverOptions = {}) {
    this.options = options;
    this.url = options.url ?? AMQP_DEFAULT_URL;
    this.exchangeType = options.exchangeType ?? "fanout";
    if (this.exchangeType !== "fanout" && this.exchangeType !== "topic") throw new TypeError(`exchangeType must be "fanout" or "topic"`);
    this.exchangeOptions = { durable: false, autoDelete: false, ...options.exchangeOptions };
    this.publishTimeout = options.publishTimeout ?? 5000;
  }

  /** The exchange a channel's messages go through. */
  exchangeFor(channel: string): string {
    return this.options.exchange ?? channel;
  }

  /** The routing key (and binding key) for a channel: empty on a fanout exchange. */
  routingKeyFor(channel: string): string {
    return this.exchangeType === "topic" ? channel : "";
  }

  async start(channel: string, onMessage: (payload: Uint8Array) => void, events: DriverEvents): Promise<void> {
    if (this.connection !== null || this.closed) throw new Error("AmqpDriver: start() can be called once");
    if (channel.length === 0) throw new TypeError("AmqpDriver: empty channel name");
    this.channel = channel;
    this.onMessage = onMessage;
    this.events = events;
    const backoff = this.options.backoff ?? {};
    const connection = await connect(this.url, {
      timeout: this.options.connectTimeout ?? 10_000,
      // Without it, a message of more than one frame waits for the broker's delayed ACK (Nagle):
      // a 3 KB fetchSockets answer took 44 ms instead of 0.9 ms (docs/cluster.md's figures).
      noDelay: true,
      ...this.options.socketOptions,
      recovery: {
        initialDelay: backoff.min ?? 100,
        maxDelay: backoff.max ?? 10_000,
        factor: backoff.factor ?? 2,
        jitter: backoff.jitter ?? 0.2,
        maxRetries: Infinity,
        initialMaxRetries: this.options.initialRetries ?? Infinity,
        // Listeners first, then the first attempt (it is deferred by a setImmediate).
        waitForConnect: false,
        setup: (model: ChannelModel) => this.setup(model),
      },
    });
    if (this.closed) {
      await connection.close().catch(ignore);
      throw new Error("AmqpDriver closed before it connected");
    }
    this.connection = connection;
    connection.on("connect", () => this.connected());
    connection.on("disconnect", () => this.disconnected());
    // One report per distinct failure in a row, not one per retry.
    connection.on("connect-failed", (err: Error) => {
      if (err.message === this.lastConnectError) return;
      this.lastConnectError = err.message;
      this.report(err, "connect");
    });
    connection.on("reconnect-failed", (err: Error) => {
      if (this.connectedOnce) this.report(err, "connect");
    });
    connection.on("error", (err: Error) => this.report(err, "connect"));
    connection.on("handler-error", (err: Error) => this.report(err, "receive"));
    connection.on("blocked", (reason: string) => {
      if (this.session) this.session.blocked = reason || "blocked";
      this.report(new Error(`AMQP broker blocked the connection (${reason}); publishing fails until it unblocks`), "publish");
    });
    connection.on("unblocked", () => {
      if (this.session) this.session.blocked = null;
    });
    try {
      await connection.waitForConnect();
    } catch (err) {
      this.closed = true;
      await connection.close().catch(ignore);
      throw toError(err, "AMQP connection failed");
    }
    this.heartbeat = setInterval(() => this.checkLink(), this.publishTimeout);
    this.heartbeat.unref();
  }

  /** The idle link check (see the header): a round trip on the publishing channel, bounded. */
  private checkLink(): void {
    const session = this.session;
    if (session === null || session.dead || session.blocked !== null || this.confirming > 0 || this.checking || this.closed) return;
    this.checking = true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), this.publishTimeout)));
    // A failed check (the channel closing) is handled where channels close; only silence matters here.
    const answered = session.publisher.checkExchange(this.exchangeFor(this.channel as string)).then(
      () => "answered" as const,
      () => "answered" as const,
    );
    void Promise.race([answered, late]).then((result) => {
      clearTimeout(timer);
      this.checking = false;
      if (result === "late") this.dropSilent(session, new Error(`AMQP broker did not answer within ${this.publishTimeout} ms`));
    });
  }

  /** The broker stopped answering on this session: destroy its socket so that recovery starts over. */
  private dropSilent(session: Session, error: Error): void {
    if (this.closed || session.dead) return;
    this.report(new Error(`${error.message}; dropping the connection as dead`), "connect");
    // amqplib's ChannelModel keeps its Connection, which keeps the socket as `stream` (not in its
    // types). Destroying it with an error is what amqplib handles as a socket failure; its own
    // close() would wait for the broker's close-ok, which a silent link never sends.
    const stream = (session.model.connection as unknown as { stream?: { destroy?: (err?: Error) => void } }).stream;
    if (typeof stream?.destroy === "function") stream.destroy(error);
    else session.model.close().catch(ignore);
  }

  /** Runs on every new connection before it is handed out: channels, topology, consumer. */
  private async setup(model: ChannelModel): Promise<void> {
    const channel = this.channel as string;
    const exchange = this.exchangeFor(channel);
    const key = this.routingKeyFor(channel);
    // amqplib's recovery listens for this connection's 'error' only once setup is done; until then
    // an error event (the socket dying mid-setup) would be unhandled and crash the process. The
    // failure itself surfaces as setup rejecting ('connect-failed'), and later errors through the
    // recovering connection's 'error'.
    model.on("error", ignore);
    const publisher = await model.createConfirmChannel();
    const session: Session = { model, publisher, consumer: publisher, declared: new Map(), blocked: null, dead: false };
    this.watchChannel(session, publisher, "publish");
    const consumer = await model.createChannel();
    session.consumer = consumer;
    this.watchChannel(session, consumer, "subscribe");
    await consumer.assertExchange(exchange, this.exchangeType, this.exchangeOptions);
    session.declared.set(exchange, Promise.resolve());
    const { queue } = await consumer.assertQueue("", { exclusive: true, autoDelete: true, durable: false });
    await consumer.bindQueue(queue, exchange, key);
    await consumer.consume(queue, (message) => this.received(session, message), { noAck: true });
    if (this.closed) return;
    this.session = session;
  }

  private watchChannel(session: Session, channel: Channel, stage: "publish" | "subscribe"): void {
    channel.on("error", (err: Error) => this.report(err, stage));
    channel.on("handler-error", (err: Error) => this.report(err, "receive"));
    channel.on("close", () => this.lose(session));
  }

  /**
   * A channel or consumer of this session died: drop the whole connection, recovery rebuilds it.
   * Not reported here: a channel closed by the broker has already reported its 'error', and a
   * channel closed because its connection went away is reported as the connection's loss.
   */
  private lose(session: Session): void {
    if (session.dead) return;
    session.dead = true;
    if (this.session === session) this.session = null;
    if (this.closed) return;
    // When the connection itself is going away this close fails harmlessly; otherwise it triggers recovery.
    session.model.close().catch(ignore);
  }

  private received(session: Session, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (queue deleted, node down...).
      if (!session.dead) this.report(new Error("AMQP consumer cancelled by the broker"), "subscribe");
      this.lose(session);
      return;
    }
    try {
      this.onMessage?.(message.content);
    } catch (err) {
      this.report(toError(err, "message handler failed"), "receive");
    }
  }

  private connected(): void {
    this.lastConnectError = null;
    if (!this.connectedOnce) {
      this.connectedOnce = true;
      return;
    }
    if (this.down && !this.closed) {
      this.down = false;
      this.events?.onReconnect();
    }
  }

  /** The connection closed (its error, if any, was reported by the connection's 'error' event). */
  private disconnected(): void {
    if (this.session) {
      this.session.dead = true;
      this.session = null;
    }
    if (this.closed || this.down) return;
    this.down = true;
    this.events?.onDisconnect();
  }

  async publish(channel: string, payload: Uint8Array): Promise<void> {
    if (this.closed) throw new Error("AmqpDriver is closed");
    const session = this.session;
    if (session === null || session.dead) throw new Error("AMQP broker not connected; message not published");
    if (session.blocked !== null) throw new Error(`AMQP broker blocked the connection (${session.blocked}); message not published`);
    const exchange = this.exchangeFor(channel);
    let declared = session.declared.get(exchange);
    if (declared === undefined) {
      declared = session.publisher.assertExchange(exchange, this.exchangeType, this.exchangeOptions).then(ignore);
      session.declared.set(exchange, declared);
      declared.catch(() => session.declared.delete(exchange));
    }
    await declared;
    const content = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    this.confirming++;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        const error = new Error(`AMQP broker did not confirm the message within ${this.publishTimeout} ms`);
        reject(error);
        this.dropSilent(session, error);
      }, this.publishTimeout);
      const settle = (err: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err === null || err === undefined) resolve();
        else reject(toError(err, "AMQP broker rejected the message"));
      };
      try {
        session.publisher.publish(exchange, this.routingKeyFor(channel), content, {}, (err: unknown) => settle(err));
      } catch (err) {
        settle(toError(err, "AMQP publish failed"));
      }
    }).finally(() => {
      this.confirming--;
    });
  }

  async close(): Promise<void> {
    if (this.closed && this.connection === null) return;
    this.closed = true;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    const connection = this.connection;
    this.connection = null;
    this.session = null;
    if (connection !== null) await connection.close().catch(ignore);
  }

  private report(error: Error, stage: "connect" | "publish" | "subscribe" | "receive"): void {
    if (this.closed) return;
    this.events?.onError(error, stage);
  }
}
