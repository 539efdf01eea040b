// The owner's half: requests and WebSockets of this server's sessions that reached another server
// (a front). A forwarded request becomes a RemoteExchange that the engine answers as it answers any
// request (so the protocol's rules hold cluster-wide: one waiting GET per session, the 400 for a
// second one, the POST limits); a WebSocket accepted at a front becomes a RemotePeer, a WebSocket
// whose frames go to the front over the broker. The engine's code is the same in both cases.

import { EngineErrorCode } from "../../engine/protocol/errors.js";
import { DetachedRequest, type BodyResult, type EngineRequest, type HttpExchange, type OutFrame, type ResponseHeaders, type WebSocketPeer } from "../../engine/http.js";
import type { WebSocketTransport } from "../../engine/transports/websocket.js";
import type { UpgradeDecision } from "../../engine/server.js";
import type { Lease } from "./peers.js";
import type { Layer } from "./layer.js";
import { decodeText, encodeText, type WireMessage } from "./wire.js";

type Req = Extract<WireMessage, { t: "req" }>;
type Up = Extract<WireMessage, { t: "up" }>;

class RemoteExchange implements HttpExchange, Lease {
  readonly request: EngineRequest;
  private abortListener: (() => void) | null = null;
  private answered = false;

  constructor(
    private readonly owner: OwnerSide,
    readonly key: string,
    private readonly message: Req,
    private readonly body: Uint8Array,
  ) {
    this.request = new DetachedRequest(message.m, message.u, message.h, message.a, message.s);
  }

  readBody(limit: number): Promise<BodyResult> {
    const m = this.message;
    if (m.gone === true) return Promise.resolve({ ok: false, reason: "aborted" });
    if (m.big === true || this.body.byteLength > limit) return Promise.resolve({ ok: false, reason: "too-large" });
    return Promise.resolve({ ok: true, body: this.body });
  }

  respond(status: number, headers: ResponseHeaders, body: string | Uint8Array): void {
    if (this.answered) return;
    this.answered = true;
    this.owner.finished(this);
    this.owner.reply(this.message.f, { t: "res", id: this.message.id, st: status, h: headers }, body);
  }

  onAbort(listener: () => void): void {
    this.abortListener = listener;
  }

  /** The client went away (the front said so) or the front itself did. */
  abort(): void {
    if (this.answered) return;
    this.answered = true;
    this.owner.finished(this);
    this.abortListener?.();
  }

  /**
   * The front is declared gone (on silence: it may only have been slow). The request ends as if
   * its client had gone away (a waiting long-poll ends the session), and the front is still
   * answered: if it is alive, its client learns at once that the session is over, rather than
   * after its own ping timeout.
   */
  onPeerLost(): void {
    if (this.answered) return;
    this.abort();
    this.owner.layer.engine.respondError(new AnsweredAnyway(this.request, (status, headers, body) => this.owner.reply(this.front, { t: "res", id: this.message.id, st: status, h: headers }, body)), EngineErrorCode.UNKNOWN_SID);
  }

  get front(): string {
    return this.message.f;
  }
}

/** An exchange whose only job is to carry the engine's error answer to a front (see RemoteExchange.onPeerLost). */
class AnsweredAnyway implements HttpExchange {
  constructor(
    readonly request: EngineRequest,
    readonly respond: (status: number, headers: ResponseHeaders, body: string | Uint8Array) => void,
  ) {}
  readBody(): Promise<BodyResult> {
    return Promise.resolve({ ok: false, reason: "aborted" });
  }
  onAbort(): void {}
}

/** A WebSocket held by a front: the engine writes to it as to any WebSocket; frames go over the broker. */
class RemotePeer implements WebSocketPeer, Lease {
  transport: WebSocketTransport | null = null;
  private closed = false;
  /** Bytes handed to the broker and not yet confirmed: what the engine's buffer limit sees. */
  private inFlight = 0;

  constructor(
    private readonly owner: OwnerSide,
    readonly key: string,
    readonly front: string,
    private readonly id: string,
  ) {}

  get bufferedAmount(): number {
    return this.inFlight;
  }

  sendFrames(frames: readonly OutFrame[]): void {
    if (this.closed) return;
    const lengths: Array<[number, 0 | 1]> = [];
    const parts: Uint8Array[] = [];
    let size = 0;
    for (const f of frames) {
      const data = f.frame;
      const bytes = typeof data === "string" ? encodeText(data) : data;
      lengths.push([bytes.byteLength, typeof data === "string" ? 0 : 1]);
      parts.push(bytes);
      size += bytes.byteLength;
    }
    this.inFlight += size;
    void this.owner.layer.send(this.front, { t: "wsout", id: this.id, fl: lengths }, parts).then((error) => {
      this.inFlight -= size;
      // A frame that did not reach the broker is lost for the client: the session cannot go on.
      if (error !== null) this.failed();
    });
  }

  close(code?: number): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.dropPeer(this);
    this.owner.reply(this.front, code === undefined ? { t: "wsclose", id: this.id } : { t: "wsclose", id: this.id, c: code });
  }

  terminate(): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.dropPeer(this);
    this.owner.reply(this.front, { t: "wsclose", id: this.id, x: true });
  }

  /** Frames were lost on the way to the front: the front is told to drop the client (if the broker takes that), the session ends. */
  private failed(): void {
    if (this.closed) return;
    this.terminate();
    this.transport?.onClose();
  }

  /** A frame from the client, through the front. */
  frame(data: string | Uint8Array): void {
    if (!this.closed) this.transport?.onFrame(data);
  }

  /** The client's WebSocket closed, or the front is gone. */
  gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.dropPeer(this);
    this.transport?.onClose();
  }

  onPeerLost(): void {
    this.gone();
  }
}

export class OwnerSide {
  private readonly exchanges = new Map<string, RemoteExchange>();
  private readonly peers = new Map<string, RemotePeer>();

  constructor(readonly layer: Layer) {}

  /** Forwarded requests waiting for an answer and relayed WebSockets (for tests and metrics). */
  get size(): number {
    return this.exchanges.size + this.peers.size;
  }

  onRequest(message: Req, body: Uint8Array): void {
    const key = message.f + ":" + message.id;
    const exchange = new RemoteExchange(this, key, message, body);
    this.exchanges.set(key, exchange);
    this.layer.links.acquire(message.f, exchange);
    void this.layer.engine.handleRequest(exchange);
  }

  /**
   * The front gave up on a request: its client was answered an error there, or is gone, and
   * reconnects. Still waiting here, the request ends (a long-poll's session with it). Whatever this
   * server answers or has answered (crossing the abort, or still being compressed) is dropped at
   * the front; a long-poll's answer took packets from the session's queue, which the client never
   * sees. So the session ends here too, rather than go on with a gap.
   */
  onAbort(front: string, id: string, sid: string | undefined): void {
    this.exchanges.get(front + ":" + id)?.abort();
    if (sid === undefined) return;
    const session = this.layer.engine.sessions.get(sid);
    if (session === undefined || session.readyState === "closed") return;
    this.layer.logger.debug("no-sticky: a front gave up on a request; its session ends", { sid, front });
    session.abort("transport error");
  }

  onUpgrade(message: Up): void {
    const request = new DetachedRequest("GET", message.u, message.h, message.a, message.s);
    const decision = this.layer.engine.prepareUpgrade(request);
    if (decision instanceof Promise) void decision.then((d) => this.upgrade(message, d));
    else this.upgrade(message, decision);
  }

  private upgrade(message: Up, decision: UpgradeDecision): void {
    const { f: front, id } = message;
    if (!decision.ok) {
      this.reply(front, { t: "upr", id, st: decision.status, h: decision.headers }, decision.body);
      return;
    }
    // The verdict first: the front then completes the handshake, while what the engine does next
    // (answer the probe, or close a WebSocket it cannot use) follows it on the same channel.
    this.reply(front, { t: "upr", id, st: 101, h: decision.headers });
    const key = front + ":" + id;
    const peer = new RemotePeer(this, key, front, id);
    this.peers.set(key, peer);
    this.layer.links.acquire(front, peer);
    const { relay: _relay, ...local } = decision;
    peer.transport = this.layer.engine.acceptWebSocket(local, peer);
  }

  onFrame(front: string, id: string, binary: boolean, body: Uint8Array): void {
    this.peers.get(front + ":" + id)?.frame(binary ? body : decodeText(body));
  }

  onSocketGone(front: string, id: string): void {
    this.peers.get(front + ":" + id)?.gone();
  }

  /** Publishes a reply; a reply the broker did not take is logged (the client times out and reconnects). */
  reply(front: string, message: Parameters<Layer["send"]>[1], body?: string | Uint8Array): void {
    void this.layer.send(front, message, body).then((error) => {
      if (error !== null) this.layer.logger.warn("no-sticky: a reply to another server was lost", { to: front, type: message.t, err: error });
    });
  }

  finished(exchange: RemoteExchange): void {
    this.exchanges.delete(exchange.key);
    this.layer.links.release(exchange.front, exchange);
  }

  dropPeer(peer: RemotePeer): void {
    this.peers.delete(peer.key);
    this.layer.links.release(peer.front, peer);
  }
}
