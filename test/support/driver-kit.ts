// Shared by the broker driver tests (test/cluster/{amqp,nats,redis}-driver.test.ts):
// recorded DriverEvents, a message sink, a TCP proxy the tests cut and restore to simulate an
// outage, sequenced binary payloads, the delivery contract every driver keeps (checkFanout), the
// "exits by itself after close()" check with its child mode, and three servers joined by a manager.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { spawn } from "node:child_process";
import type { Socket as ClientSocket } from "socket.io-client";
import type { DriverEvents, PubSubDriver } from "../../src/manager/driver.js";
import type { PubSubManager, ClusterErrorEvent } from "../../src/manager/pubsub/index.js";
import { startServer, until, type TestServer } from "./harness.js";

export function silentEvents(): DriverEvents {
  return { onError() {}, onDisconnect() {}, onReconnect() {} };
}

/** Records DriverEvents and lets a test wait for the next disconnect/reconnect. */
export class EventLog implements DriverEvents {
  readonly errors: Array<{ error: Error; stage: string }> = [];
  disconnects = 0;
  reconnects = 0;
  private waiters: Array<{ check: () => boolean; resolve: () => void }> = [];
  onError(error: Error, stage: string): void {
    this.errors.push({ error, stage });
    this.wake();
  }
  onDisconnect(): void {
    this.disconnects++;
    this.wake();
  }
  onReconnect(): void {
    this.reconnects++;
    this.wake();
  }
  /** Resolves once `check` holds (re-checked on every event), or rejects after `ms`. */
  until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      this.waiters.push({ check, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
  private wake(): void {
    this.waiters = this.waiters.filter((w) => (w.check() ? (w.resolve(), false) : true));
  }
}

/** Collects payloads; `count(n)` waits until n have arrived. */
export class Sink {
  readonly messages: Buffer[] = [];
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  readonly onMessage = (payload: Uint8Array): void => {
    this.messages.push(Buffer.from(payload));
    this.waiters = this.waiters.filter((w) => (this.messages.length >= w.n ? (w.resolve(), false) : true));
  };
  count(n: number, what = `${n} messages`, ms = 10_000): Promise<void> {
    if (this.messages.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what} (have ${this.messages.length})`)), ms);
      this.waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

/** A TCP proxy in front of the broker that a test can cut and restore on the same port. */
export class Proxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}
  async listen(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("error", () => {});
        s.on("close", () => {
          this.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }
  /** Stops accepting and kills every proxied connection. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  async restore(): Promise<void> {
    await this.listen();
  }
}

/** A local port nothing listens on. */
export async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Message i of a sequence from `from`: "<from>:<i>:" followed by the 256 byte values. */
export function sequenced(from: string, i: number): Buffer {
  return Buffer.concat([Buffer.from(`${from}:${i}:`), ALL_BYTES]);
}
export const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

export function parse(message: Buffer): { from: string; i: number; tail: Buffer } {
  const first = message.indexOf(0x3a);
  const second = message.indexOf(0x3a, first + 1);
  return { from: message.subarray(0, first).toString(), i: Number(message.subarray(first + 1, second).toString()), tail: message.subarray(second + 1) };
}

/**
 * The delivery contract every driver keeps: `a` and `b`, started on `channel`, each receive every
 * message of both (their own included), in each sender's order even when published concurrently,
 * byte-exact, an empty and an all-byte-values payload included; `c`, started on `other`, receives
 * none of it. Starts the three drivers itself.
 */
export async function checkFanout(a: PubSubDriver, b: PubSubDriver, c: PubSubDriver, channel: string, other: string): Promise<void> {
  const sinkA = new Sink();
  const sinkB = new Sink();
  const sinkC = new Sink();
  const logA = new EventLog();
  await a.start(channel, sinkA.onMessage, logA);
  await b.start(channel, sinkB.onMessage, new EventLog());
  await c.start(other, sinkC.onMessage, new EventLog());

  const N = 40;
  // Not awaited one by one: order must hold for concurrent publishes too.
  const sent: Promise<void>[] = [];
  for (let i = 0; i < N; i++) {
    sent.push(a.publish(channel, sequenced("a", i)));
    sent.push(b.publish(channel, sequenced("b", i)));
  }
  sent.push(a.publish(channel, ALL_BYTES), b.publish(channel, new Uint8Array(0)));
  await Promise.all(sent);
  await sinkA.count(2 * N + 2);
  await sinkB.count(2 * N + 2);

  for (const sink of [sinkA, sinkB]) {
    const seq = { a: [] as number[], b: [] as number[] };
    let raw = 0;
    let empty = 0;
    for (const m of sink.messages) {
      if (m.length === 0) {
        empty++;
        continue;
      }
      if (m.equals(ALL_BYTES)) {
        raw++;
        continue;
      }
      const { from, i, tail } = parse(m);
      assert.ok(from === "a" || from === "b", `unexpected sender ${from}`);
      assert.ok(tail.equals(ALL_BYTES), "payload bytes changed in transit");
      seq[from].push(i);
    }
    const expected = Array.from({ length: N }, (_, i) => i);
    assert.deepEqual(seq.a, expected);
    assert.deepEqual(seq.b, expected);
    assert.equal(raw, 1);
    assert.equal(empty, 1);
    assert.equal(sink.messages.length, 2 * N + 2);
  }

  // The other channel saw none of that: its own message is the first and only one it gets.
  await c.publish(other, Buffer.from("other"));
  await sinkC.count(1);
  assert.deepEqual(sinkC.messages.map(String), ["other"]);
  assert.equal(sinkA.messages.length, 2 * N + 2);
  assert.deepEqual(logA.errors, []);
}

/**
 * Child mode of checkExitsAfterClose: two drivers on one channel, one message, both closed. The
 * process must then exit by itself (no timer, socket or handle left open).
 */
export async function runCloseChild(make: () => PubSubDriver, channel: string): Promise<void> {
  const got: Uint8Array[] = [];
  const a = make();
  const b = make();
  await a.start(channel, (p) => got.push(p), silentEvents());
  await b.start(channel, (p) => got.push(p), silentEvents());
  await a.publish(channel, new Uint8Array([1, 2, 3]));
  const start = Date.now();
  while (got.length < 2 && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 10));
  await a.close();
  await b.close();
  process.stdout.write(`received ${got.length}\n`);
}

/** Runs `testFile` with `envVar=1` (its runCloseChild mode) and asserts it exits by itself, cleanly. */
export async function checkExitsAfterClose(testFile: string, envVar: string): Promise<void> {
  const child = spawn(process.execPath, ["--import", "tsx", testFile], { env: { ...process.env, [envVar]: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d));
  child.stderr.on("data", (d: Buffer) => (out += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("exit", (c, s) => resolve([c, s])));
  clearTimeout(timer);
  assert.equal(signal, null, `child did not exit by itself:\n${out}`);
  assert.equal(code, 0, out);
  assert.match(out, /received 2/);
}

/** Every event a client receives, by name. */
function record(socket: ClientSocket): Map<string, unknown[][]> {
  const seen = new Map<string, unknown[][]>();
  socket.onAny((event: string, ...args: unknown[]) => {
    const list = seen.get(event) ?? [];
    list.push(args);
    seen.set(event, list);
  });
  return seen;
}

/**
 * Three sockjet servers in this process joined by the managers `makeManager` builds, with
 * socket.io-client clients: an emit to everyone reaches each client once, a room emit only the
 * room's members (joined locally and from other servers), and nothing is reported lost.
 */
export function managerSuite(name: string, makeManager: (onError: (event: ClusterErrorEvent) => void) => PubSubManager): void {
  describe(`${name}: three sockjet servers in one process`, () => {
    const servers: TestServer[] = [];
    const errors: string[] = [];
    before(async () => {
      const managers: PubSubManager[] = [];
      for (let i = 0; i < 3; i++) {
        const manager = makeManager((e) => errors.push(`${e.stage}: ${e.error.message}`));
        managers.push(manager);
        servers.push(await startServer({ clientManager: manager }));
      }
      await Promise.all(managers.map((m) => m.ready));
    });
    after(async () => {
      await Promise.all(servers.map((s) => s.close()));
    });

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
