// One participant in a cluster channel: the part that the pub/sub manager (a server) and the
// write-only emitter (any process) share. It owns the driver's lifecycle, encodes and decodes
// messages (sockjet's envelope, and python-socketio's format when asked), drops its own echoes by
// host id, routes acknowledgements back by request id, and turns every broker failure into an
// observable report instead of an exception in someone's event loop.

import type { DriverEvents, PubSubDriver } from "../driver.js";
import type { Operation } from "../manager.js";
import type { AckCallback } from "../../socket/types.js";
import { defaultJson, type JsonCodec } from "../../socket/protocol/packet.js";
import type { Logger } from "../../util/logger.js";
import { decodeMessage, encodeMessage, isSockjetMessage, peekType, type ClusterMessage } from "./envelope.js";
import { decodePythonMessage, isPythonMessage } from "../python-format.js";
import { ClusterReports } from "./reports.js";

export type ClusterStage = "connect" | "publish" | "subscribe" | "receive";

/** An acknowledgement on its way back to the host that asked for it. */
export interface CallbackOperation {
  type: "callback";
  /** The host id the reply is addressed to. */
  to: string;
  request: string;
  args: unknown[];
}

/** What a cluster error report carries. */
export interface ClusterErrorEvent {
  stage: ClusterStage;
  error: Error;
  /**
   * With stage "publish": the operation that did not reach the broker. It was carried out on this
   * server's own clients (if any) but is lost for every other server; it is not retried.
   */
  operation?: Operation | CallbackOperation;
}

export interface ClusterEvents {
  error: (event: ClusterErrorEvent) => void;
  /** The broker connection was lost; cross-server operations are reported lost until "reconnect". */
  disconnect: () => void;
  /** Connected and subscribed again; cross-server delivery resumes. */
  reconnect: () => void;
}

export interface ClusterNodeOptions {
  driver: PubSubDriver;
  channel: string;
  hostId?: string;
  json?: JsonCodec;
  pythonCompatible?: boolean;
  /** How long acknowledgements of an emit with a callback are routed back (ms). */
  ackTimeout: number;
  logger: () => Logger;
  onError?: (event: ClusterErrorEvent) => void;
  /** Where operations received from other hosts go. */
  onMessage: (message: ClusterMessage) => void;
  /** Only acknowledgements matter (a write-only emitter): other hosts' messages are not even decoded. */
  callbacksOnly?: boolean;
}

function randomHostId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

interface Route {
  callback: AckCallback;
  timer: ReturnType<typeof setTimeout>;
}

export class ClusterNode {
  readonly hostId: string;
  readonly channel: string;
  private readonly driver: PubSubDriver;
  private readonly json: JsonCodec;
  private readonly reports: ClusterReports;
  private readonly routes = new Map<string, Route>();
  private nextRequest = 0;
  private startPromise: Promise<void> | null = null;
  private closed = false;
  /** Connected and subscribed (false before start completes and during an outage). */
  connected = false;

  constructor(private readonly options: ClusterNodeOptions) {
    this.hostId = options.hostId ?? randomHostId();
    this.channel = options.channel;
    this.driver = options.driver;
    this.json = options.json ?? defaultJson;
    this.reports = new ClusterReports({
      logger: options.logger,
      onError: options.onError,
      context: () => ({ host: this.hostId, channel: this.channel }),
      describe,
      lostMessage: "cluster operation lost: the broker did not take it",
      failureMessage: "cluster broker error",
    });
  }

  on<K extends keyof ClusterEvents>(event: K, listener: ClusterEvents[K]): void {
    this.reports.on(event, listener);
  }

  off<K extends keyof ClusterEvents>(event: K, listener: ClusterEvents[K]): void {
    this.reports.off(event, listener);
  }

  /** Connects and subscribes once; later calls return the same promise. */
  start(): Promise<void> {
    if (this.startPromise !== null) return this.startPromise;
    const events: DriverEvents = {
      onError: (error, stage) => this.report({ stage, error: asError(error) }),
      onDisconnect: () => {
        if (this.closed || !this.connected) return;
        this.connected = false;
        this.options.logger().warn("cluster broker connection lost; operations for other servers are lost until it is back", { host: this.hostId, channel: this.channel });
        this.reports.emit("disconnect");
      },
      onReconnect: () => {
        if (this.closed || this.connected) return;
        this.connected = true;
        this.options.logger().info("cluster broker connection restored", { host: this.hostId, channel: this.channel });
        this.reports.emit("reconnect");
      },
    };
    this.startPromise = this.driver.start(this.channel, (payload) => this.receive(payload), events).then(() => {
      if (!this.closed) this.connected = true;
    });
    return this.startPromise;
  }

  /** Keeps acknowledgements of `request` flowing to `callback` for `timeout` ms. */
  registerRoute(callback: AckCallback, timeout: number): string {
    const request = String(this.nextRequest++);
    const timer = setTimeout(() => this.routes.delete(request), timeout);
    timer.unref?.();
    this.routes.set(request, { callback, timer });
    return request;
  }

  dropRoute(request: string): void {
    const route = this.routes.get(request);
    if (route === undefined) return;
    clearTimeout(route.timer);
    this.routes.delete(request);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get defaultAckTimeout(): number {
    return this.options.ackTimeout;
  }

  /** Encodes and publishes. Resolves with the error when the broker did not take it (null on success). */
  async send(message: ClusterMessage): Promise<Error | null> {
    let payload: Uint8Array;
    try {
      payload = encodeMessage(message, this.json);
    } catch (err) {
      return asError(err);
    }
    return this.sendBytes(payload);
  }

  async sendBytes(payload: Uint8Array): Promise<Error | null> {
    if (this.closed) return new Error("the cluster connection is closed");
    try {
      await this.driver.publish(this.channel, payload);
      return null;
    } catch (err) {
      return asError(err);
    }
  }

  /** Reports a failure: to `onError`, to "error" listeners, and to the logger. */
  report(event: ClusterErrorEvent): void {
    this.reports.report(event);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    for (const route of this.routes.values()) clearTimeout(route.timer);
    this.routes.clear();
    await this.driver.close();
  }

  private receive(payload: Uint8Array): void {
    if (this.closed) return;
    let decoded;
    if (this.options.callbacksOnly) {
      if (!isSockjetMessage(payload)) return;
      const type = peekType(payload);
      if (type !== null && type !== "callback") return;
      decoded = decodeMessage(payload, this.json);
      if (decoded.ok && decoded.message.type !== "callback") return;
    } else if (isSockjetMessage(payload)) decoded = decodeMessage(payload, this.json);
    else if (this.options.pythonCompatible && isPythonMessage(payload)) decoded = decodePythonMessage(payload);
    else {
      const hint = isPythonMessage(payload) ? " (python-socketio's format: enable pythonCompatible to accept it)" : "";
      this.report({ stage: "receive", error: new Error(`dropped a message in an unknown format${hint}`) });
      return;
    }
    if (!decoded.ok) {
      this.report({ stage: "receive", error: new Error(`dropped a malformed message: ${decoded.message}`) });
      return;
    }
    const message = decoded.message;
    // Our own publication coming back: it was already applied here.
    if (message.host === this.hostId) return;
    if (message.type === "callback") {
      if (message.to !== this.hostId) return;
      const route = this.routes.get(message.request);
      if (route === undefined) return; // expired or unknown: late acknowledgements are dropped
      try {
        route.callback(...message.args);
      } catch (err) {
        this.options.logger().error("acknowledgement callback failed", { err });
      }
      return;
    }
    try {
      this.options.onMessage(message);
    } catch (err) {
      this.report({ stage: "receive", error: asError(err) });
    }
  }
}

/** A loggable summary of an operation (no callbacks, no argument values). */
function describe(operation: Operation | CallbackOperation): Record<string, unknown> {
  switch (operation.type) {
    case "emit":
      return { type: "emit", namespace: operation.namespace, event: operation.event, rooms: operation.rooms, skip: operation.skip };
    case "callback":
      return { type: "callback", to: operation.to, request: operation.request };
    case "close_room":
      return { type: "close_room", namespace: operation.namespace, room: operation.room };
    case "disconnect":
      return { type: "disconnect", namespace: operation.namespace, sid: operation.sid };
    default:
      return { type: operation.type, namespace: operation.namespace, sid: operation.sid, room: operation.room };
  }
}
