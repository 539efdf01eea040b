// Per-connection state of the Socket.IO layer: one Client per Engine.IO session, one
// NamespaceSocket per namespace that client joined. Allocations most connections never need
// (ack maps, sessions, environ) are made on first use.

import type { PacketDecoder } from "./protocol/packet.js";
import { TimerEntry, type TimerTarget, type TimerQueue } from "../engine/timers.js";
import type { EngineSocket } from "../engine/socket.js";
import type { OutPacket } from "../engine/out-packet.js";
import type { WebSocketPeer } from "../engine/http.js";
import { parseQuery, pathOf } from "../engine/http.js";
import type { AckCallback, Environ } from "./types.js";
import { SockjetError, TimeoutError } from "./errors.js";
import { fromArgList } from "./args.js";

export type SocketState = "connecting" | "connected" | "closed";

/** Per-connection state that most connections never need (see Client.extra). */
interface ClientExtra {
  /** Packets held for namespace sockets whose connect handler is running. */
  held?: Map<NamespaceSocket, OutPacket[]>;
  /** Namespace → the query of its v3 connect packet. */
  queries?: Map<string, Record<string, string>>;
  /** Namespaces whose CONNECT waits for a recovery store's answer. */
  restoring?: Set<string>;
  /** See Client.decoder. */
  decoder?: PacketDecoder | null;
  /** Scheduled while a binary packet's attachments are pending (see Client.awaitAttachments). */
  attachmentTimer?: TimerEntry;
}

/** A `call()` waiting for its acknowledgement; the shared timer queue times it out. */
export class PendingCall implements TimerTarget {
  readonly timer: TimerEntry;
  constructor(
    private readonly timers: TimerQueue,
    private readonly socket: NamespaceSocket,
    readonly id: number,
    private readonly resolve: (value: unknown) => void,
    private readonly reject: (error: Error) => void,
  ) {
    this.timer = new TimerEntry(this, 0);
  }

  answer(args: unknown[]): void {
    this.timers.cancel(this.timer);
    this.resolve(fromArgList(args));
  }

  fail(error: Error): void {
    this.timers.cancel(this.timer);
    this.reject(error);
  }

  onTimer(): void {
    this.socket.acks?.delete(this.id);
    this.reject(new TimeoutError(`no acknowledgement from ${this.socket.sid} within the timeout`));
  }
}

export type AckEntry = AckCallback | PendingCall;

/** A socket's connection state recovery (see recovery.ts). */
export interface SocketRecovery {
  /** The private session id the client presents to recover (sent in CONNECT beside the sid). */
  readonly pid: string;
  /** This socket is a recovered session. */
  readonly recovered: boolean;
  /**
   * While a cluster store catches up: live packets sent to the socket, kept apart from the held
   * ones so that they go out behind the events the catch-up read (Server.restoreInto).
   */
  buffer: Array<readonly OutPacket[]> | null;
  /**
   * A socket restored from a cluster store, once caught up: does a live packet repeat an event it
   * got from the log (logged at or before the last one read)? Such a packet is dropped, for the
   * socket's whole life: an event logged before that read can still be delivered live at any time
   * after it (its server delivers once its log write is answered, another server's crosses the
   * broker). Null for every other socket.
   */
  replayed: ((packets: readonly OutPacket[]) => boolean) | null;
}

export class NamespaceSocket {
  state: SocketState = "connecting";
  /** Ack id → what to do with the client's acknowledgement. */
  acks: Map<number, AckEntry> | null = null;
  private nextAckId = 0;
  session: object | null = null;
  /**
   * The WebSocket on which this socket is subscribed to the topics of its namespace and rooms, where
   * the runtime publishes natively (Bun); null elsewhere, on long-polling, and once closed.
   */
  topicPeer: WebSocketPeer | null = null;
  /** Connection state recovery's per-socket state; null when the server has the option off. */
  recovery: SocketRecovery | null = null;

  constructor(
    readonly sid: string,
    readonly namespace: string,
    readonly client: Client,
  ) {}

  /** Reserves the next ack id; the caller stores its entry with setAck. */
  allocateAckId(): number {
    return this.nextAckId++;
  }

  setAck(id: number, entry: AckEntry): void {
    (this.acks ??= new Map()).set(id, entry);
  }

  /** Runs the ack callback registered under `id`, once. */
  takeAck(id: number, args: unknown[]): boolean {
    const entry = this.acks?.get(id);
    if (entry === undefined) return false;
    this.acks!.delete(id);
    if (entry instanceof PendingCall) entry.answer(args);
    else entry(...args);
    return true;
  }

  /** The connection left the namespace: waiting calls fail now rather than at their timeout. */
  failAcks(): void {
    const acks = this.acks;
    if (acks === null) return;
    this.acks = null;
    for (const entry of acks.values()) {
      if (entry instanceof PendingCall) entry.fail(new SockjetError("DISCONNECTED", `${this.sid} disconnected before acknowledging`));
    }
  }

  send(packets: readonly OutPacket[]): void {
    const recovery = this.recovery;
    if (recovery !== null && recovery.replayed !== null && recovery.replayed(packets)) return;
    if (this.state === "connecting") {
      const buffer = recovery?.buffer;
      if (buffer != null) buffer.push(packets);
      else this.client.hold(this, packets);
      return;
    }
    this.write(packets);
  }

  /** The connect was decided: what was held goes out (after CONNECT), or is dropped (refused). */
  releaseHeld(deliver: boolean): void {
    const held = this.client.takeHeld(this);
    // Straight to the engine (the socket is connected by now): what was held was sorted out when it
    // was sent, and the events replayed from the log are among it.
    if (held !== undefined && deliver) this.write(held);
  }

  private write(packets: readonly OutPacket[]): void {
    const engine = this.client.engine;
    for (let i = 0; i < packets.length; i++) engine.sendPacket(packets[i]!);
  }
}

/**
 * The namespaces one connection joined. Nearly every connection joins one, so the first lives in
 * a field and a Map is made only for a second.
 */
export class NamespaceSlots {
  private first: NamespaceSocket | null = null;
  private rest: Map<string, NamespaceSocket> | null = null;

  get size(): number {
    return (this.first === null ? 0 : 1) + (this.rest?.size ?? 0);
  }

  get(namespace: string): NamespaceSocket | undefined {
    const first = this.first;
    if (first !== null && first.namespace === namespace) return first;
    return this.rest?.get(namespace);
  }

  has(namespace: string): boolean {
    return this.get(namespace) !== undefined;
  }

  set(namespace: string, socket: NamespaceSocket): void {
    const first = this.first;
    if (first === null || first.namespace === namespace) this.first = socket;
    else (this.rest ??= new Map()).set(namespace, socket);
  }

  delete(namespace: string): void {
    if (this.first !== null && this.first.namespace === namespace) this.first = null;
    else this.rest?.delete(namespace);
  }

  values(): NamespaceSocket[] {
    const out = this.first === null ? [] : [this.first];
    if (this.rest !== null) out.push(...this.rest.values());
    return out;
  }
}

/** The connect timer is kind 0. */
const ATTACHMENT_TIMER = 1;

/** One connection. It is its own NamespaceSlots (`sockets`), one object fewer per connection. */
export class Client extends NamespaceSlots implements TimerTarget {
  private connectTimer: TimerEntry | null;
  private _environ: Environ | null = null;
  /** What few connections need, in one field that stays null for the others. */
  private extra: ClientExtra | null = null;

  constructor(
    readonly engine: EngineSocket,
    connectTimeout: number,
  ) {
    super();
    this.connectTimer = new TimerEntry(this, 0);
    this.timers.schedule(this.connectTimer, connectTimeout);
  }

  /** The engine's timer queue (read through the session: no field per connection). */
  private get timers(): TimerQueue {
    return this.engine.timers;
  }

  /**
   * A decoder of its own only while a binary packet's attachments are pending; otherwise the
   * server's shared one serves (see Server.decoderOf): idle connections hold no decoder (nor a field for one).
   */
  get decoder(): PacketDecoder | null {
    return this.extra?.decoder ?? null;
  }
  set decoder(decoder: PacketDecoder | null) {
    if (decoder !== null) (this.extra ??= {}).decoder = decoder;
    else if (this.extra !== null) this.extra.decoder = null;
  }

  /** The namespaces this connection joined. */
  get sockets(): NamespaceSlots {
    return this;
  }

  /** A namespace connect succeeded: the connection is no longer at risk of the connect timeout. */
  connected(): void {
    if (this.connectTimer !== null) {
      this.timers.cancel(this.connectTimer);
      this.connectTimer = null;
    }
  }

  onTimer(kind: number): void {
    if (kind === ATTACHMENT_TIMER) {
      // A binary packet announced more attachments than arrived in time: treated as malformed.
      this.decoder = null;
      this.engine.abort("parse error");
      return;
    }
    // No namespace joined in time: a client that only holds a connection open.
    if (!this.sockets.values().some((s) => s.state === "connected")) this.engine.close("forced close");
  }

  /** A binary packet's text part arrived: its attachments must follow within `timeout` ms. */
  awaitAttachments(timeout: number): void {
    const extra = (this.extra ??= {});
    this.timers.schedule((extra.attachmentTimer ??= new TimerEntry(this, ATTACHMENT_TIMER)), timeout);
  }

  /** The pending binary packet is complete (or dropped). */
  attachmentsDone(): void {
    const timer = this.extra?.attachmentTimer;
    if (timer !== undefined) this.timers.cancel(timer);
  }

  stopTimers(): void {
    if (this.connectTimer !== null) this.timers.cancel(this.connectTimer);
    this.connectTimer = null;
    this.attachmentsDone();
  }

  /**
   * After the first namespace connect has been decided, the runtime's request object is no longer
   * kept (environ.raw becomes undefined): idle connections should not hold a request, its socket
   * references and parser state.
   */
  detachRequest(): void {
    if (this.engine.request.raw === undefined) return;
    this.engine.detachRequest();
    this._environ = null;
  }

  /**
   * Keeps packets emitted to a namespace socket while its connect handler runs: they leave right
   * behind the CONNECT packet, since clients drop events of a namespace they have not joined yet.
   */
  hold(socket: NamespaceSocket, packets: readonly OutPacket[]): void {
    const held = ((this.extra ??= {}).held ??= new Map());
    let list = held.get(socket);
    if (list === undefined) held.set(socket, (list = []));
    for (let i = 0; i < packets.length; i++) list.push(packets[i]!);
  }

  takeHeld(socket: NamespaceSocket): OutPacket[] | undefined {
    const held = this.extra?.held;
    const list = held?.get(socket);
    if (list !== undefined) held!.delete(socket);
    return list;
  }

  /**
   * Namespaces whose CONNECT waits for a recovery store (Redis): they count as joined for the
   * duplicate check and the namespace limit, so a client cannot start lookups without bound.
   */
  restoring(namespace: string, pending: boolean): void {
    if (pending) ((this.extra ??= {}).restoring ??= new Set()).add(namespace);
    else this.extra?.restoring?.delete(namespace);
  }

  isRestoring(namespace: string): boolean {
    return this.extra?.restoring?.has(namespace) === true;
  }

  /** Namespaces joined, and those waiting for a recovery store. */
  get namespaceCount(): number {
    return this.sockets.size + (this.extra?.restoring?.size ?? 0);
  }

  /** Engine.IO v3 clients put a query on their namespace connects (`0/chat?token=abc,`): kept for that namespace's environ. */
  setConnectQuery(namespace: string, query: Record<string, string>): void {
    ((this.extra ??= {}).queries ??= new Map()).set(namespace, query);
  }

  /** The Socket.IO protocol revision of the client: 5, or 4 for Engine.IO v3 clients. */
  get protocol(): 4 | 5 {
    return this.engine.protocol === 3 ? 4 : 5;
  }

  /**
   * The environ of one namespace: the handshake's, with the namespace's connect query (v3
   * clients) added to `query` where the handshake's query does not set the same key, as
   * socket.io 2 merges them.
   */
  environFor(namespace: string): Environ {
    const environ = this.environ();
    const query = this.extra?.queries?.get(namespace);
    return query === undefined ? environ : { ...environ, query: { ...query, ...environ.query } };
  }

  /** The handshake request, as the connect handler's environ (built once, on first use). */
  environ(): Environ {
    if (this._environ === null) {
      const req = this.engine.request;
      this._environ = {
        method: req.method,
        url: req.url,
        path: pathOf(req.url),
        query: Object.fromEntries(parseQuery(req.url)),
        headers: req.headers(),
        remoteAddress: req.remoteAddress,
        secure: req.secure,
        transport: parseQuery(req.url).get("transport") === "websocket" ? "websocket" : "polling",
        raw: req.raw,
      };
    }
    return this._environ;
  }
}
