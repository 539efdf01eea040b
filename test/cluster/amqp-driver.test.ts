// AmqpDriver against a real RabbitMQ (AMQP_URL, default amqp://guest:guest@127.0.0.1:5672):
// fan-out to every driver on a channel (own messages included), order, byte-exact binary payloads,
// channel isolation (fanout and topic), publish rejection and reconnect across a cut TCP proxy,
// and a clean exit after close(); then three sockjet servers in one process joined by
// AmqpManager with socket.io-client clients.

import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { connect as amqpConnect } from "amqplib";
import { AmqpDriver, type AmqpDriverOptions } from "../../src/manager/drivers/amqp.js";
import { EventLog, Proxy, Sink, checkExitsAfterClose, checkFanout, deadPort, managerSuite, runCloseChild } from "../support/driver-kit.js";
import { probeBroker } from "../support/cluster-scenarios.js";
import { AmqpManager } from "../../src/manager/pubsub/amqp.js";

const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const BROKER = new URL(AMQP_URL);
const BROKER_HOST = BROKER.hostname || "127.0.0.1";
const BROKER_PORT = Number(BROKER.port || 5672);
const suffix = randomBytes(4).toString("hex");
const channelName = (name: string): string => `sockjet-test.${name}.${suffix}`;
/** The broker URL with another host:port (the proxy's). */
function urlVia(port: number): string {
  const url = new URL(AMQP_URL);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return url.toString();
}

// ---------------------------------------------------------------------------------------------
// Child mode: started by the "close() leaves no open handles" test; it must exit by itself.
if (process.env.SOCKJET_AMQP_CHILD === "1") {
  await runCloseChild(() => new AmqpDriver({ url: AMQP_URL }), channelName("child"));
} else {
  await suite();
}


async function suite(): Promise<void> {
  await probeBroker({ name: "RabbitMQ", url: AMQP_URL });

  describe("AmqpDriver", () => {
    const drivers: AmqpDriver[] = [];
    const proxies: Proxy[] = [];
    const make = (options: AmqpDriverOptions = {}): AmqpDriver => {
      const d = new AmqpDriver({ url: AMQP_URL, backoff: { min: 50, max: 500 }, publishTimeout: 3000, ...options });
      drivers.push(d);
      return d;
    };
    after(async () => {
      await Promise.all(drivers.map((d) => d.close()));
      await Promise.all(proxies.map((p) => p.cut()));
    });

    for (const exchangeType of ["fanout", "topic"] as const) {
      test(`${exchangeType}: every driver on a channel receives every message, own included, in order, byte-exact; other channels are isolated`, async () => {
        const channel = channelName(`fanout-${exchangeType}`);
        const other = channelName(`other-${exchangeType}`);
        // topic: all three share one exchange, isolated by routing key.
        const shared: AmqpDriverOptions = exchangeType === "topic" ? { exchangeType, exchange: channelName("topic-exchange") } : {};
        await checkFanout(make(shared), make(shared), make(shared), channel, other);
      });
    }

    test("publish to a channel other than the started one declares its exchange and reaches its subscribers", async () => {
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

    test("a connection lost in the middle of setup neither crashes the process nor stops the driver", async () => {
      // The first connection is cut when the client opens its first channel (the handshake is done,
      // the exchange/queue setup has begun); later connections pass through.
      let connections = 0;
      const sockets = new Set<net.Socket>();
      const server = net.createServer((client) => {
        const upstream = net.connect(BROKER_PORT, BROKER_HOST);
        const cutThisOne = ++connections === 1;
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.on("error", () => {});
          sock.on("close", () => (sockets.delete(sock), client.destroy(), upstream.destroy()));
        }
        upstream.pipe(client);
        let pending = Buffer.alloc(0);
        let headerSeen = false;
        client.on("data", (chunk: Buffer) => {
          if (!cutThisOne) return void upstream.write(chunk);
          pending = Buffer.concat([pending, chunk]);
          if (!headerSeen && pending.length >= 8) (headerSeen = true), (pending = pending.subarray(8));
          // Frames: type(1) channel(2) size(4) payload(size) end(1).
          while (headerSeen && pending.length >= 7) {
            if (pending.readUInt16BE(1) !== 0) {
              client.destroy();
              upstream.destroy();
              return;
            }
            const total = 8 + pending.readUInt32BE(3);
            if (pending.length < total) break;
            pending = pending.subarray(total);
          }
          upstream.write(chunk);
        });
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
      try {
        const channel = channelName("midsetup");
        const log = new EventLog();
        const sink = new Sink();
        const d = make({ url: urlVia((server.address() as net.AddressInfo).port) });
        await d.start(channel, sink.onMessage, log);
        assert.equal(connections, 2);
        assert.ok(log.errors.some((e) => e.stage === "connect"), "the failed attempt is reported");
        await d.publish(channel, Buffer.from("ok"));
        await sink.count(1);
      } finally {
        for (const sock of sockets) sock.destroy();
        await new Promise<void>((r) => server.close(() => r()));
      }
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
      // Published by another server during the outage: this process's queue is gone, so it misses it (documented).
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

    test("a channel error (exchange deleted under it) is reported, and the driver rebuilds its topology", async () => {
      const channel = channelName("rebuild");
      const log = new EventLog();
      const sink = new Sink();
      const d = make();
      await d.start(channel, sink.onMessage, log);
      const admin = await amqpConnect(AMQP_URL);
      try {
        const ch = await admin.createChannel();
        await ch.deleteExchange(channel);
        await ch.close();
      } finally {
        await admin.close();
      }
      // The publishing channel is closed by the broker (404): rejected, reported, then rebuilt.
      await assert.rejects(d.publish(channel, Buffer.from("lost")));
      await log.until(() => log.reconnects === 1, "onReconnect");
      assert.equal(log.disconnects, 1);
      assert.ok(log.errors.some((e) => e.stage === "publish" && /404|NOT_FOUND/.test(e.error.message)), JSON.stringify(log.errors.map((e) => e.error.message)));
      await d.publish(channel, Buffer.from("again"));
      await sink.count(1);
      assert.deepEqual(sink.messages.map(String), ["again"]);
    });

    test("close() leaves no open handles: a process that used two drivers exits by itself", async () => {
      await checkExitsAfterClose(fileURLToPath(import.meta.url), "SOCKJET_AMQP_CHILD");
    });
  });

  managerSuite("AmqpManager", (onError) => new AmqpManager({ url: AMQP_URL, channel: channelName("servers"), backoff: { min: 50, max: 500 }, onError }));
}
