// Which msgpack codec the msgpack parser uses: msgpackr against @msgpack/msgpack, encode and decode
// of the packets a Socket.IO server handles (an event with a short string, an event with an object
// of 20 fields, an event with a 64 KiB binary), each codec configured as the parser needs it
// (plain maps, no record extension). Prints operations per second, best of 5 rounds.
//
//   node --import tsx bench/tools/msgpack-codecs.ts

import { Packr, Unpackr } from "msgpackr";
import { Encoder, Decoder } from "@msgpack/msgpack";

const object20: Record<string, unknown> = {};
for (let i = 0; i < 20; i++) object20[`field${i}`] = i % 3 === 0 ? `value ${i}` : i % 3 === 1 ? i * 1000 : i % 2 === 0;

const packets: Record<string, object> = {
  "small event": { type: 2, data: ["message", "hello world"], nsp: "/" },
  "20-field object": { type: 2, data: ["update", object20], nsp: "/" },
  "64 KiB binary": { type: 2, data: ["file", new Uint8Array(65536).fill(7)], nsp: "/" },
};

const packr = new Packr({ useRecords: false, int64AsType: "number" });
const unpackr = new Unpackr({ useRecords: false, int64AsType: "number" });
const encoder = new Encoder();
const decoder = new Decoder({ useBigInt64: false });

const codecs = {
  msgpackr: { encode: (v: unknown): Uint8Array => packr.pack(v), decode: (b: Uint8Array): unknown => unpackr.unpack(b) },
  "@msgpack/msgpack": { encode: (v: unknown): Uint8Array => encoder.encode(v), decode: (b: Uint8Array): unknown => decoder.decode(b) },
};

function rate(fn: () => void): number {
  let best = 0;
  for (let round = 0; round < 5; round++) {
    let n = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < 200) {
      for (let i = 0; i < 100; i++) fn();
      n += 100;
      elapsed = performance.now() - start;
    }
    best = Math.max(best, (n / elapsed) * 1000);
  }
  return best;
}

console.log(`node ${process.version}; ops/s, best of 5 rounds of 200 ms`);
console.log("packet".padEnd(18), "codec".padEnd(18), "encode".padStart(12), "decode".padStart(12), "bytes".padStart(8));
for (const [name, packet] of Object.entries(packets)) {
  for (const [codecName, codec] of Object.entries(codecs)) {
    const bytes = codec.encode(packet);
    let sink: unknown;
    const enc = rate(() => (sink = codec.encode(packet)));
    const dec = rate(() => (sink = codec.decode(bytes)));
    void sink;
    console.log(name.padEnd(18), codecName.padEnd(18), Math.round(enc).toLocaleString("en").padStart(12), Math.round(dec).toLocaleString("en").padStart(12), String(bytes.byteLength).padStart(8));
  }
}
