// The Bun control: the benchmark contract written straight on `Bun.serve` and its native
// WebSockets, speaking just enough Engine.IO v4 / Socket.IO v5 for the load generator (open packet,
// namespace "/" connect, events, acks, server ping), as bench/servers/control-ws.ts does on Node.
// It shows what Bun can do: a broadcast message is one `server.publish(topic, text)` to the topic
// that every client of "/" subscribed to when it connected, framed once in native code. No polling,
// no binary, no validation beyond need; rooms (a topic each, subscribed from the CONNECT auth) only
// under BENCH_ROOMS=1 (see ../common.ts), published the same way.
//
//   bun bench/servers/bun/control.ts --port 0

import { randomBytes } from "node:crypto";
import { HOST, PING_INTERVAL, PING_TIMEOUT, ROOMS, announce, bcastSpec, payloadOf, portFromArgs, roomBcastSpec, roomsBcastSpec, roomsOf } from "../common.js";

/** The members of Bun's ServerWebSocket used here (Bun's types are not a dependency). */
interface BunSocket {
  readonly data: Peer;
  send(data: string): number;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  close(code?: number): void;
  terminate(): void;
}
interface BunServer {
  readonly port: number;
  upgrade(request: Request, options: { data: Peer }): boolean;
  publish(topic: string, data: string): number;
}
interface BunGlobal {
  serve(options: Record<string, unknown>): BunServer;
}

interface Peer {
  sid: string;
  alive: boolean;
  ws: BunSocket | null;
}

/** The topic of namespace "/": every connected client subscribes to it. */
const TOPIC = "/";
const peers = new Set<Peer>();

function newId(): string {
  return randomBytes(15).toString("base64url");
}

const OPEN_TAIL = `","upgrades":[],"pingInterval":${PING_INTERVAL},"pingTimeout":${PING_TIMEOUT},"maxPayload":1000000}`;

function onEvent(ws: BunSocket, text: string): void {
  // 42[<ack id>][event, ...args]
  let i = 2;
  while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  const id = i > 2 ? text.slice(2, i) : null;
  let packet: unknown;
  try {
    packet = JSON.parse(text.slice(i));
  } catch {
    ws.terminate();
    return;
  }
  if (!Array.isArray(packet)) return;
  const [event, ...values] = packet as unknown[];
  if (event === "echo") {
    if (id !== null) ws.send(`43${id}${JSON.stringify(values)}`);
  } else if (event === "bcast") {
    const { n, size } = bcastSpec(values[0]);
    const payload = JSON.stringify(payloadOf(size));
    for (let k = 0; k < n; k++) server.publish(TOPIC, `42["msg",${k},${payload}]`);
    if (id !== null) ws.send(`43${id}[${n}]`);
  } else if (ROOMS && event === "bcastRoom") {
    const { room, n, size } = roomBcastSpec(values[0]);
    const payload = JSON.stringify(payloadOf(size));
    // Room topics are prefixed so that no room name can be the namespace's topic.
    for (let k = 0; k < n; k++) server.publish(`r:${room}`, `42["msg",${k},${payload}]`);
    if (id !== null) ws.send(`43${id}[${n}]`);
  } else if (ROOMS && event === "bcastRooms") {
    const { prefix, count, size } = roomsBcastSpec(values[0]);
    const text = `42["msg",0,${JSON.stringify(payloadOf(size))}]`;
    for (let r = 0; r < count; r++) server.publish(`r:${prefix}${r}`, text);
    if (id !== null) ws.send(`43${id}[${count}]`);
  }
}

const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
const server = bun.serve({
  port: portFromArgs(),
  hostname: HOST,
  // Long enough for an idle client between two pings (Bun's default closes after 10 s).
  idleTimeout: 255,
  fetch(request: Request, srv: BunServer): Response | undefined {
    const url = request.url;
    if (!url.includes("/socket.io/") || !url.includes("transport=websocket") || !url.includes("EIO=4")) {
      return new Response('{"code":0,"message":"Transport unknown"}', { status: 400, headers: { "Content-Type": "application/json" } });
    }
    if (srv.upgrade(request, { data: { sid: newId(), alive: true, ws: null } })) return undefined;
    return new Response("upgrade failed", { status: 400 });
  },
  websocket: {
    perMessageDeflate: false,
    maxPayloadLength: 1_000_000,
    idleTimeout: 0,
    open(ws: BunSocket) {
      const peer = ws.data;
      peer.ws = ws;
      peers.add(peer);
      ws.send(`0{"sid":"${peer.sid}${OPEN_TAIL}`);
    },
    message(ws: BunSocket, message: string | Uint8Array) {
      if (typeof message !== "string") return;
      const peer = ws.data;
      const type = message.charCodeAt(0);
      if (type === 51 /* 3: pong */) peer.alive = true;
      else if (type === 52 /* 4: message */) {
        const sioType = message.charCodeAt(1);
        if (sioType === 48 /* 0: connect */) {
          if (message.length === 2 || message[2] === "{") {
            ws.subscribe(TOPIC);
            if (ROOMS && message.length > 2) {
              try {
                for (const room of roomsOf(JSON.parse(message.slice(2)))) ws.subscribe(`r:${room}`);
              } catch {
                // not JSON: no rooms
              }
            }
            ws.send(`40{"sid":"${newId()}"}`);
          }
        } else if (sioType === 50 /* 2: event */) onEvent(ws, message);
        else if (sioType === 49 /* 1: disconnect */) ws.unsubscribe(TOPIC);
      } else if (type === 49 /* 1: close */) ws.close();
    },
    close(ws: BunSocket) {
      const peer = ws.data;
      peer.ws = null;
      peers.delete(peer);
    },
  },
});

// One heartbeat for all sockets: ping every PING_INTERVAL; a socket that did not answer the
// previous ping is dropped.
setInterval(() => {
  for (const peer of peers) {
    const ws = peer.ws;
    if (ws === null) continue;
    if (!peer.alive) {
      ws.terminate();
      continue;
    }
    peer.alive = false;
    ws.send("2");
  }
}, PING_INTERVAL).unref();

announce(server.port);
