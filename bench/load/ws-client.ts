// A Socket.IO client over a raw WebSocket (the `ws` client), speaking the protocol directly:
// open packet, namespace "/" connect, pong to every server ping, events with acks, counting
// broadcast deliveries without decoding them.

import WebSocket from "ws";
import { ENGINE_PATH, ProtocolClient, type ClientOptions } from "./protocol.js";

const C_0 = 0x30; // "0": open / Socket.IO CONNECT
const C_1 = 0x31; // "1": close
const C_2 = 0x32; // "2": ping / Socket.IO EVENT
const C_3 = 0x33; // "3": Socket.IO ACK
const C_4 = 0x34; // "4": message / Socket.IO CONNECT_ERROR

export class WsClient extends ProtocolClient {
  private ws: WebSocket | null = null;

  /** Opens the WebSocket and connects to namespace "/"; resolves once the CONNECT reply arrived. */
  static async connect(host: string, port: number, options: ClientOptions): Promise<WsClient> {
    const client = new WsClient(options);
    await client.open(host, port);
    return client;
  }

  private open(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${host}:${port}${ENGINE_PATH}?EIO=4&transport=websocket`, {
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
        if (isBinary) return void this.errors.push("unexpected binary frame");
        const a = data[0];
        if (a === C_4) {
          const b = data[1];
          if (b === C_2) this.onEvent(this.options.verify ? data.toString("utf8", 1) : null);
          else if (b === C_3) this.onAckText(data.toString("utf8", 1));
          else if (b === C_0) {
            const reply = JSON.parse(data.toString("utf8", 2)) as { sid?: unknown };
            this.sid = typeof reply.sid === "string" ? reply.sid : null;
            if (!settled) {
              settled = true;
              resolve();
            }
          } else if (b === C_4) fail(new Error(`connect_error ${data.toString("utf8")}`));
          else this.errors.push(`unexpected packet ${data.toString("utf8", 0, 40)}`);
        } else if (a === C_2 && data.length === 1) {
          ws.send("3");
        } else if (a === C_0) {
          const open = JSON.parse(data.toString("utf8", 1)) as { sid?: unknown; pingInterval?: unknown };
          this.engineSid = typeof open.sid === "string" ? open.sid : null;
          this.pingInterval = typeof open.pingInterval === "number" ? open.pingInterval : 0;
          ws.send("40");
        } else if (a === C_1) {
          ws.close();
        } else {
          this.errors.push(`unexpected packet ${data.toString("utf8", 0, 40)}`);
        }
      });
      ws.on("error", (err: Error) => fail(err));
      ws.on("close", () => {
        this.failPending("closed");
        fail(new Error("closed before connecting"));
      });
    });
  }

  protected sendText(text: string): void {
    this.ws?.send(text);
  }

  get isOpen(): boolean {
    return !this.closed && this.ws?.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.closed = true;
    this.ws?.close();
  }

  /** Drops the TCP connection without a closing handshake. */
  terminate(): void {
    this.closed = true;
    this.ws?.terminate();
  }
}
