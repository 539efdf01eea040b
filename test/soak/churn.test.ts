// A short slice of the churn soak (npm run soak runs the full one: 10,000 cycles and 10 minutes of
// mixed load): sockjet in a child process, a few hundred connect/disconnect cycles over websocket,
// polling and polling+upgrade with every ending, then seconds of mixed load. Once every client is
// gone the server must hold no session, its timer queue and file descriptors must be back at the
// baseline exactly, nothing may have been logged as an error or gone unhandled, and the heap must be
// within a generous margin (a few hundred connections cannot show a small leak; the full soak does).

import { test } from "node:test";
import assert from "node:assert/strict";
import { runSoak } from "../../bench/soak/soak.js";

test("churn soak slice: sessions, timer queue and fds back at the baseline; no unhandled rejection; heap within 8 MiB", { timeout: 180_000 }, async () => {
  const report = await runSoak({
    runtime: "node",
    cycles: 240,
    concurrency: 12,
    mixedMs: 8_000,
    mixedClients: 20,
    warmupCycles: 60,
    warmupMixedMs: 2_000,
    margins: { heapBytes: 8 * 2 ** 20, rssBytes: 256 * 2 ** 20, fds: 0, timers: 0 },
    settleMs: 60_000,
    seed: 3,
  });
  const { baseline, final } = report;
  // Every mode and every ending was exercised.
  assert.equal(report.churn.cycles, 240);
  for (const [mode, n] of Object.entries(report.churn.byMode)) assert.equal(n, 80, `churn over ${mode}`);
  for (const [ending, n] of Object.entries(report.churn.byEnding)) assert.equal(n, 48, `churn ending "${ending}"`);
  assert.ok(report.mixed.cycles > 0 && report.mixed.acks > 0, "mixed load ran");
  assert.deepEqual(report.churn.errors, {}, "client-side failures during the churn");
  assert.deepEqual(report.mixed.errors, {}, "client-side failures during the mixed load");
  // The load reached the server (the samples saw sessions) and then left it.
  assert.ok(report.samples.some((s) => s.sessions > 0), "no sample saw a session");
  assert.equal(final.sessions, 0);
  assert.equal(final.timers, baseline.timers, "timer queue entries");
  assert.equal(final.fds, baseline.fds, "open file descriptors");
  assert.equal(final.namespaces, 0);
  assert.equal(final.unhandledRejection, 0, final.failureMessages.join("\n"));
  assert.equal(final.uncaughtException, 0, final.failureMessages.join("\n"));
  assert.deepEqual(Object.keys(final.logged).filter((k) => k.startsWith("error:")), []);
  assert.ok(final.gc, "forced GC (--expose-gc) ran");
  assert.ok(final.heapUsed <= baseline.heapUsed + 8 * 2 ** 20, `heap ${final.heapUsed} vs baseline ${baseline.heapUsed}`);
  assert.ok(report.ok, JSON.stringify(report.checks.filter((c) => !c.ok)));
});
