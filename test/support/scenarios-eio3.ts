// The Engine.IO v3 part of the shared scenario set (scenarios.ts runs it on every fixture, whose
// server has `allowEIO3: true`): socket.io-client 2.x (Socket.IO protocol v4) beside the v4
// clients, over each of its transport modes, with the same handlers as the v4 scenarios
// (fixtures/app.ts); raw v3 requests for the binary (XHR2) long-polling framing that the Node v2
// client cannot use; and the versions that stay refused.
// One main connection per mode carries most checks (auth, events, acks, a second namespace, rooms),
// and its server disconnect comes last. No timing assertions: every wait is bounded only so that a
// failure does not hang the run.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import type { Socket as ClientSocket } from "socket.io-client";
import { EXTRA_NAMESPACE } from "../integrations/fixtures/app.js";
import { bytesOf, emitAck, float32Of, Inbox, within } from "../e2e/_util.js";
import { until, type TransportMode } from "./harness.js";
import {
  engineParserV2,
  ioV2,
  socketParserV2,
  v2Connected,
  v2EmitAck,
  v2Next,
  v2Record,
  v2Refusal,
  v2Upgraded,
  type SocketPacketV2,
  type V2Options,
  type V2Socket,
} from "./v2-client.js";

export interface Eio3Context {
  /** The running fixture's URL (known once the suite's `before` has run). */
  url(): string;
  /** The disconnect reason the server reported for a sid (through the observer). */
  serverReason(sid: string): Promise<string>;
  /** Opens a socket.io-client v4 client (closed with the suite) and waits for its connect/upgrade. */
  openV4(mode: TransportMode): Promise<ClientSocket>;
}

/**
 * The v2 client's transport modes. In Node, plain long-polling asks for base64 as forceBase64 does
 * (see v2-client.ts); polling+upgrade moves to binary WebSocket frames after the upgrade.
 */
const V2_MODES = {
  websocket: { transports: ["websocket"] },
  polling: { transports: ["polling"] },
  "polling+upgrade": { transports: ["polling", "websocket"] },
  "polling, forceBase64": { transports: ["polling"], forceBase64: true },
} as const satisfies Record<string, V2Options>;
type V2Mode = keyof typeof V2_MODES;

/** The v4 client that shares a room with the v2 client of each mode. */
const V4_PARTNER: Record<V2Mode, TransportMode> = {
  websocket: "websocket",
  polling: "polling",
  "polling+upgrade": "polling+upgrade",
  "polling, forceBase64": "polling",
};

const WAIT = 10_000;
const VERSION_REFUSED = { code: 5, message: "Unsupported protocol version" };

interface Whoami {
  sid: string;
  auth: unknown;
  query: Record<string, string>;
  eio?: string;
  transport?: string;
  now?: string;
}

const whoami = async (socket: V2Socket): Promise<Whoami> => {
  const [info] = await within(v2EmitAck(socket, "whoami"), WAIT, `whoami on ${socket.nsp}`);
  return info as Whoami;
};

/** Runs a promise-returning function once, on first use; every caller shares its result. */
function shared<T>(make: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= make());
}

export function runEio3Scenarios(ctx: Eio3Context): void {
  for (const mode of Object.keys(V2_MODES) as V2Mode[]) {
    describe(`socket.io-client 2 (EIO=3) over ${mode}`, () => {
      const sockets: V2Socket[] = [];
      after(() => {
        for (const socket of sockets) socket.close();
      });
      const connect = (query: Record<string, string>): V2Socket => {
        const socket = ioV2(ctx.url(), { forceNew: true, reconnection: false, ...V2_MODES[mode], query });
        sockets.push(socket);
        return socket;
      };
      const open = async (query: Record<string, string>): Promise<V2Socket> => {
        const socket = connect(query);
        await within(v2Connected(socket), WAIT, `v2 ${mode} connect`);
        if (mode === "polling+upgrade") await within(v2Upgraded(socket), WAIT, "v2 upgrade to websocket");
        return socket;
      };
      // The main connection ("/" and EXTRA_NAMESPACE) and a second one for the room; both are
      // disconnected by the server in the last test.
      const main = shared(() => open({ token: "ok", user: "ana" }));
      const extra = shared(async () => {
        const root = await main();
        const socket = root.io.socket(EXTRA_NAMESPACE, { query: { token: "ns", role: "editor" } });
        // Emitted by the connect handler, held by the server until the namespace's CONNECT.
        const welcome = v2Next(socket, "welcome");
        await within(v2Connected(socket), WAIT, `v2 ${EXTRA_NAMESPACE} connect`);
        return { socket, welcome };
      });
      const member = shared(() => open({ token: "member" }));
      const wsNow = mode === "websocket" || mode === "polling+upgrade";

      test("auth through the query: the connect handler's auth on / and on a second namespace of the connection, and the environ's query", async () => {
        const info = await whoami(await main());
        // The handshake's query without Engine.IO's parameters (EIO, transport, t, b64...).
        assert.deepEqual(info.auth, { token: "ok", user: "ana" });
        assert.equal(info.eio, "3");
        assert.equal(info.transport, mode === "websocket" ? "websocket" : "polling");
        assert.equal(info.now, wsNow ? "websocket" : "polling");
        assert.equal(info.query.token, "ok");
        assert.equal(info.query.user, "ana");
        assert.equal(info.query.EIO, "3");
        if (mode === "polling, forceBase64") assert.equal(info.query.b64, "1");

        const { socket, welcome } = await extra();
        assert.deepEqual(await within(welcome, WAIT, "welcome from the connect handler"), [EXTRA_NAMESPACE]);
        const ns = await whoami(socket);
        // The namespace's auth is its own connect query (`0/extra?token=ns&role=editor,`)...
        assert.deepEqual(ns.auth, { token: "ns", role: "editor" });
        // ...which joins the handshake's query in its environ, the handshake's keys winning (socket.io 2).
        assert.equal(ns.query.role, "editor");
        assert.equal(ns.query.token, "ok");
        assert.equal(ns.query.user, "ana");
        assert.equal(ns.query.EIO, "3");
        assert.notEqual(ns.sid, info.sid);
      });

      test("events both ways with binary", async () => {
        const socket = await main();
        const echoed = v2Next(socket, "echo");
        const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
        // The v2 client detects Buffer and ArrayBuffer as binary (not typed arrays).
        const floats = new Float32Array([1.5, -2.25]).buffer;
        socket.emit("echo", "text", { nested: { bytes }, list: [1, bytes] }, floats);
        const [text, object, echoedFloats] = await within(echoed, WAIT, "echo event");
        assert.equal(text, "text");
        const { nested, list } = object as { nested: { bytes: unknown }; list: unknown[] };
        assert.deepEqual(bytesOf(nested.bytes), [...bytes]);
        assert.equal(list[0], 1);
        assert.deepEqual(bytesOf(list[1]), [...bytes]);
        assert.deepEqual(float32Of(echoedFloats), [1.5, -2.25]);
      });

      test("acknowledgements both ways, with binary", async () => {
        const socket = await main();
        const ack = await within(v2EmitAck(socket, "echo", 7, Buffer.from([5, 6])), WAIT, "echo ack");
        assert.equal(ack[0], 7);
        assert.deepEqual(bytesOf(ack[1]), [5, 6]);
        // The server calls the client (sio.call, with binary) and acknowledges with its answer.
        socket.on("question", (value: number, bytes: unknown, reply: (answer: unknown) => void) => {
          reply({ double: value * 2, bytes: Buffer.from(bytesOf(bytes)).reverse() });
        });
        const [answer] = (await within(v2EmitAck(socket, "ask", 21), WAIT, "ask ack")) as [{ double: number; bytes: unknown }];
        assert.equal(answer.double, 42);
        assert.deepEqual(bytesOf(answer.bytes), [7, 8, 9]);
      });

      test(`a room of v2 and v4 clients (v4 over ${V4_PARTNER[mode]}): a broadcast, text and binary, reaches both, skipping the v2 sender`, async () => {
        const room = `eio3-${mode}`;
        const [sender, v2, v4] = await Promise.all([main(), member(), ctx.openV4(V4_PARTNER[mode])]);
        const v4Inbox = new Inbox(v4);
        const v2Shouts = v2Record(v2, "shout");
        const senderShouts = v2Record(sender, "shout");
        const senderShouted = v2Record(sender, "shouted");
        await within(Promise.all([v2EmitAck(sender, "join", room), v2EmitAck(v2, "join", room), emitAck(v4, "join", room)]), WAIT, "join");
        await within(v2EmitAck(sender, "shout", room, "plain text"), WAIT, "text shout");
        await within(v2EmitAck(sender, "shout", room, { text: "with binary", bytes: Buffer.from([42, 0, 255]) }), WAIT, "binary shout");
        await until(() => v2Shouts.length >= 2 && v4Inbox.count("shout") >= 2, WAIT, "both shouts at the v2 and the v4 member");
        for (const shouts of [v2Shouts, v4Inbox.all("shout")]) {
          assert.equal(shouts.length, 2);
          assert.deepEqual(shouts[0], ["plain text"]);
          const [payload] = shouts[1]! as [{ text: string; bytes: unknown }];
          assert.equal(payload.text, "with binary");
          assert.deepEqual(bytesOf(payload.bytes), [42, 0, 255]);
        }
        // "shouted" goes to everyone after each shout: the sender has both and no shout.
        await until(() => senderShouted.length >= 2, WAIT, "shouted at the sender");
        assert.deepEqual(senderShouts, []);
      });

      test("refused connects: the error event has the refusal's data, or its message when it has none", async () => {
        // "/" is joined with the session: refused through the handshake query.
        const socket = connect({ token: "refuse" });
        assert.deepEqual(await within(v2Refusal(socket), WAIT, "refusal of /"), { code: 42 });
        assert.equal(socket.connected, false);
        // The connection stays: a namespace connect on it, refused without data.
        const ns = socket.io.socket(EXTRA_NAMESPACE, { query: { token: "refuse-plain" } });
        assert.equal(await within(v2Refusal(ns), WAIT, `refusal of ${EXTRA_NAMESPACE}`), "refused without data");
        assert.equal(ns.connected, false);
      });

      test("a server disconnect reaches the client as 'io server disconnect'; with { close: true } on every namespace of the connection", async () => {
        const plain = await member();
        const plainSid = (await whoami(plain)).sid;
        const plainGone = v2Next(plain, "disconnect");
        plain.emit("kick-me");
        assert.deepEqual(await within(plainGone, WAIT, "disconnect"), ["io server disconnect"]);
        assert.equal(await ctx.serverReason(plainSid), "server disconnect");

        const root = await main();
        const { socket: ns } = await extra();
        const [rootSid, nsSid] = [(await whoami(root)).sid, (await whoami(ns)).sid];
        const gone = Promise.all([v2Next(root, "disconnect"), v2Next(ns, "disconnect")]);
        root.emit("kick-me", { close: true });
        assert.deepEqual(await within(gone, WAIT, "disconnect of / and the namespace"), [["io server disconnect"], ["io server disconnect"]]);
        assert.equal(await ctx.serverReason(rootSid), "server disconnect");
        assert.equal(await ctx.serverReason(nsSid), "server disconnect");
      });
    });
  }

  describe("Engine.IO v3 beside v4 (allowEIO3)", () => {
    test("binary long-polling framing (XHR2 clients, no b64): binary both ways, application/octet-stream", async () => {
      const session = await v3PollingSession(ctx.url());
      try {
        // The implicit connect of "/" (no CONNECT from the client, none in the server's reply).
        const connected = await within(session.next((packet) => packet.type === 0), WAIT, "CONNECT of /");
        assert.equal(connected.data, undefined);
        await session.send({ type: socketParserV2.BINARY_EVENT, nsp: "/", id: 1, data: ["echo", "xhr2", Buffer.from([1, 2, 3, 255])] });
        const event = await within(session.next((packet) => packet.type === socketParserV2.BINARY_EVENT), WAIT, "echo event");
        const ack = await within(session.next((packet) => packet.type === socketParserV2.BINARY_ACK), WAIT, "echo ack");
        for (const packet of [event, ack]) {
          const values = packet.data as unknown[];
          assert.equal(values.at(-2), "xhr2");
          assert.deepEqual(bytesOf(values.at(-1)), [1, 2, 3, 255]);
        }
        assert.equal((event.data as unknown[])[0], "echo");
        assert.equal(ack.id, 1);
        // Each poll that carried binary was a binary payload.
        assert.ok(session.contentTypes.includes("application/octet-stream"), session.contentTypes.join());
      } finally {
        await session.close();
      }
    });

    test("other Engine.IO versions stay refused (400 code 5): EIO=2, 5, abc and none, polling and WebSocket", async () => {
      for (const eio of ["EIO=2&", "EIO=5&", "EIO=abc&", ""]) {
        const polling = await fetch(`${ctx.url()}/socket.io/?${eio}transport=polling`);
        assert.equal(polling.status, 400, `polling ${eio}`);
        assert.deepEqual(await polling.json(), VERSION_REFUSED, `polling ${eio}`);
        const upgrade = await within(refusedUpgrade(`${ctx.url().replace(/^http/, "ws")}/socket.io/?${eio}transport=websocket`), WAIT, `refused upgrade ${eio}`);
        assert.equal(upgrade.status, 400, `websocket ${eio}`);
        assert.deepEqual(JSON.parse(upgrade.body), VERSION_REFUSED, `websocket ${eio}`);
      }
    });
  });
}

// ---- helpers -------------------------------------------------------------------------------------

/** The status and body of a refused WebSocket handshake. */
function refusedUpgrade(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.once("end", () => {
        resolve({ status: res.statusCode ?? 0, body });
        ws.terminate();
      });
    });
    ws.once("open", () => {
      ws.close();
      reject(new Error(`the upgrade was accepted: ${url}`));
    });
    ws.once("error", () => {});
  });
}

/**
 * A raw Engine.IO v3 long-polling session of an XHR2 client (no `b64`), through the reference
 * codecs: POSTs binary payloads, and reads both framings (binary when a payload holds binary).
 */
async function v3PollingSession(base: string) {
  const handshake = await fetch(`${base}/socket.io/?EIO=3&transport=polling`);
  assert.equal(handshake.status, 200);
  const opened = decodeEngine(handshake.headers.get("content-type"), Buffer.from(await handshake.arrayBuffer()));
  assert.equal(opened[0]?.type, "open");
  const open = JSON.parse(String(opened[0]!.data)) as { sid: string; upgrades: string[]; pingInterval: number };
  assert.equal("maxPayload" in open, false, "v3 has no maxPayload");
  const url = `${base}/socket.io/?EIO=3&transport=polling&sid=${encodeURIComponent(open.sid)}`;
  const contentTypes: string[] = [];
  const received: SocketPacketV2[] = [];
  const decoder = new socketParserV2.Decoder();
  decoder.on("decoded", (packet) => void received.push(packet));
  for (const packet of opened.slice(1)) if (packet.type === "message") decoder.add(packet.data!);
  const post = async (body: string | Buffer, contentType: string) => {
    const response = await fetch(url, { method: "POST", body: typeof body === "string" ? body : new Uint8Array(body), headers: { "content-type": contentType } });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "ok");
  };
  return {
    contentTypes,
    /** The first received packet matching `match` (polling until it comes). */
    async next(match: (packet: SocketPacketV2) => boolean): Promise<SocketPacketV2> {
      for (;;) {
        const index = received.findIndex(match);
        if (index !== -1) return received.splice(index, 1)[0]!;
        const response = await fetch(url);
        assert.equal(response.status, 200);
        const type = response.headers.get("content-type");
        contentTypes.push(type ?? "");
        for (const packet of decodeEngine(type, Buffer.from(await response.arrayBuffer()))) {
          if (packet.type === "message") decoder.add(packet.data!);
        }
      }
    },
    /** One Socket.IO packet, as an XHR2 client sends it: a binary payload when it has attachments. */
    async send(packet: SocketPacketV2): Promise<void> {
      const encoded = await new Promise<Array<string | Buffer>>((resolve) => new socketParserV2.Encoder().encode(packet, resolve));
      const body = await new Promise<Buffer>((resolve) => engineParserV2.encodePayloadAsBinary(encoded.map((data) => ({ type: "message", data })), resolve));
      await post(body, "application/octet-stream");
    },
    /** Ends the session (an Engine.IO CLOSE, in the text framing). */
    close: () => post("1:1", "text/plain;charset=UTF-8"),
  };
}

/** The Engine.IO packets of a v3 poll response: the binary framing for application/octet-stream, else the text framing. */
function decodeEngine(contentType: string | null, body: Buffer): Array<{ type: string; data?: string | Buffer }> {
  const binary = contentType === "application/octet-stream";
  if (!binary) assert.match(contentType ?? "", /^text\/plain; ?charset=UTF-8$/i);
  const packets: Array<{ type: string; data?: string | Buffer }> = [];
  engineParserV2.decodePayload(binary ? body : body.toString("utf8"), (packet) => {
    assert.notEqual(packet.type, "error", `undecodable payload: ${binary ? body.toString("hex") : body.toString()}`);
    packets.push(packet);
  });
  return packets;
}
