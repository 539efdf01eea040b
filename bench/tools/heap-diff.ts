// What the JS heap holds per connection: compares two V8 heap snapshots (e.g. the baseline and the
// loaded one of a memory scenario) by node type and constructor name, and divides by the number of
// connections. Snapshots come from a server started with BENCH_HEAPSNAPSHOT_DIR set (see
// bench/servers/common.ts): each SIGUSR2 writes one after the GC.
//
//   node --import tsx bench/tools/heap-diff.ts BEFORE.heapsnapshot AFTER.heapsnapshot 10000 [--top 30]

import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

function tally(file: string): Map<string, { size: number; count: number }> {
  const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf("type");
  const iName = fields.indexOf("name");
  const iSize = fields.indexOf("self_size");
  const out = new Map<string, { size: number; count: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]!]!;
    const name = snap.strings[snap.nodes[i + iName]!]!;
    const key = type === "string" || type === "concatenated string" || type === "sliced string" || type === "number" ? `(${type})` : `${type}: ${name.slice(0, 70)}`;
    const entry = out.get(key) ?? { size: 0, count: 0 };
    entry.size += snap.nodes[i + iSize]!;
    entry.count += 1;
    out.set(key, entry);
  }
  return out;
}

const [before, after, perText] = process.argv.slice(2);
if (before === undefined || after === undefined) {
  console.error("usage: heap-diff.ts BEFORE.heapsnapshot AFTER.heapsnapshot CONNECTIONS [--top N]");
  process.exit(2);
}
const per = Number(perText ?? 1);
const topIndex = process.argv.indexOf("--top");
const top = topIndex >= 0 ? Number(process.argv[topIndex + 1]) : 30;
const a = tally(before);
const b = tally(after);
const rows: Array<{ key: string; size: number; count: number }> = [];
for (const key of new Set([...a.keys(), ...b.keys()])) {
  const x = a.get(key) ?? { size: 0, count: 0 };
  const y = b.get(key) ?? { size: 0, count: 0 };
  rows.push({ key, size: y.size - x.size, count: y.count - x.count });
}
const total = rows.reduce((s, r) => s + r.size, 0);
console.log(`JS heap growth: ${(total / per).toFixed(0)} bytes per connection (${(total / 2 ** 20).toFixed(1)} MiB over ${per})`);
console.log("bytes/conn  objects/conn  what");
for (const r of rows.sort((p, q) => q.size - p.size).slice(0, top)) {
  console.log(`${(r.size / per).toFixed(0).padStart(10)}  ${(r.count / per).toFixed(2).padStart(12)}  ${r.key}`);
}
