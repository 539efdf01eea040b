// Broker link faults under load, run per broker by test/cluster/faults-{redis,amqp,nats}.test.ts
// (one file each, so that each stays well under the runner's per-file limit; the short slice of
// bench/faults.ts): two sockjet server processes and a write-only Emitter process reach the
// broker through a TCP proxy; while every one of them broadcasts numbered messages to a room
// spanning the servers and calls clients of another server, the proxy is cut for 3 s and
// restored; then the link goes silent for 4 s without a reset (TcpProxy.stall), which only the
// drivers' own timeouts can notice, and comes back. Every (message, client) pair must be
// delivered or accounted for by a report (the sender's "error" event or rejection, or the
// receiving server's own disconnect window); nothing arrives twice; every call ends (ok,
// ACK_TIMEOUT or the broker's error), none hangs; delivery resumes; and every process reports the
// silent link as a disconnect while it lasts. The discrete outage checks (which operation is
// reported, local delivery) are in test/support/cluster-scenarios.ts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { TcpProxy } from "./cluster-proxy.js";
import { probeBroker } from "./cluster-scenarios.js";
import { analyse, startFaultCluster, startLoad, stopLoad, type FaultReport } from "./fault-load.js";


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function urlVia(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(port);
  return u.toString();
}

function check(report: FaultReport, drained: boolean): void {
  const text = JSON.stringify(report, null, 1);
  assert.ok(drained, `a marker sent after the load did not reach every client: ${text}`);
  for (const s of report.streams) {
    assert.equal(s.crashed, false, `${s.source} died`);
    assert.ok(s.sent > 0, `${s.source} sent nothing`);
    assert.equal(s.missingSilent, 0, `silent losses from ${s.source}: ${s.silentSamples.join("; ")}`);
    assert.equal(s.duplicates, 0, `duplicates from ${s.source}`);
    assert.notEqual(s.completeAfterRestore, null, `delivery from ${s.source} did not resume: ${text}`);
  }
  for (const c of report.calls) {
    assert.equal(c.pending, 0, `${c.caller}: calls still pending after their timeout`);
    assert.equal(c.wrong, 0, `${c.caller}: wrong replies`);
    assert.equal(c.duplicates, 0, `${c.caller}: a call request arrived twice`);
    assert.notEqual(c.firstOkAfterRestore, null, `${c.caller}: no call succeeded after the restore: ${text}`);
  }
  for (const r of report.reconnect) assert.notEqual(r.ms, null, `${r.process} never reported "reconnect"`);
  // The cut did take messages away, and each of those was reported (checked above).
  assert.ok(report.streams.some((s) => s.reportedLost > 0), `the cut lost nothing: ${text}`);
}

/** Registers the test for one broker. */
export function brokerFaultTest(broker: { name: string; url: string }): void {
  const title = `${broker.name}: a 3 s link cut then a 4 s silent link under load; every message delivered or reported, none twice, delivery resumes`;
  test(title, async () => {
    const { host, port } = await probeBroker(broker);
    const proxy = await new TcpProxy(host, port).start();
    const config = { url: urlVia(broker.url, proxy.port), channel: `sockjet-faults-${randomUUID()}`, fastBackoff: true, publishTimeout: 1000 };
    const cluster = await startFaultCluster(config, 2, 2);
    const all = [...cluster.servers, cluster.emitter];
    try {
      startLoad(cluster, { period: 50, callPeriod: 200, callTimeout: 3000 });
      await sleep(1000);
      const faultAt = Date.now();
      proxy.cut();
      await sleep(3000);
      proxy.restore();
      let restoreAt = Date.now();
      assert.deepEqual(await Promise.all(all.map((p) => p.reconnected(restoreAt, 30_000))), all.map(() => true), "every process reconnects after the cut");
      // No reset this time: only the drivers' own timeouts can notice (publishTimeout 1 s here).
      await sleep(1000);
      const stallAt = Date.now();
      proxy.stall();
      await sleep(4000);
      const noticed = all.map((p) => p.events.some((e) => e.name === "disconnect" && e.at >= stallAt));
      proxy.restore();
      restoreAt = Date.now();
      assert.deepEqual(noticed, all.map(() => true), "every process reports the silent link as a disconnect while it lasts");
      assert.deepEqual(await Promise.all(all.map((p) => p.reconnected(restoreAt, 30_000))), all.map(() => true), "every process reconnects after the silent link");
      await sleep(1500);
      const { logs, drained } = await stopLoad(cluster);
      check(analyse(cluster, logs, faultAt, restoreAt), drained);
    } finally {
      await cluster.close();
      await proxy.close();
    }
  });
}
