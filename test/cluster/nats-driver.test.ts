// NatsDriver against a real NATS server (NATS_URL, default nats://127.0.0.1:4222): delivery to
// every driver on a subject (own messages included), order, byte-exact binary payloads, subject
// isolation, publish rejection and reconnect across a cut TCP proxy, and a clean exit after
// close(); then three sockjet servers in one process joined by NatsManager with socket.io-client
// clients. Skipped when the server is unreachable, except in CI.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { NatsDriver, type NatsDriverOptions } from "../../src/manager/drivers/nats.js";
import { EventLog, Proxy, Sink, brokerReachable, checkFanout, deadPort, silentEvents } from "../support/driver-kit.js";
import { NatsManager } from "../../src/manager/pubsub/nats.js";
import { startServer, until, type TestServer } from "../support/harness.js";
import type { Socket as ClientSocket } from "socket.io-client";

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
  const channel = channelName("child");
  const got: Uint8Array[] = [];
  const a = new NatsDriver({ url: NATS_URL });
  const b = new NatsDriver({ url: NATS_URL });
  await a.start(channel, (p) => got.push(p), silentEvents());
  await b.start(channel, (p) => got.push(p), silentEvents());
  await a.publish(channel, new Uint8Array([1, 2, 3]));
  const start = Date.now();
  while (got.length < 2 && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 10));
  await a.close();
  await b.close();
  process.stdout.write(`received ${got.length}\n`);
} else {
  await suite();
}


async function suite(): Promise<void> {
  const reachable = await brokerReachable(BROKER_HOST, BROKER_PORT);
  const skip = !reachable && process.env.CI !== "true" ? `NATS not reachable at ${BROKER_HOST}:${BROKER_PORT}` : false;

  describe("NatsDriver", { skip }, () => {
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
      const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], {
        env: { ...process.env, SOCKJET_NATS_CHILD: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d));
      child.stderr.on("data", (d: Buffer) => (out += d));
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("exit", (c, s) => resolve([c, s])));
      clearTimeout(timer);
      assert.equal(signal, null, `child did not exit by itself:\n${out}`);
      assert.equal(code, 0, out);
      assert.match(out, /received 2/);
    });
  });

  describe("NatsManager: three sockjet servers in one process", { skip }, () => {
    const channel = channelName("servers");
    const servers: TestServer[] = [];
    const errors: string[] = [];
    before(async () => {
      const managers: NatsManager[] = [];
      for (let i = 0; i < 3; i++) {
        const manager = new NatsManager({ url: NATS_URL, channel, backoff: { min: 50, max: 500 }, onError: (e) => errors.push(`${e.stage}: ${e.error.message}`) });
        managers.push(manager);
        servers.push(await startServer({ clientManager: manager }));
      }
      await Promise.all(managers.map((m) => m.ready));
    });
    after(async () => {
      await Promise.all(servers.map((s) => s.close()));
    });

    /** Every event a client receives, by name. */
    const record = (socket: ClientSocket): Map<string, unknown[][]> => {
      const seen = new Map<string, unknown[][]>();
      socket.onAny((event: string, ...args: unknown[]) => {
        const list = seen.get(event) ?? [];
        list.push(args);
        seen.set(event, list);
      });
      return seen;
    };

    test("an emit to everyone reaches each client exactly once; a room emit reaches only the room's members, on every server", async () => {
      const clients: ClientSocket[] = [];
      for (let i = 0; i < 6; i++) clients.push(await servers[i % 3]!.connect("websocket"));
      const inbox = clients.map(record);
      const sid = (i: number): string => clients[i]!.id as string;
      /** Emits a marker to everyone from `from` and waits for all six clients to have it. */
      const barrier = async (from: number, marker: string): Promise<void> => {
        await servers[from]!.sio.emit(marker, null);
        await until(() => inbox.every((seen) => seen.has(marker)), 10_000, marker);
      };

      await servers[0]!.sio.emit("hello", "all");
      await barrier(0, "end-1");
      for (const seen of inbox) assert.deepEqual(seen.get("hello"), [["all"]]);

      // Room "r": client 1 (server 1) entered from server 0, client 2 (server 2) and client 3 (server 0) locally.
      await servers[0]!.sio.enterRoom(sid(1), "r");
      await servers[2]!.sio.enterRoom(sid(2), "r");
      await servers[0]!.sio.enterRoom(sid(3), "r");
      await until(() => servers[1]!.sio.rooms(sid(1)).includes("r"), 10_000, "remote enter_room");
      await servers[1]!.sio.emit("roomy", { n: 1 }, { to: "r" });
      await barrier(1, "end-2");
      const members = [1, 2, 3];
      inbox.forEach((seen, i) => assert.deepEqual(seen.get("roomy"), members.includes(i) ? [[{ n: 1 }]] : undefined, `client ${i}`));
      assert.deepEqual(errors, []);
    });
  });
}
