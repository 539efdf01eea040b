// The server side of the Socket.IO Admin UI (@socket.io/admin-ui), as python-socketio's
// `instrument()` and @socket.io/admin-ui's `instrument(io)` implement it: an authenticated namespace
// ("/admin") on which the UI receives the server's stats every two seconds and, in development
// mode, every socket with its handshake and rooms, their connections, room changes and the events
// they receive and are sent; and from which it acts (join, leave, disconnect, emit).
//
// In a cluster (a broker manager), every server reports under its own server id, and the UI, which
// is connected to one of them, sees all: emits to the admin namespace cross the broker like every
// other emit. Two things need the servers to talk to each other, and they do it through an internal
// namespace (CONTROL) in which each instrumented server is the only member on its side, so that an
// emit to that namespace is a message to every instrumented server (itself included), carried by
// the manager like every other emit:
// - "hello": an admin client connected to one server; every other server sends it its own sockets
//   (socket_connected each, which the UI adds to the list that the first server's all_sockets began);
// - "action": the UI's join / leave / disconnect, which each server applies to its own sockets of
//   the namespace and room named (a sid is its own room), so that actions reach the whole cluster.
// No real client is ever delivered anything of CONTROL: deliveries to it are taken before the server.

import { hostname } from "node:os";
import process from "node:process";
import type { Server } from "../socket/server.js";
import type { NamespaceSocket } from "../socket/client.js";
import type { ServerObservers, ServerTaps } from "./taps.js";
import type { EmitOptions } from "../socket/types.js";
import { args } from "../socket/args.js";
import { ConnectionRefusedError, SockjetError } from "../socket/errors.js";
import { Namespace } from "../socket/namespace.js";
import { randomId } from "../util/random-id.js";
import { AdminAuthenticator, validateAuth, type AdminAuth } from "./auth.js";
import { EventBuffer, type AggregatedEvent } from "./stats.js";
import { serializeSocket, type SerializedSocket } from "./serialize.js";
import { UiPages } from "./ui.js";

export type { AdminAuth, AdminAuthCheck, BasicAuth } from "./auth.js";
export type { SerializedSocket } from "./serialize.js";
export type { AggregatedEvent } from "./stats.js";

/** The internal namespace through which instrumented servers of a cluster reach each other (see the header). */
export const CONTROL_NAMESPACE = "/\u0000sockjet:admin";

export interface AdminOptions {
  /**
   * Required. `{ type: "basic", username, password }` with a bcrypt hash as the password (as
   * @socket.io/admin-ui); a function deciding on the client's auth object (as python-socketio);
   * or `false` to turn authentication off.
   */
  auth: AdminAuth;
  /**
   * "development" (default, unless NODE_ENV is "production"): sockets, rooms and events are
   * reported. "production": the server stats only.
   */
  mode?: "development" | "production";
  /** Refuse the UI's actions (join, leave, disconnect, emit). Default false. */
  readonly?: boolean;
  /** The admin namespace. Default "/admin". */
  namespace?: string;
  /** This server's id in the UI. Default: a broker manager's host id, else the host name. */
  serverId?: string;
  /** How often the server stats are sent, ms. Default 2000 (python-socketio's server_stats_interval, in ms). */
  statsInterval?: number;
  /**
   * Serve the UI's built page (from the installed @socket.io/admin-ui) at this URL path, e.g.
   * "/admin", beside Socket.IO (Node's http server and `sio.handler()`, and the fetch handler, so
   * Bun, Deno and Hono too). `{ path, directory }` serves another build of the UI.
   */
  serveUi?: string | { path: string; directory?: string };
  /** bcrypt comparisons at once (basic auth); further login attempts are refused meanwhile. Default 2. */
  maxConcurrentLogins?: number;
  /** How long the session id given at login stays valid, ms. Default 24 h. */
  sessionDuration?: number;
  /** Session ids kept; past it the oldest is forgotten. Default 1000. */
  maxSessions?: number;
}

export interface AdminInstrumentation {
  readonly serverId: string;
  readonly namespace: string;
  readonly mode: "development" | "production";
  /** Stops the stats; the server's close() calls it. */
  close(): void;
}

/** The features the UI enables (@socket.io/admin-ui's Feature). */
const ACTION_FEATURES = ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT"] as const;

type ActionKind = "join" | "leave" | "disconnect";

function positive(name: string, value: number | undefined, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  if (!(typeof value === "number" && value > 0 && (integer ? Number.isSafeInteger(value) : Number.isFinite(value)))) {
    throw new RangeError(`instrument(): ${name} must be a positive ${integer ? "integer" : "number"}, got ${String(value)}`);
  }
  return value;
}

function isOptionalString(value: unknown): value is string | undefined | null {
  return value === undefined || value === null || typeof value === "string";
}

/**
 * The admin namespace: its handlers are instrument()'s and nobody else's. A connect handler
 * registered later would replace the one that authenticates, so registering any is refused.
 */
class AdminNamespace extends Namespace {
  private sealed = false;

  seal(): void {
    this.sealed = true;
  }

  override addHandler(event: string, handler: Parameters<Namespace["addHandler"]>[1]): this {
    if (this.sealed) throw new SockjetError("INVALID_ARGUMENT", `namespace ${this.namespace} is the Admin UI's (instrument()): it takes no other handlers`);
    return super.addHandler(event, handler);
  }
}

export function instrumentServer(server: Server, options: AdminOptions): AdminInstrumentation {
  return new Instrumentation(server, options);
}

class Instrumentation implements AdminInstrumentation {
  readonly serverId: string;
  readonly namespace: string;
  readonly mode: "development" | "production";
  private readonly development: boolean;
  private readonly readonly: boolean;
  private readonly auth: AdminAuthenticator;
  private readonly buffer = new EventBuffer();
  /** Tells this server's own hellos apart from the others' (server ids are the user's and may repeat). */
  private readonly instanceId = randomId();
  private readonly hostname = hostname();
  /** When each socket connected (sockets connected before instrument() have none). */
  private readonly connectedAt = new WeakMap<NamespaceSocket, number>();
  /** Sockets last reported on long-polling: the stats tick reports their upgrade (socket_updated). */
  private readonly polling = new Set<NamespaceSocket>();
  private readonly timer: ReturnType<typeof setInterval>;
  /** Set while a room delivery runs, whose inner per-sid delivery must not report the events twice. */
  private inRoomDelivery = false;
  private closed = false;

  constructor(
    private readonly server: Server,
    options: AdminOptions,
  ) {
    const auth = validateAuth((options as { auth?: unknown }).auth);
    const namespace = options.namespace ?? "/admin";
    if (typeof namespace !== "string" || !namespace.startsWith("/") || namespace === CONTROL_NAMESPACE) {
      throw new TypeError(`instrument(): namespace must be a namespace name such as "/admin", got ${String(namespace)}`);
    }
    const mode = options.mode ?? (process.env.NODE_ENV === "production" ? "production" : "development");
    if (mode !== "development" && mode !== "production") throw new TypeError(`instrument(): mode must be "development" or "production", got ${String(mode)}`);
    this.namespace = namespace;
    this.mode = mode;
    this.development = mode === "development";
    this.readonly = options.readonly === true;
    const managerHostId = (server.manager as { hostId?: unknown }).hostId;
    this.serverId = options.serverId ?? (typeof managerHostId === "string" ? managerHostId : this.hostname);
    const interval = positive("statsInterval", options.statsInterval, 2000, false);
    this.auth = new AdminAuthenticator(auth, {
      maxConcurrentLogins: positive("maxConcurrentLogins", options.maxConcurrentLogins, 2, true),
      sessionDuration: positive("sessionDuration", options.sessionDuration, 24 * 3600_000, false),
      maxSessions: positive("maxSessions", options.maxSessions, 1000, true),
    });
    // Everything that can refuse the options runs before anything is changed on the server.
    let pages: UiPages | null = null;
    if (options.serveUi !== undefined) {
      const ui = typeof options.serveUi === "string" ? { path: options.serveUi } : options.serveUi;
      const enginePath = server.engine.options.path.replace(/\/+$/, "");
      pages = new UiPages(ui, { enginePath, namespace, autoConnect: auth === false });
    }

    this.registerHandlers();
    if (pages !== null) server.engine.pages = pages;
    server.wrapForAdmin((originals) => this.taps(originals), this.observers());
    server.engine.meter = this.buffer;
    // This server's membership of CONTROL: what makes the manager deliver CONTROL's emits here.
    server.manager.connect(CONTROL_NAMESPACE, this.instanceId);

    this.timer = setInterval(() => this.tick(), interval);
    (this.timer as { unref?: () => void }).unref?.();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.server.engine.meter = null;
    this.polling.clear();
  }

  // ---- the admin namespace ---------------------------------------------------------------------------

  private registerHandlers(): void {
    const existing = this.server.of(this.namespace);
    for (const event of ["connect", "disconnect", "*", "emit", "join", "leave", "_disconnect"]) {
      if (existing.handler(event) !== undefined) throw new SockjetError("INVALID_ARGUMENT", `instrument(): namespace ${this.namespace} already has a "${event}" handler; the admin namespace must be the Admin UI's alone`);
    }
    const ns = new AdminNamespace(this.namespace);
    this.server.registerNamespace(ns);
    ns.on("connect", async (sid: string, _environ: unknown, auth: unknown) => {
      const verdict = await this.auth.check(auth);
      if (!verdict.ok) throw new ConnectionRefusedError(verdict.message);
      // Sent while the connect completes: the server holds them until its CONNECT has gone out.
      void this.welcome(sid, verdict.sessionId);
    });
    ns.on("emit", (_sid: string, nsp: unknown, filter: unknown, event: unknown, ...rest: unknown[]) => {
      if (this.readonly) return this.refuse("emit");
      if (!this.isTarget(nsp) || !isOptionalString(filter) || typeof event !== "string") return { error: "invalid arguments" };
      const options: EmitOptions = { namespace: nsp };
      if (filter) options.to = filter;
      return this.server.emitData(event, args(...rest), options).then(
        () => ({ ok: true }),
        (err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }),
      );
    });
    ns.on("join", (_sid: string, nsp: unknown, room: unknown, filter: unknown) => this.action("join", nsp, room, filter));
    ns.on("leave", (_sid: string, nsp: unknown, room: unknown, filter: unknown) => this.action("leave", nsp, room, filter));
    ns.on("_disconnect", (_sid: string, nsp: unknown, close: unknown, filter: unknown) => this.action("disconnect", nsp, close === true, filter));
    ns.seal();
  }

  /** What a new admin client is sent: its session id, the features, and (development) the sockets. */
  private async welcome(sid: string, sessionId: string | undefined): Promise<void> {
    const to = { namespace: this.namespace, to: sid };
    try {
      if (sessionId !== undefined) await this.server.emitData("session", sessionId, to);
      const features: string[] = this.readonly ? [] : [...ACTION_FEATURES];
      features.push("AGGREGATED_EVENTS");
      if (this.development) features.push("ALL_EVENTS");
      await this.server.emitData("config", { supportedFeatures: features }, to);
      if (!this.development) return;
      await this.server.emitData("all_sockets", this.localSockets(), to);
      // The other servers' sockets follow (see the header); this server skips its own hello.
      await this.control("hello", [this.instanceId, this.namespace, sid]);
    } catch (err) {
      this.server.logger.warn("admin: could not send the initial state", { sid, err });
    }
  }

  private refuse(action: string): { error: string } {
    this.server.logger.debug("admin: action refused (readonly)", { action });
    return { error: "read-only" };
  }

  private isTarget(nsp: unknown): nsp is string {
    return typeof nsp === "string" && nsp.startsWith("/") && nsp !== CONTROL_NAMESPACE;
  }

  /** join / leave / disconnect: checked here, applied by every server to its own sockets. */
  private async action(kind: ActionKind, nsp: unknown, roomOrClose: unknown, filter: unknown): Promise<{ ok: true } | { error: string }> {
    if (this.readonly) return this.refuse(kind === "disconnect" ? "_disconnect" : kind);
    if (!this.isTarget(nsp) || !isOptionalString(filter) || (kind !== "disconnect" && (typeof roomOrClose !== "string" || roomOrClose === ""))) {
      return { error: "invalid arguments" };
    }
    try {
      await this.control("action", [kind, nsp, roomOrClose, filter || null]);
      return { ok: true };
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** An emit to every instrumented server, this one included (see the header). */
  private control(event: string, data: unknown[]): Promise<void> {
    return this.server.manager.execute({ type: "emit", namespace: CONTROL_NAMESPACE, event, args: data, rooms: null, skip: [] });
  }

  private onControl(event: string, data: unknown[]): void {
    if (this.closed) return;
    if (event === "hello") {
      const [origin, namespace, sid] = data;
      if (origin === this.instanceId || typeof namespace !== "string" || typeof sid !== "string" || !this.development) return;
      const now = new Date().toISOString();
      for (const socket of this.localSockets()) this.emit("socket_connected", [socket, socket.handshake.time === "" ? now : new Date(socket.handshake.issued).toISOString()], { namespace, to: sid });
      return;
    }
    if (event === "action") {
      const [kind, nsp, roomOrClose, filter] = data;
      if (typeof nsp !== "string" || !(filter === null || typeof filter === "string")) return;
      const server = this.server;
      for (const sid of server.manager.getParticipants(nsp, filter)) {
        const done =
          kind === "join" && typeof roomOrClose === "string"
            ? server.enterRoom(sid, roomOrClose, nsp)
            : kind === "leave" && typeof roomOrClose === "string"
              ? server.leaveRoom(sid, roomOrClose, nsp)
              : kind === "disconnect"
                ? server.disconnect(sid, nsp, roomOrClose === true ? { close: true } : {})
                : null;
        done?.catch((err: unknown) => server.logger.warn("admin: action failed", { kind, nsp, sid, err }));
      }
    }
  }

  // ---- reporting -------------------------------------------------------------------------------------

  /** This server's connected sockets, serialized. */
  private localSockets(): SerializedSocket[] {
    const out: SerializedSocket[] = [];
    for (const socket of this.server.localSockets()) if (socket.state === "connected") out.push(this.serialize(socket));
    return out;
  }

  private serialize(socket: NamespaceSocket): SerializedSocket {
    return serializeSocket(socket, this.server.manager.getRooms(socket.namespace, socket.sid), this.connectedAt.get(socket));
  }

  /** An emit to the admin namespace (every admin client of the cluster, or `to`); failures are logged. */
  private emit(event: string, data: unknown[], options: EmitOptions = { namespace: this.namespace }): void {
    if (this.closed) return;
    this.server.emitData(event, args(...data), options).catch((err: unknown) => this.server.logger.warn("admin: report failed", { event, err }));
  }

  private tick(): void {
    const server = this.server;
    const counts = new Map<string, number>();
    for (const name of server.handledNamespaces()) counts.set(name, 0);
    for (const socket of server.localSockets()) if (socket.state === "connected") counts.set(socket.namespace, (counts.get(socket.namespace) ?? 0) + 1);
    let polling = 0;
    for (const session of server.engine.sessions.values()) if (session.transportName === "polling") polling++;
    const aggregatedEvents: AggregatedEvent[] = this.buffer.takeAll();
    this.emit("server_stats", [
      {
        serverId: this.serverId,
        hostname: this.hostname,
        pid: process.pid,
        uptime: process.uptime(),
        clientsCount: server.engine.clientsCount,
        pollingClientsCount: polling,
        aggregatedEvents,
        namespaces: [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, socketsCount]) => ({ name, socketsCount })),
      },
    ]);
    // Upgrades to WebSocket since the last tick (the engine announces none; python-socketio polls too).
    for (const socket of this.polling) {
      if (socket.state === "closed") this.polling.delete(socket);
      else if (socket.client.engine.transportName === "websocket") {
        this.polling.delete(socket);
        this.emit("socket_updated", [{ id: socket.sid, nsp: socket.namespace, transport: "websocket" }]);
      }
    }
  }

  /** Reports the events sent to local sids of a namespace other than the admin's (development mode). */
  private reportSent(namespace: string, sids: readonly string[], event: string, data: unknown[]): void {
    const now = new Date().toISOString();
    for (const sid of sids) this.emit("event_sent", [namespace, sid, [event, ...data], now]);
  }

  private taps(o: ServerTaps): Partial<ServerTaps> {
    const buffer = this.buffer;
    const engine = o.engineHandler;
    const taps: Partial<ServerTaps> = {
      engineHandler: {
        onOpen: (socket) => {
          buffer.push("rawConnection");
          engine.onOpen(socket);
        },
        onMessage: (socket, data) => {
          buffer.received(data);
          engine.onMessage(socket, data);
        },
        onClose: (socket, reason) => {
          buffer.push("rawDisconnection", 1, reason);
          engine.onClose(socket, reason);
        },
      },
      deliver: (namespace, sids, event, data) => {
        if (namespace === CONTROL_NAMESPACE) return this.onControl(event, data);
        if (!this.development || namespace === this.namespace || this.inRoomDelivery || this.closed) return o.deliver(namespace, sids, event, data);
        const list = [...sids];
        o.deliver(namespace, list, event, data);
        this.reportSent(namespace, list, event, data);
      },
      deliverToRoom: (namespace, room, members, size, event, data) => {
        if (namespace === CONTROL_NAMESPACE) return this.onControl(event, data);
        if (!this.development || namespace === this.namespace || this.closed) return o.deliverToRoom(namespace, room, members, size, event, data);
        const list = [...members];
        this.inRoomDelivery = true;
        try {
          o.deliverToRoom(namespace, room, list, size, event, data);
        } finally {
          this.inRoomDelivery = false;
        }
        this.reportSent(namespace, list, event, data);
      },
    };
    if (!this.development) return taps;
    return {
      ...taps,
      deliverWithAck: (namespace, sid, event, data, callback) => {
        const delivered = o.deliverWithAck(namespace, sid, event, data, callback);
        if (delivered && namespace !== this.namespace) this.reportSent(namespace, [sid], event, data);
        return delivered;
      },
      joinedRoom: (namespace, sid, room) => {
        o.joinedRoom(namespace, sid, room);
        this.emit("room_joined", [namespace, room, sid, new Date().toISOString()]);
      },
      leftRoom: (namespace, sid, room) => {
        o.leftRoom(namespace, sid, room);
        this.emit("room_left", [namespace, room, sid, new Date().toISOString()]);
      },
    };
  }

  /** The development mode's reports of the server's own steps (none in production mode). */
  private observers(): ServerObservers {
    if (!this.development) return {};
    return {
      connected: (socket) => {
        const now = Date.now();
        this.connectedAt.set(socket, now);
        if (socket.client.engine.transportName === "polling") this.polling.add(socket);
        this.emit("socket_connected", [this.serialize(socket), new Date(now).toISOString()]);
      },
      closed: (socket, reason, wasConnected) => {
        this.polling.delete(socket);
        if (wasConnected) this.emit("socket_disconnected", [socket.namespace, socket.sid, reason, new Date().toISOString()]);
      },
      eventReceived: (socket, packet) => {
        if (socket.namespace !== this.namespace) this.emit("event_received", [socket.namespace, socket.sid, packet.data, new Date().toISOString()]);
      },
    };
  }
}
