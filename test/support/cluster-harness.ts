// Helpers for the cluster tests: N sockjet servers joined by a broker in this process, official
// socket.io-client v4 clients that record what they receive, and a flush that proves every
// earlier message has arrived (a marker published after them, FIFO per publisher) so that
// "received exactly once" can be asserted without timing.

import type { AddressInfo } from "node:net";
import { io, type Socket as ClientSocket } from "socket.io-client";
import { Server } from "../../src/index.js";
import { PubSubManager, type ClusterErrorEvent, type PubSubDriver } from "../../src/manager/pubsub/index.js";
import { ioV2, v2Connected, v2EmitAck, type V2Options } from "./v2-client.js";

/** A client that records every event it receives. */
export class Recorder {
  readonly events: Array<{ event: string; args: unknown[] }> = [];
  private waiters: Array<{ test: () => boolean; resolve: () => void }> = [];

  constructor(readonly socket: ClientSocket) {
    socket.onAny((event: string, ...args: unknown[]) => {
      this.events.push({ event, args });
      this.waiters = this.waiters.filter((w) => {
        if (!w.test()) return true;
        w.resolve();
        return false;
      });
    });
  }

  get id(): string {
    const id = this.socket.id;
    if (id === undefined) throw new Error("client not connected");
    return id;
  }

  all(event: string): unknown[][] {
    return this.events.filter((e) => e.event === event).map((e) => e.args);
  }

  count(event: string): number {
    return this.all(event).length;
  }

  /** Resolves when `test` holds (checked on every received event). */
  when(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  /** Resolves when `event` has been received at least `n` times. */
  received(event: string, n = 1): Promise<void> {
    return this.when(() => this.count(event) >= n);
  }

  clear(): void {
    this.events.length = 0;
  }
}

/**
 * A socket.io-client 2 client (Engine.IO v3) connected to `url` + "/", as a Recorder. That client
 * has no `onAny`: its event dispatch is wrapped instead. Its `socket.id` is its Engine.IO id, not
 * the server's sid (test/e2e/v2-client-sid.test.ts): the recorder's `id` is the sid the server
 * answers "whoami" with, so the server must acknowledge "whoami" with the sid. `double` is
 * acknowledged as the v4 clients of the harness do.
 */
export async function connectV2(url: string, options: V2Options = {}): Promise<Recorder> {
  const socket = ioV2(url, { forceNew: true, reconnection: false, ...options });
  socket.on("double", ((x: number, ack: (v: number) => void) => ack(x * 2)) as (...args: never[]) => void);
  const listeners: Array<(event: string, ...args: unknown[]) => void> = [];
  const dispatch = socket as unknown as { onevent(packet: { data?: unknown[] }): void };
  const onevent = dispatch.onevent;
  dispatch.onevent = function (this: unknown, packet: { data?: unknown[] }): void {
    const [event, ...args] = packet.data ?? [];
    for (const listener of listeners) listener(event as string, ...args);
    onevent.call(this, packet);
  };
  await v2Connected(socket);
  const [sid] = await v2EmitAck(socket, "whoami");
  if (typeof sid !== "string") throw new Error(`whoami answered ${JSON.stringify(sid)}`);
  // The subset of the v4 client's Socket that Recorder and the cluster tests use.
  const adapter = {
    id: sid,
    get connected() {
      return socket.connected;
    },
    io: socket.io,
    onAny(listener: (event: string, ...args: unknown[]) => void) {
      listeners.push(listener);
    },
    on: socket.on.bind(socket),
    once: socket.once.bind(socket),
    disconnect() {
      socket.close();
    },
  };
  return new Recorder(adapter as unknown as ClientSocket);
}

export interface ClusterServer {
  index: number;
  sio: Server;
  manager: PubSubManager;
  url: string;
  errors: ClusterErrorEvent[];
}

export interface InProcessCluster {
  servers: ClusterServer[];
  clients: Recorder[];
  /** Connects a client to server `index` (namespace default "/"). */
  connect(index: number, namespace?: string): Promise<Recorder>;
  /** Every server emits a marker to every client of `namespaces`; resolves when all have all markers. */
  flush(namespaces?: string[]): Promise<void>;
  close(): Promise<void>;
}

let markerSeq = 0;

export async function startInProcessCluster(
  n: number,
  driver: () => PubSubDriver,
  setup?: (sio: Server, index: number) => void,
  channel = "test",
): Promise<InProcessCluster> {
  const servers: ClusterServer[] = [];
  const clients: Recorder[] = [];
  const clientNamespaces = new Map<Recorder, string>();
  for (let i = 0; i < n; i++) {
    const errors: ClusterErrorEvent[] = [];
    const manager = new PubSubManager({ driver: driver(), channel, onError: (e) => errors.push(e) });
    const sio = new Server({ clientManager: manager, namespaces: "*" });
    sio.on("ask", (_sid: string, x: number) => x * 2);
    setup?.(sio, i);
    const http = await sio.listen(0, "127.0.0.1");
    await manager.ready;
    servers.push({ index: i, sio, manager, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, errors });
  }
  return {
    servers,
    clients,
    async connect(index, namespace = "/") {
      const socket = io(servers[index]!.url + namespace, { forceNew: true, reconnection: false, transports: ["websocket"] });
      const recorder = new Recorder(socket);
      socket.on("double", (x: number, ack: (v: number) => void) => ack(x * 2));
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", () => resolve());
        socket.once("connect_error", reject);
      });
      clients.push(recorder);
      clientNamespaces.set(recorder, namespace);
      return recorder;
    },
    async flush(namespaces) {
      const id = `m${markerSeq++}`;
      const targets = clients.filter((c) => c.socket.connected && (namespaces ?? ["/"]).includes(clientNamespaces.get(c)!));
      const spaces = [...new Set(targets.map((c) => clientNamespaces.get(c)!))];
      for (const server of servers) {
        for (const namespace of spaces) await server.sio.emit("__marker", `${id}:${server.index}`, { namespace });
      }
      await Promise.all(
        targets.map((c) => c.when(() => c.all("__marker").filter((a) => String(a[0]).startsWith(`${id}:`)).length === servers.length)),
      );
    },
    async close() {
      for (const c of clients) c.socket.disconnect();
      for (const s of servers) await s.sio.close();
    },
  };
}

/** Polls until `check` holds (no timing assertion: it fails only after a generous limit). */
export async function eventually(check: () => boolean, what = "condition", limit = 10_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > limit) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
