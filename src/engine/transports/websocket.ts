// The WebSocket transport. One instance per WebSocket; the runtime adapter forwards each received
// frame to onFrame and the close to onClose. During an upgrade it starts as a probe: only
// `2probe` and `5` are meaningful until the session switches to it.

import { decodeFrame, PacketType } from "../protocol/packet.js";
import { PONG_PROBE_PACKET, type EngineSocket, type ProbeTransport } from "../socket.js";
import type { OutPacket } from "../out-packet.js";
import type { WebSocketPeer } from "../http.js";
import type { SessionHost } from "../session-host.js";

export class WebSocketTransport implements ProbeTransport {
  readonly name = "websocket" as const;
  socket: EngineSocket | null = null;
  /** True until the session switches to this transport (only for upgrades from polling). */
  probe: boolean;
  private closed = false;

  constructor(
    private readonly host: SessionHost,
    readonly peer: WebSocketPeer,
    probe: boolean,
  ) {
    this.probe = probe;
  }

  get writable(): boolean {
    return !this.closed;
  }

  get bufferedAmount(): number {
    return this.peer.bufferedAmount;
  }

  send(packets: readonly OutPacket[]): void {
    if (!this.closed) this.peer.sendFrames(packets);
  }

  /** A frame from the client: text as a string, binary as bytes. */
  onFrame(frame: string | Uint8Array): void {
    const socket = this.socket;
    if (socket === null || this.closed) return;
    const size = typeof frame === "string" ? frame.length : frame.byteLength;
    if (size > this.host.options.maxHttpBufferSize) {
      // Adapters configure their WebSocket server with this limit too; this guards those that cannot.
      this.peer.close(1009, "message too big");
      if (!this.probe) socket.onTransportClose(this, "transport error");
      return;
    }
    const decoded = decodeFrame(frame);
    if (!decoded.ok) {
      if (this.probe) this.close();
      else socket.onTransportClose(this, "parse error");
      return;
    }
    const packet = decoded.value;
    if (this.probe) {
      if (packet.type === PacketType.PING && packet.data === "probe") {
        this.peer.sendFrames([PONG_PROBE_PACKET]);
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
    this.peer.close(1000);
    if (this.probe) this.socket?.onProbeClosed(this);
  }

  discard(): void {
    this.close();
  }
}
