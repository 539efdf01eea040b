// Shared by the broker driver tests (test/cluster/{amqp,nats,redis}-driver.test.ts):
// recorded DriverEvents, a message sink, a TCP proxy the tests cut and restore to simulate an
// outage, sequenced binary payloads, and the delivery contract every driver keeps (checkFanout).

import assert from "node:assert/strict";
import net from "node:net";
import type { DriverEvents, PubSubDriver } from "../../src/manager/driver.js";

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

export async function brokerReachable(BROKER_HOST: string, BROKER_PORT: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(BROKER_PORT, BROKER_HOST);
    socket.setTimeout(2000);
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
  });
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
