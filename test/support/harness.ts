// Shared test helpers: a sockjet server on an ephemeral port, official socket.io-client v4
// clients over each transport mode, and small promise utilities. No timing assertions anywhere.

import type { AddressInfo } from "node:net";
import type { Server as HttpServer } from "node:http";
import { io, type Socket as ClientSocket, type ManagerOptions, type SocketOptions } from "socket.io-client";
import { Server, type ServerOptions } from "../../src/index.js";
import { within } from "../e2e/_util.js";

/** The three ways a client can reach the server; every end-to-end feature test runs over each. */
export const TRANSPORT_MODES = {
  websocket: { transports: ["websocket"], upgrade: false },
  polling: { transports: ["polling"], upgrade: false },
  "polling+upgrade": { transports: ["polling", "websocket"], upgrade: true },
} as const satisfies Record<string, Partial<ManagerOptions>>;
export type TransportMode = keyof typeof TRANSPORT_MODES;
export const MODES = Object.keys(TRANSPORT_MODES) as TransportMode[];

export interface TestServer {
  sio: Server;
  http: HttpServer;
  port: number;
  url: string;
  /** Opens a client (not yet connected unless `wait` resolves) on a namespace with a transport mode. */
  client(mode: TransportMode, namespace?: string, options?: Partial<ManagerOptions & SocketOptions>): ClientSocket;
  /** Opens a client and waits for its connect. */
  connect(mode: TransportMode, namespace?: string, options?: Partial<ManagerOptions & SocketOptions>): Promise<ClientSocket>;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions = {}, setup?: (sio: Server) => void): Promise<TestServer> {
  const sio = new Server(options);
  setup?.(sio);
  const http = await sio.listen(0, "127.0.0.1");
  const port = (http.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const clients: ClientSocket[] = [];
  const client = (mode: TransportMode, namespace = "/", opts: Partial<ManagerOptions & SocketOptions> = {}) => {
    const socket = io(url + namespace, { forceNew: true, reconnection: false, ...TRANSPORT_MODES[mode], ...opts });
    clients.push(socket);
    return socket;
  };
  return {
    sio,
    http,
    port,
    url,
    client,
    async connect(mode, namespace, opts) {
      const socket = client(mode, namespace, opts);
      await waitConnect(socket);
      if (mode === "polling+upgrade") await waitUpgrade(socket);
      return socket;
    },
    async close() {
      for (const c of clients) c.disconnect();
      await sio.close();
    },
  };
}

export function waitConnect(socket: ClientSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once("connect", () => resolve());
    socket.once("connect_error", (err) => reject(err));
  });
}

/** Resolves once the client's engine is on WebSocket (after an upgrade from polling). */
export function waitUpgrade(socket: ClientSocket): Promise<void> {
  const engine = socket.io.engine;
  return new Promise((resolve) => {
    if (engine.transport.name === "websocket") return resolve();
    engine.once("upgrade", () => resolve());
  });
}

/** The next occurrence of an event, with its arguments. */
export function once<T extends unknown[] = unknown[]>(emitter: { once(event: string, fn: (...args: never[]) => void): unknown }, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, ((...args: unknown[]) => resolve(args as T)) as (...args: never[]) => void));
}

/** A promise and its resolvers, for handlers that signal a test. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (err: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** Resolves after `ms` (for letting a non-event settle, never for timing assertions). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true (or throws after `timeout` ms). */
export async function until(check: () => boolean, timeout = 5000, what = "condition"): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** `until` for a check that must ask something (a broker, a file): polled every 50 ms. */
export async function untilAsync(check: () => Promise<boolean>, timeout = 5000, what = "condition"): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Disconnect reasons that a server reports (by sid), each awaitable before it arrives: `record`
 * takes a report, `reasonOf` waits for one, up to `wait` ms.
 */
export function disconnectReasons(wait: number): { record(sid: string, reason: string): void; reasonOf(sid: string): Promise<string> } {
  const entries = new Map<string, ReturnType<typeof deferred<string>>>();
  const entry = (sid: string) => {
    let found = entries.get(sid);
    if (found === undefined) entries.set(sid, (found = deferred<string>()));
    return found;
  };
  return {
    record: (sid, reason) => entry(sid).resolve(reason),
    reasonOf: (sid) => within(entry(sid).promise, wait, `server disconnect reason for ${sid}`),
  };
}
