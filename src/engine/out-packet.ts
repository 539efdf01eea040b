import { encodeFrame, encodeSegment, type Packet, type PacketType } from "./protocol/packet.js";
import { base64PacketV3, binaryFrameV3 } from "./protocol/packet-v3.js";
import type { OutFrame } from "./http.js";

/** Another wire form of a packet, with its own slot for the runtime adapter's framing. */
class DerivedFrame implements OutFrame {
  adapterCache: unknown = undefined;
  constructor(readonly frame: string | Uint8Array) {}
}

/**
 * An outgoing Engine.IO packet that computes each wire form once and keeps it. A broadcast creates
 * one OutPacket and hands the same object to every recipient: the WebSocket frame text, the polling
 * segment and any runtime-specific framing (adapterCache) are built at most once, whatever the
 * number of recipients. The Engine.IO v3 forms are built the same way, only when a v3 client is
 * among the recipients; a v4-only broadcast never touches them.
 */
export class OutPacket implements Packet, OutFrame {
  private _frame: string | Uint8Array | undefined = undefined;
  private _segment: string | undefined = undefined;
  private _v3Binary: OutFrame | undefined = undefined;
  private _v3Text: OutFrame | undefined = undefined;
  adapterCache: unknown = undefined;

  constructor(
    readonly type: PacketType,
    readonly data?: string | Uint8Array,
  ) {}

  get frame(): string | Uint8Array {
    return (this._frame ??= encodeFrame(this));
  }

  get segment(): string {
    return (this._segment ??= encodeSegment(this));
  }

  /**
   * The v3 text form (`b4<base64>` for binary): a segment of v3 text payloads and the frame of
   * base64-mode WebSockets. Text packets read the same in both versions.
   */
  get segmentV3(): string {
    return this.data instanceof Uint8Array ? (this.frameV3(true).frame as string) : this.segment;
  }

  /**
   * This packet as an Engine.IO v3 WebSocket frame: the packet itself for text (the frames are
   * identical), a cached derived frame for binary (type byte prefixed, or `b4<base64>` text when
   * the client asked for base64), built once for all the v3 recipients of a broadcast.
   */
  frameV3(base64: boolean): OutFrame {
    const data = this.data;
    if (!(data instanceof Uint8Array)) return this;
    if (base64) return (this._v3Text ??= new DerivedFrame(base64PacketV3(data)));
    return (this._v3Binary ??= new DerivedFrame(binaryFrameV3(data)));
  }

  /** Approximate bytes this packet occupies in a send buffer (for the per-client buffer limit). */
  get size(): number {
    const data = this.data;
    return data === undefined ? 1 : typeof data === "string" ? data.length + 1 : data.byteLength;
  }
}
