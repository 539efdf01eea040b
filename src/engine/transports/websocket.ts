// The WebSocket transport. One instance per WebSocket; the runtime adapter forwards each received
// frame to onFrame and the close to onClose. During an upgrade it starts as a probe: only
// `2probe` and `5` are meaningful until the session switches to it.

import { decodeFrame, PacketType } from "../protocol/packet.js";
import { decodeFrameV3 } from "../protocol/packet-v3.js";
import { PONG_PROBE_PACKET, type EngineSocket, type ProbeTransport } from "../socket.js";
import type { OutPacket } from "../out-packet.js";
import type { OutFrame, WebSocketPeer } from "../http.js";
import type { SessionHost } from "../session-host.js";
import type { EngineProtocol } from "../options.js";

export class WebSocketTransport implements ProbeTransport {
  socket: EngineSocket | null = null;
  /** True until the session switches to this transport (only for upgrades from polling). */
  probe: boolean;
  private closed = false;

  constructor(
    private readonly host: SessionHost,
    private readonly ws: WebSocketPeer,
    probe: boolean,
    readonly protocol: EngineProtocol = 4,
    /** v3 only: the client asked for binary as base64 text (`b64=1`). */
    private readonly base64 = false,
  ) {
    this.probe = probe;
  }

  /**
   * The WebSocket, for the layer above to ask for native capabilities (topic publish). Only v4
   * sessions expose it: a natively published frame is the v4 form, and a v3 client reads binary
   * frames differently, so v3 sessions always take the per-socket path.
   */
  get peer(): WebSocketPeer | undefined {
    return this.protocol === 4 ? this.ws : undefined;
  }

  /** On the prototype rather than a field per transport. */
  get name(): "websocket" {
    return "websocket";
  }

  get writable(): boolean {
    return !this.closed;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  get frameOverhead(): number {
    return this.ws.frameOverhead ?? 0;
  }

  send(packets: readonly OutPacket[]): void {
    if (this.closed) return;
    if (this.protocol === 4) {
      this.ws.sendFrames(packets);
      return;
    }
    const frames: OutFrame[] = [];
    for (let i = 0; i < packets.length; i++) frames.push(packets[i]!.frameV3(this.base64));
    this.ws.sendFrames(frames);
  }

  /** A frame from the client: text as a string, binary as bytes. */
  onFrame(frame: string | Uint8Array): void {
    const socket = this.socket;
    if (socket === null || this.closed) return;
    const size = typeof frame === "string" ? frame.length : frame.byteLength;
    if (size > this.host.options.maxHttpBufferSize) {
      // Adapters configure their WebSocket server with this limit too; this guards those that cannot.
      this.ws.close(1009, "message too big");
      if (!this.probe) socket.onTransportClose(this, "transport error");
      return;
    }
    const decoded = this.protocol === 4 ? decodeFrame(frame) : decodeFrameV3(frame);
    if (!decoded.ok) {
      if (this.probe) this.close();
      else socket.onTransportClose(this, "parse error");
      return;
    }
    const packet = decoded.value;
    if (this.probe) {
      if (packet.type === PacketType.PING && packet.data === "probe") {
        this.ws.sendFrames([PONG_PROBE_PACKET]);
        socket.onProbe(this);
      } else if (packet.type === PacketType.UPGRADE) {
        if (socket.completeUpgrade(this)) this.probe = false;
        else this.close();
      } else {
        this.close(); // anything else before the upgrade is a broken client
      }
      return;
    }
    socket.onPacket(packet);
  }

  /** The WebSocket closed (either side). */
  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    const socket = this.socket;
    if (socket === null) return;
    if (this.probe) socket.onProbeClosed(this);
    else socket.onTransportClose(this, "transport close");
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(1000);
    if (this.probe) this.socket?.onProbeClosed(this);
  }

  discard(): void {
    this.close();
  }

  abandon(): void {
    if (this.closed) return;
    if (this.ws.terminate === undefined) {
      this.close();
      return;
    }
    this.closed = true;
    this.ws.terminate();
    if (this.probe) this.socket?.onProbeClosed(this);
  }
}
