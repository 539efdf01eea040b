// A cluster without sticky sessions (issue 12), where every request of a session may reach any server. The
// server that opened a session owns it for its whole life and keeps everything of it (the
// Engine.IO session, the Socket.IO connection, its rooms); its sids start with its node id, so
// every server knows the owner from the sid alone, without a lookup. A server that gets a request
// of a session it does not own is a front for it: polling requests are forwarded to the owner and
// answered with the owner's response; a WebSocket upgrade is decided by the owner, accepted at the
// front and relayed both ways. Each server listens on a channel of its own on the cluster's
// broker, `<channel>.<node id>`, so a server receives only what is addressed to it.
//
//   client ──GET/POST──▶ front ──"req" on owner's channel──▶ owner: engine.handleRequest(RemoteExchange)
//   client ◀──response── front ◀──"res" on front's channel── owner: the engine's response
//
// Liveness: see ./peers.ts. The layer is opt-in: without it the engine never consults a router.

import type { EngineServer } from "../../engine/server.js";
import type { HttpExchange, EngineRequest } from "../../engine/http.js";
import type { EngineProtocol } from "../../engine/options.js";
import type { SessionRouter } from "../../engine/session-router.js";
import type { UpgradeDecision } from "../../engine/server.js";
import type { DriverEvents, PubSubDriver } from "../driver.js";
import { resolveLogger, type Logger } from "../../util/logger.js";
import { randomId } from "../../util/random-id.js";
import { PeerLinks } from "./peers.js";
import { OwnerSide } from "./owner.js";
import { FrontSide } from "./front.js";
import type { Layer, Outgoing } from "./layer.js";
import { decodeWire, encodeWire, type WireMessage } from "./wire.js";

/** Node ids are this long: the owner is the sid's first NODE_ID_LENGTH characters. */
export const NODE_ID_LENGTH = 8;
const NODE_ID = /^[A-Za-z0-9_-]{8}$/;

export interface NoStickyOptions {
  /**
   * A broker connection of its own (one subscription: this server's channel). The same broker as
   * the cluster manager's: `new RedisDriver({ url })`, `new NatsDriver({ url })`, or for RabbitMQ
   * `new AmqpDriver({ url, exchange: "sockjet-nosticky", exchangeType: "topic" })` (one shared topic
   * exchange, a routing key per server, rather than an exchange per server).
   */
  driver: PubSubDriver;
  /** Prefix of every server's channel (`<channel>.<node id>`). Default "sockjet-nosticky". */
  channel?: string;
  /** This server's node id, 8 characters of [A-Za-z0-9_-], unique in the cluster. Default: random. */
  nodeId?: string;
  /** Silence (ms) after which a server this one shares a session with is pinged. Default 1000. */
  heartbeatInterval?: number;
  /** Silence (ms) after which that server is declared gone and its sessions' clients are answered. Default 5000. */
  peerTimeout?: number;
  /** How long (ms) a forwarded request waits for its owner's answer, beyond a long-poll's ping interval. Default 10000. */
  requestTimeout?: number;
  /** Forwarded requests and relayed upgrades waiting on owners at once; beyond it, 503. Default 10000. */
  maxForwarded?: number;
  logger?: boolean | Logger;
}

export interface NoStickyStats {
  /** Messages published on other servers' channels, and received on this server's. */
  published: number;
  received: number;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a positive number, got ${v}`);
  return v;
}

export class NoStickySessions implements SessionRouter, Layer {
  readonly nodeId: string;
  readonly prefix: string;
  readonly channel: string;
  readonly links: PeerLinks;
  readonly requestTimeout: number;
  readonly stats: NoStickyStats = { published: 0, received: 0 };
  private readonly driver: PubSubDriver;
  private readonly front: FrontSide;
  private readonly owner: OwnerSide;
  private readonly explicitLogger: Logger | null;
  private _engine: EngineServer | null = null;
  private started: Promise<void> | null = null;
  private closed = false;

  constructor(options: NoStickyOptions) {
    const nodeId = options.nodeId ?? randomId().slice(0, NODE_ID_LENGTH);
    if (!NODE_ID.test(nodeId)) throw new RangeError(`nodeId must be ${NODE_ID_LENGTH} characters of [A-Za-z0-9_-], got ${JSON.stringify(nodeId)}`);
    this.nodeId = nodeId;
    this.prefix = nodeId;
    this.channel = options.channel ?? "sockjet-nosticky";
    this.driver = options.driver;
    this.requestTimeout = positive("requestTimeout", options.requestTimeout, 10_000);
    const interval = positive("heartbeatInterval", options.heartbeatInterval, 1000);
    const timeout = positive("peerTimeout", options.peerTimeout, 5000);
    if (timeout <= interval) throw new RangeError("peerTimeout must be longer than heartbeatInterval");
    const maxForwarded = positive("maxForwarded", options.maxForwarded, 10_000);
    this.explicitLogger = options.logger === undefined ? null : resolveLogger(options.logger);
    this.links = new PeerLinks((node) => void this.send(node, { t: "ping" }), interval, timeout, (node, leases, silence) =>
      this.logger.warn("no-sticky: a server is gone; its sessions' requests here are answered", { node, waiting: leases, silence }),
    );
    this.front = new FrontSide(this, { maxForwarded }, (sid) => sid.slice(0, NODE_ID_LENGTH));
    this.owner = new OwnerSide(this);
  }

  get engine(): EngineServer {
    if (this._engine === null) throw new Error("NoStickySessions: attach() it to a server first");
    return this._engine;
  }

  get logger(): Logger {
    return this.explicitLogger ?? this._engine?.logger ?? resolveLogger(undefined);
  }

  /**
   * Serves `server` (a sockjet Server, or an EngineServer) without sticky sessions, and connects to
   * the broker. Call it before the server takes its first connection: sids made before carry no
   * owner. Resolves once this server's channel is subscribed.
   */
  attach(server: EngineServer | { readonly engine: EngineServer }): Promise<void> {
    if (this._engine !== null) throw new Error("NoStickySessions: already attached");
    const engine = "engine" in server ? server.engine : server;
    if (engine.router !== null) throw new Error("NoStickySessions: the server already has a session router");
    this._engine = engine;
    engine.router = this;
    return this.ready;
  }

  /** Resolves once this server's channel is subscribed. */
  get ready(): Promise<void> {
    if (this.started !== null) return this.started;
    const events: DriverEvents = {
      onError: (err, stage) => this.logger.warn("no-sticky broker error", { stage, err }),
      onDisconnect: () => this.logger.warn("no-sticky: broker connection lost; requests for other servers' sessions fail until it is back"),
      onReconnect: () => this.logger.info("no-sticky: broker connection restored"),
    };
    this.started = this.driver.start(this.channelOf(this.nodeId), (payload) => this.receive(payload), events).then(() => this.links.start());
    return this.started;
  }

  /** Forwarded requests and relayed WebSockets in flight here, as front and as owner. */
  get inFlight(): { front: number; owner: number } {
    return { front: this.front.size, owner: this.owner.size };
  }

  /**
   * Tells the servers this one shares sessions with that it is leaving (they answer those sessions'
   * clients at once instead of after peerTimeout), then disconnects. Call after the server's close().
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.links.stop();
    await Promise.all(this.links.nodes().map((node) => this.send(node, { t: "bye" })));
    this.closed = true;
    if (this._engine !== null && this._engine.router === this) this._engine.router = null;
    await this.driver.close();
  }

  // ---- SessionRouter ----------------------------------------------------------------------------

  isRemote(sid: string): boolean {
    return sid.length > NODE_ID_LENGTH && !sid.startsWith(this.nodeId);
  }

  forward(exchange: HttpExchange, sid: string): Promise<void> {
    return this.front.forward(exchange, sid);
  }

  prepareUpgrade(request: EngineRequest, sid: string, protocol: EngineProtocol, base64: boolean): UpgradeDecision | Promise<UpgradeDecision> {
    return this.front.prepareUpgrade(request, sid, protocol, base64);
  }

  // ---- Layer --------------------------------------------------------------------------------------

  async send(to: string, message: Outgoing, body?: Uint8Array | string | readonly (Uint8Array | string)[]): Promise<Error | null> {
    if (this.closed) return new Error("no-sticky layer closed");
    let payload: Uint8Array;
    try {
      payload = encodeWire({ ...message, f: this.nodeId } as WireMessage, body);
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
    this.stats.published++;
    try {
      await this.driver.publish(this.channelOf(to), payload);
      return null;
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  private channelOf(node: string): string {
    return this.channel + "." + node;
  }

  private receive(payload: Uint8Array): void {
    if (this.closed) return;
    const decoded = decodeWire(payload);
    if (decoded === null) {
      this.logger.warn("no-sticky: dropped a message in an unknown format");
      return;
    }
    this.stats.received++;
    const { message: m, body } = decoded;
    if (m.f === this.nodeId) return;
    this.links.heard(m.f);
    try {
      switch (m.t) {
        case "req":
          return this.owner.onRequest(m, body);
        case "abort":
          return this.owner.onAbort(m.f, m.id, typeof m.sid === "string" ? m.sid : undefined);
        case "res":
          return this.front.onResponse(m.id, m.st, m.h, body);
        case "up":
          return this.owner.onUpgrade(m);
        case "upr":
          return this.front.onUpgradeVerdict(m.id, m.st, m.h, body);
        case "wsin":
          return this.owner.onFrame(m.f, m.id, m.b, body);
        case "wsout":
          if (!this.front.onFrames(m.id, m.fl, body)) this.logger.warn("no-sticky: dropped malformed frames", { from: m.f });
          return;
        case "wsclose":
          return this.front.onSocketClose(m.id, m.c, m.x === true);
        case "wsgone":
          return this.owner.onSocketGone(m.f, m.id);
        case "ping":
          void this.send(m.f, { t: "pong" });
          return;
        case "pong":
          return;
        case "bye":
          return this.links.declareLost(m.f);
      }
    } catch (err) {
      this.logger.error("no-sticky: handling a message failed", { type: m.t, from: m.f, err });
    }
  }
}
