// No internal error text reaches a client, on every runtime and integration (run from
// scenarios-hostile.ts against its second, "hostile" server). Every hook and handler through
// which an exception could turn into an HTTP response or a packet throws an error whose message is
// failing-hooks.ts's SECRET: allowRequest (throw, reject), generateId (after a synchronous and an
// asynchronous allowRequest: the second ran in a promise continuation and was an unhandled
// rejection), a connect handler (throw, throw of a string, reject), an event handler (throw,
// reject), the JSON codec (decoding and encoding). The client gets the protocol's generic answer
// and never the text or a stack; the error is logged; the connection and everyone else go on.
// The documented exception: a ConnectionRefusedError's message and data reach the client.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Socket as ClientSocket } from "socket.io-client";
import { DELIBERATE_REFUSAL, FAILING_NAMESPACE, JSON_BOMB, SECRET } from "../integrations/fixtures/failing-hooks.js";
import { emitAck, within } from "../e2e/_util.js";
import { sleep } from "./harness.js";
import { joinMain, openRawSession, type RawSession, type RawTransport } from "./raw-session.js";
import { wsRefusal } from "../engine/raw-client.js";

const WAIT = 10_000;
const POLLING = "/socket.io/?EIO=4&transport=polling";
const WEBSOCKET = "/socket.io/?EIO=4&transport=websocket";
const FORBIDDEN = '{"code":4,"message":"Forbidden"}';
const BAD_REQUEST = '{"code":3,"message":"Bad request"}';
const GENERIC_REFUSAL = `${FAILING_NAMESPACE},{"message":"Connection rejected by server"}`;

export interface FailureContext {
  url(): string;
  serverReason(sid: string): Promise<string>;
  /** A connected socket.io-client on the hostile server, over WebSocket. */
  bystander(): Promise<ClientSocket>;
}

/** No trace of the thrown error: neither its text nor a stack frame. */
function assertNoLeak(texts: readonly string[], what: string): void {
  for (const text of texts) {
    assert.ok(!text.includes(SECRET), `${what}: the error's text reached the client: ${text.slice(0, 300)}`);
    assert.ok(!/\n\s+at |\bat .*\.[jt]s:\d+/.test(text), `${what}: a stack trace reached the client: ${text.slice(0, 300)}`);
  }
}

export function runFailureScenarios(ctx: FailureContext): void {
  describe("no internal error text reaches a client", () => {
    /** Waits until the server has logged, with the thrown error, each of these lines. */
    const logged = async (lines: string[]) => {
      const socket = await ctx.bystander();
      for (;;) {
        const [secrets] = (await within(emitAck(socket, "logged-secrets"), WAIT, "logged secrets")) as [string[]];
        if (lines.every((line) => secrets.includes(line))) return;
        await sleep(20);
      }
    };
    const bystanderEchoes = async () => {
      const socket = await ctx.bystander();
      assert.deepEqual(await within(emitAck(socket, "echo", "still here"), WAIT, "bystander echo"), ["still here"]);
    };

    test("allowRequest that throws or rejects: 403 code 4 on both handshakes, the error logged", async () => {
      for (const fail of ["throw", "reject"]) {
        const polling = await fetch(`${ctx.url()}${POLLING}&fail=${fail}`);
        const body = await polling.text();
        assert.equal(polling.status, 403, `polling, ${fail}`);
        assert.equal(body, FORBIDDEN);
        const ws = await within(wsRefusal(`${ctx.url().replace(/^http/, "ws")}${WEBSOCKET}&fail=${fail}`), WAIT, "WebSocket refusal");
        assert.equal(ws.status, 403, `WebSocket, ${fail}`);
        assert.equal(ws.text, FORBIDDEN);
        assertNoLeak([body, ws.text], `allowRequest ${fail}`);
      }
      await logged(["allowRequest threw; refusing"]);
      await bystanderEchoes();
    });

    test("generateId that throws, after a synchronous or an asynchronous allowRequest: 400 code 3 on both handshakes, the error logged, the server goes on", async () => {
      for (const fail of ["id", "id-async"]) {
        const polling = await within(fetch(`${ctx.url()}${POLLING}&fail=${fail}`), WAIT, "polling answer");
        const body = await polling.text();
        assert.equal(polling.status, 400, `polling, ${fail}: ${body.slice(0, 300)}`);
        assert.equal(body, BAD_REQUEST);
        const ws = await within(wsRefusal(`${ctx.url().replace(/^http/, "ws")}${WEBSOCKET}&fail=${fail}`), WAIT, "WebSocket refusal");
        assert.equal(ws.status, 400, `WebSocket, ${fail}: ${ws.text.slice(0, 300)}`);
        assert.equal(ws.text, BAD_REQUEST);
        assertNoLeak([body, ws.text], `generateId, ${fail}`);
      }
      await logged(["request failed", "upgrade request failed"]);
      await bystanderEchoes();
    });

    for (const transport of ["websocket", "polling"] as const satisfies readonly RawTransport[]) {
      describe(`over ${transport}`, () => {
        const open = async (): Promise<RawSession> => within(openRawSession(ctx.url(), transport), WAIT, "raw session");

        test("a connect handler that throws an Error, throws a string or rejects: CONNECT_ERROR with the generic message only, logged; the connection goes on", async () => {
          const session = await open();
          try {
            for (const how of ["throw", "throw-string", "reject"]) {
              await session.send(`0${FAILING_NAMESPACE},{"how":"${how}"}`);
              assert.equal(await within(session.next(), WAIT, `refusal (${how})`), "4" + GENERIC_REFUSAL, how);
            }
            // The documented refusal: a ConnectionRefusedError's message and data are the client's.
            await session.send(`0${FAILING_NAMESPACE},{"how":"refuse"}`);
            assert.equal(await within(session.next(), WAIT, "deliberate refusal"), `4${FAILING_NAMESPACE},${JSON.stringify(DELIBERATE_REFUSAL)}`);
            // Refusals end nothing: the same connection joins the namespace, then "/".
            await session.send(`0${FAILING_NAMESPACE},{"how":"accept"}`);
            assert.match(String(await within(session.next(), WAIT, "CONNECT")), new RegExp(`^0${FAILING_NAMESPACE},\\{"sid":`));
            await within(joinMain(session), WAIT, "join /");
            assertNoLeak(session.transcript, "connect handler");
          } finally {
            session.end();
          }
          await logged(["connect handler failed; refusing the connection"]);
          await bystanderEchoes();
        });

        test("an event handler that throws or rejects: no acknowledgement, nothing of the error sent, logged; the connection goes on", async () => {
          const session = await open();
          try {
            await within(joinMain(session), WAIT, "join /");
            await session.send('21["explode","throw"]', '22["explode","reject"]', '23["echo","after"]');
            // The echo's event and ack are the next packets: no ack 1 or 2 came before them.
            assert.equal(await within(session.next(), WAIT, "echo event"), '2["echo","after"]');
            assert.equal(await within(session.next(), WAIT, "echo ack"), '33["after"]');
            assertNoLeak(session.transcript, "event handler");
          } finally {
            session.end();
          }
          await logged(["event handler failed"]);
          await bystanderEchoes();
        });

        test("an acknowledgement the JSON codec cannot encode: none sent, logged; the connection goes on", async () => {
          const session = await open();
          try {
            await within(joinMain(session), WAIT, "join /");
            await session.send('21["bomb-ack"]', '22["echo","after"]');
            assert.equal(await within(session.next(), WAIT, "echo event"), '2["echo","after"]');
            assert.equal(await within(session.next(), WAIT, "echo ack"), '32["after"]');
            assertNoLeak(session.transcript, "ack encoding");
          } finally {
            session.end();
          }
          await logged(["acknowledgement could not be encoded; none sent"]);
          await bystanderEchoes();
        });

        test("a packet the JSON codec throws on while decoding: that connection closes ('parse error'), nothing of the error sent", async () => {
          const session = await open();
          const nsSid = await within(joinMain(session), WAIT, "join /");
          await session.send(`2["echo","${JSON_BOMB}"]`);
          await within(session.closed, WAIT, "the connection to close");
          assert.equal(await ctx.serverReason(nsSid), "parse error");
          assertNoLeak(session.transcript, "JSON decode");
          await bystanderEchoes();
        });
      });
    }
  });
}
