// Session ids and sids: 15 bytes from the platform CSPRNG, base64url (20 characters), as the
// reference server. Random bytes are drawn in blocks: one getRandomValues call per 256 ids instead
// of one per id (the call's fixed cost dominated connection setup).

const ID_BYTES = 15;
const BLOCK = ID_BYTES * 256;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

let pool = new Uint8Array(BLOCK);
let offset = BLOCK;

export function randomId(): string {
  if (offset + ID_BYTES > BLOCK) {
    pool = crypto.getRandomValues(new Uint8Array(BLOCK));
    offset = 0;
  }
  let id = "";
  // 15 bytes = 5 groups of 3 bytes = 20 base64 characters, no padding.
  for (let end = offset + ID_BYTES; offset < end; offset += 3) {
    const n = (pool[offset]! << 16) | (pool[offset + 1]! << 8) | pool[offset + 2]!;
    id += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]! + ALPHABET[n & 63]!;
  }
  // Used bytes are not kept around in the pool.
  pool.fill(0, offset - ID_BYTES, offset);
  return id;
}
