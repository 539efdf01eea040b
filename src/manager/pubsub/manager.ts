// The cluster client manager: N servers joined by a broker act as one (python-socketio's
// PubSubManager). Rooms live where their clients are; every operation is carried out on this
// server's own clients and published once, and each other server carries it out on its own
// clients. A broker backend is only a PubSubDriver (publish bytes, receive bytes), so Redis,
// RabbitMQ, NATS and the in-memory test broker share everything below.
//
// Who applies what:
//   emit        here (own clients) + published; every other server delivers to its members
//   close_room  here + published; every server empties the room among its clients
//   enter_room / leave_room / disconnect of a sid
//               here when the sid is connected here; otherwise published, and the server that
//               holds the sid applies it
//   acknowledgements of an emit with a callback: the emit carries a request id; a server whose
//               client answers publishes a `callback` message addressed to the caller's host id
//
// A server ignores its own publications when they come back (it applied them already), so no
// client receives a message twice.
//
// Cluster-wide queries (fetchSockets, allRooms, serverSideEmit) and the heartbeats that tell each
// server how many others must answer are in queries.ts.

import { InMemoryManager } from "../memory.js";
import type { EmitOperation, ManagerHost, Operation, ServerSideEmit, SocketDescription, SocketQuery } from "../manager.js";
import type { PubSubDriver } from "../driver.js";
import type { AckCallback } from "../../socket/types.js";
import type { JsonCodec } from "../../socket/protocol/packet.js";
import { resolveLogger, silentLogger, type Logger } from "../../util/logger.js";
import { ClusterNode, type CallbackOperation, type ClusterErrorEvent, type ClusterEvents } from "./node.js";
import type { ClusterMessage } from "./envelope.js";
import { encodePythonCallback } from "../python-format.js";
import { ClusterQueryEngine, type ClusterQueryOptions } from "./queries.js";

export interface PubSubManagerOptions extends ClusterQueryOptions {
  /** The broker connection. */
  driver: PubSubDriver;
  /** Channel (Redis channel, AMQP exchange, NATS subject) shared by every server. Default "socketio", as python-socketio. */
  channel?: string;
  /** Also accept python-socketio's messages (pickle or JSON) on the channel, e.g. from a Celery worker. Default false. */
  pythonCompatible?: boolean;
  /** This server's id on the channel (default: 24 random hex digits). */
  hostId?: string;
  /** How long acknowledgements for `emit(..., { callback })` are routed back from other servers, ms (default 60000; `call()` uses its own timeout). */
  ackTimeout?: number;
  /** JSON codec for the cluster messages (default JSON). */
  json?: JsonCodec;
  /** Logger for broker events; default: the server's logger. */
  logger?: boolean | Logger;
  /** Called for every broker failure, including each lost operation (`stage: "publish"`). */
  onError?: (event: ClusterErrorEvent) => void;
}

export class PubSubManager extends InMemoryManager {
  override readonly local: boolean = false;
  private readonly node: ClusterNode;
  private readonly queries: ClusterQueryEngine;
  private readonly explicitLogger: Logger | null;
  private started: Promise<void> | null = null;

  constructor(options: PubSubManagerOptions) {
    super();
    this.explicitLogger = options.logger === undefined ? null : resolveLogger(options.logger);
    this.node = new ClusterNode({
      driver: options.driver,
      channel: options.channel ?? "socketio",
      ...(options.hostId !== undefined ? { hostId: options.hostId } : {}),
      ...(options.json !== undefined ? { json: options.json } : {}),
      pythonCompatible: options.pythonCompatible ?? false,
      ackTimeout: options.ackTimeout ?? 60_000,
      logger: () => this.logger,
      ...(options.onError !== undefined ? { onError: options.onError } : {}),
      onMessage: (message) => this.onClusterMessage(message),
    });
    this.queries = new ClusterQueryEngine(
      this.node,
      {
        sockets: (query) => this.localSockets(query, this.hostId),
        rooms: (namespace) => this.localRooms(namespace),
        serverSideEvent: async (namespace, event, args, from) => this.host?.serverSideEvent?.(namespace, event, args, from),
        logError: (message, fields) => this.logger.error(message, fields),
      },
      options,
    );
  }

  /** This server's id on the channel. */
  get hostId(): string {
    return this.node.hostId;
  }

  get channel(): string {
    return this.node.channel;
  }

  /** Connected to the broker and subscribed. */
  get connected(): boolean {
    return this.node.connected;
  }

  /**
   * Resolves once the broker connection is up for the first time. The server does not wait for it:
   * local clients are served at once, and what is published before that is reported lost.
   */
  get ready(): Promise<void> {
    return (this.started ??= this.node.start());
  }

  /** `"error"` (every broker failure, lost operations included), `"disconnect"`, `"reconnect"`. */
  on<K extends keyof ClusterEvents>(event: K, listener: ClusterEvents[K]): this {
    this.node.on(event, listener);
    return this;
  }

  off<K extends keyof ClusterEvents>(event: K, listener: ClusterEvents[K]): this {
    this.node.off(event, listener);
    return this;
  }

  override initialize(host: ManagerHost): void {
    super.initialize(host);
    this.ready.then(() => this.queries.start(), () => undefined);
    this.ready.catch((err: unknown) => {
      // A driver that gives up on its first connection: this server stays local-only (reported).
      if (!this.node.isClosed) this.node.report({ stage: "connect", error: err instanceof Error ? err : new Error(String(err)) });
    });
  }

  override async execute(operation: Operation): Promise<void> {
    switch (operation.type) {
      case "emit":
        return this.emit(operation);
      case "close_room":
        this.apply(operation);
        await this.publish({ type: "close_room", host: this.hostId, namespace: operation.namespace, room: operation.room }, operation);
        return;
      case "enter_room":
      case "leave_room":
      case "disconnect": {
        if (this.host?.isLocal(operation.namespace, operation.sid)) {
          this.apply(operation);
          return;
        }
        const message: ClusterMessage =
          operation.type === "disconnect"
            ? { type: "disconnect", host: this.hostId, namespace: operation.namespace, sid: operation.sid, ...(operation.close === true ? { close: true } : {}) }
            : { type: operation.type, host: this.hostId, namespace: operation.namespace, sid: operation.sid, room: operation.room };
        await this.publish(message, operation);
        return;
      }
    }
  }

  // ---- the cluster seen whole (queries.ts) -----------------------------------------------------------

  override fetchSockets(query: SocketQuery, timeout?: number): Promise<SocketDescription[]> {
    return this.queries.fetchSockets(query, timeout);
  }

  override allRooms(namespace: string, timeout?: number): Promise<string[]> {
    return this.queries.allRooms(namespace, timeout);
  }

  override serverSideEmit(emit: ServerSideEmit, timeout?: number): Promise<unknown[]> {
    return this.queries.serverSideEmit(emit, timeout);
  }

  /** The servers this one knows alive (heartbeats), itself included. */
  override serverCount(): number {
    return this.queries.serverCount();
  }

  /** Host ids of the other servers this one knows alive. */
  get peers(): string[] {
    return this.queries.peerIds();
  }

  override async close(): Promise<void> {
    await this.queries.stop();
    await this.node.close();
    await super.close();
  }

  private get logger(): Logger {
    return this.explicitLogger ?? this.host?.logger ?? silentLogger;
  }

  private async emit(operation: EmitOperation): Promise<void> {
    const { namespace, event, args, rooms, skip, callback } = operation;
    const message: ClusterMessage = { type: "emit", host: this.hostId, namespace, event, args, rooms: rooms === null ? null : [...rooms], skip: [...skip] };
    let localRecipients = true;
    if (callback !== undefined) {
      message.request = this.node.registerRoute(callback, operation.timeout ?? this.node.defaultAckTimeout);
      localRecipients = rooms === null ? this.getParticipants(namespace, null).length > 0 : rooms.some((room) => this.getParticipants(namespace, room).length > 0);
    }
    this.apply(operation);
    if (callback === undefined) {
      // A plain emit resolves once it is handed to the driver, without waiting for the broker:
      // drivers publish in order, a loss is reported (the "error" event), never thrown, so
      // waiting would only cost the caller's loop its write coalescing (every awaited emit
      // would leave in its own write; see bench/results/cluster-latest.md).
      void this.publish(message, operation);
      return;
    }
    const error = await this.publish(message, operation);
    // An emit with a callback that reached nobody here (a `call()` to a sid on another server)
    // fails now rather than at its timeout; every other lost operation is reported, not thrown.
    if (error !== null && callback !== undefined && !localRecipients) {
      this.node.dropRoute(message.request!);
      throw error;
    }
  }

  /** Publishes; a failure is reported (stage "publish", with the operation) and returned. */
  private async publish(message: ClusterMessage, operation: Operation | CallbackOperation): Promise<Error | null> {
    const error = await this.node.send(message);
    if (error !== null) this.node.report({ stage: "publish", error, operation });
    return error;
  }

  /** An operation published by another server (or a python-socketio process). */
  private onClusterMessage(message: ClusterMessage): void {
    if (this.queries.receive(message)) return;
    switch (message.type) {
      case "emit": {
        const operation: EmitOperation = {
          type: "emit",
          namespace: message.namespace,
          event: message.event,
          args: message.args,
          rooms: message.rooms,
          skip: message.skip,
        };
        const callback = this.replyRoute(message);
        if (callback !== null) operation.callback = callback;
        this.apply(operation);
        return;
      }
      case "callback":
        return; // handled by the node
      case "enter_room":
      case "leave_room":
      case "close_room":
      case "disconnect":
        // The in-memory base acts only on clients connected here, which is exactly the rule.
        this.apply(message);
    }
  }

  /** For an emit that wants acknowledgements, the local callback that sends each one back. */
  private replyRoute(message: Extract<ClusterMessage, { type: "emit" }>): AckCallback | null {
    const { request, python } = message;
    if (request !== undefined) {
      const to = message.host;
      return (...args: unknown[]) => {
        void this.publish({ type: "callback", host: this.hostId, to, request, args }, { type: "callback", to, request, args });
      };
    }
    if (python !== undefined) {
      return (...args: unknown[]) => {
        const operation: CallbackOperation = { type: "callback", to: python.host, request: String(python.id), args };
        let payload: Uint8Array;
        try {
          payload = encodePythonCallback(python, args);
        } catch (err) {
          this.node.report({ stage: "publish", error: err instanceof Error ? err : new Error(String(err)), operation });
          return;
        }
        void this.node.sendBytes(payload).then((error) => {
          if (error !== null) this.node.report({ stage: "publish", error, operation });
        });
      };
    }
    return null;
  }
}
