// An HTTP and WebSocket load balancer with no affinity, for the no-sticky cluster tests: every
// request, and every WebSocket upgrade, goes to the next backend in turn, whatever session it
// belongs to. It logs which backend got each request of each sid (the check that one session's
// requests really landed on different servers). `remove()` takes a backend out of the rotation
// (a server that was killed); a request in flight to it loses its connection.

import { createServer, request as httpRequest, Agent, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { AddressInfo } from "node:net";

export interface ProxyLogEntry {
  sid: string | null;
  backend: number;
  kind: "GET" | "POST" | "OPTIONS" | "upgrade" | string;
}

function sidOf(url: string | undefined): string | null {
  const match = /[?&]sid=([^&]+)/.exec(url ?? "");
  return match === null ? null : decodeURIComponent(match[1]!);
}

export class RoundRobinProxy {
  readonly log: ProxyLogEntry[] = [];
  port = 0;
  private server: Server | null = null;
  private next = 0;
  private readonly down = new Set<number>();
  private readonly agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  private readonly sockets = new Set<Socket | Duplex>();

  /** `backends`: ports on 127.0.0.1. */
  constructor(private readonly backends: number[]) {}

  async start(): Promise<this> {
    const server = createServer((req, res) => this.onRequest(req, res));
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    server.on("connection", (socket) => this.track(socket));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Takes backend `index` out of the rotation. */
  remove(index: number): void {
    this.down.add(index);
  }

  /** The backends each sid's requests went to. */
  backendsBySid(): Map<string, Set<number>> {
    const out = new Map<string, Set<number>>();
    for (const entry of this.log) {
      if (entry.sid === null) continue;
      let set = out.get(entry.sid);
      if (set === undefined) out.set(entry.sid, (set = new Set()));
      set.add(entry.backend);
    }
    return out;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.agent.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private pick(): number {
    for (let i = 0; i < this.backends.length; i++) {
      const index = this.next++ % this.backends.length;
      if (!this.down.has(index)) return index;
    }
    throw new Error("no backend left");
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const backend = this.pick();
    this.log.push({ sid: sidOf(req.url), backend, kind: req.method ?? "GET" });
    const upstream = httpRequest(
      { host: "127.0.0.1", port: this.backends[backend], method: req.method, path: req.url, headers: req.headers, agent: this.agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    // A backend that dies drops its requests' connections, as a TCP balancer would, rather than
    // answering 502: python-engineio's client (4.3) takes a non-2xx answer to a POST as the end of
    // its session without a disconnect event, and would never reconnect (see docs/cluster.md).
    upstream.on("error", () => res.destroy());
    // The client went away: so does the request to the backend (a long-poll's abort reaches the server).
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.track(socket);
    const backend = this.pick();
    this.log.push({ sid: sidOf(req.url), backend, kind: "upgrade" });
    const upstream = connect(this.backends[backend]!, "127.0.0.1");
    this.track(upstream);
    let lines = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
    upstream.write(lines + "\r\n");
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
    const end = () => {
      upstream.destroy();
      socket.destroy();
    };
    upstream.on("error", end).on("close", end);
    socket.on("error", end).on("close", end);
  }

  private track(socket: Socket | Duplex): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
  }
}
