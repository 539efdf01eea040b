// A Socket.IO client over a raw WebSocket (the `ws` client), speaking the protocol directly, in
// either generation:
//   - Engine.IO v4 / Socket.IO v5 (socket.io-client 3+, the default): open packet, then `40` to
//     connect to namespace "/" and its `40{"sid":...}` reply; every server ping `2` is answered `3`.
//   - Engine.IO v3 / Socket.IO v4 (socket.io-client 1.x/2.x, `engineProtocol: 3`): the server
//     connects the client to "/" by itself (open packet, then a bare `40`; the client sends no
//     CONNECT) and never pings; the client pings `2` every pingInterval of the open packet and the
//     server answers `3`.
// Events and acks read the same in both (`42[...]`, `43<id>[...]`); deliveries are counted without
// decoding them.
// With `msgpack` (Engine.IO v4 only), Socket.IO packets are socket.io-msgpack-parser's: one msgpack
// map {type, data, nsp, id} per binary WebSocket frame, decoded in full (the load generator's CPU
// figure shows that cost).

import WebSocket from "ws";
import { Packr, Unpackr } from "msgpackr";
import { ENGINE_PATH, ProtocolClient, type ClientOptions } from "./protocol.js";

const C_0 = 0x30; // "0": open / Socket.IO CONNECT
const C_1 = 0x31; // "1": close
const C_2 = 0x32; // "2": ping / Socket.IO EVENT
const C_3 = 0x33; // "3": pong / Socket.IO ACK
const C_4 = 0x34; // "4": message / Socket.IO CONNECT_ERROR

export interface WsClientOptions extends ClientOptions {
  /** The Engine.IO revision to speak: 4 (default) or 3. */
  engineProtocol?: 3 | 4;
  /** Speak socket.io-msgpack-parser's packet format (Engine.IO v4). */
  msgpack?: boolean;
  /** The CONNECT packet's auth payload, as JSON text (Engine.IO v4, JSON parser); none by default. */
  auth?: string;
}

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, int64AsType: "number" });

interface MsgpackPacket {
  type?: unknown;
  data?: unknown;
  id?: unknown;
}

export class WsClient extends ProtocolClient {
  private ws: WebSocket | null = null;
  readonly engineProtocol: 3 | 4;
  readonly msgpack: boolean;
  private readonly auth: string;
  /** Heartbeat counters: v4 counts the server's pings (each answered), v3 its own pings and the server's pongs. */
  pingsReceived = 0;
  pingsSent = 0;
  pongsReceived = 0;
  private pinger: NodeJS.Timeout | null = null;

  private constructor(options: WsClientOptions) {
    super(options);
    this.engineProtocol = options.engineProtocol ?? 4;
    this.msgpack = options.msgpack === true;
    this.auth = options.auth ?? "";
  }

  /** Opens the WebSocket and connects to namespace "/"; resolves once the CONNECT reply arrived. */
  static async connect(host: string, port: number, options: WsClientOptions): Promise<WsClient> {
    const client = new WsClient(options);
    await client.open(host, port);
    return client;
  }

  private open(host: string, port: number): Promise<void> {
    const v3 = this.engineProtocol === 3;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${host}:${port}${ENGINE_PATH}?EIO=${this.engineProtocol}&transport=websocket`, {
        perMessageDeflate: false,
        skipUTF8Validation: true,
        handshakeTimeout: 30_000,
        ...(this.options.localAddress !== undefined ? { localAddress: this.options.localAddress } : {}),
      });
      this.ws = ws;
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        if (isBinary) {
          if (!this.msgpack) return void this.errors.push("unexpected binary frame");
          return void this.onMsgpack(data, () => {
            if (!settled) {
              settled = true;
              resolve();
            }
          }, fail);
        }
        const a = data[0];
        if (a === C_4) {
          const b = data[1];
          if (b === C_2) this.onEvent(this.options.verify ? data.toString("utf8", 1) : null);
          else if (b === C_3) this.onAckText(data.toString("utf8", 1));
          else if (b === C_0) {
            if (v3) {
              // Socket.IO v4: `40` for "/", with no payload; the client's sid is the Engine.IO one.
              if (data.length !== 2) this.errors.push(`unexpected v3 CONNECT ${data.toString("utf8", 0, 40)}`);
              this.sid = this.engineSid;
            } else {
              const reply = JSON.parse(data.toString("utf8", 2)) as { sid?: unknown };
              this.sid = typeof reply.sid === "string" ? reply.sid : null;
            }
            if (!settled) {
              settled = true;
              resolve();
            }
          } else if (b === C_4) fail(new Error(`connect_error ${data.toString("utf8")}`));
          else this.errors.push(`unexpected packet ${data.toString("utf8", 0, 40)}`);
        } else if (a === C_2 && data.length === 1) {
          this.pingsReceived++;
          // A v3 server never pings (the client does): answering would hide a server that does.
          if (v3) this.errors.push("the server pinged an Engine.IO v3 client");
          else ws.send("3");
        } else if (a === C_3 && data.length === 1 && v3) {
          this.pongsReceived++;
        } else if (a === C_0) {
          const open = JSON.parse(data.toString("utf8", 1)) as { sid?: unknown; pingInterval?: unknown };
          this.engineSid = typeof open.sid === "string" ? open.sid : null;
          this.pingInterval = typeof open.pingInterval === "number" ? open.pingInterval : 0;
          // v3 clients ignore fields they do not know (socket.io 4.8 sends them maxPayload too).
          if (this.msgpack) ws.send(packr.pack({ type: 0, nsp: "/" }));
          else if (!v3) ws.send(`40${this.auth}`);
          else if (this.pingInterval > 0) this.startPinging(ws);
        } else if (a === C_1) {
          ws.close();
        } else {
          this.errors.push(`unexpected packet ${data.toString("utf8", 0, 40)}`);
        }
      });
      ws.on("error", (err: Error) => fail(err));
      ws.on("close", () => {
        this.stopPinging();
        this.failPending("closed");
        fail(new Error("closed before connecting"));
      });
    });
  }

  /** A msgpack Socket.IO packet: CONNECT, EVENT (a delivery), ACK or CONNECT_ERROR. */
  private onMsgpack(data: Buffer, connected: () => void, fail: (err: Error) => void): void {
    let packet: MsgpackPacket;
    try {
      packet = unpackr.unpack(data) as MsgpackPacket;
    } catch {
      this.errors.push("undecodable msgpack frame");
      return;
    }
    if (packet.type === 2) this.onEvent(this.options.verify ? `2${JSON.stringify(packet.data)}` : null);
    else if (packet.type === 3) this.onAckText(`3${String(packet.id)}${JSON.stringify(packet.data)}`);
    else if (packet.type === 0) {
      const sid = (packet.data as { sid?: unknown } | undefined)?.sid;
      this.sid = typeof sid === "string" ? sid : null;
      connected();
    } else if (packet.type === 4) fail(new Error(`connect_error ${JSON.stringify(packet.data)}`));
    else this.errors.push(`unexpected msgpack packet type ${String(packet.type)}`);
  }

  override emitWithAck(event: string, values: readonly unknown[]): Promise<string> {
    if (!this.msgpack) return super.emitWithAck(event, values);
    const id = this.nextAckId++;
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error("client closed"));
      this.acks.set(id, resolve);
      this.ws?.send(packr.pack({ type: 2, data: [event, ...values], nsp: "/", id }));
    });
  }

  /** v3 heartbeat: a ping every pingInterval, as socket.io-client 2 sends them (the timer does not keep the process alive). */
  private startPinging(ws: WebSocket): void {
    this.pinger = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return;
      this.pingsSent++;
      ws.send("2");
    }, this.pingInterval);
    this.pinger.unref();
  }

  private stopPinging(): void {
    if (this.pinger !== null) clearInterval(this.pinger);
    this.pinger = null;
  }

  protected sendText(text: string): void {
    this.ws?.send(text);
  }

  get isOpen(): boolean {
    return !this.closed && this.ws?.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.closed = true;
    this.stopPinging();
    this.ws?.close();
  }

  /** Drops the TCP connection without a closing handshake. */
  terminate(): void {
    this.closed = true;
    this.stopPinging();
    this.ws?.terminate();
  }
}
