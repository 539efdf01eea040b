// NATS driver on the official `nats` client (v2), core NATS: subject = channel.
//
// The client reconnects by itself (we ask it to retry forever, with our capped exponential backoff
// and jitter), and re-sends its subscriptions; its status stream is mapped to DriverEvents.
//
// Publishing while disconnected: nats.js has no `reconnectBufSize` (that is the Go client's
// option). It appends what is published while disconnected to its outbound buffer, but discards
// that buffer at the start of every reconnect attempt, so such messages are mostly dropped without
// a word. This driver therefore rejects `publish` outright while disconnected, and confirms every
// other publish with a PING/PONG round trip (`flush()`, one per batch of publishes in the same tick)
// bounded by `publishTimeout`: a publish resolves only once the server has processed it, and
// rejects if the connection dies first. A rejection can, rarely, be for a message the server did
// receive (the PONG was lost); a resolution never hides a loss on the way to the server. Core NATS
// keeps nothing for subscribers that are away, so messages published by others while this process
// was disconnected are not delivered to it.
//
// A link that goes silent without a reset (a partition, a pulled cable) is noticed by the client
// only after its own pings fail (2 × pingInterval, minutes by default), and its way of dropping a
// connection first waits for the outbound buffer to flush, which a silent link never does. Until
// then every publish would time out while its bytes stayed queued on the socket, growing with
// the outage, to be delivered when the link came back (already reported lost). So a publish
// confirmation that times out closes the connection (close() destroys the socket without
// flushing) and the driver starts over with a new one; and every `publishTimeout` ms without a
// confirmation in flight, one PING/PONG checks the link, so that a server that does not publish
// notices too.

import { connect, Events, DebugEvents } from "nats";
import type { ConnectionOptions, NatsConnection, Status } from "nats";
import type { DriverEvents, PubSubDriver } from "../driver.js";

export interface NatsBackoffOptions {
  /** First reconnect delay, ms (default 100). */
  min?: number;
  /** Cap on the reconnect delay, ms (default 10000). */
  max?: number;
  /** Growth factor per attempt (default 2). */
  factor?: number;
  /** Random spread, a fraction of the delay, 0-1 (default 0.2). */
  jitter?: number;
}

export interface NatsDriverOptions {
  /** Server URL(s), e.g. `nats://127.0.0.1:4222` (default), or a list for a cluster. */
  servers?: string | string[];
  /** Alias of `servers` for a single URL. */
  url?: string;
  /** Reconnect backoff. */
  backoff?: NatsBackoffOptions;
  /** How long `publish` waits for the server's PONG before rejecting (and dropping the connection as dead), ms (default 5000); also the interval of the idle link check. */
  publishTimeout?: number;
  /** Handshake timeout per connection attempt, ms (default 10000). */
  connectTimeout?: number;
  /**
   * Retries of the first connection before `start()` rejects. Default: unlimited, so a server that
   * boots while NATS is down joins the cluster when it comes up (failures are reported through
   * `onError`, stage "connect"; `close()` ends the wait).
   */
  initialRetries?: number;
  /** Other client options (user/pass, token, authenticator, tls, name, pingInterval...). Reconnect, echo and timing options are the driver's. */
  connectionOptions?: Omit<ConnectionOptions, "servers" | "port" | "reconnect" | "maxReconnectAttempts" | "reconnectDelayHandler" | "noEcho" | "waitOnFirstConnect">;
}

export const NATS_DEFAULT_URL = "nats://127.0.0.1:4222";

interface Batch {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | null;
}

function toError(value: unknown, fallback: string): Error {
  if (value instanceof Error) return value;
  return new Error(value === undefined || value === null ? fallback : `${fallback}: ${String(value)}`);
}

const ignore = (): void => {};

export class NatsDriver implements PubSubDriver {
  private readonly options: NatsDriverOptions;
  private readonly publishTimeout: number;
  private nc: NatsConnection | null = null;
  private events: DriverEvents | null = null;
  private onMessage: ((payload: Uint8Array) => void) | null = null;
  private channel: string | null = null;
  /** True while connected and subscribed. */
  private up = false;
  private closed = false;
  private started = false;
  private attempt = 0;
  private delay = 0;
  /** Publishes of the current tick, confirmed together by one flush. */
  private batch: Batch | null = null;
  private readonly inFlight = new Set<Batch>();
  /** The pending wait between connection attempts of our own loop (first connection, or after the client gave up). */
  private retryWait: { timer: NodeJS.Timeout; resolve: () => void } | null = null;
  private reconnecting = false;
  private lastConnectError: string | null = null;
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(options: NatsDriverOptions = {}) {
    this.options = options;
    this.publishTimeout = options.publishTimeout ?? 5000;
    this.delay = this.backoff(1);
  }

  /** Capped exponential backoff with jitter for the n-th consecutive attempt (n ≥ 1). */
  private backoff(attempt: number): number {
    const { min = 100, max = 10_000, factor = 2, jitter = 0.2 } = this.options.backoff ?? {};
    const base = Math.min(max / (1 + jitter), min * factor ** Math.max(0, attempt - 1));
    return Math.max(0, Math.round(base + (Math.random() * 2 - 1) * base * jitter));
  }

  async start(channel: string, onMessage: (payload: Uint8Array) => void, events: DriverEvents): Promise<void> {
    if (this.started || this.closed) throw new Error("NatsDriver: start() can be called once");
    if (channel.length === 0 || /\s/.test(channel)) throw new TypeError(`NatsDriver: invalid subject ${JSON.stringify(channel)}`);
    this.started = true;
    this.channel = channel;
    this.onMessage = onMessage;
    this.events = events;
    // The idle link check (see the header): one PING/PONG when nothing else is being confirmed.
    this.heartbeat = setInterval(() => {
      const nc = this.nc;
      if (nc === null || !this.up || nc.isClosed() || this.batch !== null || this.inFlight.size > 0) return;
      this.confirm(nc).catch(ignore);
    }, this.publishTimeout);
    this.heartbeat.unref();
    await this.connectLoop(this.options.initialRetries ?? Infinity);
  }

  /** Connects (with our backoff between failed attempts) until connected, closed, or out of retries. */
  private async connectLoop(retries: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.open();
        this.lastConnectError = null;
        return;
      } catch (err) {
        const error = toError(err, "NATS connection failed");
        if (this.closed) throw new Error("NatsDriver closed before it connected");
        if (attempt > retries) throw error;
        // One report per distinct failure in a row, not one per retry.
        if (error.message !== this.lastConnectError) this.report(error, "connect");
        this.lastConnectError = error.message;
        await new Promise<void>((resolve) => {
          this.retryWait = { timer: setTimeout(resolve, this.backoff(attempt)), resolve };
        });
        this.retryWait = null;
        if (this.closed) throw new Error("NatsDriver closed before it connected");
      }
    }
  }

  /** Connects, subscribes, and waits until the server has the subscription. */
  private async open(): Promise<void> {
    const servers = this.options.servers ?? this.options.url ?? NATS_DEFAULT_URL;
    const nc = await connect({
      timeout: this.options.connectTimeout ?? 10_000,
      ...this.options.connectionOptions,
      servers,
      reconnect: true,
      maxReconnectAttempts: -1,
      waitOnFirstConnect: false,
      noEcho: false,
      reconnectDelayHandler: () => this.delay,
    });
    if (this.closed) {
      await nc.close().catch(ignore);
      throw new Error("NatsDriver closed while connecting");
    }
    this.nc = nc;
    nc.subscribe(this.channel as string, {
      callback: (err, msg) => {
        if (err) {
          this.report(err, "subscribe");
          return;
        }
        try {
          this.onMessage?.(msg.data);
        } catch (e) {
          this.report(toError(e, "message handler failed"), "receive");
        }
      },
    });
    try {
      await nc.flush();
    } catch (err) {
      await nc.close().catch(ignore);
      this.nc = null;
      throw toError(err, "NATS subscribe failed");
    }
    this.up = true;
    this.attempt = 0;
    this.delay = this.backoff(1);
    void this.watch(nc);
    nc.closed().then(
      (err) => this.closedUnexpectedly(nc, err),
      (err: unknown) => this.closedUnexpectedly(nc, toError(err, "NATS connection closed")),
    );
  }

  private async watch(nc: NatsConnection): Promise<void> {
    try {
      for await (const status of nc.status()) this.onStatus(nc, status);
    } catch (err) {
      this.report(toError(err, "NATS status stream failed"), "connect");
    }
  }

  private onStatus(nc: NatsConnection, status: Status): void {
    if (this.nc !== nc || this.closed) return;
    switch (status.type) {
      case Events.Disconnect:
        this.goDown(new Error(`NATS disconnected from ${String(status.data)}`));
        break;
      case Events.Reconnect:
        // Subscriptions were re-sent on the new connection; make sure the server has them first.
        nc.flush().then(
          () => this.goUp(nc),
          (err: unknown) => this.report(toError(err, "NATS resubscribe failed"), "subscribe"),
        );
        break;
      case DebugEvents.Reconnecting:
        // One real dial attempt: the next wait grows.
        this.attempt++;
        this.delay = this.backoff(this.attempt + 1);
        break;
      case Events.Error: {
        const op = status.permissionContext?.operation;
        const stage = op === "publish" ? "publish" : op === "subscription" ? "subscribe" : "connect";
        this.report(new Error(`NATS server error: ${String(status.data)}${status.permissionContext ? ` (${op} ${status.permissionContext.subject})` : ""}`), stage);
        break;
      }
      default:
        break;
    }
  }

  private goDown(error: Error): void {
    if (!this.up) return;
    this.up = false;
    this.report(error, "connect");
    this.events?.onDisconnect();
  }

  private goUp(nc: NatsConnection): void {
    if (this.nc !== nc || this.closed || this.up || nc.isClosed()) return;
    this.up = true;
    this.attempt = 0;
    this.delay = this.backoff(1);
    this.events?.onReconnect();
  }

  /** The client gave up (e.g. repeated authentication errors): start over with a new connection. */
  private closedUnexpectedly(nc: NatsConnection, err: void | Error): void {
    if (this.nc !== nc || this.closed) return;
    this.nc = null;
    this.failInFlight(new Error("NATS connection closed"));
    const error = err instanceof Error ? err : new Error("NATS connection closed");
    if (this.up) this.goDown(error);
    else this.report(error, "connect");
    if (this.reconnecting) return;
    this.reconnecting = true;
    this.connectLoop(Infinity).then(
      () => {
        this.reconnecting = false;
        this.events?.onReconnect();
      },
      () => {
        this.reconnecting = false; // closed meanwhile
      },
    );
  }

  async publish(channel: string, payload: Uint8Array): Promise<void> {
    if (this.closed) throw new Error("NatsDriver is closed");
    const nc = this.nc;
    if (nc === null || !this.up || nc.isClosed()) throw new Error("NATS server not connected; message not published");
    nc.publish(channel, payload);
    return this.confirm(nc);
  }

  /** One PING after every publish of this tick; its PONG confirms them all. */
  private confirm(nc: NatsConnection): Promise<void> {
    if (this.batch !== null) return this.batch.promise;
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    const batch: Batch = { promise, resolve, reject, timer: null };
    this.batch = batch;
    queueMicrotask(() => {
      if (this.batch === batch) this.batch = null;
      this.inFlight.add(batch);
      const settle = (err: Error | null): void => {
        if (!this.inFlight.delete(batch)) return;
        if (batch.timer !== null) clearTimeout(batch.timer);
        if (err === null) batch.resolve();
        else batch.reject(err);
      };
      batch.timer = setTimeout(() => {
        const error = new Error(`NATS server did not confirm the message within ${this.publishTimeout} ms`);
        settle(error);
        this.dropSilent(nc, error);
      }, this.publishTimeout);
      nc.flush().then(
        () => settle(null),
        (err: unknown) => settle(toError(err, "NATS publish not confirmed")),
      );
    });
    return promise;
  }

  /** The server stopped answering on `nc`: report the loss, close it (no flush), start over (closedUnexpectedly). */
  private dropSilent(nc: NatsConnection, error: Error): void {
    if (this.closed || this.nc !== nc || nc.isClosed()) return;
    this.goDown(new Error(`${error.message}; dropping the connection as dead`));
    nc.close().catch(ignore);
  }

  private failInFlight(error: Error): void {
    for (const batch of [...this.inFlight]) {
      this.inFlight.delete(batch);
      if (batch.timer !== null) clearTimeout(batch.timer);
      batch.reject(error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    if (this.retryWait !== null) {
      clearTimeout(this.retryWait.timer);
      this.retryWait.resolve();
    }
    const nc = this.nc;
    const wasUp = this.up;
    this.up = false;
    if (nc !== null && !nc.isClosed()) {
      if (wasUp) {
        // Drain (deliver what is in flight, flush what we published), bounded; then close for sure.
        let timer: NodeJS.Timeout | undefined;
        const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.publishTimeout)));
        await Promise.race([nc.drain().catch(ignore), bound]);
        clearTimeout(timer);
      }
      await nc.close().catch(ignore);
    }
    this.failInFlight(new Error("NatsDriver closed"));
    this.nc = null;
  }

  private report(error: Error, stage: "connect" | "publish" | "subscribe" | "receive"): void {
    if (this.closed) return;
    this.events?.onError(error, stage);
  }
}
