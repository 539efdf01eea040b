// A namespace's handlers and its scoped operations. `server.of("/chat")` returns one; a class-based
// namespace is a subclass whose methods are handlers, mapped with the `@on("event name")` decorator
// or, as in python-socketio, by naming them `on_<event>`.

import type { Server } from "./server.js";
import type {
  AnyNamespaceHandler,
  CatchAllHandler,
  ClusterQueryOptions,
  ConnectHandler,
  DefaultEvents,
  DisconnectHandler,
  DisconnectOptions,
  EmitOptions,
  Environ,
  EventHandler,
  EventsMap,
  FetchSocketsOptions,
  ServerSideHandler,
} from "./types.js";
import type { SocketDescription } from "../manager/manager.js";
import type { EmitRest, EventNames, StoredHandler } from "./typing.js";
import { SockjetError } from "./errors.js";

export type ScopedEmitOptions = Omit<EmitOptions, "namespace">;

const kRegister = Symbol("sockjet.registerHandler");

export class Namespace<Listen extends EventsMap = DefaultEvents, Emit extends EventsMap = DefaultEvents> {
  readonly namespace: string;
  private _server: Server<Listen, Emit> | null = null;
  private readonly handlers = new Map<string, StoredHandler>();

  constructor(namespace = "/") {
    if (namespace !== "*" && !namespace.startsWith("/")) throw new SockjetError("INVALID_ARGUMENT", `namespace must start with "/": ${namespace}`);
    this.namespace = namespace;
  }

  /** The server this namespace is registered on. */
  get server(): Server<Listen, Emit> {
    if (this._server === null) throw new SockjetError("INVALID_ARGUMENT", `namespace ${this.namespace} is not registered on a server`);
    return this._server;
  }

  /** @internal */
  bind(server: Server<Listen, Emit>): void {
    this._server = server;
    this.collectPythonStyleMethods();
  }

  on(event: "connect", handler: ConnectHandler): this;
  on(event: "disconnect", handler: DisconnectHandler): this;
  on(event: "*", handler: CatchAllHandler): this;
  on<E extends EventNames<Listen>>(event: E, handler: EventHandler<Listen[E]>): this;
  on(event: string, handler: (...args: never[]) => unknown): this {
    return this.addHandler(event, handler);
  }

  /** @internal Registration without the typed-event checks (any-namespace handlers, decorators). */
  addHandler(event: string, handler: AnyNamespaceHandler | ((...args: never[]) => unknown)): this {
    if (typeof handler !== "function") throw new SockjetError("INVALID_ARGUMENT", "handler must be a function");
    this.handlers.set(event, handler as StoredHandler);
    return this;
  }

  /** @internal The handler registered for an event, if any. */
  handler(event: string): StoredHandler | undefined {
    return this.handlers.get(event);
  }

  /** @internal Takes over handlers registered with `server.on(..., namespace)` before this class was registered. */
  adoptHandlers(previous: Namespace<Listen, Emit>): void {
    for (const [event, handler] of previous.handlers) if (!this.handlers.has(event)) this.handlers.set(event, handler);
  }

  /** @internal Used by the `@on` decorator. */
  [kRegister](event: string, handler: StoredHandler): void {
    this.handlers.set(event, handler);
  }

  private collectPythonStyleMethods(): void {
    const seen = new Set<string>();
    for (let proto: object | null = Object.getPrototypeOf(this); proto !== null && proto !== Namespace.prototype; proto = Object.getPrototypeOf(proto)) {
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (!name.startsWith("on_") || seen.has(name)) continue;
        seen.add(name);
        const method = (this as unknown as Record<string, unknown>)[name];
        const event = name.slice(3);
        if (typeof method === "function" && event !== "" && !this.handlers.has(event)) {
          this.handlers.set(event, (method as StoredHandler).bind(this));
        }
      }
    }
  }

  // ---- scoped operations (the server's, with this namespace) -------------------------------------

  emit<E extends EventNames<Emit>>(event: E, ...rest: EmitRest<Emit[E], ScopedEmitOptions>): Promise<void> {
    const [data, options] = rest as [unknown, ScopedEmitOptions | undefined];
    return this.server.emitData(event, data, { ...options, namespace: this.namespace });
  }

  send(data: unknown, options: ScopedEmitOptions = {}): Promise<void> {
    return this.server.send(data, { ...options, namespace: this.namespace });
  }

  call<E extends EventNames<Emit>>(event: E, data: unknown, options: { to: string; timeout?: number }): Promise<unknown> {
    return this.server.call(event, data, { ...options, namespace: this.namespace });
  }

  enterRoom(sid: string, room: string): Promise<void> {
    return this.server.enterRoom(sid, room, this.namespace);
  }

  leaveRoom(sid: string, room: string): Promise<void> {
    return this.server.leaveRoom(sid, room, this.namespace);
  }

  closeRoom(room: string): Promise<void> {
    return this.server.closeRoom(room, this.namespace);
  }

  rooms(sid: string): string[] {
    return this.server.rooms(sid, this.namespace);
  }

  disconnect(sid: string, options: DisconnectOptions = {}): Promise<void> {
    return this.server.disconnect(sid, this.namespace, options);
  }

  getSession<T extends object = Record<string, unknown>>(sid: string): T {
    return this.server.getSession<T>(sid, this.namespace);
  }

  saveSession(sid: string, session: object): void {
    this.server.saveSession(sid, session, this.namespace);
  }

  session<T extends object = Record<string, unknown>, R = void>(sid: string, fn: (session: T) => R | Promise<R>): Promise<R> {
    return this.server.session<T, R>(sid, fn, this.namespace);
  }

  getEnviron(sid: string): Environ | undefined {
    return this.server.getEnviron(sid, this.namespace);
  }

  participants(room: string | null = null): string[] {
    return this.server.participants(this.namespace, room);
  }

  // ---- the cluster seen whole, scoped (docs/cluster.md) ----

  fetchSockets(options: Omit<FetchSocketsOptions, "namespace"> = {}): Promise<SocketDescription[]> {
    return this.server.fetchSockets({ ...options, namespace: this.namespace });
  }

  fetchRooms(sid: string, options: ClusterQueryOptions = {}): Promise<string[]> {
    return this.server.fetchRooms(sid, this.namespace, options);
  }

  fetchParticipants(room: string | null = null, options: ClusterQueryOptions = {}): Promise<string[]> {
    return this.server.fetchParticipants(this.namespace, room, options);
  }

  allRooms(options: ClusterQueryOptions = {}): Promise<string[]> {
    return this.server.allRooms(this.namespace, options);
  }

  onServerSideEvent(event: string, handler: ServerSideHandler): this {
    this.server.onServerSideEvent(event, handler, this.namespace);
    return this;
  }

  serverSideEmit(event: string, data?: unknown): Promise<void> {
    return this.server.serverSideEmit(event, data, { namespace: this.namespace });
  }

  serverSideEmitWithAck(event: string, data?: unknown, options: ClusterQueryOptions = {}): Promise<unknown[]> {
    return this.server.serverSideEmitWithAck(event, data, { ...options, namespace: this.namespace });
  }
}

/**
 * Method decorator (standard ECMAScript decorators) for class-based namespaces: maps a method to an
 * event, including names that are not identifiers (`@on("chat message")`).
 */
export function on(event: string) {
  return function <This extends Namespace<EventsMap, EventsMap>>(method: (this: This, ...args: never) => unknown, context: ClassMethodDecoratorContext<This>): void {
    if (context.static || context.private) throw new SockjetError("INVALID_ARGUMENT", "@on() decorates public instance methods");
    context.addInitializer(function (this: This) {
      this[kRegister](event, (method as unknown as StoredHandler).bind(this));
    });
  };
}
