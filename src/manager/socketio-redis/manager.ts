// A client manager that speaks @socket.io/redis-adapter's wire format, so that sockjet servers and
// socket.io servers (with that adapter, classic or sharded) share one Redis as one cluster, and
// @socket.io/redis-emitter reaches sockjet clients. docs/socketio-redis-compat.md says what
// crosses over. Rooms live where their clients are (as in every sockjet manager); each operation
// is carried out on this server's clients and published in socket.io's shape:
//
//   emit             a broadcast (rooms, except); with a callback, a broadcast with acks whose
//                    acknowledgements come back to this server (the first argument of each)
//   enter_room / leave_room / disconnect of a sid on another server
//                    socketsJoin / socketsLeave / disconnectSockets addressed to the sid's room
//   close_room       socketsLeave(room) addressed to the room
//   queries          fetchSockets, allRooms (classic: ALL_ROOMS; sharded: from fetchSockets),
//                    serverSideEmit with and without acks; the number of servers to wait for is
//                    Redis's count of subscribers (PUBSUB NUMSUB / SHARDNUMSUB), as socket.io's
//
// and what other servers and emitters publish is carried out on this server's clients and
// answered from its local state. Messages of this server's own uid coming back are ignored.

import { InMemoryManager } from "../memory.js";
import type { EmitOperation, ManagerHost, Operation, ServerSideEmit, SocketDescription, SocketQuery } from "../manager.js";
import type { ClusterErrorEvent, ClusterEvents } from "../pubsub/node.js";
import { ClusterQueryError } from "../../socket/errors.js";
import { resolveLogger, silentLogger, type Logger } from "../../util/logger.js";
import { ClusterReports } from "../pubsub/reports.js";
import { ClassicFormat } from "./classic.js";
import { ShardedFormat, type SubscriptionMode } from "./sharded.js";
import type { WireFormat } from "./format.js";
import { SocketIORedisLink, type SocketIORedisLinkOptions } from "./link.js";
import type { AdapterRequest, AdapterResponse, Selector, SocketDetails } from "./messages.js";
import { gather, PendingRequests, randomRequestId } from "./requests.js";

export interface SocketIORedisManagerOptions extends SocketIORedisLinkOptions {
  /** The channel prefix: the adapter's `key` (classic) or `channelPrefix` (sharded). Default "socket.io". */
  key?: string;
  /** Sharded pub/sub (createShardedAdapter, Redis 7+) instead of the classic createAdapter format. Default false. */
  sharded?: boolean;
  /** Sharded only: the adapter's `subscriptionMode`; every server of the cluster must use the same. Default "dynamic", as socket.io. */
  subscriptionMode?: SubscriptionMode;
  /** Classic only: answer on the requester's own response channel (the adapter's option of that name). Default false. */
  publishOnSpecificResponseChannel?: boolean;
  /**
   * Namespaces whose requests this server listens to from the start (default ["/"]). Any other
   * namespace is added when its first client connects here; socket.io creates an adapter per
   * namespace in the same way.
   */
  namespaces?: string[];
  /** Default timeout of fetchSockets, allRooms and serverSideEmit with acks, ms (default 5000, as socket.io's requestsTimeout). */
  queryTimeout?: number;
  /** How long acknowledgements of an emit with a callback are routed back from other servers, ms (default 60000; `call()` uses its own timeout). */
  ackTimeout?: number;
  /** How often the number of servers that serverCount() returns is counted again, ms (default 5000). */
  serverCountInterval?: number;
  /** Logger for broker events; default: the server's logger. */
  logger?: boolean | Logger;
  /** Called for every broker failure, including each lost operation (`stage: "publish"`). */
  onError?: (event: ClusterErrorEvent) => void;
}

/** An adapter id: 16 hex digits, as socket.io-adapter's ClusterAdapter. */
function randomUid(): string {
  return randomRequestId();
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

export class SocketIORedisManager extends InMemoryManager {
  override readonly local: boolean = false;
  /** This server's adapter id on the channels. */
  readonly uid = randomUid();
  private readonly format: WireFormat;
  private readonly link: SocketIORedisLink;
  private readonly requests = new PendingRequests();
  private readonly namespaceSet = new Set<string>();
  /** Sharded dynamic modes: local members per room channel. */
  private readonly roomChannels = new Map<string, number>();
  private readonly tracksRooms: boolean;
  private readonly explicitLogger: Logger | null;
  private readonly reports: ClusterReports;
  private readonly queryTimeout: number;
  private readonly ackTimeout: number;
  private started: Promise<void> | null = null;
  private closed = false;
  private knownServers = 1;
  private countTimer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly options: SocketIORedisManagerOptions = {}) {
    super();
    const key = options.key ?? "socket.io";
    const mode = options.subscriptionMode ?? "dynamic";
    this.format = options.sharded ? new ShardedFormat(key, mode) : new ClassicFormat(key, options.publishOnSpecificResponseChannel === true);
    this.tracksRooms = options.sharded === true && mode !== "static";
    this.queryTimeout = options.queryTimeout ?? 5000;
    this.ackTimeout = options.ackTimeout ?? 60_000;
    this.explicitLogger = options.logger === undefined ? null : resolveLogger(options.logger);
    this.reports = new ClusterReports({
      logger: () => this.logger,
      onError: options.onError,
      context: () => ({ uid: this.uid }),
      describe: (operation) => operation.type,
      lostMessage: "cluster operation lost: Redis did not take it",
      failureMessage: "socket.io Redis link error",
    });
    this.link = new SocketIORedisLink(options, this.format.sharded, {
      message: (channel, payload) => this.receive(channel, payload),
      error: (error, stage) => this.report({ stage, error }),
      disconnect: () => {
        this.logger.warn("socket.io Redis link lost; operations for other servers are lost until it is back", { uid: this.uid });
        this.reports.emit("disconnect");
      },
      reconnect: () => {
        this.logger.info("socket.io Redis link restored", { uid: this.uid });
        this.reports.emit("reconnect");
      },
    }, this.format.serverCountChannel("/"));
    for (const pattern of this.format.patterns) this.link.psubscribe(pattern);
    for (const nsp of options.namespaces ?? ["/"]) this.addNamespace(nsp);
  }

  /** Connected to Redis and subscribed. */
  get connected(): boolean {
    return this.link.connected;
  }

  /** Resolves once the Redis connections are up for the first time (the server does not wait for it). */
  get ready(): Promise<void> {
    return (this.started ??= this.link.start().then(() => {
      // serverCount() is synchronous: it returns the count kept fresh here (and by every query).
      if (this.closed) return;
      this.countTimer = setInterval(() => void this.refreshServerCount(), this.options.serverCountInterval ?? 5000);
      this.countTimer.unref?.();
      return this.refreshServerCount();
    }));
  }

  /** `"error"` (every broker failure, lost operations included), `"disconnect"`, `"reconnect"`. */
  on<K extends keyof ClusterEvents>(event: K, listener: ClusterEvents[K]): this {
    this.reports.on(event, listener);
    return this;
  }

  off<K extends keyof ClusterEvents>(event: K, listener: ClusterEvents[K]): this {
    this.reports.off(event, listener);
    return this;
  }

  override initialize(host: ManagerHost): void {
    super.initialize(host);
    this.ready.catch((err: unknown) => {
      if (!this.closed) this.report({ stage: "connect", error: asError(err) });
    });
  }

  override connect(namespace: string, sid: string): void {
    super.connect(namespace, sid);
    this.addNamespace(namespace);
    if (this.tracksRooms) this.roomAdded(namespace, sid, true);
  }

  override disconnect(namespace: string, sid: string): void {
    const rooms = this.tracksRooms ? this.getRooms(namespace, sid) : [];
    super.disconnect(namespace, sid);
    rooms.forEach((room, i) => this.roomRemoved(namespace, room, i === 0));
  }

  protected override enterRoom(namespace: string, sid: string, room: string): void {
    if (!this.tracksRooms) return super.enterRoom(namespace, sid, room);
    const before = this.getRooms(namespace, sid).length;
    super.enterRoom(namespace, sid, room);
    if (this.getRooms(namespace, sid).length > before) this.roomAdded(namespace, room, false);
  }

  protected override leaveRoom(namespace: string, sid: string, room: string): void {
    if (!this.tracksRooms) return super.leaveRoom(namespace, sid, room);
    const before = this.getRooms(namespace, sid).length;
    super.leaveRoom(namespace, sid, room);
    if (this.getRooms(namespace, sid).length < before) this.roomRemoved(namespace, room, false);
  }

  override async execute(operation: Operation): Promise<void> {
    const { namespace } = operation;
    switch (operation.type) {
      case "emit":
        return this.emit(operation);
      case "close_room":
        this.apply(operation);
        await this.publish({ kind: "sockets_leave", uid: this.uid, nsp: namespace, opts: { rooms: [operation.room], except: [] }, rooms: [operation.room] }, operation);
        return;
      case "enter_room":
      case "leave_room":
      case "disconnect": {
        if (this.host?.isLocal(namespace, operation.sid)) {
          this.apply(operation);
          return;
        }
        const opts = { rooms: [operation.sid], except: [] };
        const request: AdapterRequest =
          operation.type === "disconnect"
            ? { kind: "disconnect_sockets", uid: this.uid, nsp: namespace, opts, close: operation.close === true }
            : { kind: operation.type === "enter_room" ? "sockets_join" : "sockets_leave", uid: this.uid, nsp: namespace, opts, rooms: [operation.room] };
        await this.publish(request, operation);
        return;
      }
    }
  }

  // ---- cluster queries -------------------------------------------------------------------------------

  override async fetchSockets(query: SocketQuery, timeout?: number): Promise<SocketDescription[]> {
    const local = this.localSockets(query, this.uid);
    const expected = (await this.countServers(query.namespace)) - 1;
    if (expected <= 0) return local;
    const opts = { rooms: query.rooms === null ? [] : [...query.rooms], except: [...query.except] };
    const result = await gather(
      this.requests,
      "fetch_sockets",
      expected,
      timeout ?? this.queryTimeout,
      (r) => (r.kind === "fetch_sockets" ? r.sockets.map((s) => describe(s, query, r.uid)) : undefined),
      (requestId) => this.publish({ kind: "fetch_sockets", uid: this.uid, nsp: query.namespace, requestId, opts }),
    );
    const merged = [...local, ...result.answers.flat()];
    if (!result.complete) throw incomplete("fetchSockets", expected, result.answers.length, merged, result.error);
    return merged;
  }

  override async allRooms(namespace: string, timeout?: number): Promise<string[]> {
    const rooms = new Set(this.localRooms(namespace));
    if (this.format.sharded) {
      // The sharded format has no ALL_ROOMS request: the rooms of every socket are the same set.
      let sockets: SocketDescription[];
      try {
        sockets = await this.fetchSockets({ namespace, rooms: null, except: [], data: false }, timeout);
      } catch (err) {
        if (!(err instanceof ClusterQueryError)) throw err;
        const partial = new Set((err.partial as SocketDescription[]).flatMap((s) => s.rooms));
        throw new ClusterQueryError(err.message.replace("fetchSockets", "allRooms"), err.expected, err.answered, [...partial], { cause: err.cause });
      }
      for (const s of sockets) for (const room of s.rooms) rooms.add(room);
      return [...rooms];
    }
    const expected = (await this.countServers(namespace)) - 1;
    if (expected <= 0) return [...rooms];
    const result = await gather(
      this.requests,
      "all_rooms",
      expected,
      timeout ?? this.queryTimeout,
      (r) => (r.kind === "all_rooms" ? r.rooms : undefined),
      (requestId) => this.publish({ kind: "all_rooms", uid: this.uid, nsp: namespace, requestId }),
    );
    for (const list of result.answers) for (const room of list) rooms.add(room);
    if (!result.complete) throw incomplete("allRooms", expected, result.answers.length, [...rooms], result.error);
    return [...rooms];
  }

  override async serverSideEmit(emit: ServerSideEmit, timeout?: number): Promise<unknown[]> {
    const data = [emit.event, ...emit.args];
    if (!emit.ack) {
      const error = await this.publish({ kind: "server_side_emit", uid: this.uid, nsp: emit.namespace, data });
      if (error !== null) throw incomplete("serverSideEmit", 0, 0, [], error);
      return [];
    }
    const expected = (await this.countServers(emit.namespace)) - 1;
    if (expected <= 0) return [];
    const result = await gather(
      this.requests,
      "server_side_emit",
      expected,
      timeout ?? this.queryTimeout,
      (r) => (r.kind === "server_side_emit" ? r.data : undefined),
      (requestId) => this.publish({ kind: "server_side_emit", uid: this.uid, nsp: emit.namespace, data, requestId }),
    );
    if (!result.complete) throw incomplete("serverSideEmit", expected, result.answers.length, result.answers, result.error);
    return result.answers;
  }

  /** The servers of the "/" namespace (socket.io's count: Redis subscribers), as last counted (every `serverCountInterval` ms and at each query). */
  override serverCount(): number {
    return this.knownServers;
  }

  override async close(): Promise<void> {
    this.closed = true;
    if (this.countTimer !== null) clearInterval(this.countTimer);
    this.requests.clear();
    await this.link.close();
    await super.close();
  }

  // ---- publishing --------------------------------------------------------------------------------------

  private get logger(): Logger {
    return this.explicitLogger ?? this.host?.logger ?? silentLogger;
  }

  private async emit(operation: EmitOperation): Promise<void> {
    const { namespace, event, args, rooms, skip, callback } = operation;
    const request: AdapterRequest = {
      kind: "broadcast",
      uid: this.uid,
      nsp: namespace,
      packet: { type: 2, data: [event, ...args], nsp: namespace },
      opts: { rooms: rooms === null ? [] : [...rooms], except: [...skip] },
    };
    let localRecipients = true;
    if (callback !== undefined) {
      const requestId = randomRequestId();
      request.requestId = requestId;
      // Each other server reports how many clients it sent the event to, then each client's acknowledgement.
      this.requests.add(requestId, "broadcast_ack", operation.timeout ?? this.ackTimeout, (r) => {
        if (r.kind === "broadcast_ack") callback(r.packet);
      }, () => {});
      localRecipients = rooms === null ? this.getParticipants(namespace, null).length > 0 : rooms.some((room) => this.getParticipants(namespace, room).length > 0);
    }
    this.apply(operation);
    if (callback === undefined) {
      void this.publish(request, operation);
      return;
    }
    const error = await this.publish(request, operation);
    // A call() to a sid on another server fails now rather than at its timeout.
    if (error !== null && !localRecipients) {
      this.requests.drop(request.requestId!);
      throw error;
    }
  }

  /** Publishes; a failure is reported (stage "publish", with the operation when there is one) and returned. */
  private async publish(request: AdapterRequest, operation?: Operation): Promise<Error | null> {
    try {
      const out = this.format.encodeRequest(request);
      await this.link.publish(out.channel, out.payload);
      return null;
    } catch (err) {
      const error = asError(err);
      this.report({ stage: "publish", error, ...(operation !== undefined ? { operation } : {}) });
      return error;
    }
  }

  private respond(request: { uid: string; nsp: string }, response: AdapterResponse): void {
    let out;
    try {
      out = this.format.encodeResponse(request, this.uid, response);
    } catch (err) {
      this.report({ stage: "publish", error: asError(err) });
      return;
    }
    this.link.publish(out.channel, out.payload).catch((err: unknown) => this.report({ stage: "publish", error: asError(err) }));
  }

  private async countServers(namespace: string): Promise<number> {
    try {
      const count = await this.link.subscribers(this.format.serverCountChannel(namespace));
      if (namespace === "/") this.knownServers = Math.max(1, count);
      return count;
    } catch (err) {
      throw incomplete("the server count", 0, 0, [], asError(err));
    }
  }

  private async refreshServerCount(): Promise<void> {
    await this.countServers("/").catch(() => {});
  }

  // ---- receiving ---------------------------------------------------------------------------------------

  private receive(channel: string, payload: Buffer): void {
    if (this.closed) return;
    const decoded = this.format.decode(channel, payload, (id) => this.requests.kindOf(id));
    if (!decoded.ok) {
      this.report({ stage: "receive", error: new Error(`dropped a message on ${channel}: ${decoded.message}`) });
      return;
    }
    const incoming = decoded.value;
    if (incoming.type === "ignore") return;
    if (incoming.type === "response") {
      this.requests.deliver(incoming.response);
      return;
    }
    const request = incoming.request;
    if (request.uid === this.uid) return;
    try {
      this.onRequest(request);
    } catch (err) {
      this.report({ stage: "receive", error: asError(err) });
    }
  }

  private onRequest(r: AdapterRequest): void {
    const host = this.host;
    if (host === null) return;
    const ns = r.nsp;
    switch (r.kind) {
      case "broadcast": {
        const [event, ...args] = r.packet.data;
        if (typeof event !== "string" || (r.packet.type !== 2 && r.packet.type !== 5)) {
          this.report({ stage: "receive", error: new Error(`dropped a broadcast that is not an event with a string name (packet type ${r.packet.type}, name ${typeof event})`) });
          return;
        }
        const rooms = r.opts.rooms.length === 0 ? null : r.opts.rooms;
        if (r.requestId === undefined) {
          this.apply({ type: "emit", namespace: ns, event, args, rooms, skip: this.members(ns, r.opts.except) });
          return;
        }
        const requestId = r.requestId;
        let count = 0;
        for (const sid of this.select(ns, r.opts)) {
          const sent = host.deliverWithAck(ns, sid, event, args, (...reply: unknown[]) => this.respond(r, { kind: "broadcast_ack", requestId, packet: reply[0] }));
          if (sent) count++;
        }
        this.respond(r, { kind: "client_count", requestId, clientCount: count });
        return;
      }
      case "sockets_join":
      case "sockets_leave":
        for (const sid of this.select(ns, r.opts)) for (const room of r.rooms) this.apply({ type: r.kind === "sockets_join" ? "enter_room" : "leave_room", namespace: ns, sid, room });
        return;
      case "disconnect_sockets":
        for (const sid of this.select(ns, r.opts)) host.disconnectLocal(ns, sid, r.close);
        return;
      case "remote_join":
      case "remote_leave":
      case "remote_disconnect":
        if (!host.isLocal(ns, r.sid)) return;
        if (r.kind === "remote_disconnect") host.disconnectLocal(ns, r.sid, r.close);
        else this.apply({ type: r.kind === "remote_join" ? "enter_room" : "leave_room", namespace: ns, sid: r.sid, room: r.room });
        this.respond(r, { kind: "done", requestId: r.requestId });
        return;
      case "fetch_sockets": {
        const sockets = this.localSockets({ namespace: ns, rooms: r.opts.rooms.length === 0 ? null : r.opts.rooms, except: r.opts.except }, this.uid);
        this.respond(r, { kind: "fetch_sockets", requestId: r.requestId, sockets: sockets.map(toDetails) });
        return;
      }
      case "socket_ids":
        this.respond(r, { kind: "socket_ids", requestId: r.requestId, sockets: [...this.select(ns, { rooms: r.rooms, except: [] })] });
        return;
      case "all_rooms":
        this.respond(r, { kind: "all_rooms", requestId: r.requestId, rooms: this.localRooms(ns) });
        return;
      case "server_side_emit":
        return this.onServerSideEmit(r, host);
    }
  }

  private onServerSideEmit(r: Extract<AdapterRequest, { kind: "server_side_emit" }>, host: ManagerHost): void {
    const [event, ...args] = r.data;
    if (typeof event !== "string") {
      this.report({ stage: "receive", error: new Error("dropped a serverSideEmit whose event name is not a string") });
      return;
    }
    const run = host.serverSideEvent?.(r.nsp, event, args, r.uid) ?? Promise.resolve(undefined);
    run.then(
      (reply) => {
        if (r.requestId !== undefined) this.respond(r, { kind: "server_side_emit", requestId: r.requestId, data: reply });
      },
      // As a socket.io handler that throws: no reply (the sender's request times out), and it is logged.
      (err: unknown) => this.logger.error("server-side event handler failed", { err, event, namespace: r.nsp, from: r.uid }),
    );
  }

  /** The local sids a socket.io selector designates: members of one of `rooms` (none: all), minus members of `except`. */
  private select(namespace: string, opts: Selector): Set<string> {
    const out = new Set(opts.rooms.length === 0 ? this.getParticipants(namespace, null) : this.members(namespace, opts.rooms));
    for (const sid of this.members(namespace, opts.except)) out.delete(sid);
    return out;
  }

  private members(namespace: string, rooms: readonly string[]): string[] {
    if (rooms.length === 0) return [];
    if (rooms.length === 1) return this.getParticipants(namespace, rooms[0]!);
    return [...new Set(rooms.flatMap((room) => this.getParticipants(namespace, room)))];
  }

  // ---- subscriptions -------------------------------------------------------------------------------------

  private addNamespace(namespace: string): void {
    if (this.namespaceSet.has(namespace)) return;
    this.namespaceSet.add(namespace);
    for (const channel of this.format.namespaceChannels(namespace, this.uid)) void this.link.subscribe(channel);
  }

  private roomAdded(namespace: string, room: string, isSid: boolean): void {
    const channel = this.format.roomChannel(namespace, room, isSid);
    if (channel === null) return;
    const count = (this.roomChannels.get(channel) ?? 0) + 1;
    this.roomChannels.set(channel, count);
    if (count === 1) void this.link.subscribe(channel);
  }

  private roomRemoved(namespace: string, room: string, isSid: boolean): void {
    const channel = this.format.roomChannel(namespace, room, isSid);
    if (channel === null) return;
    const count = (this.roomChannels.get(channel) ?? 0) - 1;
    if (count > 0) {
      this.roomChannels.set(channel, count);
      return;
    }
    this.roomChannels.delete(channel);
    void this.link.unsubscribe(channel);
  }

  // ---- reports -------------------------------------------------------------------------------------------

  private report(event: ClusterErrorEvent): void {
    this.reports.report(event);
  }
}

/** A socket.io RemoteSocket's details as a sockjet description. */
function describe(s: SocketDetails, query: SocketQuery, uid: string | undefined): SocketDescription {
  return { sid: s.id, namespace: query.namespace, rooms: s.rooms, data: query.data === false ? undefined : s.data, server: uid ?? "socket.io" };
}

/** A sockjet socket as socket.io's fetchSockets answer (sockjet keeps no handshake object to send: empty). */
function toDetails(s: SocketDescription): SocketDetails {
  return { id: s.sid, handshake: {}, rooms: s.rooms, data: s.data };
}

function incomplete<T>(what: string, expected: number, answered: number, partial: T, cause?: Error): ClusterQueryError<T> {
  const why = cause !== undefined ? `the request could not be sent (${cause.message})` : `${answered} of ${expected} other servers answered in time`;
  return new ClusterQueryError(`${what} incomplete: ${why}`, expected, answered, partial, cause !== undefined ? { cause } : undefined);
}
