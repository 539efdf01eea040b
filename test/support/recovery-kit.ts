// Connection state recovery tests' pieces: a server-side event stream to a room, an official v4
// client (recovery-aware, reconnecting) behind a TCP proxy that a test cuts mid-stream, and the
// record of what each side saw. Shared by test/e2e/recovery.test.ts and the cluster tests.

import { io, type ManagerOptions, type Socket as ClientSocket, type SocketOptions } from "socket.io-client";
import type { Server, ConnectInfo } from "../../src/index.js";
import { TRANSPORT_MODES, type TransportMode, until, sleep } from "./harness.js";

/** What the server's handlers saw: each connect (sid, recovered) and each disconnect (sid, reason). */
export interface ServerLog {
  connects: Array<{ sid: string; recovered: boolean }>;
  disconnects: Array<{ sid: string; reason: string }>;
}

/**
 * Handlers for a recovery test: `join` enters the room and saves a session, `whoami` answers the
 * sid's rooms and session (read on the server that holds the sid).
 */
export function recoveryHandlers(sio: Server, room: string): ServerLog {
  const log: ServerLog = { connects: [], disconnects: [] };
  sio.on("connect", (sid: string, _environ: unknown, _auth: unknown, info: ConnectInfo) => {
    log.connects.push({ sid, recovered: info.recovered });
  });
  sio.on("disconnect", (sid: string, reason: string) => {
    log.disconnects.push({ sid, reason });
  });
  sio.on("join", async (sid: string, name: string) => {
    await sio.enterRoom(sid, room);
    sio.saveSession(sid, { name });
    return "joined";
  });
  sio.on("whoami", (sid: string) => ({ sid, rooms: sio.rooms(sid), session: sio.getSession(sid) }));
  return log;
}

/** Every TickClient not closed yet: a test that fails before its close() must not leave one reconnecting (the file would never exit). */
const openClients = new Set<TickClient>();

/** Closes the clients that tests left open (call from the file's `after`). */
export function closeTickClients(): void {
  for (const client of openClients) client.close();
}

/** The official client, reconnecting quickly, recording the `tick` numbers it processes. */
export class TickClient {
  readonly socket: ClientSocket;
  readonly ticks: number[] = [];
  /** The offset (last argument) of every tick, as the client saw it. */
  readonly offsets: unknown[] = [];

  constructor(url: string, mode: TransportMode, options: Partial<ManagerOptions & SocketOptions> = {}) {
    this.socket = io(url, {
      forceNew: true,
      reconnection: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 200,
      ...TRANSPORT_MODES[mode],
      ...options,
    });
    openClients.add(this);
    this.socket.on("tick", (n: number, offset: unknown) => {
      this.ticks.push(n);
      this.offsets.push(offset);
    });
  }

  async waitTicks(count: number, what = `${count} ticks`): Promise<void> {
    await until(() => this.ticks.length >= count, 20_000, what);
  }

  async waitLastTick(n: number): Promise<void> {
    await until(() => this.ticks.includes(n), 20_000, `tick ${n}`);
  }

  /**
   * Resolves at the next `connect` of the socket (the reconnection); rejects after `timeout` ms,
   * naming the connection errors and reconnection attempts seen meanwhile (a hang says why).
   */
  nextConnect(timeout = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const seen: string[] = [];
      const onError = (err: Error) => void seen.push(`connect_error: ${err.message}`);
      const onAttempt = (attempt: number) => void seen.push(`reconnect_attempt ${attempt}`);
      const onDisconnect = (reason: string) => void seen.push(`disconnect: ${reason}`);
      const done = () => {
        clearTimeout(timer);
        this.socket.off("connect", onConnect).off("connect_error", onError).off("disconnect", onDisconnect);
        this.socket.io.off("reconnect_attempt", onAttempt);
      };
      const onConnect = () => {
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        const tail = seen.length > 12 ? [`(${seen.length - 12} earlier)`, ...seen.slice(-12)] : seen;
        reject(new Error(`no connect within ${timeout} ms; socket.active=${this.socket.active}, manager ${this.socket.io._readyState}; seen: ${tail.join(", ") || "nothing"}`));
      }, timeout);
      this.socket.once("connect", onConnect).on("connect_error", onError).on("disconnect", onDisconnect);
      this.socket.io.on("reconnect_attempt", onAttempt);
    });
  }

  ask<T>(event: string, ...args: unknown[]): Promise<T> {
    return this.socket.timeout(20_000).emitWithAck(event, ...args) as Promise<T>;
  }

  close(): void {
    openClients.delete(this);
    this.socket.disconnect();
  }
}

/** Emits `tick` from..to to a room, yielding to the event loop between ticks (so that a cut falls mid-stream). */
export async function stream(sio: Server, room: string, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) {
    await sio.emit("tick", n, { to: room });
    await sleep(1);
  }
}

/** 1..n */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
