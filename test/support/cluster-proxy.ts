// A TCP proxy in front of a broker, so a test can take the broker away from the servers and give
// it back: `cut()` destroys every open connection and refuses new ones; `stall()` keeps every
// connection open but forwards nothing either way (a link gone silent, no reset: only timeouts
// and heartbeats notice), and holds new connections unanswered; `restore()` lets everything
// through again (what a stall held back is then delivered). The broker itself keeps running
// (other processes may use it).

import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

interface Pair {
  client: Socket;
  upstream: Socket | null;
}

export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<Pair>();
  private open = true;
  private stalled = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<this> {
    const server = createServer((client) => {
      if (!this.open) {
        client.destroy();
        return;
      }
      const pair: Pair = { client, upstream: null };
      this.pairs.add(pair);
      this.track(client);
      client.on("error", () => this.end(pair)).on("close", () => this.end(pair));
      // A connection made during a stall is accepted and left unanswered until restore().
      if (this.stalled) client.pause();
      else this.link(pair);
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** The broker goes away: open connections are cut, new ones are refused (closed on accept). */
  cut(): void {
    this.open = false;
    this.stalled = false;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.pairs.clear();
  }

  /** The link goes silent: connections stay open, nothing is forwarded, new ones get no answer. */
  stall(): void {
    this.stalled = true;
    for (const pair of this.pairs) {
      pair.client.unpipe();
      pair.client.pause();
      pair.upstream?.unpipe();
      pair.upstream?.pause();
    }
  }

  restore(): void {
    this.open = true;
    if (!this.stalled) return;
    this.stalled = false;
    for (const pair of this.pairs) {
      if (pair.upstream === null) this.link(pair);
      else this.pipe(pair);
    }
  }

  async close(): Promise<void> {
    this.cut();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private link(pair: Pair): void {
    const upstream = connect(this.targetPort, this.targetHost);
    pair.upstream = upstream;
    this.track(upstream);
    upstream.on("error", () => this.end(pair)).on("close", () => this.end(pair));
    this.pipe(pair);
  }

  private pipe(pair: Pair): void {
    pair.client.pipe(pair.upstream!);
    pair.upstream!.pipe(pair.client);
    pair.client.resume();
    pair.upstream!.resume();
  }

  private end(pair: Pair): void {
    pair.client.destroy();
    pair.upstream?.destroy();
    this.pairs.delete(pair);
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
  }
}
