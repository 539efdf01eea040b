// One Engine.IO session: its current transport, an outgoing queue, the heartbeat and the upgrade
// state machine. Transports hand it decoded packets; it never touches a runtime API itself.

import { OutPacket } from "./out-packet.js";
import { PacketType, type Packet } from "./protocol/packet.js";
import { TimerEntry, TimerNode, type TimerQueue, type TimerTarget } from "./timers.js";
import type { EngineRequest, WebSocketPeer } from "./http.js";
import type { SessionHost } from "./session-host.js";
import type { EngineProtocol, TransportName } from "./options.js";

/** Why a session ended. Documented in the README; the Socket.IO layer passes it to `disconnect`. */
export type CloseReason =
  | "transport close"
  | "transport error"
  | "ping timeout"
  | "parse error"
  | "forced close"
  | "server shutting down"
  | "buffer full";

/** What the session needs from a transport. */
export interface Transport {
  readonly name: TransportName;
  /** The Engine.IO revision of the session (a session's transports all speak the same one). */
  readonly protocol: EngineProtocol;
  /** True when `send` may be called now (a long-poll is waiting, or the WebSocket is open). */
  readonly writable: boolean;
  /** Bytes the transport has accepted but not yet written. */
  readonly bufferedAmount: number;
  /** Bytes the runtime holds per pending frame beyond the frame itself (counted per queued packet). */
  readonly frameOverhead: number;
  /** Writes packets in order. The array is reused by the caller after the call returns. */
  send(packets: readonly OutPacket[]): void;
  /**
   * Ends the transport because the session is over. `clientClosed`: the client sent CLOSE, so a
   * long-poll still waiting is released with a noop rather than a CLOSE it did not ask for.
   */
  close(clientClosed?: boolean): void;
  /** Ends the transport because the session moved to another one (upgrade). */
  discard(): void;
  /** Drops the connection at once, discarding what was not written yet (no closing handshake). */
  abandon?(): void;
  /** The WebSocket behind a WebSocket transport (the layer above asks it for native capabilities). */
  readonly peer?: WebSocketPeer;
}

export interface ProbeTransport extends Transport {
  /** Called when the session gives up on the upgrade. */
  close(): void;
}

// Packets that are the same for every session are built once and shared.
export const PING_PACKET = new OutPacket(PacketType.PING);
export const NOOP_PACKET = new OutPacket(PacketType.NOOP);
export const CLOSE_PACKET = new OutPacket(PacketType.CLOSE);
export const PONG_PROBE_PACKET = new OutPacket(PacketType.PONG, "probe");
/** The answer to a v3 client's ping. */
export const PONG_PACKET = new OutPacket(PacketType.PONG);

/** The empty queue every idle session shares (never written to: see EngineSocket.enqueue). */
const NO_PACKETS: OutPacket[] = [];
/** A ping on its own, written at once by an idle session (transports never keep or change the array). */
const PING_ONLY: readonly OutPacket[] = [PING_PACKET];

const enum Timer {
  Ping,
  /** v4: no pong after our ping; v3: no packet from the client for pingInterval + pingTimeout. */
  PongTimeout,
  CloseGrace,
  UpgradeTimeout,
}

export type ReadyState = "open" | "closing" | "closed";

/** A WebSocket probe in progress for a polling session; also the entry of its timeout. Made per upgrade, so that a session holds one field for it. */
class Upgrade extends TimerEntry {
  /** `2probe` arrived: the client has been told to pause polling. */
  probed = false;
  constructor(
    socket: EngineSocket,
    public probe: ProbeTransport,
  ) {
    super(socket, Timer.UpgradeTimeout);
  }
}

/**
 * The session is also the entry of its heartbeat in the shared timer queue (ping, pong timeout,
 * close grace): one object fewer per connection than a separate TimerEntry, and no target field.
 */
export class EngineSocket extends TimerNode implements TimerTarget {
  /**
   * Sessions (of every server in this process) with packets queued for the end of the current turn.
   * Zero tells a native publish (see Server.deliverToRoom) that no subscriber has anything queued
   * that the publish could overtake, without looking at each one.
   */
  static queuedSessions = 0;

  readyState: ReadyState = "open";
  /** Slot for the layer above: the Socket.IO server keeps its per-connection state here. */
  data: unknown = undefined;

  /** @internal */ flushQueued = false;
  /** Packets for the next write; NO_PACKETS (shared) when empty, so that an idle session holds no array. */
  private queue: OutPacket[] = NO_PACKETS;
  private queuedBytes = 0;
  /**
   * The transport's bufferedAmount as read after the last write. It can only have shrunk since (the
   * runtime drains; only Bun's publish adds to it behind the engine, and Bun bounds that itself), so
   * queuedBytes + writtenBytes bounds the backlog without a native call per packet; the real amount
   * is read only near the limit.
   */
  private writtenBytes = 0;
  /** The WebSocket probe in progress, null otherwise (nearly always: one field for every upgrade's state). */
  private upgrade: Upgrade | null = null;

  constructor(
    private readonly host: SessionHost,
    readonly id: string,
    private _request: EngineRequest,
    private _transport: Transport,
  ) {
    super(Timer.Ping);
    // v4: the server pings. v3: the client pings and the server answers, so the server only
    // watches for silence (engine.io 3 restarts that watch on every packet it receives).
    if (_transport.protocol === 4) host.timers.schedule(this, host.options.pingInterval, Timer.Ping);
    else this.awaitClientPing();
  }

  /** The Engine.IO revision the client speaks (kept by the transport: no field per session). */
  get protocol(): EngineProtocol {
    return this._transport.protocol;
  }

  private awaitClientPing(): void {
    const o = this.host.options;
    this.host.timers.schedule(this, o.pingInterval + o.pingTimeout, Timer.PongTimeout);
  }

  /** The server's timer queue (the layer above schedules its per-connection deadlines there). */
  get timers(): TimerQueue {
    return this.host.timers;
  }

  /** The request that opened the session (handshake GET or WebSocket upgrade). */
  get request(): EngineRequest {
    return this._request;
  }

  /**
   * Keeps only plain data of the opening request from now on (see EngineRequest.detach): the layer
   * above calls this once it no longer needs the runtime's request object.
   */
  detachRequest(): void {
    this._request = this._request.detach?.() ?? this._request;
  }

  get transport(): Transport {
    return this._transport;
  }

  get transportName(): TransportName {
    return this._transport.name;
  }

  /** True while a WebSocket probe is in progress for this (polling) session. */
  get upgrading(): boolean {
    return this.upgrade !== null;
  }

  /**
   * Bytes waiting to be sent to this client: queued by the engine for the end of the turn plus
   * accepted by the runtime but not yet written to the OS. A packet sent while this is past
   * maxBufferedBytes closes the session with "buffer full", so it never exceeds the limit by more
   * than one packet.
   */
  get bufferedBytes(): number {
    return this.readyState === "closed" ? 0 : this.queuedBytes + this._transport.bufferedAmount;
  }

  /** Queues a MESSAGE packet with this data. Returns false if the session is not open. */
  send(data: string | Uint8Array): boolean {
    return this.sendPacket(new OutPacket(PacketType.MESSAGE, data));
  }

  /**
   * Queues a packet. The same OutPacket may be queued on many sessions (broadcast). Everything queued
   * in one turn of the event loop leaves in one write.
   */
  sendPacket(packet: OutPacket): boolean {
    if (this.readyState !== "open") return false;
    const limit = this.host.options.maxBufferedBytes;
    // A packet is taken while the backlog is within the limit, so the backlog never exceeds the
    // limit by more than one packet, and one packet larger than the limit still reaches a client
    // that reads. What waits in the runtime counts too: otherwise each turn could queue a full
    // limit on top of a runtime buffer just under it.
    if (this.queuedBytes + this.writtenBytes > limit && this.queuedBytes + (this.writtenBytes = this._transport.bufferedAmount) > limit) {
      this.abort("buffer full");
      return false;
    }
    this.enqueue(packet);
    this.queuedBytes += packet.size + this._transport.frameOverhead;
    if (!this.flushQueued) {
      this.flushQueued = true;
      EngineSocket.queuedSessions++;
      this.host.scheduleFlush(this);
    }
    return true;
  }

  private enqueue(packet: OutPacket): void {
    if (this.queue === NO_PACKETS) this.queue = [packet];
    else this.queue.push(packet);
  }

  /** @internal Writes the queue if the transport can take it now. */
  flush(): void {
    if (this.flushQueued) {
      this.flushQueued = false;
      EngineSocket.queuedSessions--;
    }
    const transport = this._transport;
    if (this.queue.length === 0 || !transport.writable) return;
    const sent = this.queue;
    transport.send(sent);
    // One test per write, not per packet; the meter stays null unless the server is instrumented.
    const meter = this.host.meter;
    if (meter != null) meter.sent(sent);
    this.queue = NO_PACKETS;
    this.queuedBytes = 0;
    // Infinity: the runtime dropped a frame (Bun, past its backpressureLimit); the client missed it.
    if ((this.writtenBytes = transport.bufferedAmount) === Number.POSITIVE_INFINITY) this.abort("buffer full");
    else if (this.readyState === "closing" && transport.name === "polling" && this.upgrade === null) {
      // The last packets before a close have left: CLOSE follows on the next poll (see closePolling).
      if (sent[sent.length - 1] === CLOSE_PACKET) this.release();
      else this.closePolling();
    }
  }

  /**
   * Writes what is queued now instead of at the end of the turn. Used before a runtime's native
   * publish reaches this socket: the publish leaves at once, so what was queued before it must
   * leave first, or the client would see the two out of order.
   */
  flushNow(): void {
    if (this.queue.length > 0) this.flush();
  }

  /** Closes the session from the server side, delivering what is queued first. */
  close(reason: CloseReason = "forced close"): void {
    if (this.readyState !== "open") return;
    this.readyState = "closing";
    this.host.timers.cancel(this);
    // A client that has its probe answered (3probe) pauses polling and switches to the WebSocket:
    // what is queued can only reach it there. So the upgrade is let finish (bounded by its
    // timeout) and the close happens on the WebSocket, as the reference server does.
    const switching = this.upgrade?.probed === true;
    if (!switching) this.dropProbe();
    this.host.onSessionClosed(this, reason);
    if (this._transport.name !== "polling") this.closeWebSocket();
    else if (!switching) this.closePolling();
  }

  /**
   * What is queued goes out first, CLOSE in a response of its own after it: a client reads CLOSE
   * in a payload before the Socket.IO packets beside it, and would see the transport close before
   * the DISCONNECTs that tell it not to reconnect (the reference server waits for the drain too).
   */
  private closePolling(): void {
    if (this.queue.length === 0) this.enqueue(CLOSE_PACKET);
    if (this._transport.writable) this.flush();
    else this.host.timers.schedule(this, this.host.options.pingTimeout, Timer.CloseGrace);
  }

  private closeWebSocket(): void {
    this.flush();
    this.readyState = "closed";
    this._transport.close();
    this.host.releaseSession(this);
  }

  /** Ends the session at once, without delivering what is queued (errors, timeouts, client gone). */
  abort(reason: CloseReason): void {
    if (this.readyState === "closed") return;
    const wasOpen = this.readyState === "open";
    this.readyState = "closed";
    this.queue = NO_PACKETS;
    this.queuedBytes = 0;
    this.writtenBytes = 0;
    this.cancelTimers();
    this.dropProbe();
    // A client that stopped reading would never read a close frame queued behind its backlog: the
    // connection is dropped at once, and with it what the runtime still holds for it.
    if (reason === "buffer full" && this._transport.abandon !== undefined) this._transport.abandon();
    else this._transport.close();
    if (wasOpen) this.host.onSessionClosed(this, reason);
    this.host.releaseSession(this);
  }

  override onTimer(kind: number): void {
    switch (kind) {
      case Timer.Ping:
        if (this.queue.length === 0 && this._transport.writable) this.writePing();
        else this.sendPacket(PING_PACKET);
        if (this.readyState === "open") this.host.timers.schedule(this, this.host.options.pingTimeout, Timer.PongTimeout);
        break;
      case Timer.PongTimeout:
        this.abort("ping timeout");
        break;
      case Timer.CloseGrace:
        this.release();
        break;
      case Timer.UpgradeTimeout:
        this.host.logger.debug("upgrade timed out", { sid: this.id });
        this.dropProbe();
        if (this.readyState === "closing") this.closePolling();
        break;
    }
  }

  /**
   * The heartbeat's ping for a session with nothing queued: written now rather than queued for the
   * end of the turn, since nothing could share its write (every ping due at one wake-up of the timer
   * queue goes out in that wake-up). The same backlog check and meter as a queued packet.
   */
  private writePing(): void {
    const transport = this._transport;
    const limit = this.host.options.maxBufferedBytes;
    if (this.writtenBytes > limit && (this.writtenBytes = transport.bufferedAmount) > limit) {
      this.abort("buffer full");
      return;
    }
    transport.send(PING_ONLY);
    const meter = this.host.meter;
    if (meter != null) meter.sent(PING_ONLY);
    if ((this.writtenBytes = transport.bufferedAmount) === Number.POSITIVE_INFINITY) this.abort("buffer full");
  }

  /** @internal A packet decoded by the active transport. */
  onPacket(packet: Packet): void {
    if (this.readyState !== "open") return;
    if (this.protocol === 3) {
      this.awaitClientPing();
      if (packet.type === PacketType.PING) {
        this.sendPacket(PONG_PACKET);
        return;
      }
      if (packet.type === PacketType.PONG) return; // not part of v3's heartbeat
    }
    switch (packet.type) {
      case PacketType.PONG:
        this.host.timers.schedule(this, this.host.options.pingInterval, Timer.Ping);
        break;
      case PacketType.MESSAGE:
        this.host.onSessionMessage(this, packet.data ?? "");
        break;
      case PacketType.CLOSE:
        this._transport.close(true);
        this.abort("transport close");
        break;
      case PacketType.NOOP:
      case PacketType.PING: // v4 clients never ping; tolerate it rather than drop the session
        break;
      default:
        // OPEN or UPGRADE on an established transport is a protocol violation.
        this.abort("parse error");
    }
  }

  /** @internal The active transport failed or its peer went away. */
  onTransportClose(transport: Transport, reason: CloseReason): void {
    if (transport === this._transport) this.abort(reason);
  }

  /** @internal A long-poll GET arrived and is waiting: send what is queued, or release it during an upgrade. */
  onPollReady(): void {
    if (this.queue.length > 0) this.flush();
    else if (this.upgrade?.probed === true) this._transport.send([NOOP_PACKET]);
  }

  /** @internal A WebSocket opened for this polling session (before the probe). */
  beginUpgrade(probe: ProbeTransport): void {
    if (this.upgrade === null) this.upgrade = new Upgrade(this, probe);
    else this.upgrade.probe = probe;
    this.host.timers.schedule(this.upgrade, this.host.options.upgradeTimeout, Timer.UpgradeTimeout);
  }

  /** @internal `2probe` arrived on the probe: answer a waiting poll with a noop so the client can pause polling. */
  onProbe(probe: ProbeTransport): void {
    const upgrade = this.upgrade;
    if (upgrade === null || probe !== upgrade.probe) return;
    upgrade.probed = true;
    if (this._transport.writable) this.onPollReady();
  }

  /** @internal `5` (upgrade) arrived on the probe: switch transports without losing or reordering packets. */
  completeUpgrade(probe: Transport): boolean {
    const upgrade = this.upgrade;
    if (upgrade === null || probe !== upgrade.probe || !upgrade.probed || this.readyState === "closed") return false;
    this.host.timers.cancel(upgrade);
    const old = this._transport;
    this.upgrade = null;
    this._transport = probe;
    old.discard();
    // Closed while the client was switching (see close): it gets what is queued here, then the close.
    if (this.readyState === "closing") this.closeWebSocket();
    else this.flush();
    return true;
  }

  /** @internal The probe WebSocket closed before the upgrade completed. */
  onProbeClosed(probe: ProbeTransport): void {
    const upgrade = this.upgrade;
    if (upgrade === null || probe !== upgrade.probe) return;
    this.upgrade = null;
    this.host.timers.cancel(upgrade);
    if (this.readyState === "closing") this.closePolling();
  }

  private dropProbe(): void {
    const upgrade = this.upgrade;
    if (upgrade === null) return;
    this.upgrade = null;
    this.host.timers.cancel(upgrade);
    upgrade.probe.close();
  }

  private cancelTimers(): void {
    this.host.timers.cancel(this);
    if (this.upgrade !== null) this.host.timers.cancel(this.upgrade);
  }

  private release(): void {
    this.readyState = "closed";
    this.host.timers.cancel(this);
    this._transport.close();
    this.host.releaseSession(this);
  }
}
