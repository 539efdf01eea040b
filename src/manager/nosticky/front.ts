// The front's half: a request or WebSocket upgrade of a session owned by another server reached
// this one. A polling request is forwarded whole (method, URL, headers, body) and answered with the
// owner's response; a WebSocket upgrade is decided by the owner, then accepted here and relayed:
// the client's frames go to the owner, the owner's frames come back. Nothing of the session is
// kept here beyond the request or WebSocket in flight.
//
// Order: a client sends its next POST only once the previous one is answered, and the front
// answers only once the owner has handled it, so POSTs that reach different fronts still reach the
// owner in the client's order. The frames of one WebSocket all go through one front, which
// publishes them in order, and the brokers keep one publisher's order.

import { EngineErrorCode, engineErrorBody, engineErrorStatus } from "../../engine/protocol/errors.js";
import { WebSocketTransport } from "../../engine/transports/websocket.js";
import type { EngineRequest, HttpExchange, OutFrame, ResponseHeaders, WebSocketPeer } from "../../engine/http.js";
import type { EngineProtocol } from "../../engine/options.js";
import type { UpgradeDecision } from "../../engine/server.js";
import type { WebSocketRelay } from "../../engine/session-router.js";
import type { Lease } from "./peers.js";
import type { Layer } from "./layer.js";
import { decodeText, splitFrames, type Headers } from "./wire.js";

const EMPTY = new Uint8Array(0);

class Forwarded implements Lease {
  private timer: ReturnType<typeof setTimeout> | null = null;
  done = false;

  constructor(
    private readonly front: FrontSide,
    readonly id: string,
    readonly owner: string,
    readonly sid: string,
    readonly exchange: HttpExchange,
  ) {}

  /**
   * Tells the owner this request is given up: an answer it sends from now on is dropped here. If it
   * had sent one already (a long-poll's, with packets taken from the session's queue), the owner
   * ends the session: the client, answered with an error here, never sees those packets.
   */
  giveUp(): void {
    void this.front.layer.send(this.owner, { t: "abort", id: this.id, sid: this.sid });
  }

  arm(timeout: number): void {
    this.timer = setTimeout(() => {
      if (this.finish()) {
        this.giveUp();
        this.front.fail(this.exchange, EngineErrorCode.BAD_REQUEST, "Session owner did not answer", 504);
      }
    }, timeout);
    this.timer.unref?.();
  }

  /** Ends the wait; false if it had already ended. */
  finish(): boolean {
    if (this.done) return false;
    this.done = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.front.forgetRequest(this);
    return true;
  }

  answer(status: number, headers: Headers, body: Uint8Array): void {
    if (this.finish()) this.exchange.respond(status, headers as ResponseHeaders, body);
  }

  onPeerLost(): void {
    if (!this.finish()) return;
    // Declared gone on silence, it may only have been slow: then it hears that this request is over.
    this.giveUp();
    this.front.ownerGone(this.exchange);
  }
}

/** The owner's answer to an upgrade: go ahead (with the response headers), or the refusal to send. */
type Verdict = { ok: true; headers: ResponseHeaders } | Extract<UpgradeDecision, { ok: false }>;

/** The client's WebSocket at the front, relayed to the owner (engine side: see RelayTransport). */
class Relay implements WebSocketRelay, Lease {
  peer: WebSocketPeer | null = null;
  private waiting: OutFrame[] = [];
  private closing: { code?: number; terminate: boolean } | null = null;
  private ended = false;
  verdict: ((verdict: Verdict) => void) | null = null;

  constructor(
    private readonly front: FrontSide,
    readonly id: string,
    readonly owner: string,
    private readonly protocol: EngineProtocol,
    private readonly base64: boolean,
  ) {}

  accept(peer: WebSocketPeer): WebSocketTransport {
    this.peer = peer;
    const transport = new RelayTransport(this.front.layer, this, peer, this.protocol, this.base64);
    if (this.waiting.length > 0) peer.sendFrames(this.waiting);
    this.waiting = [];
    if (this.closing !== null) this.closeClient(this.closing.code, this.closing.terminate);
    return transport;
  }

  /** A frame from the client. */
  fromClient(frame: string | Uint8Array): void {
    if (this.ended) return;
    const binary = typeof frame !== "string";
    void this.front.layer.send(this.owner, { t: "wsin", id: this.id, b: binary }, frame).then((error) => {
      // A frame the owner will never see: the connection cannot go on without a gap.
      if (error !== null) this.closeClient(1011, false);
    });
  }

  /** Frames from the owner. */
  fromOwner(frames: Array<string | Uint8Array>): void {
    if (this.ended) return;
    const out: OutFrame[] = frames.map((frame) => ({ frame, adapterCache: undefined }));
    const peer = this.peer;
    if (peer === null) {
      this.waiting.push(...out);
      return;
    }
    peer.sendFrames(out);
    // The owner cannot see this WebSocket's backlog: a client that stopped reading is dropped here.
    if (peer.bufferedAmount > this.front.layer.engine.options.maxBufferedBytes) this.closeClient(undefined, true);
  }

  /** The owner closes the WebSocket (or is gone). */
  closeClient(code: number | undefined, terminate: boolean): void {
    const peer = this.peer;
    if (peer === null) {
      // Not accepted yet (or never will be, if the client left during the handshake): closed on accept.
      this.closing = { ...(code !== undefined ? { code } : {}), terminate };
      this.end();
      return;
    }
    const wasEnded = this.ended;
    this.end();
    if (terminate && peer.terminate !== undefined) peer.terminate();
    else peer.close(code);
    if (!wasEnded) void this.front.layer.send(this.owner, { t: "wsgone", id: this.id });
  }

  /** The client's WebSocket closed. */
  clientClosed(): void {
    if (this.ended) return;
    this.end();
    void this.front.layer.send(this.owner, { t: "wsgone", id: this.id });
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.front.forgetRelay(this);
  }

  onPeerLost(): void {
    if (this.verdict !== null) {
      const settle = this.verdict;
      this.verdict = null;
      this.end();
      settle(refusal(EngineErrorCode.UNKNOWN_SID));
      return;
    }
    this.closeClient(1011, false);
  }
}

/**
 * The engine's side of a relayed WebSocket: the runtime adapter hands it the client's frames and
 * the close, as to any WebSocketTransport; it has no session here (`socket` stays null).
 */
class RelayTransport extends WebSocketTransport {
  constructor(
    layer: Layer,
    private readonly relay: Relay,
    peer: WebSocketPeer,
    protocol: EngineProtocol,
    base64: boolean,
  ) {
    super(layer.engine, peer, false, protocol, base64);
  }

  override onFrame(frame: string | Uint8Array): void {
    this.relay.fromClient(frame);
  }

  override onClose(): void {
    this.relay.clientClosed();
  }

  override close(): void {
    this.relay.closeClient(1000, false);
  }

  override discard(): void {
    this.close();
  }

  override abandon(): void {
    this.relay.closeClient(undefined, true);
  }
}

function refusal(code: EngineErrorCode, message?: string, status = engineErrorStatus(code)): UpgradeDecision {
  return { ok: false, status, headers: { "Content-Type": "application/json" }, body: engineErrorBody(code, message) };
}

export interface FrontLimits {
  /** Forwarded requests and relayed upgrades waiting on an owner at once (beyond: 503). */
  maxForwarded: number;
}

export class FrontSide {
  private readonly requests = new Map<string, Forwarded>();
  private readonly relays = new Map<string, Relay>();
  private nextId = 0;

  constructor(
    readonly layer: Layer,
    private readonly limits: FrontLimits,
    private readonly ownerOf: (sid: string) => string,
  ) {}

  /** Requests waiting on an owner and relayed WebSockets (for tests and metrics). */
  get size(): number {
    return this.requests.size + this.relays.size;
  }

  fail(exchange: HttpExchange, code: EngineErrorCode, message?: string, status?: number): void {
    this.layer.engine.respondError(exchange, code, message, status);
  }

  /**
   * The owner is gone, and the session with it. A GET gets the answer of a server that never knew
   * the session (400, "Session ID unknown"): the client's transport closes and it reconnects. A
   * POST is answered `ok`, its packets going down with the session: the client learns of the end
   * from its long-poll, which every polling client keeps going. (A 400 to a POST would do for the
   * official clients, but python-engineio's client, up to 4.x at least, then resets itself without
   * a disconnect event and never reconnects: with a POST answered and the poll refused, it does.)
   */
  ownerGone(exchange: HttpExchange): void {
    if (exchange.request.method === "POST") this.layer.engine.respondOk(exchange);
    else this.fail(exchange, EngineErrorCode.UNKNOWN_SID);
  }

  async forward(exchange: HttpExchange, sid: string): Promise<void> {
    const owner = this.ownerOf(sid);
    const layer = this.layer;
    if (layer.links.isLost(owner)) return this.ownerGone(exchange);
    if (this.requests.size + this.relays.size >= this.limits.maxForwarded) return this.fail(exchange, EngineErrorCode.BAD_REQUEST, "Too many forwarded requests", 503);
    const request = exchange.request;
    const id = String(this.nextId++);
    const forwarded = new Forwarded(this, id, owner, sid, exchange);
    this.requests.set(id, forwarded);
    layer.links.acquire(owner, forwarded);
    let body: Uint8Array = EMPTY;
    const flags: { big?: true; gone?: true } = {};
    if (request.method === "POST") {
      const result = await exchange.readBody(layer.engine.options.maxHttpBufferSize);
      if (result.ok) body = result.body;
      else if (result.reason === "too-large") flags.big = true;
      else flags.gone = true;
      // Lost while reading (the owner went away): already answered.
      if (forwarded.done) return;
    } else {
      exchange.onAbort(() => {
        if (forwarded.finish()) forwarded.giveUp();
      });
    }
    // A waiting long-poll is answered by the owner within its ping interval; anything else at once.
    forwarded.arm(layer.requestTimeout + (request.method === "GET" ? layer.engine.options.pingInterval : 0));
    const error = await layer.send(owner, { t: "req", id, m: request.method, u: request.url, h: request.headers(), a: request.remoteAddress, s: request.secure, ...flags }, body);
    if (error !== null && forwarded.finish()) this.fail(exchange, EngineErrorCode.BAD_REQUEST, "Session owner unreachable", 503);
  }

  onResponse(id: string, status: number, headers: Headers, body: Uint8Array): void {
    this.requests.get(id)?.answer(status, headers, body);
  }

  prepareUpgrade(request: EngineRequest, sid: string, protocol: EngineProtocol, base64: boolean): UpgradeDecision | Promise<UpgradeDecision> {
    const owner = this.ownerOf(sid);
    const layer = this.layer;
    if (layer.links.isLost(owner)) return refusal(EngineErrorCode.UNKNOWN_SID);
    if (this.requests.size + this.relays.size >= this.limits.maxForwarded) return refusal(EngineErrorCode.BAD_REQUEST, "Too many forwarded requests", 503);
    const id = String(this.nextId++);
    const relay = new Relay(this, id, owner, protocol, base64);
    this.relays.set(id, relay);
    layer.links.acquire(owner, relay);
    return new Promise<UpgradeDecision>((resolve) => {
      const timer = setTimeout(() => relay.onPeerLost(), layer.requestTimeout);
      timer.unref?.();
      relay.verdict = (verdict) => {
        clearTimeout(timer);
        resolve(verdict.ok ? { ok: true, headers: verdict.headers, request, sid, newSid: null, protocol, base64, relay } : verdict);
      };
      void layer.send(owner, { t: "up", id, u: request.url, h: request.headers(), a: request.remoteAddress, s: request.secure }).then((error) => {
        if (error === null || relay.verdict === null) return;
        const settle = relay.verdict;
        relay.verdict = null;
        this.forgetRelay(relay);
        settle(refusal(EngineErrorCode.BAD_REQUEST, "Session owner unreachable", 503));
      });
    });
  }

  onUpgradeVerdict(id: string, status: number, headers: Headers, body: Uint8Array): void {
    const relay = this.relays.get(id);
    if (relay === undefined || relay.verdict === null) return;
    const settle = relay.verdict;
    relay.verdict = null;
    if (status === 101) {
      settle({ ok: true, headers: headers as ResponseHeaders });
      return;
    }
    this.forgetRelay(relay);
    settle({ ok: false, status, headers: headers as ResponseHeaders, body: decodeText(body) });
  }

  onFrames(id: string, lengths: Array<[number, 0 | 1]>, body: Uint8Array): boolean {
    const relay = this.relays.get(id);
    if (relay === undefined) return true;
    const frames = splitFrames(body, lengths);
    if (frames === null) return false;
    relay.fromOwner(frames);
    return true;
  }

  onSocketClose(id: string, code: number | undefined, terminate: boolean): void {
    this.relays.get(id)?.closeClient(code, terminate === true);
  }

  forgetRequest(forwarded: Forwarded): void {
    if (this.requests.get(forwarded.id) === forwarded) this.requests.delete(forwarded.id);
    this.layer.links.release(forwarded.owner, forwarded);
  }

  forgetRelay(relay: Relay): void {
    if (this.relays.get(relay.id) === relay) this.relays.delete(relay.id);
    this.layer.links.release(relay.owner, relay);
  }
}
