// Huge request heads, on every runtime and integration (part of the shared scenario set, run from
// scenarios.ts against the main fixture server). The HTTP server in front of sockjet bounds the
// request line and headers: node:http (and Express, Koa, Fastify, Hono on it, and Deno's node:http)
// and Bun answer 431 past 16 KB; Deno.serve takes up to about 64 KB and answers 400 past it. What
// is asserted is what every runtime must do: a 100 KB header or URL, on a long-polling handshake,
// a WebSocket upgrade or a session's POST, gets an HTTP error (4xx) or a closed connection, never
// a session; the same requests with an 8 KB header or URL (under every runtime's limit) are served;
// and the server keeps serving the clients it has while the huge requests arrive.
// No timing assertions: every wait is bounded only so that a failure does not hang the run.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { io } from "socket.io-client";
import { emitAck, within } from "../e2e/_util.js";
import { waitConnect } from "./harness.js";

const WAIT = 10_000;
/** Past every runtime's limit (Deno.serve's is the largest, about 64 KB). */
const HUGE = 100_000;
/** Under every runtime's limit (16 KB on node:http and Bun). */
const LARGE = 8_000;

export interface HttpLimitContext {
  /** The main fixture server's URL (once started). */
  url(): string;
}

/** What came back for a raw request: the status line's code, or how the connection ended without one. */
type Outcome = { status: number; head: string } | { closed: string };

/**
 * Writes a request head byte for byte and reads until the server closes. A server that refuses a
 * head while it is still arriving may reset the connection before or after its answer: both count.
 */
function rawHead(url: string, head: string): Promise<Outcome> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.write(head));
    let done = false;
    const finish = (how: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve(match === null ? { closed: `${how}${text.length > 0 ? `, after ${JSON.stringify(text.slice(0, 60))}` : ""}` } : { status: Number(match[1]), head: text.split("\r\n")[0]! });
    };
    // A 101 leaves the connection open: the first bytes decide.
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (Buffer.concat(chunks).toString("latin1").startsWith("HTTP/1.1 101")) finish("upgraded");
    });
    socket.on("error", (err: NodeJS.ErrnoException) => finish(`error ${err.code ?? err.message}`));
    socket.on("close", () => finish("closed"));
    const timer = setTimeout(() => {
      if (!done) reject(new Error(`no answer and no close within ${WAIT} ms`));
      socket.destroy();
    }, WAIT);
  });
}

const ENGINE = "/socket.io/?EIO=4";

function requests(host: string, sid: string | null, fill: number): Array<[string, string]> {
  const big = "a".repeat(fill);
  const ws = `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n`;
  const list: Array<[string, string]> = [
    ["polling handshake, a long header", `GET ${ENGINE}&transport=polling HTTP/1.1\r\nHost: ${host}\r\nX-Filler: ${big}\r\nConnection: close\r\n\r\n`],
    ["polling handshake, a long URL", `GET ${ENGINE}&transport=polling&filler=${big} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`],
    ["polling handshake, a long cookie", `GET ${ENGINE}&transport=polling HTTP/1.1\r\nHost: ${host}\r\nCookie: a=${big}\r\nConnection: close\r\n\r\n`],
    ["WebSocket upgrade, a long header", `GET ${ENGINE}&transport=websocket HTTP/1.1\r\nHost: ${host}\r\n${ws}X-Filler: ${big}\r\n\r\n`],
    ["WebSocket upgrade, a long URL", `GET ${ENGINE}&transport=websocket&filler=${big} HTTP/1.1\r\nHost: ${host}\r\n${ws}\r\n`],
  ];
  if (sid !== null) {
    const body = "40";
    list.push([
      "a session's POST, a long header",
      `POST ${ENGINE}&transport=polling&sid=${sid} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: ${body.length}\r\nX-Filler: ${big}\r\nConnection: close\r\n\r\n${body}`,
    ]);
  }
  return list;
}

async function pollingSid(url: string): Promise<string> {
  const res = await fetch(`${url}${ENGINE}&transport=polling`);
  return (JSON.parse((await res.text()).slice(1)) as { sid: string }).sid;
}

export function runHttpLimitScenarios(ctx: HttpLimitContext): void {
  describe("huge request heads", () => {
    test(`a ${HUGE / 1000} KB header, cookie or URL gets a 4xx or a closed connection (handshake, upgrade, POST); the server keeps serving`, async () => {
      const url = ctx.url();
      const host = new URL(url).host;
      const bystander = io(url, { forceNew: true, reconnection: false, transports: ["websocket"] });
      try {
        await within(waitConnect(bystander), WAIT, "bystander connect");
        const sid = await pollingSid(url);
        // All at once, as a flood would, with the bystander talking meanwhile.
        const probes = requests(host, sid, HUGE);
        const outcomes = await Promise.all(probes.map(([, head]) => rawHead(url, head)));
        probes.forEach(([what], i) => {
          const outcome = outcomes[i]!;
          if ("status" in outcome) assert.ok(outcome.status >= 400 && outcome.status < 500, `${what}: ${outcome.head}`);
          else assert.doesNotMatch(outcome.closed, /upgraded/, `${what}: upgraded`);
        });
        assert.deepEqual(await within(emitAck(bystander, "echo", "still here"), WAIT, "bystander echo"), ["still here"]);
        // New sessions are still opened, over both transports.
        const fresh = io(url, { forceNew: true, reconnection: false, transports: ["polling"] });
        try {
          await within(waitConnect(fresh), WAIT, "new polling client");
          assert.deepEqual(await within(emitAck(fresh, "echo", 1), WAIT, "new client echo"), [1]);
        } finally {
          fresh.disconnect();
        }
      } finally {
        bystander.disconnect();
      }
    });

    test(`an ${LARGE / 1000} KB header, cookie or URL (under every runtime's limit) is served as usual`, async () => {
      const url = ctx.url();
      const host = new URL(url).host;
      const sid = await pollingSid(url);
      for (const [what, head] of requests(host, sid, LARGE)) {
        const outcome = await rawHead(url, head);
        assert.ok("status" in outcome, `${what}: ${JSON.stringify(outcome)}`);
        assert.equal(outcome.status, what.startsWith("WebSocket") ? 101 : 200, `${what}: ${outcome.head}`);
      }
    });
  });
}
