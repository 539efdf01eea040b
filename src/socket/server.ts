// The Socket.IO server: python-socketio's Server model (handlers keyed by event name that receive
// the sid; emit/send/call addressed by sid, room and namespace; rooms, sessions, class-based
// namespaces) on top of the Engine.IO server. Room membership and the reach of every operation
// belong to the client manager, so scale-out managers plug in without touching this file.

import { createServer, type IncomingMessage, type Server as HttpServer } from "node:http";
import type { Duplex } from "node:stream";
import { EngineServer, type EngineHandler } from "../engine/server.js";
import { EngineSocket, type CloseReason } from "../engine/socket.js";
import { parseQuery, setOwn, type TopicPublisher, type WebSocketPeer } from "../engine/http.js";
import { OutPacket } from "../engine/out-packet.js";
import { PacketType as EnginePacketType } from "../engine/protocol/packet.js";
import { TimerEntry, type TimerTarget } from "../engine/timers.js";
import { Decoder, defaultJson, encodePacket, MAX_DEPTH, PacketType, RESERVED_EVENTS, type JsonCodec, type PacketDecoder, type Packet } from "./protocol/packet.js";
import { MsgpackCodec } from "./protocol/msgpack.js";
import { Client, NamespaceSocket, PendingCall } from "./client.js";
import { Recovery, type MissedEvent, type RestoredSession } from "./recovery.js";
import { Namespace } from "./namespace.js";
import { ClusterQueryError, ConnectionRefusedError, SockjetError, TimeoutError } from "./errors.js";
import { fromArgList, toArgList } from "./args.js";
import { InMemoryManager } from "../manager/memory.js";
import { instrumentServer, type AdminInstrumentation, type AdminOptions } from "../admin/instrument.js";
import type { ServerObservers, ServerTaps } from "../admin/taps.js";
import type { ClientManager, EmitOperation, ManagerHost, SocketDescription } from "../manager/manager.js";
import { NodeEngineAdapter, type NodeAdapterOptions, type NodeHttpServer, type NodeRequestListener } from "../runtime/node.js";
import { FetchEngineAdapter, type FetchHandler, type FetchHandlerOptions } from "../runtime/fetch.js";
import type {
  AckCallback,
  AnyNamespaceHandler,
  CallOptions,
  CatchAllHandler,
  ClusterQueryOptions,
  ConnectHandler,
  ConnectInfo,
  DefaultEvents,
  DisconnectHandler,
  DisconnectOptions,
  DisconnectReason,
  EmitOptions,
  Environ,
  EventHandler,
  EventsMap,
  FetchSocketsOptions,
  ServerOptions,
  ServerSideEmitOptions,
  ServerSideHandler,
} from "./types.js";
import type { EmitRest, EventNames } from "./typing.js";
import type { Logger } from "../util/logger.js";
import { randomId } from "../util/random-id.js";

type RefusalPayload = { message: string; data?: unknown };

const DEFAULT_REFUSAL: RefusalPayload = { message: "Connection rejected by server" };
/** The connect handler's fourth argument (shared, frozen: nothing allocated per connect). */
const RECOVERED: ConnectInfo = Object.freeze({ recovered: true });
const NOT_RECOVERED: ConnectInfo = Object.freeze({ recovered: false });
/** The CONNECT_ERROR message past maxNamespacesPerConnection. */
export const TOO_MANY_NAMESPACES = "Too many namespaces on this connection";

/** Engine.IO's own query parameters: not part of a v3 client's main-namespace auth. */
const ENGINE_QUERY_KEYS = new Set(["EIO", "transport", "t", "sid", "b64", "j"]);

/** The handshake's query without Engine.IO's parameters (the main-namespace auth of v3 clients). */
function handshakeQuery(url: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of parseQuery(url)) if (!ENGINE_QUERY_KEYS.has(key)) setOwn(out, key, value);
  return out;
}

/**
 * Topics of native publish (Bun): one per namespace and one per room of a namespace. The prefix
 * keeps them apart from any topic the application's own WebSockets use on the same server; the
 * namespace's length keeps every (namespace, room) pair apart, whatever characters either holds.
 */
function namespaceTopic(namespace: string): string {
  return "\u0000sockjet:" + namespace.length + ":" + namespace;
}
function roomTopic(namespace: string, room: string): string {
  return "\u0000sockjet:" + namespace.length + ":" + namespace + ":" + room;
}

function list(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === "string" ? [value] : [...value];
}

function engineReason(reason: CloseReason): DisconnectReason {
  return reason === "forced close" ? "server disconnect" : reason;
}

/** Times out a call whose target lives on another server (acks then come back through the manager). */
class RemoteCallDeadline implements TimerTarget {
  readonly timer = new TimerEntry(this, 0);
  constructor(private readonly onTimeout: () => void) {}
  onTimer(): void {
    this.onTimeout();
  }
}

export class Server<Listen extends EventsMap = DefaultEvents, Emit extends EventsMap = DefaultEvents> {
  readonly engine: EngineServer;
  readonly manager: ClientManager;
  readonly logger: Logger;
  private readonly json: JsonCodec;
  private readonly alwaysConnect: boolean;
  private readonly allowedNamespaces: "*" | ReadonlySet<string>;
  private readonly connectTimeout: number;
  private readonly maxAttachments: number;
  private readonly attachmentTimeout: number;
  private readonly maxNamespacesPerConnection: number;
  /** The msgpack codec when the server speaks socket.io-msgpack-parser's format (option `parser`), else null (JSON). */
  private readonly msgpack: MsgpackCodec | null;
  /** Connection state recovery (option `connectionStateRecovery`), null when off. */
  private readonly recovery: Recovery | null;
  /** The decoder every connection uses while it has no binary packet half-received (see onMessage). */
  private decoder: PacketDecoder;
  /** Handler containers by namespace name ("*" holds the any-namespace handlers). */
  private readonly namespaces = new Map<string, Namespace<Listen, Emit>>();
  /** Every local socket by sid (sids are unique across namespaces). */
  private readonly sockets = new Map<string, NamespaceSocket>();
  private node: NodeEngineAdapter | null = null;
  /**
   * The native publishers of the runtime servers serving this server (Bun: one per Bun server),
   * learned from the WebSockets that have the capability. Empty on Node and Deno.
   */
  private readonly publishers = new Set<TopicPublisher>();
  /** Topic → how many local sockets are subscribed to it (a subset of the room's or namespace's members). */
  private readonly subscribers = new Map<string, number>();
  private ownHttpServer: HttpServer | null = null;
  private readonly ready: Promise<void>;
  /** Server-side event handlers by namespace, then event (onServerSideEvent). */
  private readonly serverSideHandlers = new Map<string, Map<string, ServerSideHandler>>();

  constructor(options: ServerOptions = {}) {
    this.engine = new EngineServer(options);
    this.logger = this.engine.logger;
    this.json = options.json ?? defaultJson;
    this.alwaysConnect = options.alwaysConnect ?? false;
    this.allowedNamespaces = options.namespaces === "*" ? "*" : new Set(options.namespaces ?? ["/"]);
    this.connectTimeout = options.connectTimeout ?? 45_000;
    this.maxAttachments = options.maxAttachments ?? 10;
    this.attachmentTimeout = options.attachmentTimeout ?? 60_000;
    if (!Number.isFinite(this.attachmentTimeout) || this.attachmentTimeout <= 0) {
      throw new RangeError(`attachmentTimeout must be a positive number, got ${this.attachmentTimeout}`);
    }
    this.maxNamespacesPerConnection = options.maxNamespacesPerConnection ?? 100;
    if (!Number.isSafeInteger(this.maxNamespacesPerConnection) || this.maxNamespacesPerConnection < 1) {
      throw new RangeError(`maxNamespacesPerConnection must be a positive integer, got ${this.maxNamespacesPerConnection}`);
    }
    const parser = options.parser ?? "json";
    if (parser !== "json" && parser !== "msgpack") {
      // socket.io takes the parser module itself; sockjet takes its name (the codec is built in).
      throw new RangeError(`parser must be "json" or "msgpack" (a name, not a parser module), got ${typeof parser === "object" ? "an object" : String(parser)}`);
    }
    this.msgpack = parser === "msgpack" ? new MsgpackCodec() : null;
    // A msgpack packet is always one message: its decoder is never pending, so one serves every connection.
    this.decoder = this.msgpack !== null ? this.msgpack.decoder() : new Decoder({ json: this.json, maxAttachments: this.maxAttachments });
    this.manager = options.clientManager ?? new InMemoryManager();
    this.recovery = options.connectionStateRecovery === undefined ? null : this.startRecovery(new Recovery(options.connectionStateRecovery, this.engine.options));
    this.engine.setHandler(this.engineHandler);
    this.managerHost.logger = this.logger;
    this.ready = Promise.resolve(this.manager.initialize(this.managerHost));
    this.ready.catch((err: unknown) => this.logger.error("client manager failed to initialize", { err }));
  }

  // ---- handlers ---------------------------------------------------------------------------------

  on(event: string, handler: AnyNamespaceHandler, namespace: "*"): this;
  on(event: "connect", handler: ConnectHandler, namespace?: string): this;
  on(event: "disconnect", handler: DisconnectHandler, namespace?: string): this;
  on(event: "*", handler: CatchAllHandler, namespace?: string): this;
  on<E extends EventNames<Listen>>(event: E, handler: EventHandler<Listen[E]>, namespace?: string): this;
  on(event: string, handler: (...args: never[]) => unknown, namespace = "/"): this {
    this.of(namespace).addHandler(event, handler);
    return this;
  }

  /** The handlers and operations of one namespace, without repeating its name. */
  of(namespace: string): Namespace<Listen, Emit> {
    let ns = this.namespaces.get(namespace);
    if (ns === undefined) {
      ns = new Namespace<Listen, Emit>(namespace);
      ns.bind(this);
      this.namespaces.set(namespace, ns);
    }
    return ns;
  }

  /** Registers a class-based namespace (an instance of a Namespace subclass). */
  registerNamespace(namespace: Namespace<Listen, Emit>): this {
    const previous = this.namespaces.get(namespace.namespace);
    namespace.bind(this);
    if (previous !== undefined && previous !== namespace) namespace.adoptHandlers(previous);
    this.namespaces.set(namespace.namespace, namespace);
    return this;
  }

  // ---- operations ----------------------------------------------------------------------------------

  /**
   * Emits an event. `data` is the single argument (`undefined` for none; `args(a, b)` for several).
   * Without `to`/`room`, everyone in the namespace receives it.
   */
  async emit<E extends EventNames<Emit>>(event: E, ...rest: EmitRest<Emit[E], EmitOptions>): Promise<void> {
    const [data, options = {}] = rest as [unknown, EmitOptions | undefined];
    await this.emitData(event, data, options);
  }

  /** @internal emit without the typed-event checks (used by scoped namespaces). */
  async emitData(event: string, data: unknown, options: EmitOptions): Promise<void> {
    this.checkEvent(event);
    await this.ready;
    const targets = [...list(options.to), ...list(options.room)];
    const operation: EmitOperation = {
      type: "emit",
      namespace: options.namespace ?? "/",
      event,
      args: toArgList(data),
      rooms: targets.length > 0 ? targets : null,
      skip: list(options.skipSid),
      ...(options.callback ? { callback: options.callback } : {}),
    };
    // A shared (cluster) recovery log numbers the event once, here, before it reaches any server.
    if (this.recovery?.scope === "cluster" && options.callback === undefined) await this.recordShared(this.recovery, operation);
    await this.manager.execute(operation);
  }

  /** Sends a `message` event (python-socketio's `send`). */
  async send(data: unknown, options: EmitOptions = {}): Promise<void> {
    await this.emitData("message", data, options);
  }

  /**
   * Emits to one sid and resolves with its acknowledgement: undefined for none, the value for one,
   * `Args` for several. Rejects with TimeoutError (`ACK_TIMEOUT`) when none arrives in time, with
   * `DISCONNECTED` if the client leaves first, and `UNKNOWN_SID` if no such client exists.
   */
  async call<E extends EventNames<Emit>>(event: E, data: unknown, options: CallOptions): Promise<unknown> {
    this.checkEvent(event);
    await this.ready;
    const namespace = options.namespace ?? "/";
    const timeout = options.timeout ?? 60_000;
    const args = toArgList(data);
    const socket = this.localSocket(namespace, options.to);
    if (socket !== null) {
      return new Promise((resolve, reject) => {
        const id = socket.allocateAckId();
        // Encoded first: data that cannot be encoded rejects the call (ENCODE_FAILED) and leaves no pending ack behind.
        const packets = this.encodeEvent(namespace, event, args, id);
        const pending = new PendingCall(this.engine.timers, socket, id, resolve, reject);
        socket.setAck(id, pending);
        this.engine.timers.schedule(pending.timer, timeout);
        socket.send(packets);
      });
    }
    if (this.manager.local) throw new SockjetError("UNKNOWN_SID", `no client ${options.to} in namespace ${namespace}`);
    return new Promise((resolve, reject) => {
      let settled = false;
      const deadline = new RemoteCallDeadline(() => {
        if (!settled) (settled = true), reject(new TimeoutError(`no acknowledgement from ${options.to} within ${timeout} ms`));
      });
      this.engine.timers.schedule(deadline.timer, timeout);
      const callback: AckCallback = (...reply: unknown[]) => {
        if (settled) return;
        settled = true;
        this.engine.timers.cancel(deadline.timer);
        resolve(fromArgList(reply));
      };
      this.manager
        .execute({ type: "emit", namespace, event, args, rooms: [options.to], skip: [], callback, timeout })
        .catch((err: unknown) => {
          if (settled) return;
          settled = true;
          this.engine.timers.cancel(deadline.timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
    });
  }

  async enterRoom(sid: string, room: string, namespace = "/"): Promise<void> {
    await this.ready;
    await this.manager.execute({ type: "enter_room", namespace, sid, room });
  }

  async leaveRoom(sid: string, room: string, namespace = "/"): Promise<void> {
    await this.ready;
    await this.manager.execute({ type: "leave_room", namespace, sid, room });
  }

  /** Removes every client from a room. */
  async closeRoom(room: string, namespace = "/"): Promise<void> {
    await this.ready;
    await this.manager.execute({ type: "close_room", namespace, room });
  }

  /** The rooms a client is in, its own room (the sid) first. */
  rooms(sid: string, namespace = "/"): string[] {
    return this.manager.getRooms(namespace, sid);
  }

  /**
   * Disconnects a client from a namespace (it receives a DISCONNECT packet). With `{ close: true }`
   * it closes the client's whole connection: every namespace, then the transport. Either way the
   * sid may be on another server of a cluster.
   */
  async disconnect(sid: string, namespace = "/", options: DisconnectOptions = {}): Promise<void> {
    await this.ready;
    await this.manager.execute({ type: "disconnect", namespace, sid, ...(options.close === true ? { close: true } : {}) });
  }

  /** The session object of a client (an empty object until something is saved). */
  getSession<T extends object = Record<string, unknown>>(sid: string, namespace = "/"): T {
    const socket = this.requireSocket(sid, namespace);
    return (socket.session ??= {}) as T;
  }

  saveSession(sid: string, session: object, namespace = "/"): void {
    this.requireSocket(sid, namespace).session = session;
  }

  /** Runs `fn` with the client's session and saves it when `fn` is done (python-socketio's `with sio.session(sid)`). */
  async session<T extends object = Record<string, unknown>, R = void>(sid: string, fn: (session: T) => R | Promise<R>, namespace = "/"): Promise<R> {
    const session = this.getSession<T>(sid, namespace);
    const result = await fn(session);
    this.saveSession(sid, session, namespace);
    return result;
  }

  /** The transport a client uses now. */
  transport(sid: string, namespace = "/"): "polling" | "websocket" {
    return this.requireSocket(sid, namespace).client.engine.transportName;
  }

  /** The connect-time request of a client (python-socketio's `get_environ`). */
  getEnviron(sid: string, namespace = "/"): Environ | undefined {
    return this.localSocket(namespace, sid)?.client.environFor(namespace);
  }

  /** Sids of local clients in a room (or the whole namespace). */
  participants(namespace = "/", room: string | null = null): string[] {
    return this.manager.getParticipants(namespace, room);
  }

  // ---- the cluster seen whole (docs/cluster.md) ----------------------------------------------------
  // The sync rooms() and participants() above answer for this process; these answer for every
  // server of the cluster (the same thing under the in-memory manager). A server that does not
  // answer in time rejects the query with ClusterQueryError (CLUSTER_INCOMPLETE).

  /** The sockets in a namespace (or its rooms) on every server, with their rooms and session data (socket.io's fetchSockets). */
  async fetchSockets(options: FetchSocketsOptions = {}): Promise<SocketDescription[]> {
    await this.ready;
    const rooms = list(options.room);
    return this.manager.fetchSockets(
      { namespace: options.namespace ?? "/", rooms: options.room === undefined ? null : rooms, except: list(options.except), data: options.data ?? true },
      options.timeout,
    );
  }

  /**
   * The rooms of a sid wherever it is connected ([] when no server has it). A sid lives on one
   * server: once that server answered, the answer is complete even if another one did not.
   */
  async fetchRooms(sid: string, namespace = "/", options: ClusterQueryOptions = {}): Promise<string[]> {
    await this.ready;
    if (this.localSocket(namespace, sid) !== null) return this.manager.getRooms(namespace, sid);
    try {
      const found = await this.manager.fetchSockets({ namespace, rooms: [sid], except: [], data: false }, options.timeout);
      return found.find((s) => s.sid === sid)?.rooms ?? [];
    } catch (err) {
      const found = err instanceof ClusterQueryError ? (err.partial as SocketDescription[]).find((s) => s.sid === sid) : undefined;
      if (found !== undefined) return found.rooms;
      throw err;
    }
  }

  /** Sids in a room (or the namespace) on every server. */
  async fetchParticipants(namespace = "/", room: string | null = null, options: ClusterQueryOptions = {}): Promise<string[]> {
    await this.ready;
    try {
      const found = await this.manager.fetchSockets({ namespace, rooms: room === null ? null : [room], except: [], data: false }, options.timeout);
      return found.map((s) => s.sid);
    } catch (err) {
      if (!(err instanceof ClusterQueryError)) throw err;
      const partial = (err.partial as SocketDescription[]).map((s) => s.sid);
      throw new ClusterQueryError(err.message, err.expected, err.answered, partial, { cause: err.cause });
    }
  }

  /** Every room of a namespace on every server, each sid's own room included (socket.io's allRooms). */
  async allRooms(namespace = "/", options: ClusterQueryOptions = {}): Promise<string[]> {
    await this.ready;
    return this.manager.allRooms(namespace, options.timeout);
  }

  /** How many servers the cluster has, this one included, as far as this server knows (1 without a broker). */
  serverCount(): number {
    return this.manager.serverCount();
  }

  /**
   * Handles a server-side event sent by another server's serverSideEmit (clients cannot send these).
   * The handler gets the data and the sender's server id; its return value is the reply to
   * serverSideEmitWithAck.
   */
  onServerSideEvent(event: string, handler: ServerSideHandler, namespace = "/"): this {
    if (typeof event !== "string" || event === "") throw new SockjetError("INVALID_ARGUMENT", "event name must be a non-empty string");
    if (typeof handler !== "function") throw new SockjetError("INVALID_ARGUMENT", "handler must be a function");
    let handlers = this.serverSideHandlers.get(namespace);
    if (handlers === undefined) this.serverSideHandlers.set(namespace, (handlers = new Map()));
    handlers.set(event, handler);
    return this;
  }

  /** Sends an event to every other server of the cluster (not to this one, nor to clients). */
  async serverSideEmit(event: string, data?: unknown, options: ServerSideEmitOptions = {}): Promise<void> {
    if (typeof event !== "string" || event === "") throw new SockjetError("INVALID_ARGUMENT", "event name must be a non-empty string");
    await this.ready;
    await this.manager.serverSideEmit({ namespace: options.namespace ?? "/", event, args: toArgList(data), ack: false });
  }

  /** Sends an event to every other server and resolves with each one's reply (in arrival order; [] alone). */
  async serverSideEmitWithAck(event: string, data?: unknown, options: ServerSideEmitOptions & ClusterQueryOptions = {}): Promise<unknown[]> {
    if (typeof event !== "string" || event === "") throw new SockjetError("INVALID_ARGUMENT", "event name must be a non-empty string");
    await this.ready;
    return this.manager.serverSideEmit({ namespace: options.namespace ?? "/", event, args: toArgList(data), ack: true }, options.timeout);
  }

  // ---- Admin UI ------------------------------------------------------------------------------------

  /** Set by instrument(); stopped by close(). */
  private admin: AdminInstrumentation | null = null;

  /**
   * Serves the Socket.IO Admin UI's protocol on a namespace ("/admin"), as python-socketio's
   * `instrument()` and @socket.io/admin-ui's `instrument(io)` do; with `serveUi`, the UI's page as
   * well. See docs/admin-ui.md.
   */
  instrument(options: AdminOptions): AdminInstrumentation {
    if (this.admin !== null) throw new SockjetError("INVALID_ARGUMENT", "instrument() was already called on this server");
    return (this.admin = instrumentServer(this as unknown as Server, options));
  }

  /**
   * @internal The Admin UI's instrumentation (src/admin) hooks in here, once, when instrument() is
   * called: `wrap` receives the manager host's and engine handler's functions and returns their
   * replacements, and the observers are called around the server's own steps. A server that is
   * never instrumented runs none of it and pays nothing per packet for the Admin UI.
   */
  wrapForAdmin(wrap: (originals: ServerTaps) => Partial<ServerTaps>, observers: ServerObservers): void {
    const host = this.managerHost;
    const w = wrap({
      deliver: host.deliver,
      deliverToRoom: host.deliverToRoom!,
      deliverWithAck: host.deliverWithAck,
      joinedRoom: host.joinedRoom!,
      leftRoom: host.leftRoom!,
      engineHandler: this.engineHandler,
    });
    if (w.deliver) host.deliver = w.deliver;
    if (w.deliverToRoom) host.deliverToRoom = w.deliverToRoom;
    if (w.deliverWithAck) host.deliverWithAck = w.deliverWithAck;
    if (w.joinedRoom) host.joinedRoom = w.joinedRoom;
    if (w.leftRoom) host.leftRoom = w.leftRoom;
    if (w.engineHandler) this.engine.setHandler(w.engineHandler);
    // The steps below are methods of this class: the instance gets its own that call the
    // prototype's with every argument, then (or first) the observer.
    const { connected, closed, eventReceived } = observers;
    if (connected) {
      const acceptConnect = this.acceptConnect;
      this.acceptConnect = (...args: Parameters<typeof acceptConnect>) => {
        acceptConnect.apply(this, args);
        connected(args[0]);
      };
    }
    if (closed) {
      const closeSocket = this.closeSocket;
      this.closeSocket = (...args: Parameters<typeof closeSocket>) => {
        const wasConnected = args[0].state === "connected";
        closeSocket.apply(this, args);
        closed(args[0], args[1], wasConnected);
      };
    }
    if (eventReceived) {
      const handleEvent = this.handleEvent;
      this.handleEvent = (...args: Parameters<typeof handleEvent>) => {
        eventReceived(args[0], args[1]);
        handleEvent.apply(this, args);
      };
    }
  }

  /** @internal Every socket connected to this process (the Admin UI lists them). */
  localSockets(): IterableIterator<NamespaceSocket> {
    return this.sockets.values();
  }

  /** @internal The namespaces that have handlers (the Admin UI's stats list them, as python-socketio does). */
  handledNamespaces(): string[] {
    return [...this.namespaces.keys()].filter((name) => name !== "*");
  }

  // ---- Node integration ----------------------------------------------------------------------------

  /** Serves Socket.IO on an existing node:http or node:https server (its other routes keep working). */
  attach(server: NodeHttpServer): this {
    this.nodeAdapter().attach(server);
    return this;
  }

  /** Starts a standalone HTTP server for Socket.IO. */
  listen(port: number, host?: string): Promise<HttpServer> {
    const server = createServer();
    this.attach(server);
    this.ownHttpServer = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve(server);
      });
    });
  }

  /**
   * A Node request listener that serves Socket.IO, then `staticFiles`, then `app`, then 404
   * (python-socketio's WSGIApp). For WebSocket, pass its `upgrade` to the server's `upgrade` event,
   * or call `attach(server)` as well.
   */
  handler(app?: NodeRequestListener, options: NodeAdapterOptions = {}): NodeRequestListener & { upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void } {
    return this.nodeAdapter().handler(app, options);
  }

  // ---- fetch (web-standard) integration -----------------------------------------------------------

  /**
   * A web-standard handler, `(request, ...context) => Promise<Response>`, that serves Socket.IO,
   * then `staticFiles`, then `app` (another fetch-style app), then 404: python-socketio's ASGIApp.
   * It serves HTTP long-polling only, since fetch has no WebSocket upgrade: for WebSocket use
   * `serveBun`/`bunHandler` (sockjet/bun), `serveDeno`/`denoHandler` (sockjet/deno) or, on Node,
   * `serveHono` (sockjet/hono) or `attach`.
   */
  fetchHandler(options: FetchHandlerOptions = {}): FetchHandler {
    return new FetchEngineAdapter(this.engine).handler(options) as FetchHandler;
  }

  /** Disconnects every client and stops the server (python-socketio's `shutdown`). */
  async close(): Promise<void> {
    this.admin?.close();
    this.engine.close();
    this.node?.close();
    await this.recovery?.store.close();
    await this.manager.close();
    const own = this.ownHttpServer;
    if (own !== null) {
      this.ownHttpServer = null;
      own.closeAllConnections?.();
      await new Promise<void>((resolve) => own.close(() => resolve()));
    }
  }

  // ---- engine events -----------------------------------------------------------------------------------

  private readonly engineHandler: EngineHandler = {
    onOpen: (engine: EngineSocket) => {
      const client = new Client(engine, this.connectTimeout);
      engine.data = client;
      // Socket.IO protocol v4 (Engine.IO v3 clients): the main namespace is joined with the
      // session, without a CONNECT from the client; its auth is the handshake's query.
      if (client.protocol === 4) this.handleConnect(client, "/", handshakeQuery(engine.request.url));
    },
    onMessage: (engine: EngineSocket, data: string | Uint8Array) => {
      const client = engine.data as Client;
      // Connections share one decoder; one with a binary packet's attachments pending takes it
      // over (with its partial packet) until the packet is complete, and a new shared one is made.
      const decoder = client.decoder ?? this.decoder;
      const result = decoder.add(data);
      if (decoder.pending) {
        if (client.decoder === null) {
          client.decoder = decoder;
          this.decoder = new Decoder({ json: this.json, maxAttachments: this.maxAttachments });
          // The attachments must arrive in time: a partial packet is memory held for the client.
          client.awaitAttachments(this.attachmentTimeout);
        }
      } else if (client.decoder !== null) {
        client.decoder = null;
        client.attachmentsDone();
      }
      if (!result.ok) {
        this.logger.debug("malformed packet; closing the connection", { sid: engine.id, code: result.code, message: result.message });
        engine.abort("parse error");
        return;
      }
      if (result.packet !== null) this.onPacket(client, result.packet);
    },
    onClose: (engine: EngineSocket, reason: CloseReason) => {
      const client = engine.data as Client;
      client.stopTimers();
      client.decoder = null;
      for (const socket of client.sockets.values()) this.closeSocket(socket, engineReason(reason), false);
    },
  };

  private onPacket(client: Client, packet: Packet): void {
    const socket = client.sockets.get(packet.nsp);
    switch (packet.type) {
      case PacketType.CONNECT:
        if (client.protocol === 4) this.handleConnectV4(client, packet.nsp);
        else this.handleConnect(client, packet.nsp, packet.data);
        return;
      case PacketType.DISCONNECT:
        if (socket) this.closeSocket(socket, "client disconnect", false);
        return;
      case PacketType.EVENT:
      case PacketType.BINARY_EVENT:
        if (socket && socket.state === "connected") this.handleEvent(socket, packet);
        return;
      case PacketType.ACK:
      case PacketType.BINARY_ACK:
        if (socket && packet.id !== undefined) socket.takeAck(packet.id, packet.data as unknown[]);
        return;
      default:
        // CONNECT_ERROR only travels server → client.
        client.engine.abort("parse error");
    }
  }

  private acceptsNamespace(namespace: string): boolean {
    if (this.allowedNamespaces === "*" || this.allowedNamespaces.has(namespace)) return true;
    return this.namespaces.has(namespace) || this.namespaces.has("*");
  }

  /**
   * A namespace connect of Socket.IO protocol v4, `0/chat?token=abc,`: the query string is the
   * connect handler's `auth` (an object of its parameters) and joins the namespace's environ.
   */
  private handleConnectV4(client: Client, nspWithQuery: string): void {
    const q = nspWithQuery.indexOf("?");
    if (q === -1) {
      this.handleConnect(client, nspWithQuery, {});
      return;
    }
    const query = Object.fromEntries(parseQuery(nspWithQuery));
    this.handleConnect(client, nspWithQuery.slice(0, q), query, query);
  }

  private handleConnect(client: Client, namespace: string, auth: unknown, v3Query?: Record<string, string>): void {
    if (!this.acceptsNamespace(namespace)) {
      this.sendConnectError(client, namespace, { message: "Invalid namespace" });
      return;
    }
    if (client.sockets.has(namespace) || client.isRestoring(namespace)) {
      this.logger.debug("duplicate CONNECT ignored", { sid: client.engine.id, namespace });
      return;
    }
    // With `namespaces: "*"` or a "*" handler a client names any namespace it likes: one connection
    // must not hold thousands of them (each joined one is a socket, a manager entry and a sid).
    if (client.namespaceCount >= this.maxNamespacesPerConnection) {
      this.sendConnectError(client, namespace, { message: TOO_MANY_NAMESPACES });
      return;
    }
    if (v3Query !== undefined) client.setConnectQuery(namespace, v3Query);
    // A reconnecting client with connection state recovery presents the pid and offset it holds.
    const claim = this.recovery !== null && client.protocol === 5 ? Recovery.claimOf(auth) : null;
    if (claim === null) {
      this.openSocket(client, namespace, auth, null);
      return;
    }
    const restored = this.recovery!.store.restore(namespace, claim.pid, claim.offset);
    if (!(restored instanceof Promise)) {
      this.openSocket(client, namespace, auth, restored);
      return;
    }
    client.restoring(namespace, true);
    restored.then(
      (value) => this.afterRestore(client, namespace, auth, value),
      (err: unknown) => {
        this.logger.error("connection state recovery failed; the client gets a fresh session", { namespace, err });
        this.afterRestore(client, namespace, auth, null);
      },
    );
  }

  /** A store's restore has answered (handleConnect kept duplicates and the namespace limit out meanwhile). */
  private afterRestore(client: Client, namespace: string, auth: unknown, restored: RestoredSession | null): void {
    client.restoring(namespace, false);
    if (client.engine.readyState !== "open") return;
    this.openSocket(client, namespace, auth, restored);
  }

  /** A namespace socket: fresh, or a recovered session (`restored`). */
  private openSocket(client: Client, namespace: string, auth: unknown, restored: RestoredSession | null): void {
    const session = restored?.session ?? null;
    const socket = new NamespaceSocket(session?.sid ?? this.newSid(client, namespace), namespace, client);
    // python-socketio's msgpack packets drop an id of 0 (`if self.id:`), so its client would answer
    // a call numbered 0 with an ACK that names none; its own servers number from 1, and so does this one here.
    if (this.msgpack !== null) socket.allocateAckId();
    client.sockets.set(namespace, socket);
    this.sockets.set(socket.sid, socket);
    // Membership first, as python-socketio does: the connect handler may already emit to the sid or enter rooms.
    this.manager.connect(namespace, socket.sid);
    if (this.recovery !== null && client.protocol === 5) {
      socket.recovery = { pid: session?.pid ?? randomId(), recovered: session !== null, buffer: null, replayed: null };
      const catchingUp = restored === null ? null : this.restoreInto(socket, restored);
      if (catchingUp !== null) {
        catchingUp.then(
          () => this.decideConnect(socket, auth),
          (err: unknown) => {
            // The missed events cannot all be known: the connection closes, and the client comes back to a fresh session.
            this.logger.error("connection state recovery failed while catching up; closing the connection", { namespace, sid: socket.sid, err });
            socket.recovery!.buffer = null;
            client.engine.close("forced close");
          },
        );
        return;
      }
    }
    this.decideConnect(socket, auth);
  }

  /**
   * Gives a recovered socket its session, rooms and missed events (held behind its CONNECT). A
   * cluster store then reads what was logged since its first read (the socket is in its rooms by
   * now, so every event is in that read or delivered live). An event logged before that last read
   * was replayed, whenever its live copy arrives: meanwhile (buffered), while the connect handler
   * runs, or after the CONNECT (its own server's delivery waits for its log write to be answered,
   * another server's crosses the broker); from then on the socket drops every live event at or
   * before the last offset read. Returns that catch-up, or null when there is none.
   */
  private restoreInto(socket: NamespaceSocket, restored: RestoredSession): Promise<void> | null {
    const { session } = restored;
    const { namespace, sid } = socket;
    socket.session = session.data;
    for (const room of session.rooms) {
      this.manager.execute({ type: "enter_room", namespace, sid, room }).catch((err: unknown) => this.logger.error("recovered room could not be entered", { namespace, sid, room, err }));
    }
    this.sendMissed(socket, restored.missed);
    const store = this.recovery!.store;
    if (store.catchUp === undefined || restored.through === undefined) return null;
    const buffer: Array<readonly OutPacket[]> = [];
    socket.recovery!.buffer = buffer;
    return store.catchUp(session, restored.through).then(({ missed, through }) => {
      const state = socket.recovery!;
      state.buffer = null;
      if (socket.state === "closed") return;
      this.sendMissed(socket, missed);
      // Set after the replay (which would otherwise be dropped), before what was buffered meanwhile.
      state.replayed = this.recovery!.replayedThrough(through);
      for (const packets of buffer) socket.send(packets);
    });
  }

  private sendMissed(socket: NamespaceSocket, missed: readonly MissedEvent[]): void {
    for (const event of missed) {
      try {
        socket.send("packets" in event ? event.packets : this.encodeEvent(socket.namespace, event.event, event.args));
      } catch (err) {
        this.logger.error("a missed event could not be encoded; not replayed", { namespace: socket.namespace, sid: socket.sid, err });
      }
    }
  }

  /** The connect handler's turn (after a recovery has restored what it could). */
  private decideConnect(socket: NamespaceSocket, auth: unknown): void {
    const { client, namespace } = socket;
    if (socket.state === "closed") return;
    if (this.alwaysConnect) this.acceptConnect(socket);

    // A synchronous handler (or none) is decided in this turn; only a promise waits.
    let verdict: unknown;
    try {
      verdict = this.runConnectHandler(namespace, socket.sid, client, auth, socket.recovery?.recovered === true ? RECOVERED : NOT_RECOVERED);
    } catch (err) {
      this.finishConnect(socket, this.refusalOf(socket, err));
      return;
    }
    if (verdict instanceof Promise) {
      verdict.then(
        (value: unknown) => this.finishConnect(socket, value === false ? DEFAULT_REFUSAL : null),
        (err: unknown) => this.finishConnect(socket, this.refusalOf(socket, err)),
      );
    } else {
      this.finishConnect(socket, verdict === false ? DEFAULT_REFUSAL : null);
    }
  }

  /**
   * A new sid. Protocol v5 sends the client a random one in CONNECT. A v4 client (socket.io 2) is
   * told none and takes the Engine.IO session id as its id on "/", and `<namespace>#<session id>`
   * elsewhere; the server uses the same (as socket.io 2, and socket.io 4 with allowEIO3), so that
   * the client's `socket.id` names its sid (`emit(..., { to: socket.id })`).
   */
  private newSid(client: Client, namespace: string): string {
    if (client.protocol === 5) return randomId();
    const id = client.engine.id;
    return namespace === "/" ? id : namespace + "#" + id;
  }

  private refusalOf(socket: NamespaceSocket, err: unknown): RefusalPayload {
    if (err instanceof ConnectionRefusedError) return err.toPayload();
    this.logger.error("connect handler failed; refusing the connection", { namespace: socket.namespace, sid: socket.sid, err });
    return DEFAULT_REFUSAL;
  }

  /** The connect handler has decided: accept, or refuse (CONNECT_ERROR, or DISCONNECT under alwaysConnect). */
  private finishConnect(socket: NamespaceSocket, refusal: RefusalPayload | null): void {
    const client = socket.client;
    client.detachRequest();
    if (socket.state === "closed") return; // the client went away while the handler ran
    if (refusal !== null) {
      if (this.alwaysConnect) {
        this.sendControl(client, { type: PacketType.DISCONNECT, nsp: socket.namespace });
      } else {
        this.sendConnectError(client, socket.namespace, refusal);
      }
      socket.releaseHeld(false);
      socket.state = "closed";
      this.unsubscribeTopics(socket);
      // The connection stays: a later CONNECT to this namespace must be decided anew, not taken
      // for a duplicate (socket.io-client 2 retries on the same connection after an error).
      if (client.sockets.get(socket.namespace) === socket) client.sockets.delete(socket.namespace);
      this.forget(socket);
      return;
    }
    if (!this.alwaysConnect) this.acceptConnect(socket);
  }

  private acceptConnect(socket: NamespaceSocket): void {
    const client = socket.client;
    socket.state = "connected";
    client.connected();
    // Protocol v5 tells the client its sid (and, with recovery, its pid); v4 clients take the Engine.IO session id as theirs.
    const data = client.protocol === 5 ? (socket.recovery !== null ? { sid: socket.sid, pid: socket.recovery.pid } : { sid: socket.sid }) : undefined;
    this.sendControl(client, { type: PacketType.CONNECT, nsp: socket.namespace, data });
    socket.releaseHeld(true);
    this.subscribeTopics(socket);
  }

  /**
   * Refuses a namespace connect. Protocol v5 sends `{message, data?}`; v4 (socket.io 2) sends one
   * datum, the refusal's data if there is some, and its message otherwise.
   */
  private sendConnectError(client: Client, namespace: string, refusal: RefusalPayload): void {
    const data = client.protocol === 5 ? refusal : "data" in refusal ? refusal.data : refusal.message;
    if (this.sendControl(client, { type: PacketType.CONNECT_ERROR, nsp: namespace, data })) return;
    // The refusal's data cannot be encoded (logged): the client is still refused, with the message alone.
    const plain = client.protocol === 5 ? { message: refusal.message } : refusal.message;
    this.sendControl(client, { type: PacketType.CONNECT_ERROR, nsp: namespace, data: plain });
  }

  // ---- native publish (runtimes with the capability: Bun) ---------------------------------------

  /**
   * Subscribes a connected socket's WebSocket to its namespace's topic and its rooms' topics, where
   * the runtime publishes natively; a socket on long-polling is subscribed once it has upgraded (at
   * the first room broadcast that finds it on a WebSocket, see deliverToRoom).
   */
  private subscribeTopics(socket: NamespaceSocket): void {
    // A topic publish reaches every subscriber: it could not drop an event that a restored socket
    // got from the log already (SocketRecovery.replayed), so such a socket takes the per-socket path.
    if (socket.recovery?.replayed != null) return;
    const peer = socket.client.engine.transport.peer;
    const publisher = peer?.publisher;
    if (publisher === undefined || publisher === null || peer!.subscribe === undefined) return;
    this.publishers.add(publisher);
    const { namespace, sid } = socket;
    socket.topicPeer = peer!;
    this.subscribe(peer!, namespaceTopic(namespace));
    const rooms = this.manager.getRooms(namespace, sid);
    for (let i = 1; i < rooms.length; i++) this.subscribe(peer!, roomTopic(namespace, rooms[i]!));
  }

  private subscribe(peer: WebSocketPeer, topic: string): void {
    peer.subscribe!(topic);
    this.subscribers.set(topic, (this.subscribers.get(topic) ?? 0) + 1);
  }

  private unsubscribe(peer: WebSocketPeer, topic: string): void {
    peer.unsubscribe?.(topic);
    const count = (this.subscribers.get(topic) ?? 0) - 1;
    if (count > 0) this.subscribers.set(topic, count);
    else this.subscribers.delete(topic);
  }

  /** The socket no longer receives anything of its namespace: off every topic at once. */
  private unsubscribeTopics(socket: NamespaceSocket): void {
    const peer = socket.topicPeer;
    if (peer === null) return;
    socket.topicPeer = null;
    const { namespace, sid } = socket;
    this.unsubscribe(peer, namespaceTopic(namespace));
    const rooms = this.manager.getRooms(namespace, sid);
    for (let i = 1; i < rooms.length; i++) this.unsubscribe(peer, roomTopic(namespace, rooms[i]!));
  }

  /** Runs the connect handler, building the environ only when there is one to receive it. */
  private runConnectHandler(namespace: string, sid: string, client: Client, auth: unknown, info: ConnectInfo): unknown {
    const own = this.namespaces.get(namespace)?.handler("connect");
    if (own) return own(sid, client.environFor(namespace), auth, info);
    const any = this.namespaces.get("*")?.handler("connect");
    if (any) return any(namespace, sid, client.environFor(namespace), auth, info);
    return true;
  }

  private handleEvent(socket: NamespaceSocket, packet: Packet): void {
    const [name, ...args] = packet.data as unknown[];
    const event = String(name);
    const { namespace, sid } = socket;
    let result: unknown;
    try {
      result = this.dispatch(namespace, event, sid, args);
    } catch (err) {
      this.logger.error("event handler failed", { namespace, sid, event, err });
      return;
    }
    const id = packet.id;
    if (result instanceof Promise) {
      result.then(
        (value: unknown) => id !== undefined && this.sendAck(socket, id, value),
        (err: unknown) => this.logger.error("event handler failed", { namespace, sid, event, err }),
      );
    } else if (id !== undefined) {
      this.sendAck(socket, id, result);
    }
  }

  /** Finds the handler: the namespace's own, its catch-all, then the any-namespace ones. */
  private dispatch(namespace: string, event: string, sid: string, args: unknown[]): unknown {
    const ns = this.namespaces.get(namespace);
    const own = ns?.handler(event);
    if (own) return own(sid, ...args);
    const catchAll = ns?.handler("*");
    if (catchAll) return catchAll(event, sid, ...args);
    const star = this.namespaces.get("*");
    const anyNs = star?.handler(event);
    if (anyNs) return anyNs(namespace, sid, ...args);
    const anyAll = star?.handler("*");
    if (anyAll) return anyAll(event, namespace, sid, ...args);
    this.logger.debug("no handler for event", { namespace, event, sid });
    return undefined;
  }

  private sendAck(socket: NamespaceSocket, id: number, value: unknown): void {
    if (socket.state !== "connected") return;
    const packets = this.toEnginePackets({ type: PacketType.ACK, nsp: socket.namespace, id, data: toArgList(value) });
    if (packets instanceof SockjetError) {
      // Nobody to reject: the handler has returned. The client's ack callback is not called (it may time out).
      this.logger.error("acknowledgement could not be encoded; none sent", { namespace: socket.namespace, sid: socket.sid, id, err: packets });
      return;
    }
    for (const p of packets) socket.client.engine.sendPacket(p);
  }

  private closeSocket(socket: NamespaceSocket, reason: DisconnectReason, notifyClient: boolean): void {
    if (socket.state === "closed") return;
    const wasConnected = socket.state === "connected";
    socket.releaseHeld(false);
    socket.state = "closed";
    // Closed sockets receive nothing (the disconnect handler below may still broadcast to its rooms).
    this.unsubscribeTopics(socket);
    // Also while the connect handler is pending (python-socketio does the same): otherwise the
    // client, which will get neither CONNECT nor CONNECT_ERROR, would wait for connectTimeout.
    if (notifyClient) this.sendControl(socket.client, { type: PacketType.DISCONNECT, nsp: socket.namespace });
    if (socket.client.sockets.get(socket.namespace) === socket) socket.client.sockets.delete(socket.namespace);
    socket.failAcks();
    if (!wasConnected) {
      this.forget(socket);
      return;
    }
    if (socket.recovery !== null && Recovery.recoverable(reason)) this.persistSession(socket);
    // The handler runs while the sid is still in its rooms and its session readable (python-socketio order).
    let result: unknown;
    try {
      result = this.runDisconnectHandler(socket.namespace, socket.sid, reason);
    } catch (err) {
      this.logger.error("disconnect handler failed", { sid: socket.sid, err });
    }
    if (result instanceof Promise) {
      result.catch((err: unknown) => this.logger.error("disconnect handler failed", { sid: socket.sid, err })).finally(() => this.forget(socket));
    } else {
      this.forget(socket);
    }
  }

  private runDisconnectHandler(namespace: string, sid: string, reason: DisconnectReason): unknown {
    const own = this.namespaces.get(namespace)?.handler("disconnect");
    if (own) return own(sid, reason);
    const any = this.namespaces.get("*")?.handler("disconnect");
    if (any) return any(namespace, sid, reason);
    return undefined;
  }

  private forget(socket: NamespaceSocket): void {
    const current = this.sockets.get(socket.sid);
    // A recovered session may hold the sid again already (while this one's disconnect handler ran): its membership stays.
    if (current !== undefined && current !== socket) return;
    if (current === socket) this.sockets.delete(socket.sid);
    this.manager.disconnect(socket.namespace, socket.sid);
  }

  // ---- connection state recovery -------------------------------------------------------------------

  /** Hands the store what it needs; the manager shows it every emit applied here (a per-server log is fed that way). */
  private startRecovery(recovery: Recovery): Recovery {
    recovery.store.start({ logger: this.logger, limits: recovery.limits, encode: (namespace, event, args) => this.encodeEvent(namespace, event, args) });
    const store = recovery.store;
    if (recovery.scope === "server") this.managerHost.recordEmit = (operation) => store.record(operation) as unknown[];
    else if (store.observe !== undefined) this.managerHost.recordEmit = (operation) => (store.observe!(operation), operation.args);
    return recovery;
  }

  /** Numbers an emit in the shared log (its arguments gain the offset); if the store fails, the emit goes out unnumbered. */
  private async recordShared(recovery: Recovery, operation: EmitOperation): Promise<void> {
    try {
      operation.args = await recovery.store.record(operation);
    } catch (err) {
      this.logger.error("recovery log unavailable; event sent without offset (not recoverable)", { namespace: operation.namespace, event: operation.event, err });
    }
  }

  /** A socket lost its connection: its session is kept for the window (it still has its rooms here). */
  private persistSession(socket: NamespaceSocket): void {
    const { namespace, sid } = socket;
    const rooms = this.manager.getRooms(namespace, sid).slice(1);
    try {
      this.recovery!.store.persist({ namespace, sid, pid: socket.recovery!.pid, rooms, data: socket.session });
    } catch (err) {
      this.logger.error("session could not be kept for recovery", { namespace, sid, err });
    }
  }

  // ---- delivery ------------------------------------------------------------------------------------

  private readonly managerHost: ManagerHost = {
    deliver: (namespace, sids, event, args) => {
      let packets: OutPacket[] | null = null;
      for (const sid of sids) {
        const socket = this.sockets.get(sid);
        if (socket === undefined || socket.state === "closed" || socket.namespace !== namespace) continue;
        // Encoded once for all recipients, and only if there is at least one.
        packets ??= this.encodeEvent(namespace, event, args);
        socket.send(packets);
      }
    },
    deliverToRoom: (namespace, room, members, size, event, args) => {
      if (this.publishers.size === 0) {
        this.managerHost.deliver(namespace, members, event, args);
        return;
      }
      this.deliverNatively(namespace, room, members, size, event, args);
    },
    joinedRoom: (namespace, sid, room) => {
      const socket = this.sockets.get(sid);
      const peer = socket?.topicPeer;
      if (peer != null && socket!.namespace === namespace) this.subscribe(peer, roomTopic(namespace, room));
    },
    leftRoom: (namespace, sid, room) => {
      const socket = this.sockets.get(sid);
      const peer = socket?.topicPeer;
      if (peer != null && socket!.namespace === namespace) this.unsubscribe(peer, roomTopic(namespace, room));
    },
    deliverWithAck: (namespace, sid, event, args, callback) => {
      const socket = this.localSocket(namespace, sid);
      if (socket === null) return false;
      const id = socket.allocateAckId();
      const packets = this.encodeEvent(namespace, event, args, id);
      socket.setAck(id, callback);
      socket.send(packets);
      return true;
    },
    disconnectLocal: (namespace, sid, close) => {
      const socket = this.localSocket(namespace, sid);
      if (socket === null) return;
      if (close !== true) {
        this.closeSocket(socket, "server disconnect", true);
        return;
      }
      // socket.io's disconnect(true): a DISCONNECT for every namespace (so that the client does
      // not reconnect), then the session closes behind them.
      const client = socket.client;
      for (const each of client.sockets.values()) this.closeSocket(each, "server disconnect", true);
      client.engine.close("forced close");
    },
    isLocal: (namespace, sid) => this.localSocket(namespace, sid) !== null,
    socketData: (namespace, sid) => this.localSocket(namespace, sid)?.session ?? undefined,
    serverSideEvent: async (namespace, event, args, from) => {
      const handler = this.serverSideHandlers.get(namespace)?.get(event);
      return handler === undefined ? undefined : handler(fromArgList(args), from);
    },
  };

  /**
   * A broadcast to every member of a room (or of the namespace) where some WebSockets can take it
   * through the runtime's native publish: one publish to the topic reaches every subscribed member;
   * the others (long-polling, no capability, still connecting) get the general per-socket path.
   *
   * Delivery order per client stays as on every other runtime. A publish leaves at once, while the
   * general path queues packets until the end of the event-loop turn (one write per socket per
   * turn). So before publishing, each subscribed member that has packets queued (a direct emit
   * earlier in this turn, an ack, a ping) writes them now (flushNow): the alternative, taking the
   * general path for such a member, would need that member off the topic for this one message,
   * which a topic publish cannot express. Flushing costs one early write for that socket, and only
   * when it had something queued. What is emitted after the publish in the same turn is queued and
   * written behind it (Bun writes a subscriber's pending publishes before any later send).
   *
   * A publish bypasses the engine's queue, so the per-client buffer limit is the runtime's: Bun is
   * configured with backpressureLimit = maxBufferedBytes, holds at most that plus one message for a
   * subscriber, and drops a message for a subscriber already past it. The publish reports such a
   * drop; only then are the members looked at, and those past the limit are closed ("buffer full")
   * in the same turn: no client misses a message and stays connected.
   *
   * The common case needs no loop at all: when every member is subscribed (the topic's subscriber
   * count equals the member count) and no session of the process has anything queued for this turn
   * (EngineSocket.queuedSessions), the broadcast is one encode and one publish.
   */
  private deliverNatively(namespace: string, room: string | null, members: Iterable<string>, size: number, event: string, args: unknown[]): void {
    const topic = room === null ? namespaceTopic(namespace) : roomTopic(namespace, room);
    if (EngineSocket.queuedSessions === 0 && size > 0 && this.subscribers.get(topic) === size) {
      if (this.publish(topic, this.encodeEvent(namespace, event, args))) this.closeOverflowing();
      return;
    }
    let packets: OutPacket[] | null = null;
    let subscribed = 0;
    let upgraded: NamespaceSocket[] | null = null;
    for (const sid of members) {
      const socket = this.sockets.get(sid);
      if (socket === undefined || socket.state === "closed" || socket.namespace !== namespace) continue;
      packets ??= this.encodeEvent(namespace, event, args);
      const engine = socket.client.engine;
      if (socket.topicPeer !== null) {
        engine.flushNow();
        subscribed++;
        continue;
      }
      socket.send(packets);
      // Upgraded from long-polling since it connected: subscribed after this publish (which must
      // not reach it a second time), so on the topics from the next broadcast on. This message is
      // queued above, and the next publish writes it first.
      if (socket.state === "connected" && engine.transport.peer?.publisher != null) (upgraded ??= []).push(socket);
    }
    if (subscribed > 0 && this.publish(topic, packets!)) this.closeOverflowing();
    if (upgraded !== null) for (const socket of upgraded) this.subscribeTopics(socket);
  }

  /** Publishes on every native publisher; true when one dropped a frame for some subscriber. */
  private publish(topic: string, packets: OutPacket[]): boolean {
    let dropped = false;
    for (const publisher of this.publishers) if (publisher.publish(topic, packets)) dropped = true;
    return dropped;
  }

  /**
   * After a publish that the runtime dropped for some subscribers: closes, with "buffer full", the
   * subscribed sockets whose runtime backlog is at the limit (the runtime drops only for those).
   * Drops are rare, so this walks every local socket rather than keep the members of each publish.
   */
  private closeOverflowing(): void {
    const limit = this.engine.options.maxBufferedBytes;
    let overflowing: EngineSocket[] | null = null;
    for (const socket of this.sockets.values()) {
      const peer = socket.topicPeer;
      if (peer !== null && peer.bufferedAmount >= limit) (overflowing ??= []).push(socket.client.engine);
    }
    if (overflowing !== null) for (const engine of overflowing) engine.abort("buffer full");
  }

  /**
   * @internal Called by a runtime adapter that can publish natively (sockjet/bun) when it starts
   * serving this server, so that sockets which connect on long-polling and upgrade later find the
   * capability too. Sockets are subscribed only through their own WebSocket's capability.
   */
  addTopicPublisher(publisher: TopicPublisher): void {
    this.publishers.add(publisher);
  }

  /**
   * An event's engine packets. Throws SockjetError ENCODE_FAILED when its data cannot be encoded,
   * before anything is sent or registered: emit, send and call reject with it (deliveries run
   * inside the manager's operation, whose promise the caller awaits).
   */
  private encodeEvent(namespace: string, event: string, args: unknown[], id?: number): OutPacket[] {
    const recovery = this.recovery;
    if (recovery !== null && id === undefined) {
      // The recovery log encoded this event already (offset included): every recipient shares those packets.
      const logged = recovery.cached(args);
      if (logged !== undefined) return logged;
    }
    const packet: Packet = { type: PacketType.EVENT, nsp: namespace, data: [event, ...args] };
    if (id !== undefined) packet.id = id;
    const packets = this.toEnginePackets(packet, event);
    if (packets instanceof SockjetError) throw packets;
    if (recovery !== null && id === undefined && recovery.scope === "cluster") recovery.noteEncoded(args, packets);
    return packets;
  }

  /** A packet's engine packets, or the ENCODE_FAILED error saying why its data cannot be encoded. */
  private toEnginePackets(packet: Packet, event?: string): OutPacket[] | SockjetError {
    if (this.msgpack !== null) return this.toMsgpackPackets(this.msgpack, packet, event);
    const encoded = encodePacket(packet, this.json);
    if (!encoded.ok) {
      const what = event !== undefined ? `event "${event}"` : packet.type === PacketType.ACK ? "acknowledgement" : "packet";
      const reason = encoded.code === "TOO_DEEP" ? `${encoded.message} (at most ${MAX_DEPTH} levels)` : `the JSON codec refused it: ${encoded.message}`;
      return new SockjetError("ENCODE_FAILED", `cannot encode the ${what} for namespace ${packet.nsp}: ${reason}`, { cause: encoded.cause });
    }
    const out = [new OutPacket(EnginePacketType.MESSAGE, encoded.text)];
    for (const attachment of encoded.attachments) out.push(new OutPacket(EnginePacketType.MESSAGE, attachment));
    return out;
  }

  /** A packet as socket.io-msgpack-parser frames it: one binary Engine.IO message, shared by every recipient of a broadcast. */
  private toMsgpackPackets(codec: MsgpackCodec, packet: Packet, event?: string): OutPacket[] | SockjetError {
    const encoded = codec.encode(packet);
    if (!encoded.ok) {
      const what = event !== undefined ? `event "${event}"` : packet.type === PacketType.ACK ? "acknowledgement" : "packet";
      return new SockjetError("ENCODE_FAILED", `cannot encode the ${what} for namespace ${packet.nsp}: the msgpack codec refused it: ${encoded.message}`, {
        cause: encoded.cause,
      });
    }
    return [new OutPacket(EnginePacketType.MESSAGE, encoded.bytes)];
  }

  /** Sends a packet the server makes (CONNECT, DISCONNECT, CONNECT_ERROR); false, and logged, when it cannot be encoded. */
  private sendControl(client: Client, packet: Packet): boolean {
    const packets = this.toEnginePackets(packet);
    if (packets instanceof SockjetError) {
      this.logger.error("packet could not be encoded; not sent", { sid: client.engine.id, namespace: packet.nsp, type: packet.type, err: packets });
      return false;
    }
    for (const p of packets) client.engine.sendPacket(p);
    return true;
  }

  private localSocket(namespace: string, sid: string): NamespaceSocket | null {
    const socket = this.sockets.get(sid);
    return socket !== undefined && socket.namespace === namespace && socket.state !== "closed" ? socket : null;
  }

  private requireSocket(sid: string, namespace: string): NamespaceSocket {
    const socket = this.sockets.get(sid);
    if (socket === undefined || socket.namespace !== namespace) throw new SockjetError("UNKNOWN_SID", `no client ${sid} in namespace ${namespace}`);
    return socket;
  }

  private checkEvent(event: string): void {
    if (typeof event !== "string" || event === "") throw new SockjetError("INVALID_ARGUMENT", "event name must be a non-empty string");
    if (RESERVED_EVENTS.has(event)) throw new SockjetError("INVALID_ARGUMENT", `"${event}" is a reserved event name`);
  }

  private nodeAdapter(): NodeEngineAdapter {
    return (this.node ??= new NodeEngineAdapter(this.engine));
  }
}
