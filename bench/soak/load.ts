// The soak's client side, with the official socket.io-client v4: connect/disconnect churn over
// every transport, then mixed load (rooms, emits, acks both ways, broadcasts, sessions, server
// kicks, abrupt drops). Deterministic for a given seed, so that two runs do the same things.

import { io, type ManagerOptions, type Socket } from "socket.io-client";

export type Mode = "websocket" | "polling" | "polling+upgrade";
export const MODES: readonly Mode[] = ["websocket", "polling", "polling+upgrade"];

const TRANSPORTS: Record<Mode, Partial<ManagerOptions>> = {
  websocket: { transports: ["websocket"], upgrade: false },
  polling: { transports: ["polling"], upgrade: false },
  "polling+upgrade": { transports: ["polling", "websocket"], upgrade: true },
};

/** How a connection ends: every way a real one does. */
export type Ending = "client disconnect" | "after an ack" | "server disconnect" | "server close" | "abrupt";
const ENDINGS: readonly Ending[] = ["client disconnect", "after an ack", "server disconnect", "server close", "abrupt"];

/** Generous: the machine is shared and loaded; a wait only bounds a failure. */
const STEP_TIMEOUT = 30_000;

export interface LoadCounts {
  cycles: number;
  byMode: Record<Mode, number>;
  byEnding: Record<Ending, number>;
  acks: number;
  eventsReceived: number;
  questionsAnswered: number;
  questionsIgnored: number;
  /** Failures seen by clients (a refused connect, an ack that never came...), by message. */
  errors: Record<string, number>;
}

export function emptyCounts(): LoadCounts {
  return {
    cycles: 0,
    byMode: { websocket: 0, polling: 0, "polling+upgrade": 0 },
    byEnding: { "client disconnect": 0, "after an ack": 0, "server disconnect": 0, "server close": 0, abrupt: 0 },
    acks: 0,
    eventsReceived: 0,
    questionsAnswered: 0,
    questionsIgnored: 0,
    errors: {},
  };
}

export function errorCount(counts: LoadCounts): number {
  return Object.values(counts.errors).reduce((a, b) => a + b, 0);
}

function fail(counts: LoadCounts, what: string): void {
  counts.errors[what] = (counts.errors[what] ?? 0) + 1;
}

/** mulberry32: small, seedable, good enough to pick actions. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function open(url: string, mode: Mode, namespace = "/"): Socket {
  return io(url + namespace, { forceNew: true, reconnection: false, timeout: STEP_TIMEOUT, ...TRANSPORTS[mode] });
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once("connect", () => resolve());
    socket.once("connect_error", (err: Error) => reject(err));
  });
}

function disconnected(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    if (!socket.connected && !socket.active) return resolve("already");
    socket.once("disconnect", (reason: string) => resolve(reason));
  });
}

function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout: ${what}`)), STEP_TIMEOUT);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Drops the connection without any goodbye: the WebSocket's TCP socket is destroyed; a poller stops polling and closes. */
function dropAbruptly(socket: Socket): void {
  const engine = socket.io.engine as unknown as { transport?: { ws?: { terminate?: () => void } } ; close(): void };
  const ws = engine.transport?.ws;
  if (ws?.terminate !== undefined) ws.terminate();
  else engine.close();
}

/** Ends a connected client one of the five ways and waits until it is gone. */
async function end(socket: Socket, ending: Ending, counts: LoadCounts): Promise<void> {
  counts.byEnding[ending]++;
  switch (ending) {
    case "client disconnect":
      socket.disconnect();
      return;
    case "after an ack": {
      const reply = (await bounded(socket.emitWithAck("echo", "bye", 1), "echo ack")) as unknown;
      if (reply !== "bye") fail(counts, "echo answered wrongly");
      counts.acks++;
      socket.disconnect();
      return;
    }
    case "server disconnect":
    case "server close": {
      const gone = disconnected(socket);
      await bounded(socket.emitWithAck("kick", ending === "server close"), "kick ack");
      counts.acks++;
      const reason = await bounded(gone, "server disconnect");
      if (reason !== "io server disconnect") fail(counts, `kicked client saw "${reason}"`);
      socket.io.engine.close();
      return;
    }
    case "abrupt": {
      const gone = disconnected(socket);
      dropAbruptly(socket);
      await bounded(gone, "abrupt disconnect");
      return;
    }
  }
}

/**
 * `cycles` connect/disconnect cycles, `concurrency` at a time. Cycle i uses mode i % 3 and ending
 * ⌊i / 3⌋ % 5, so every mode meets every ending.
 */
export async function churn(url: string, options: { cycles: number; concurrency: number; onProgress?: (done: number) => void }): Promise<LoadCounts> {
  const counts = emptyCounts();
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= options.cycles) return;
      const mode = MODES[i % MODES.length]!;
      const ending = ENDINGS[Math.floor(i / MODES.length) % ENDINGS.length]!;
      const socket = open(url, mode);
      try {
        await bounded(connected(socket), `${mode} connect`);
        counts.byMode[mode]++;
        await end(socket, ending, counts);
      } catch (err) {
        fail(counts, `${mode}: ${(err as Error).message}`);
      } finally {
        // Whatever happened, this client is gone before the next starts (no client-side leak).
        socket.io.engine?.close();
        socket.disconnect();
        counts.cycles++;
        options.onProgress?.(counts.cycles);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return counts;
}

const ROOMS = Array.from({ length: 8 }, (_, i) => `room-${i}`);

/**
 * `clients` actors for `durationMs`. Each opens a connection (random mode; half of them also join
 * "/chat" on the same connection), acts every 20-150 ms for 2-20 s (join, leave, say to a room,
 * echo with ack, visit its session, a server `call()` that it answers three times in four, a
 * namespace-wide broadcast now and then), then ends one of the five ways and starts over.
 */
export async function mixed(url: string, options: { durationMs: number; clients: number; seed?: number }): Promise<LoadCounts> {
  const counts = emptyCounts();
  const deadline = Date.now() + options.durationMs;
  const actor = async (index: number) => {
    const random = rng((options.seed ?? 1) * 1000 + index);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    while (Date.now() < deadline) {
      const mode = pick(MODES);
      const main = open(url, mode);
      const sockets: Socket[] = [main];
      let ending = false;
      try {
        await bounded(connected(main), `${mode} connect`);
        counts.byMode[mode]++;
        if (random() < 0.5) {
          // A second namespace multiplexed on the same Engine.IO connection.
          const chat = main.io.socket("/chat");
          chat.connect();
          sockets.push(chat);
          await bounded(connected(chat), "/chat connect");
        }
        for (const s of sockets) {
          // Every disconnect the actor did not ask for is a failure, with the client's reason.
          s.on("disconnect", (reason: string) => {
            if (!ending) fail(counts, `unexpected disconnect (${reason})`);
          });
          s.on("said", () => counts.eventsReceived++);
          s.on("bcast", () => counts.eventsReceived++);
          s.on("question", (_q: unknown, ack: (answer: string) => void) => {
            if (random() < 0.75) {
              counts.questionsAnswered++;
              ack("pong");
            } else counts.questionsIgnored++;
          });
        }
        const lifetime = Date.now() + 2_000 + random() * 18_000;
        while (Date.now() < Math.min(lifetime, deadline)) {
          await new Promise((resolve) => setTimeout(resolve, 20 + random() * 130));
          const s = pick(sockets);
          if (!s.connected) break;
          await act(s, random, pick, counts);
        }
        ending = true;
        // Sometimes the second namespace is left alone first; the connection stays.
        if (sockets.length > 1 && random() < 0.5) sockets.pop()!.disconnect();
        await end(main, pick(ENDINGS), counts);
      } catch (err) {
        fail(counts, `${mode}: ${(err as Error).message}`);
      } finally {
        ending = true;
        main.io.engine?.close();
        for (const s of sockets) s.disconnect();
        counts.cycles++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, i) => actor(i)));
  return counts;
}

async function act(s: Socket, random: () => number, pick: <T>(list: readonly T[]) => T, counts: LoadCounts): Promise<void> {
  const r = random();
  let reply: unknown;
  if (r < 0.2) reply = await bounded(s.emitWithAck("join", pick(ROOMS)), "join ack");
  else if (r < 0.3) reply = await bounded(s.emitWithAck("leave", pick(ROOMS)), "leave ack");
  else if (r < 0.6) reply = await bounded(s.emitWithAck("say", pick(ROOMS), "x".repeat(Math.floor(random() * 200))), "say ack");
  else if (r < 0.8) {
    const value = { n: Math.floor(random() * 1e6), bytes: new Uint8Array([1, 2, 3]) };
    reply = await bounded(s.emitWithAck("echo", value), "echo ack");
    if ((reply as { n?: number } | null)?.n !== value.n) fail(counts, "echo answered wrongly");
  } else if (r < 0.9) reply = await bounded(s.emitWithAck("visit"), "visit ack");
  else if (r < 0.98) reply = await bounded(s.emitWithAck("callme", 1000), "callme ack");
  else reply = await bounded(s.emitWithAck("bcast", "to everyone"), "bcast ack");
  if (reply === undefined) fail(counts, "empty ack");
  counts.acks++;
}
