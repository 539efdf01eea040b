// The Deno control: the benchmark contract written straight on `Deno.serve` and
// `Deno.upgradeWebSocket`, speaking just enough Engine.IO v4 / Socket.IO v5 for the load generator
// (open packet, namespace "/" connect, events, acks, server ping), as bench/servers/control-ws.ts
// does on Node. Deno has no topic publish: a broadcast message is one string, sent to every
// connected socket with `send`. No polling, no rooms, no binary, no validation beyond need.
//
//   deno run -A --unstable-sloppy-imports --v8-flags=--expose-gc bench/servers/deno/control.ts --port 0

import { randomBytes } from "node:crypto";
import { HOST, PING_INTERVAL, PING_TIMEOUT, announce, bcastSpec, payloadOf, portFromArgs } from "../common.js";

interface DenoGlobal {
  serve(options: Record<string, unknown>, handler: (request: Request) => Response): { readonly addr: { readonly port: number } };
  upgradeWebSocket(request: Request): { socket: WebSocket; response: Response };
}

interface Peer {
  readonly ws: WebSocket;
  alive: boolean;
}
const kPeer = Symbol("peer");
type TaggedWebSocket = WebSocket & { [kPeer]: Peer };

const peers = new Set<Peer>();
/** Clients connected to namespace "/". */
const members = new Set<Peer>();

function newId(): string {
  return randomBytes(15).toString("base64url");
}

const OPEN_TAIL = `","upgrades":[],"pingInterval":${PING_INTERVAL},"pingTimeout":${PING_TIMEOUT},"maxPayload":1000000}`;

function onEvent(peer: Peer, text: string): void {
  // 42[<ack id>][event, ...args]
  let i = 2;
  while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  const id = i > 2 ? text.slice(2, i) : null;
  let packet: unknown;
  try {
    packet = JSON.parse(text.slice(i));
  } catch {
    peer.ws.close();
    return;
  }
  if (!Array.isArray(packet)) return;
  const [event, ...values] = packet as unknown[];
  if (event === "echo") {
    if (id !== null) peer.ws.send(`43${id}${JSON.stringify(values)}`);
  } else if (event === "bcast") {
    const { n, size } = bcastSpec(values[0]);
    const payload = JSON.stringify(payloadOf(size));
    for (let k = 0; k < n; k++) {
      const text = `42["msg",${k},${payload}]`;
      for (const member of members) member.ws.send(text);
    }
    if (id !== null) peer.ws.send(`43${id}[${n}]`);
  }
}

// One listener of each kind for every socket; the peer travels on the socket.
function onOpen(this: TaggedWebSocket): void {
  peers.add(this[kPeer]);
  this.send(`0{"sid":"${newId()}${OPEN_TAIL}`);
}
function onMessage(this: TaggedWebSocket, event: Event): void {
  const text = (event as MessageEvent<unknown>).data;
  if (typeof text !== "string") return;
  const peer = this[kPeer];
  const type = text.charCodeAt(0);
  if (type === 51 /* 3: pong */) peer.alive = true;
  else if (type === 52 /* 4: message */) {
    const sioType = text.charCodeAt(1);
    if (sioType === 48 /* 0: connect */) {
      if (text.length === 2 || text[2] === "{") {
        members.add(peer);
        this.send(`40{"sid":"${newId()}"}`);
      }
    } else if (sioType === 50 /* 2: event */) onEvent(peer, text);
    else if (sioType === 49 /* 1: disconnect */) members.delete(peer);
  } else if (type === 49 /* 1: close */) this.close();
}
function onClose(this: TaggedWebSocket): void {
  const peer = this[kPeer];
  peers.delete(peer);
  members.delete(peer);
}

const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;
const server = deno.serve({ port: portFromArgs(), hostname: HOST, onListen: () => {} }, (request) => {
  const url = request.url;
  if (!url.includes("/socket.io/") || !url.includes("transport=websocket") || !url.includes("EIO=4") || request.headers.get("upgrade") !== "websocket") {
    return new Response('{"code":0,"message":"Transport unknown"}', { status: 400, headers: { "Content-Type": "application/json" } });
  }
  const { socket, response } = deno.upgradeWebSocket(request);
  (socket as TaggedWebSocket)[kPeer] = { ws: socket, alive: true };
  socket.addEventListener("open", onOpen);
  socket.addEventListener("message", onMessage);
  socket.addEventListener("close", onClose);
  return response;
});

// One heartbeat for all sockets: ping every PING_INTERVAL; a socket that did not answer the
// previous ping is dropped.
setInterval(() => {
  for (const peer of peers) {
    if (!peer.alive) {
      peer.ws.close();
      continue;
    }
    peer.alive = false;
    peer.ws.send("2");
  }
}, PING_INTERVAL);

announce(server.addr.port);
