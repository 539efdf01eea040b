// A Socket.IO client over HTTP long-polling (node:http with a keep-alive agent): handshake GET,
// namespace connect by POST, then one GET always pending; server pings are answered with a POST
// and the GET is re-issued whenever the server answers it.

import http from "node:http";
import { ENGINE_PATH, ProtocolClient, type ClientOptions } from "./protocol.js";

const SEPARATOR = "\x1e";

export interface PollingOptions extends ClientOptions {
  agent: http.Agent;
}

interface Reply {
  status: number;
  body: string;
}

export class PollingClient extends ProtocolClient {
  private outbox: string[] = [];
  private posting = false;
  private connectWaiter: { resolve: () => void; reject: (err: Error) => void } | null = null;

  private constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly agent: http.Agent,
    options: ClientOptions,
  ) {
    super(options);
  }

  /** Handshakes, connects to namespace "/" and leaves a GET pending; resolves once connected. */
  static async connect(host: string, port: number, options: PollingOptions): Promise<PollingClient> {
    const client = new PollingClient(host, port, options.agent, options);
    await client.open();
    return client;
  }

  private async open(): Promise<void> {
    const reply = await this.request("GET", `${ENGINE_PATH}?EIO=4&transport=polling`, null);
    if (reply.status !== 200 || !reply.body.startsWith("0")) throw new Error(`handshake failed: ${reply.status} ${reply.body.slice(0, 80)}`);
    const open = JSON.parse(reply.body.slice(1)) as { sid?: unknown; pingInterval?: unknown };
    if (typeof open.sid !== "string") throw new Error("handshake without sid");
    this.engineSid = open.sid;
    this.pingInterval = typeof open.pingInterval === "number" ? open.pingInterval : 0;
    const connected = new Promise<void>((resolve, reject) => (this.connectWaiter = { resolve, reject }));
    this.sendText("40");
    this.poll();
    await connected;
  }

  private get url(): string {
    return `${ENGINE_PATH}?EIO=4&transport=polling&sid=${encodeURIComponent(this.engineSid ?? "")}`;
  }

  private poll(): void {
    if (this.closed) return;
    this.request("GET", this.url, null).then(
      (reply) => {
        if (reply.status !== 200) return this.fail(`poll answered ${reply.status} ${reply.body.slice(0, 80)}`);
        for (const packet of reply.body.split(SEPARATOR)) this.onPacket(packet);
        this.poll();
      },
      (err: Error) => this.fail(`poll failed: ${err.message}`),
    );
  }

  private onPacket(packet: string): void {
    const type = packet.charCodeAt(0);
    if (type === 0x34 /* 4: message */) {
      const sio = packet.charCodeAt(1);
      if (sio === 0x32) this.onEvent(packet.slice(1));
      else if (sio === 0x33) this.onAckText(packet.slice(1));
      else if (sio === 0x30) {
        const reply = JSON.parse(packet.slice(2)) as { sid?: unknown };
        this.sid = typeof reply.sid === "string" ? reply.sid : null;
        this.connectWaiter?.resolve();
        this.connectWaiter = null;
      } else if (sio === 0x34) this.fail(`connect_error ${packet}`);
      else this.errors.push(`unexpected packet ${packet.slice(0, 40)}`);
    } else if (type === 0x32 /* 2: ping */) this.sendText("3");
    else if (type === 0x31 /* 1: close */) this.fail("closed by the server");
    else if (type !== 0x36 /* 6: noop */) this.errors.push(`unexpected packet ${packet.slice(0, 40)}`);
  }

  /** Queues a packet; at most one POST is in flight per session, so packets queued meanwhile travel together. */
  protected sendText(text: string): void {
    if (this.closed) return;
    this.outbox.push(text);
    if (!this.posting) this.flush();
  }

  private flush(): void {
    if (this.outbox.length === 0 || this.closed) return;
    const body = this.outbox.join(SEPARATOR);
    this.outbox = [];
    this.posting = true;
    this.request("POST", this.url, body).then(
      (reply) => {
        this.posting = false;
        if (reply.status !== 200) return this.fail(`post answered ${reply.status} ${reply.body.slice(0, 80)}`);
        this.flush();
      },
      (err: Error) => this.fail(`post failed: ${err.message}`),
    );
  }

  private fail(reason: string): void {
    if (this.closed) return;
    this.errors.push(reason);
    this.failPending(reason);
    this.connectWaiter?.reject(new Error(reason));
    this.connectWaiter = null;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Leaves: sends an Engine.IO CLOSE and stops polling. */
  close(): void {
    if (this.closed) return;
    this.outbox.push("1");
    if (!this.posting) this.flush();
    this.closed = true;
  }

  private request(method: "GET" | "POST", path: string, body: string | null): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent: this.agent,
          ...(this.options.localAddress !== undefined ? { localAddress: this.options.localAddress } : {}),
          headers: body === null ? {} : { "Content-Type": "text/plain;charset=UTF-8", "Content-Length": Buffer.byteLength(body) },
        },
        (res) => {
          res.setEncoding("utf8");
          let text = "";
          res.on("data", (chunk: string) => (text += chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body ?? undefined);
    });
  }
}
