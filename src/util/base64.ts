// Base64 helpers that work on every runtime sockjet targets. Node and Bun have Buffer (fast, native);
// Deno and browsers-like runtimes fall back to btoa/atob.

type BufferLike = {
  from(data: string, encoding: "base64"): Uint8Array;
  from(data: ArrayBufferLike, offset: number, length: number): { toString(encoding: "base64"): string };
};
const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;

export function toBase64(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes base64; returns null for text that is not base64 (errors are values). */
export function fromBase64(text: string): Uint8Array | null {
  // Padding only completes a 4-character group: "A=" or "AA=" is not base64 (atob refuses it, Buffer did not).
  if (text.length % 4 === 1 || (text.endsWith("=") && text.length % 4 !== 0) || !BASE64_RE.test(text)) return null;
  if (NodeBuffer) return NodeBuffer.from(text, "base64");
  try {
    const s = atob(text);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}
