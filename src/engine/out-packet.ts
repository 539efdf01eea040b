import { encodeFrame, encodeSegment, type Packet, type PacketType } from "./protocol/packet.js";
import type { OutFrame } from "./http.js";

/**
 * An outgoing Engine.IO packet that computes each wire form once and keeps it. A broadcast creates
 * one OutPacket and hands the same object to every recipient: the WebSocket frame text, the polling
 * segment and any runtime-specific framing (adapterCache) are built at most once, whatever the
 * number of recipients.
 */
export class OutPacket implements Packet, OutFrame {
  private _frame: string | Uint8Array | undefined = undefined;
  private _segment: string | undefined = undefined;
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

  /** Approximate bytes this packet occupies in a send buffer (for the per-client buffer limit). */
  get size(): number {
    const data = this.data;
    return data === undefined ? 1 : typeof data === "string" ? data.length + 1 : data.byteLength;
  }
}
