// The control: the benchmark contract written straight on `ws`, speaking just enough Engine.IO v4 /
// Socket.IO v5 for the load generator (open packet, namespace "/" connect, events, acks, server
// ping). It shows what Node can do with one write per delivery: a broadcast message is framed once
// (a prebuilt unmasked WebSocket text frame) and the same Buffer is written to every socket's TCP
// stream, one write per delivery. No polling, no binary, no validation beyond need; rooms (a Set of
// peers per name, joined from the CONNECT auth) only under BENCH_ROOMS=1 (see ./common.ts).

import { createServer } from "node:http";
import type { Socket } from "node:net";
import { randomBytes } from "node:crypto";
import { WebSocketServer, type WebSocket } from "ws";
import { HOST, PING_INTERVAL, PING_TIMEOUT, ROOMS, announce, bcastSpec, payloadOf, portFromArgs, roomBcastSpec, roomsBcastSpec, roomsOf } from "./common.js";

interface Peer {
  readonly ws: WebSocket;
  /** The TCP stream under the WebSocket: broadcasts write their prebuilt frame straight to it. */
  readonly raw: Socket;
  readonly sid: string;
  alive: boolean;
  /** The rooms its CONNECT auth named (BENCH_ROOMS=1 only), to leave them on close. */
  rooms: string[] | null;
}

/** An unmasked, final WebSocket text frame (RFC 6455 §5.2) holding `text`. */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text, "utf8");
  const len = payload.length;
  const headerLength = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + len);
  frame[0] = 0x81; // FIN + opcode 1 (text)
  if (len < 126) frame[1] = len;
  else if (len < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(len), 2);
  }
  payload.copy(frame, headerLength);
  return frame;
}

const PING_FRAME = textFrame("2");
const kPeer = Symbol("peer");
type TaggedWebSocket = WebSocket & { [kPeer]?: Peer };

const peers = new Set<Peer>();
/** Clients connected to namespace "/". */
const members = new Set<Peer>();
/** BENCH_ROOMS=1: room name → its members. */
const rooms = new Map<string, Set<Peer>>();

function newId(): string {
  return randomBytes(15).toString("base64url");
}

function broadcast(n: number, size: number): void {
  const payload = JSON.stringify(payloadOf(size));
  for (let i = 0; i < n; i++) {
    const frame = textFrame(`42["msg",${i},${payload}]`);
    for (const peer of members) peer.raw.write(frame);
  }
}

/** One prebuilt frame per message, written to every member of the room. */
function broadcastRoom(room: string, n: number, size: number): void {
  const to = rooms.get(room);
  if (to === undefined) return;
  const payload = JSON.stringify(payloadOf(size));
  for (let i = 0; i < n; i++) {
    const frame = textFrame(`42["msg",${i},${payload}]`);
    for (const peer of to) peer.raw.write(frame);
  }
}

function join(peer: Peer, auth: string): void {
  let names: string[];
  try {
    names = roomsOf(JSON.parse(auth));
  } catch {
    return;
  }
  peer.rooms = names;
  for (const name of names) {
    let set = rooms.get(name);
    if (set === undefined) rooms.set(name, (set = new Set()));
    set.add(peer);
  }
}

function leave(peer: Peer): void {
  for (const name of peer.rooms ?? []) {
    const set = rooms.get(name);
    set?.delete(peer);
    if (set?.size === 0) rooms.delete(name);
  }
  peer.rooms = null;
}

function onEvent(peer: Peer, text: string): void {
  // 42[<ack id>][event, ...args]
  let i = 2;
  while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  const id = i > 2 ? text.slice(2, i) : null;
  let packet: unknown;
  try {
    packet = JSON.parse(text.slice(i));
  } catch {
    peer.ws.terminate();
    return;
  }
  if (!Array.isArray(packet)) return;
  const [event, ...values] = packet as unknown[];
  if (event === "echo") {
    if (id !== null) peer.ws.send(`43${id}${JSON.stringify(values)}`);
  } else if (event === "bcast") {
    const { n, size } = bcastSpec(values[0]);
    broadcast(n, size);
    if (id !== null) peer.ws.send(`43${id}[${n}]`);
  } else if (ROOMS && event === "bcastRoom") {
    const { room, n, size } = roomBcastSpec(values[0]);
    broadcastRoom(room, n, size);
    if (id !== null) peer.ws.send(`43${id}[${n}]`);
  } else if (ROOMS && event === "bcastRooms") {
    const { prefix, count, size } = roomsBcastSpec(values[0]);
    // The message is the same for every room: framed once.
    const frame = textFrame(`42["msg",0,${JSON.stringify(payloadOf(size))}]`);
    for (let r = 0; r < count; r++) {
      const to = rooms.get(`${prefix}${r}`);
      if (to !== undefined) for (const member of to) member.raw.write(frame);
    }
    if (id !== null) peer.ws.send(`43${id}[${count}]`);
  }
}

// One listener function for every socket; the peer travels on the socket.
function onMessage(this: TaggedWebSocket, data: Buffer, isBinary: boolean): void {
  const peer = this[kPeer];
  if (peer === undefined || isBinary) return;
  const text = data.toString("utf8");
  const type = text.charCodeAt(0);
  if (type === 51 /* 3: pong */) peer.alive = true;
  else if (type === 52 /* 4: message */) {
    const sioType = text.charCodeAt(1);
    if (sioType === 48 /* 0: connect */) {
      if (text.length === 2 || text[2] === "{") {
        members.add(peer);
        if (ROOMS && text.length > 2) join(peer, text.slice(2));
        peer.ws.send(`40{"sid":"${newId()}"}`);
      }
    } else if (sioType === 50 /* 2: event */) onEvent(peer, text);
    else if (sioType === 49 /* 1: disconnect */) {
      members.delete(peer);
      leave(peer);
    }
  } else if (type === 49 /* 1: close */) this.close();
}

function onClose(this: TaggedWebSocket): void {
  const peer = this[kPeer];
  if (peer === undefined) return;
  peers.delete(peer);
  members.delete(peer);
  if (peer.rooms !== null) leave(peer);
}

function ignore(): void {}

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false, maxPayload: 1_000_000 });
const httpServer = createServer((_req, res) => {
  res.writeHead(400, { "Content-Type": "application/json" }).end('{"code":0,"message":"Transport unknown"}');
});
httpServer.on("upgrade", (req, socket, head) => {
  const url = req.url ?? "";
  if (!url.startsWith("/socket.io/") || !url.includes("transport=websocket") || !url.includes("EIO=4")) {
    socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws: TaggedWebSocket) => {
    const raw = (ws as unknown as { _socket: Socket })._socket;
    const sid = newId();
    const peer: Peer = { ws, raw, sid, alive: true, rooms: null };
    ws[kPeer] = peer;
    peers.add(peer);
    ws.on("message", onMessage);
    ws.on("close", onClose);
    ws.on("error", ignore);
    ws.send(`0{"sid":"${sid}","upgrades":[],"pingInterval":${PING_INTERVAL},"pingTimeout":${PING_TIMEOUT},"maxPayload":1000000}`);
  });
});

// One heartbeat for all sockets: ping every PING_INTERVAL; a socket that did not answer the
// previous ping is dropped.
setInterval(() => {
  for (const peer of peers) {
    if (!peer.alive) {
      peer.ws.terminate();
      continue;
    }
    peer.alive = false;
    peer.raw.write(PING_FRAME);
  }
}, PING_INTERVAL).unref();

httpServer.listen(portFromArgs(), HOST, () => {
  const address = httpServer.address();
  announce(typeof address === "object" && address !== null ? address.port : 0);
});
