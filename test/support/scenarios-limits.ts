// Size limits and binary attachments that lie, on every runtime and integration (run from
// scenarios-hostile.ts against the main fixture server, maxHttpBufferSize = MAX_HTTP_BUFFER_SIZE).
// A WebSocket message at the limit is taken, one byte over it closes that socket with 1009 and the
// reason "transport error" (text and binary frames); a POST at the limit is taken. Binary packets
// whose attachment count or placeholders do not add up, sent by hand over WebSocket and long-polling:
// each closes that connection with "parse error", and nobody else notices, not even a client whose
// own binary packet is half received at the time.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import { MAX_HTTP_BUFFER_SIZE } from "../integrations/fixtures/app.js";
import { within } from "../e2e/_util.js";
import { joinMain, openRawSession, type RawPacket, type RawSession, type RawTransport } from "./raw-session.js";

const WAIT = 10_000;
const ENGINE = "/socket.io/?EIO=4";

export interface LimitContext {
  url(): string;
  serverReason(sid: string): Promise<string>;
}

const placeholder = (num: unknown) => `{"_placeholder":true,"num":${JSON.stringify(num)}}`;
const bytes = (...values: number[]) => new Uint8Array(values);

/** Binary packets that lie (the server's maxAttachments is the default, 10). */
const LYING: Array<[string, RawPacket[]]> = [
  ["more attachments sent than announced", [`51-["a",${placeholder(0)}]`, bytes(1), bytes(2)]],
  ["fewer attachments sent than announced, then a text packet", [`52-["a",${placeholder(0)},${placeholder(1)}]`, bytes(1), '2["b"]']],
  ["fewer placeholders than announced", [`52-["a",${placeholder(0)}]`, bytes(1), bytes(2)]],
  ["no placeholder at all", ['51-["a"]', bytes(1)]],
  ["placeholder num past the count", [`51-["a",${placeholder(1)}]`, bytes(1)]],
  ["placeholder num far out of range", [`51-["a",${placeholder(1e9)}]`, bytes(1)]],
  ["negative placeholder num", [`51-["a",${placeholder(-1)}]`, bytes(1)]],
  ["non-integer placeholder num", [`51-["a",${placeholder(0.5)}]`, bytes(1)]],
  ["placeholder num as a string", [`51-["a",${placeholder("0")}]`, bytes(1)]],
  ["placeholder num missing", ['51-["a",{"_placeholder":true}]', bytes(1)]],
  ["the same placeholder twice", [`52-["a",${placeholder(0)},${placeholder(0)}]`, bytes(1), bytes(2)]],
  ["a count of zero", [`50-["a",${placeholder(0)}]`, bytes(1)]],
  ["a count above maxAttachments (11)", [`511-["a",${Array.from({ length: 11 }, (_, i) => placeholder(i)).join(",")}]`, ...Array.from({ length: 11 }, (_, i) => bytes(i))]],
  ["a count of 10^20", [`5100000000000000000000-["a",${placeholder(0)}]`, bytes(1)]],
  ["an attachment with no binary packet", [bytes(1, 2, 3)]],
];

/** Close code and reason of a raw WebSocket that sent `message`, plus whether anything came back first. */
async function sendOnWebSocket(url: string, message: string | Buffer): Promise<{ code: number; nsSid: string }> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}${ENGINE}&transport=websocket`);
  ws.on("error", () => {});
  const texts: string[] = [];
  const waiting: Array<(text: string) => void> = [];
  ws.on("message", (data: Buffer) => {
    const waiter = waiting.shift();
    if (waiter) waiter(data.toString());
    else texts.push(data.toString());
  });
  const next = () => (texts.length > 0 ? Promise.resolve(texts.shift()!) : new Promise<string>((resolve) => waiting.push(resolve)));
  const closed = new Promise<number>((resolve) => ws.once("close", (code: number) => resolve(code)));
  assert.match(await within(next(), WAIT, "open packet"), /^0\{/);
  ws.send("40");
  const connect = await within(next(), WAIT, "CONNECT");
  const nsSid = (JSON.parse(connect.slice(2)) as { sid: string }).sid;
  ws.send(message);
  return { code: await within(closed, WAIT, "the close"), nsSid };
}

export function runLimitScenarios(ctx: LimitContext): void {
  describe(`maxHttpBufferSize (${MAX_HTTP_BUFFER_SIZE}) on WebSocket messages and POST bodies`, () => {
    /** `42["echo","zzz…"]` of exactly `size` bytes. */
    const echoOfSize = (size: number) => `42["echo","${"z".repeat(size - '42["echo",""]'.length)}"]`;

    test("a WebSocket text message of exactly the limit is taken and echoed", async () => {
      const session = await within(openRawSession(ctx.url(), "websocket"), WAIT, "raw session");
      try {
        await within(joinMain(session), WAIT, "join /");
        const message = echoOfSize(MAX_HTTP_BUFFER_SIZE);
        assert.equal(message.length, MAX_HTTP_BUFFER_SIZE);
        await session.send(message.slice(1));
        assert.equal(await within(session.next(), WAIT, "echo"), message.slice(1));
      } finally {
        session.end();
      }
    });

    for (const kind of ["text", "binary"] as const) {
      test(`a WebSocket ${kind} message one byte over the limit closes that socket with 1009 ("transport error"); others go on`, async () => {
        const bystander = await within(openRawSession(ctx.url(), "websocket"), WAIT, "bystander");
        try {
          await within(joinMain(bystander), WAIT, "bystander join");
          const text = echoOfSize(MAX_HTTP_BUFFER_SIZE + 1);
          const { code, nsSid } = await sendOnWebSocket(ctx.url(), kind === "text" ? text : Buffer.alloc(MAX_HTTP_BUFFER_SIZE + 1, 7));
          assert.equal(code, 1009);
          assert.equal(await ctx.serverReason(nsSid), "transport error");
          await bystander.send('21["echo","after"]');
          assert.equal(await within(bystander.next(), WAIT, "bystander echo"), '2["echo","after"]');
        } finally {
          bystander.end();
        }
      });
    }

    test("a POST of exactly the limit is taken", async () => {
      const session = await within(openRawSession(ctx.url(), "polling"), WAIT, "raw session");
      try {
        await within(joinMain(session), WAIT, "join /");
        const message = echoOfSize(MAX_HTTP_BUFFER_SIZE);
        await session.send(message.slice(1));
        assert.equal(await within(session.next(), WAIT, "echo"), message.slice(1));
      } finally {
        session.end();
      }
    });
  });

  for (const transport of ["websocket", "polling"] as const satisfies readonly RawTransport[]) {
    describe(`binary attachments that lie, over ${transport}`, () => {
      const open = async (): Promise<{ session: RawSession; nsSid: string }> => {
        const session = await within(openRawSession(ctx.url(), transport), WAIT, "raw session");
        return { session, nsSid: await within(joinMain(session), WAIT, "join /") };
      };

      test("attachments in any order, placeholders anywhere: taken and echoed (the control case)", async () => {
        const { session } = await open();
        try {
          await session.send(`52-7["echo",{"x":[${placeholder(1)}]},${placeholder(0)}]`, bytes(1, 1), bytes(2, 2));
          // Re-encoded in walk order: the first binary met is attachment 0.
          assert.equal(await within(session.next(), WAIT, "event"), `52-["echo",{"x":[${placeholder(0)}]},${placeholder(1)}]`);
          assert.deepEqual([...((await within(session.next(), WAIT, "attachment 0")) as Uint8Array)], [2, 2]);
          assert.deepEqual([...((await within(session.next(), WAIT, "attachment 1")) as Uint8Array)], [1, 1]);
          assert.equal(await within(session.next(), WAIT, "ack"), `62-7[{"x":[${placeholder(0)}]},${placeholder(1)}]`);
        } finally {
          session.end();
        }
      });

      // One bystander for the group (a session per case would double the group's time).
      let bystander: Promise<{ session: RawSession; nsSid: string }> | null = null;
      after(async () => (await bystander)?.session.end());

      for (const [name, packets] of LYING) {
        test(`${name}: that connection closes ("parse error"), another client's binary packet is unaffected`, async () => {
          const { session: witness } = await (bystander ??= open());
          const attacker = await open();
          try {
            // The bystander's own binary packet is half received while the attacker's arrives.
            await witness.send(`52-1["echo",${placeholder(0)},${placeholder(1)}]`, bytes(5));
            await attacker.session.send(...packets);
            await within(attacker.session.closed, WAIT, "the attacker's connection to close");
            assert.equal(await ctx.serverReason(attacker.nsSid), "parse error");
            await witness.send(bytes(6));
            assert.equal(await within(witness.next(), WAIT, "bystander event"), `52-["echo",${placeholder(0)},${placeholder(1)}]`);
            assert.deepEqual([...((await within(witness.next(), WAIT, "attachment 0")) as Uint8Array)], [5]);
            assert.deepEqual([...((await within(witness.next(), WAIT, "attachment 1")) as Uint8Array)], [6]);
            assert.equal(await within(witness.next(), WAIT, "bystander ack"), `62-1[${placeholder(0)},${placeholder(1)}]`);
            // The ack's own attachments, so that the next case starts with nothing queued.
            assert.deepEqual([...((await within(witness.next(), WAIT, "ack attachment 0")) as Uint8Array)], [5]);
            assert.deepEqual([...((await within(witness.next(), WAIT, "ack attachment 1")) as Uint8Array)], [6]);
          } finally {
            attacker.session.end();
          }
        });
      }
    });
  }
}
