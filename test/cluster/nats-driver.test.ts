// NatsDriver against a real NATS server (NATS_URL, default nats://127.0.0.1:4222): delivery to
// every driver on a subject (own messages included), order, byte-exact binary payloads, subject
// isolation, publish rejection and reconnect across a cut TCP proxy, and a clean exit after
// close(); then three sockjet servers in one process joined by NatsManager with socket.io-client
// clients.

import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { NatsDriver, type NatsDriverOptions } from "../../src/manager/drivers/nats.js";
import { EventLog, Proxy, Sink, checkExitsAfterClose, checkFanout, deadPort, managerSuite, runCloseChild } from "../support/driver-kit.js";
import { probeBroker } from "../support/cluster-scenarios.js";
import { NatsManager } from "../../src/manager/pubsub/nats.js";

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const BROKER = new URL(NATS_URL);
const BROKER_HOST = BROKER.hostname || "127.0.0.1";
const BROKER_PORT = Number(BROKER.port || 4222);
/** The broker URL with another host:port (the proxy's). */
function urlVia(port: number): string {
  const url = new URL(NATS_URL);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return url.toString();
}
const suffix = randomBytes(4).toString("hex");
const channelName = (name: string): string => `sockjet-test.${name}.${suffix}`;

// ---------------------------------------------------------------------------------------------
// Child mode: started by the "close() leaves no open handles" test; it must exit by itself.
if (process.env.SOCKJET_NATS_CHILD === "1") {
  await runCloseChild(() => new NatsDriver({ url: NATS_URL }), channelName("child"));
} else {
  await suite();
}


async function suite(): Promise<void> {
  await probeBroker({ name: "NATS", url: NATS_URL });

  describe("NatsDriver", () => {
    const drivers: NatsDriver[] = [];
    const proxies: Proxy[] = [];
    const make = (options: NatsDriverOptions = {}): NatsDriver => {
      const d = new NatsDriver({ url: NATS_URL, backoff: { min: 50, max: 500 }, publishTimeout: 3000, ...options });
      drivers.push(d);
      return d;
    };
    after(async () => {
      await Promise.all(drivers.map((d) => d.close()));
      await Promise.all(proxies.map((p) => p.cut()));
    });

    test("every driver on a subject receives every message, own included, in order, byte-exact; other subjects are isolated", async () => {
      const channel = channelName("fanout");
      const other = channelName("other");
      await checkFanout(make(), make(), make(), channel, other);
    });

    test("publish to a subject other than the started one reaches its subscribers", async () => {
      const mine = channelName("mine");
      const theirs = channelName("theirs");
      const sink = new Sink();
      const a = make();
      const b = make();
      await a.start(mine, () => {}, new EventLog());
      await b.start(theirs, sink.onMessage, new EventLog());
      await a.publish(theirs, Buffer.from("hello"));
      await sink.count(1);
      assert.equal(String(sink.messages[0]), "hello");
    });

    test("start() with initialRetries 0 rejects at once when the broker is unreachable", async () => {
      const d = make({ url: urlVia(await deadPort()), initialRetries: 0 });
      await assert.rejects(d.start(channelName("unreachable"), () => {}, new EventLog()));
      await assert.rejects(d.publish(channelName("unreachable"), Buffer.from("x")));
    });

    test("start() by default keeps trying, reports the failure, and connects once the broker is reachable", async () => {
      const channel = channelName("late");
      const proxy = new Proxy(BROKER_HOST, BROKER_PORT);
      proxies.push(proxy);
      await proxy.listen();
      await proxy.cut();
      const log = new EventLog();
      const sink = new Sink();
      const d = make({ url: urlVia(proxy.port) });
      const started = d.start(channel, sink.onMessage, log);
      await log.until(() => log.errors.length > 0, "a connect error");
      assert.equal(log.errors[0]?.stage, "connect");
      await assert.rejects(d.publish(channel, Buffer.from("early")), /not connected/);
      await proxy.restore();
      await started;
      await d.publish(channel, Buffer.from("late"));
      await sink.count(1);
      assert.deepEqual(sink.messages.map(String), ["late"]);
      assert.equal(log.disconnects + log.reconnects, 0);
    });

    test("close() while start() is still trying makes start() reject", async () => {
      const log = new EventLog();
      const d = make({ url: urlVia(await deadPort()) });
      const started = d.start(channelName("never"), () => {}, log);
      await log.until(() => log.errors.length > 0, "a connect error");
      await d.close();
      await assert.rejects(started);
    });

    test("across a broker outage: publish rejects, onDisconnect, then onReconnect and messages flow again", async () => {
      const channel = channelName("outage");
      const proxy = new Proxy(BROKER_HOST, BROKER_PORT);
      proxies.push(proxy);
      await proxy.listen();
      const log = new EventLog();
      const viaProxy = new Sink();
      const direct = new Sink();
      const p = make({ url: urlVia(proxy.port) });
      const d = make();
      await p.start(channel, viaProxy.onMessage, log);
      await d.start(channel, direct.onMessage, new EventLog());

      await p.publish(channel, Buffer.from("before"));
      await viaProxy.count(1);
      await direct.count(1);

      // In flight when the connection is cut: never confirmed, so it rejects (and does not hang).
      const inFlight = p.publish(channel, Buffer.from("in-flight"));
      await proxy.cut();
      await assert.rejects(inFlight);
      await log.until(() => log.disconnects === 1, "onDisconnect");
      await assert.rejects(p.publish(channel, Buffer.from("during")), /not connected/);
      assert.equal(log.reconnects, 0);
      // Published by another server during the outage: core NATS keeps nothing for absent subscribers (documented).
      await d.publish(channel, Buffer.from("missed"));
      await direct.count(2);

      await proxy.restore();
      await log.until(() => log.reconnects === 1, "onReconnect");
      assert.equal(log.disconnects, 1);
      await p.publish(channel, Buffer.from("after-p"));
      await d.publish(channel, Buffer.from("after-d"));
      await viaProxy.count(3);
      await direct.count(4);
      assert.deepEqual(viaProxy.messages.map(String), ["before", "after-p", "after-d"]);
      assert.deepEqual(direct.messages.map(String), ["before", "missed", "after-p", "after-d"]);
      // The loss was reported (as a connection error), and nothing else went wrong.
      assert.ok(log.errors.length > 0);
      assert.ok(log.errors.every((e) => e.stage === "connect"), JSON.stringify(log.errors.map((e) => [e.stage, e.error.message])));
      await p.close();
      await proxy.cut();
    });

    test("close() leaves no open handles: a process that used two drivers exits by itself", async () => {
      await checkExitsAfterClose(fileURLToPath(import.meta.url), "SOCKJET_NATS_CHILD");
    });
  });

  managerSuite("NatsManager", (onError) => new NatsManager({ url: NATS_URL, channel: channelName("servers"), backoff: { min: 50, max: 500 }, onError }));
}
