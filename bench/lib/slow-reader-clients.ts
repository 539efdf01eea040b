// The clients of the slow-reader measurement (bench/tools/slow-reader.ts) and its test
// (test/e2e/slow-reader.test.ts), speaking Engine.IO v4 / Socket.IO v5 themselves: healthy ones that
// read everything and check that the room's messages arrive complete and in order, and slow ones
// that stop reading once they are in the room (a WebSocket whose TCP socket is paused, so that the
// kernel buffers fill and the server has to hold the rest; a long-polling client that never polls
// again).

import type { Socket as NetSocket } from "node:net";
import { WebSocket } from "ws";

const RS = "\x1e";

/** Parses a Socket.IO EVENT/ACK text packet of namespace "/" (`2[...]`, `3N[...]`). */
function parseSocketPacket(text: string): { type: string; id: number | null; data: unknown[] } {
  const type = text[0]!;
  let i = 1;
  while (i < text.length && text[i]! >= "0" && text[i]! <= "9") i++;
  const id = i > 1 ? Number(text.slice(1, i)) : null;
  if (i >= text.length) return { type, id, data: [] };
  const body = JSON.parse(text.slice(i)) as unknown;
  return { type, id, data: Array.isArray(body) ? body : [body] };
}

/** What every client shares: the room's messages counted and checked, acks matched to emits. */
abstract class BaseClient {
  /** Engine.IO session id (from the open packet). */
  engineSid = "";
  /** Socket.IO sid (from the CONNECT answer). */
  sid = "";
  received = 0;
  /** A message out of order or not the expected one (`msg(i, payload)` with i = received). */
  error: string | null = null;
  closed = false;
  private nextAck = 0;
  private readonly acks = new Map<number, { resolve: (data: unknown[]) => void; reject: (err: Error) => void }>();
  private connected: (() => void) | null = null;
  private waiters: (() => void)[] = [];

  protected abstract write(packet: string): void;

  protected onPacket(packet: string): void {
    switch (packet[0]) {
      case "0":
        this.engineSid = (JSON.parse(packet.slice(1)) as { sid: string }).sid;
        this.write("40");
        return;
      case "2":
        this.write("3");
        return;
      case "4":
        break;
      default:
        return;
    }
    if (packet[1] === "0") {
      this.sid = (JSON.parse(packet.slice(2)) as { sid: string }).sid;
      this.connected?.();
      return;
    }
    const parsed = parseSocketPacket(packet.slice(1));
    if (parsed.type === "3" && parsed.id !== null) {
      this.acks.get(parsed.id)?.resolve(parsed.data);
      this.acks.delete(parsed.id);
    } else if (parsed.type === "2" && parsed.data[0] === "msg") {
      if (parsed.data[1] !== this.received && this.error === null) this.error = `message ${String(parsed.data[1])} arrived as number ${this.received}`;
      this.received++;
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }

  protected whenConnected(): Promise<void> {
    return new Promise((resolve) => (this.connected = resolve));
  }

  /** Emits an event with an acknowledgement; resolves with the ack's arguments, rejects if the client closes first. */
  call(event: string, ...data: unknown[]): Promise<unknown[]> {
    const id = this.nextAck++;
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error(`${event}: the client is closed`));
      this.acks.set(id, { resolve, reject });
      this.write(`42${id}${JSON.stringify([event, ...data])}`);
    });
  }

  /** Resolves once `n` room messages have arrived (or the client closed: it will get no more). */
  async waitFor(n: number): Promise<void> {
    while (this.received < n && !this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  protected markClosed(): void {
    this.closed = true;
    for (const wake of this.waiters.splice(0)) wake();
    for (const [event, ack] of this.acks) ack.reject(new Error(`ack ${event}: the client closed`));
    this.acks.clear();
  }

  abstract close(): void;
}

export class WsClient extends BaseClient {
  private readonly ws: WebSocket;

  private constructor(url: string) {
    super();
    this.ws = new WebSocket(`${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
    this.ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.onPacket(data.toString("utf8"));
    });
    this.ws.on("close", () => this.markClosed());
    this.ws.on("error", () => this.markClosed());
  }

  /** Connects to "/" and joins the room. */
  static async open(url: string): Promise<WsClient> {
    const client = new WsClient(url);
    await client.whenConnected();
    await client.call("join");
    return client;
  }

  protected write(packet: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(packet);
  }

  /** Stops reading: the TCP socket is paused, so the kernel's buffers fill and then the server's. */
  stopReading(): void {
    (this.ws as unknown as { _socket: NetSocket })._socket.pause();
  }

  close(): void {
    this.ws.terminate();
  }
}

export class PollingClient extends BaseClient {
  private polling = false;
  private posting: Promise<void> = Promise.resolve();

  private constructor(private readonly base: string) {
    super();
  }

  private url(): string {
    return `${this.base}/socket.io/?EIO=4&transport=polling${this.engineSid === "" ? "" : `&sid=${this.engineSid}`}`;
  }

  protected write(packet: string): void {
    // One POST at a time, in order (the protocol allows one in flight).
    this.posting = this.posting.then(async () => {
      if (this.closed) return;
      const response = await fetch(this.url(), { method: "POST", body: packet, headers: { "Content-Type": "text/plain;charset=UTF-8" } }).catch(() => null);
      if (response === null || !response.ok) this.markClosed();
      else await response.text();
    });
  }

  /** One GET; false once the session is over. */
  private async poll(): Promise<boolean> {
    const response = await fetch(this.url()).catch(() => null);
    if (response === null || !response.ok) return false;
    const body = await response.text();
    for (const packet of body.split(RS)) {
      if (packet === "1") return false;
      this.onPacket(packet);
    }
    return true;
  }

  /** Connects to "/" and joins the room; `keepPolling` false: never polls again after that. */
  static async open(base: string, keepPolling: boolean): Promise<PollingClient> {
    const client = new PollingClient(base);
    const connected = client.whenConnected();
    if (!(await client.poll())) throw new Error("polling handshake failed");
    while (client.sid === "") if (!(await client.poll())) throw new Error("polling CONNECT failed");
    await connected;
    const joined = client.call("join");
    let done = false;
    void joined.then(() => (done = true));
    while (!done) if (!(await client.poll())) throw new Error("polling join failed");
    if (keepPolling) client.loop();
    return client;
  }

  private loop(): void {
    this.polling = true;
    void (async () => {
      while (this.polling && (await this.poll()));
      this.markClosed();
    })();
  }

  close(): void {
    this.polling = false;
    this.markClosed();
  }
}
