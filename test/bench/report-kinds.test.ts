// The benchmark's results files name server kinds; since node:http became sockjet's default on
// Deno, the `sockjet` kind there is node:http and Deno.serve is `sockjet-deno-serve`. A file saved
// before (kinds 1: `sockjet` was Deno.serve, `sockjet-node` node:http) must report the same
// measurements under today's names, or a rebuilt table would swap the two servers.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { KINDS_VERSION, markdown, summarize, upgradeRecords, type RunRecord } from "../../bench/lib/report.js";

const OLD_FILE = new URL("../../bench/results/2026-12-05T16-03-02Z.json", import.meta.url);

test("a results file from before node:http was Deno's default reads with the two Deno sockjet kinds swapped", () => {
  const saved = JSON.parse(readFileSync(OLD_FILE, "utf8")) as { kinds?: number; records: RunRecord[] };
  assert.equal(saved.kinds, undefined, "the file predates the kinds field");
  const upgraded = upgradeRecords(saved.records, saved.kinds);
  const denoOf = (records: readonly RunRecord[], server: string) =>
    records.filter((r) => r.runtime === "deno" && (r.server as string) === server).map((r) => `${r.run} ${r.scenario} ${JSON.stringify(r.figures)}`);
  assert.ok(denoOf(saved.records, "sockjet-node").length > 0, "the old file has node:http records on Deno");
  assert.deepEqual(denoOf(upgraded, "sockjet"), denoOf(saved.records, "sockjet-node"), "node:http is now `sockjet`");
  assert.deepEqual(denoOf(upgraded, "sockjet-deno-serve"), denoOf(saved.records, "sockjet"), "Deno.serve is now `sockjet-deno-serve`");
  assert.deepEqual(denoOf(upgraded, "sockjet-node"), []);
  // Node's and Bun's records are untouched.
  assert.deepEqual(
    upgraded.filter((r) => r.runtime !== "deno"),
    saved.records.filter((r) => r.runtime !== "deno"),
  );
  // A file in today's kinds is read as it is.
  assert.deepEqual(upgradeRecords(upgraded, KINDS_VERSION), upgraded);

  const deno = summarize(upgraded, "deno");
  assert.ok(deno.measured.includes("sockjet-deno-serve"));
  const table = markdown({
    date: "test",
    mode: "full",
    runs: 1,
    seconds: 1,
    machine: { cpuModel: "cpu", cores: 2, node: "v20", os: "Linux", memoryGB: 1, loadAverage: [0, 0, 0], socketIoVersion: "4", wsVersion: "8", pinning: "none", runtimes: { deno: "2" } },
    params: {},
    records: upgraded,
    summaries: { deno },
    jsonFile: "x.json",
  });
  assert.match(table, /\| figure \| sockjet \(node:http\) \| sockjet \(Deno\.serve\) \| socket\.io \(node:http\) \|/);
});
