// The servers the conformance tests run against, configured as the protocol repositories' test
// suites expect their reference server to be (socketio/engine.io-protocol and
// socketio/socket.io-protocol, test-suite/ and the README's "Test suite" section):
//
// - Engine.IO: path /engine.io/, pingInterval 300, pingTimeout 200, maxPayload 1e6, CORS for any
//   origin, and every message echoed back to its sender as it came (text or binary).
// - Socket.IO: path /socket.io/, the same heartbeat, connectTimeout 1000, CORS for any origin; on
//   "/" and "/custom" each connection is sent an "auth" event carrying its CONNECT payload; on "/"
//   "message" is answered with "message-back" and the same arguments, and "message-with-ack" is
//   acknowledged with its own arguments. A few extra namespaces have connect handlers that emit to
//   the connecting sid in various ways (order of CONNECT and those events).
//
// By default this is sockjet, in process, on an ephemeral port. CONFORMANCE_TARGET=reference runs
// the same tests against the official engine.io / socket.io packages (devDependencies), which is
// how the expected bytes in the tests were checked.

import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, args } from "../../src/index.js";
import { EngineServer, NodeEngineAdapter } from "../../src/engine/index.js";

export const PING_INTERVAL = 300;
export const PING_TIMEOUT = 200;
export const MAX_PAYLOAD = 1_000_000;
export const CONNECT_TIMEOUT = 1000;

export const TARGET: "sockjet" | "reference" = process.env.CONFORMANCE_TARGET === "reference" ? "reference" : "sockjet";

export interface Fixture {
  port: number;
  /** "/engine.io/" or "/socket.io/". */
  path: string;
  /** `${path}?EIO=4&transport=polling` */
  poll: string;
  /** A ws:// URL on the path, `query` appended after `?`. */
  wsUrl(query: string): string;
  /** The server holds a long-poll GET for this session. */
  pollWaiting(sid: string): boolean;
  /** The session exists on the server. */
  hasSession(sid: string): boolean;
  close(): Promise<void>;
}

/** Namespaces whose connect handler emits "hello" to the connecting sid, by way of emitting. */
export const EMIT_IN_CONNECT = {
  /** A synchronous handler that does not wait for the emit. */
  sync: "/emit-sync",
  /** A handler that returns the emit's promise. */
  returned: "/emit-returned",
  /** An async handler that awaits the emit. */
  awaited: "/emit-awaited",
  /** An async handler that awaits two emits, the second after a timer. */
  awaitedTwice: "/emit-awaited-twice",
  /** An async handler that enters a room and awaits an emit to the room. */
  room: "/emit-room",
} as const;

function listening(http: HttpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    http.once("error", reject);
    http.listen(0, "127.0.0.1", () => resolve((http.address() as AddressInfo).port));
  });
}

function closeHttp(http: HttpServer): Promise<void> {
  http.closeAllConnections();
  return new Promise((resolve) => http.close(() => resolve()));
}

function fixture(port: number, path: string, pollWaiting: (sid: string) => boolean, hasSession: (sid: string) => boolean, close: () => Promise<void>): Fixture {
  return {
    port,
    path,
    poll: `${path}?EIO=4&transport=polling`,
    wsUrl: (query) => `ws://127.0.0.1:${port}${path}?${query}`,
    pollWaiting,
    hasSession,
    close,
  };
}

// ---------------------------------------------------------------------------------------------
// Engine.IO: the echo server

export async function startEngineFixture(): Promise<Fixture> {
  if (TARGET === "reference") return startReferenceEngine();
  const eio = new EngineServer({
    path: "/engine.io/",
    pingInterval: PING_INTERVAL,
    pingTimeout: PING_TIMEOUT,
    maxHttpBufferSize: MAX_PAYLOAD,
    cors: { origin: "*" },
  });
  eio.on("message", (socket, data) => {
    socket.send(data);
  });
  const http = createServer();
  const adapter = new NodeEngineAdapter(eio);
  adapter.attach(http);
  const port = await listening(http);
  return fixture(
    port,
    "/engine.io/",
    (sid) => {
      const s = eio.sessions.get(sid);
      return s !== undefined && s.transportName === "polling" && s.transport.writable;
    },
    (sid) => eio.sessions.get(sid) !== undefined,
    async () => {
      eio.close();
      adapter.close();
      await closeHttp(http);
    },
  );
}

async function startReferenceEngine(): Promise<Fixture> {
  const { attach } = await import("engine.io");
  const http = createServer();
  const eio = attach(http, { pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT, maxHttpBufferSize: MAX_PAYLOAD, cors: { origin: "*" } });
  eio.on("connection", (socket) => {
    socket.on("message", (data: string | Buffer) => socket.send(data));
  });
  const port = await listening(http);
  const clients = (eio as unknown as { clients: Record<string, { transport: { name: string; writable: boolean } }> }).clients;
  return fixture(
    port,
    "/engine.io/",
    (sid) => clients[sid]?.transport.name === "polling" && clients[sid]!.transport.writable,
    (sid) => clients[sid] !== undefined,
    async () => {
      eio.close();
      await closeHttp(http);
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Socket.IO

export async function startSocketFixture(): Promise<Fixture> {
  if (TARGET === "reference") return startReferenceSocket();
  const sio = new Server({
    pingInterval: PING_INTERVAL,
    pingTimeout: PING_TIMEOUT,
    maxHttpBufferSize: MAX_PAYLOAD,
    connectTimeout: CONNECT_TIMEOUT,
    cors: { origin: "*" },
    logger: false,
  });
  // socket.io's handshake.auth is {} when the CONNECT packet carries no payload; sockjet passes
  // the payload as it came (undefined), so the handler supplies the same default.
  for (const ns of ["/", "/custom"]) {
    sio.on(
      "connect",
      (sid: string, _environ: unknown, auth: unknown) => {
        void sio.emit("auth", auth ?? {}, { to: sid, namespace: ns });
      },
      ns,
    );
  }
  sio.on("message", (sid: string, ...values: unknown[]) => sio.emit("message-back", args(...values), { to: sid }));
  sio.on("message-with-ack", (_sid: string, ...values: unknown[]) => args(...values));

  const E = EMIT_IN_CONNECT;
  sio.on(
    "connect",
    (sid: string) => {
      void sio.emit("hello", 1, { to: sid, namespace: E.sync });
    },
    E.sync,
  );
  sio.on("connect", (sid: string) => sio.emit("hello", 1, { to: sid, namespace: E.returned }), E.returned);
  sio.on(
    "connect",
    async (sid: string) => {
      await sio.emit("hello", 1, { to: sid, namespace: E.awaited });
    },
    E.awaited,
  );
  sio.on(
    "connect",
    async (sid: string) => {
      await sio.emit("hello", 1, { to: sid, namespace: E.awaitedTwice });
      await new Promise((resolve) => setTimeout(resolve, 5));
      await sio.emit("hello", 2, { to: sid, namespace: E.awaitedTwice });
    },
    E.awaitedTwice,
  );
  sio.on(
    "connect",
    async (sid: string) => {
      await sio.enterRoom(sid, "lobby", E.room);
      await sio.emit("hello", "lobby", { room: "lobby", namespace: E.room });
    },
    E.room,
  );

  const http = await sio.listen(0, "127.0.0.1");
  const port = (http.address() as AddressInfo).port;
  return fixture(
    port,
    "/socket.io/",
    (sid) => {
      const s = sio.engine.sessions.get(sid);
      return s !== undefined && s.transportName === "polling" && s.transport.writable;
    },
    (sid) => sio.engine.sessions.get(sid) !== undefined,
    () => sio.close(),
  );
}

async function startReferenceSocket(): Promise<Fixture> {
  const { Server: IoServer } = await import("socket.io");
  const http = createServer();
  const io = new IoServer(http, {
    pingInterval: PING_INTERVAL,
    pingTimeout: PING_TIMEOUT,
    maxHttpBufferSize: MAX_PAYLOAD,
    connectTimeout: CONNECT_TIMEOUT,
    cors: { origin: "*" },
  });
  io.on("connection", (socket) => {
    socket.emit("auth", socket.handshake.auth);
    socket.on("message", (...values: unknown[]) => {
      socket.emit("message-back", ...values);
    });
    socket.on("message-with-ack", (...values: unknown[]) => {
      const ack = values.pop() as (...a: unknown[]) => void;
      ack(...values);
    });
  });
  io.of("/custom").on("connection", (socket) => {
    socket.emit("auth", socket.handshake.auth);
  });
  const E = EMIT_IN_CONNECT;
  for (const ns of [E.sync, E.returned, E.awaited]) io.of(ns).on("connection", (socket) => socket.emit("hello", 1));
  io.of(E.awaitedTwice).on("connection", async (socket) => {
    socket.emit("hello", 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    socket.emit("hello", 2);
  });
  io.of(E.room).on("connection", (socket) => {
    void socket.join("lobby");
    io.of(E.room).to("lobby").emit("hello", "lobby");
  });
  const port = await listening(http);
  const clients = (io.engine as unknown as { clients: Record<string, { transport: { name: string; writable: boolean } }> }).clients;
  return fixture(
    port,
    "/socket.io/",
    (sid) => clients[sid]?.transport.name === "polling" && clients[sid]!.transport.writable,
    (sid) => clients[sid] !== undefined,
    async () => {
      await new Promise<void>((resolve) => {
        http.closeAllConnections();
        void io.close(() => resolve());
      });
    },
  );
}
