// HTTP long-polling (the "polling" transport): GET receives a payload, POST sends one. How packets
// are framed in the bodies (Engine.IO v4, or v3 text, binary or JSONP) is the session's framing.
// At most one GET and one POST may be in flight per session; a second concurrent one is a
// protocol violation that closes the session (reference server behaviour).

import type { Packet } from "../protocol/packet.js";
import { EngineErrorCode } from "../protocol/errors.js";
import { CLOSE_PACKET, NOOP_PACKET, type EngineSocket, type Transport } from "../socket.js";
import type { HttpExchange } from "../http.js";
import type { SessionHost } from "../session-host.js";
import type { OutPacket } from "../out-packet.js";
import type { PollingFraming } from "./polling-framing.js";
import type { EngineProtocol } from "../options.js";

export class PollingTransport implements Transport {
  readonly name = "polling" as const;
  socket: EngineSocket | null = null;
  private pending: HttpExchange | null = null;
  private posting = false;
  private closed = false;

  constructor(
    private readonly host: SessionHost,
    readonly framing: PollingFraming,
  ) {}

  get protocol(): EngineProtocol {
    return this.framing.protocol;
  }

  get writable(): boolean {
    return this.pending !== null;
  }

  get bufferedAmount(): number {
    return 0;
  }

  get frameOverhead(): number {
    return 0;
  }

  onGet(exchange: HttpExchange): void {
    const socket = this.socket!;
    if (this.pending !== null || this.closed) {
      // Two concurrent polls: the client is confused or hostile; end the session (reference behaviour).
      this.reject(exchange);
      socket.abort("transport error");
      return;
    }
    this.pending = exchange;
    exchange.onAbort(() => {
      if (this.pending === exchange) {
        this.pending = null;
        socket.onTransportClose(this, "transport close");
      }
    });
    socket.onPollReady();
  }

  async onPost(exchange: HttpExchange): Promise<void> {
    const socket = this.socket!;
    if (this.posting) {
      this.reject(exchange);
      socket.abort("transport error");
      return;
    }
    this.posting = true;
    const result = await exchange.readBody(this.host.options.maxHttpBufferSize);
    this.posting = false;
    if (!result.ok) {
      if (result.reason === "too-large") {
        this.host.respondError(exchange, EngineErrorCode.BAD_REQUEST, "Payload too large", 413);
      }
      socket.abort("transport error");
      return;
    }
    // Bounded in packets too (maxPayloadPackets): more closes the session like any malformed body.
    const decoded = this.framing.decode(result.body, exchange.request.header("content-type"), this.host.options.maxPayloadPackets);
    if (!decoded.ok) {
      this.reject(exchange);
      socket.abort("parse error");
      return;
    }
    this.host.respondOk(exchange);
    const packets: Packet[] = decoded.value;
    for (const packet of packets) {
      if (socket.readyState !== "open") break;
      socket.onPacket(packet);
    }
  }

  send(packets: readonly OutPacket[]): void {
    const exchange = this.pending;
    if (exchange === null) return;
    this.pending = null;
    this.respond(exchange, packets);
  }

  private respond(exchange: HttpExchange, packets: readonly OutPacket[]): void {
    const body = this.framing.encode(packets);
    this.host.respondPoll(exchange, body, this.framing.contentType(body));
  }

  close(clientClosed = false): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pending !== null) this.send([clientClosed ? NOOP_PACKET : CLOSE_PACKET]);
  }

  discard(): void {
    // Replaced by a WebSocket: a poll still waiting is released with whatever the session gives it.
    this.closed = true;
    const exchange = this.pending;
    if (exchange !== null) {
      this.pending = null;
      this.respond(exchange, [NOOP_PACKET]);
    }
  }

  private reject(exchange: HttpExchange): void {
    this.host.respondError(exchange, EngineErrorCode.BAD_REQUEST);
  }
}
