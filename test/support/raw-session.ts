// A Socket.IO connection spoken by hand over either transport, for hostile scenarios that must send
// what no library client would (lying attachment counts, bad placeholders) and see every byte the
// server answers. Socket.IO packets go in and come out without the Engine.IO "4" prefix; binary
// attachments are Uint8Arrays (WebSocket binary frames, or `b<base64>` in a v4 polling payload).
// Server pings are answered. `transcript` keeps every text the server sent, to search for leaks.

import { WebSocket } from "ws";

export type RawTransport = "websocket" | "polling";
export type RawPacket = string | Uint8Array;

export interface RawSession {
  readonly transport: RawTransport;
  /** Engine.IO session id. */
  readonly sid: string;
  /** Socket.IO packets (and attachments) in order: one WebSocket frame each, or one POST for all. */
  send(...packets: RawPacket[]): Promise<void>;
  /** The next Socket.IO packet or attachment from the server. Rejects once the connection has closed and nothing is left. */
  next(): Promise<RawPacket>;
  /** Resolves when the server has closed the connection (WebSocket close, CLOSE packet, or an unknown sid on a poll). */
  readonly closed: Promise<void>;
  /** Everything the server sent as text (bodies and frames, binary as base64), for leak checks. */
  readonly transcript: string[];
  /** Ends the connection from this side. */
  end(): void;
}

const ENGINE = "/socket.io/?EIO=4";

class Inbox {
  private readonly queue: RawPacket[] = [];
  private readonly waiters: Array<{ resolve: (p: RawPacket) => void; reject: (e: Error) => void }> = [];
  private done = false;
  private markClosed!: () => void;
  readonly closed = new Promise<void>((resolve) => (this.markClosed = resolve));

  push(packet: RawPacket): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(packet);
    else this.queue.push(packet);
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.markClosed();
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error("the connection closed"));
  }

  next(): Promise<RawPacket> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift()!);
    if (this.done) return Promise.reject(new Error("the connection closed"));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }
}

/** Opens a raw Engine.IO v4 session (not yet joined to any namespace) on `baseUrl` (`http://host:port`). */
export async function openRawSession(baseUrl: string, transport: RawTransport): Promise<RawSession> {
  return transport === "websocket" ? openWebSocket(baseUrl) : openPolling(baseUrl);
}

async function openWebSocket(baseUrl: string): Promise<RawSession> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}${ENGINE}&transport=websocket`);
  const inbox = new Inbox();
  const transcript: string[] = [];
  let sid: ((value: string) => void) | null = null;
  const opened = new Promise<string>((resolve, reject) => {
    sid = resolve;
    ws.once("error", reject);
  });
  ws.on("error", () => {});
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    transcript.push(isBinary ? data.toString("base64") : data.toString("utf8"));
    if (isBinary) return inbox.push(new Uint8Array(data));
    const text = data.toString("utf8");
    if (text.startsWith("0") && sid !== null) {
      sid((JSON.parse(text.slice(1)) as { sid: string }).sid);
      sid = null;
    } else if (text === "2") ws.send("3");
    else if (text.startsWith("4")) inbox.push(text.slice(1));
  });
  ws.on("close", () => inbox.close());
  const id = await opened;
  return {
    transport: "websocket",
    sid: id,
    async send(...packets) {
      for (const packet of packets) ws.send(typeof packet === "string" ? "4" + packet : packet);
    },
    next: () => inbox.next(),
    closed: inbox.closed,
    transcript,
    end: () => ws.terminate(),
  };
}

async function openPolling(baseUrl: string): Promise<RawSession> {
  const handshake = await fetch(`${baseUrl}${ENGINE}&transport=polling`);
  const body = await handshake.text();
  const transcript = [body];
  const sid = (JSON.parse(body.slice(1)) as { sid: string }).sid;
  const url = `${baseUrl}${ENGINE}&transport=polling&sid=${encodeURIComponent(sid)}`;
  const inbox = new Inbox();
  let ended = false;
  const post = async (payload: string) => {
    const res = await fetch(url, { method: "POST", body: payload, headers: { "content-type": "text/plain;charset=UTF-8" } });
    transcript.push(await res.text());
    return res.status;
  };
  // One long-poll at a time, until the session ends.
  void (async () => {
    while (!ended) {
      let res: Response;
      try {
        res = await fetch(url);
      } catch {
        break;
      }
      const text = await res.text();
      transcript.push(text);
      if (res.status !== 200) break;
      let closed = false;
      for (const packet of text.split("\x1e")) {
        if (packet === "1") closed = true;
        else if (packet === "2") void post("3").catch(() => {});
        else if (packet.startsWith("4")) inbox.push(packet.slice(1));
        else if (packet.startsWith("b")) inbox.push(new Uint8Array(Buffer.from(packet.slice(1), "base64")));
      }
      if (closed) break;
    }
    inbox.close();
  })();
  return {
    transport: "polling",
    sid,
    async send(...packets) {
      const payload = packets.map((p) => (typeof p === "string" ? "4" + p : "b" + Buffer.from(p).toString("base64"))).join("\x1e");
      const status = await post(payload);
      if (status !== 200) throw new Error(`POST answered ${status}: ${transcript.at(-1)}`);
    },
    next: () => inbox.next(),
    closed: inbox.closed,
    transcript,
    end() {
      if (ended) return;
      ended = true;
      void post("1").catch(() => {});
    },
  };
}

/** Joins the main namespace ("40") and returns the Socket.IO sid from the server's CONNECT. */
export async function joinMain(session: RawSession): Promise<string> {
  await session.send("0");
  const reply = await session.next();
  const match = typeof reply === "string" ? /^0(\{.*\})$/.exec(reply) : null;
  if (match === null) throw new Error(`expected a CONNECT, got ${String(reply)}`);
  return (JSON.parse(match[1]!) as { sid: string }).sid;
}
