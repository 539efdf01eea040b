// Builds complete, unmasked WebSocket frames (RFC 6455 §5.2) once per outgoing packet, so that a
// broadcast writes the same bytes to every recipient instead of framing per socket.

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;

function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

function writeHeader(frame: Buffer, length: number, binary: boolean): void {
  frame[0] = 0x80 | (binary ? OPCODE_BINARY : OPCODE_TEXT);
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
}

/** A server-to-client frame: FIN set, no mask, no extensions. */
export function buildFrame(payload: Uint8Array, binary: boolean): Buffer {
  const length = payload.byteLength;
  const offset = headerLength(length);
  const frame = Buffer.allocUnsafe(offset + length);
  writeHeader(frame, length, binary);
  frame.set(payload, offset);
  return frame;
}

/** A text frame: the string is encoded as UTF-8 straight into the frame (one allocation, no copy). */
export function buildTextFrame(text: string): Buffer {
  const length = Buffer.byteLength(text, "utf8");
  const offset = headerLength(length);
  const frame = Buffer.allocUnsafe(offset + length);
  writeHeader(frame, length, false);
  frame.write(text, offset, "utf8");
  return frame;
}
