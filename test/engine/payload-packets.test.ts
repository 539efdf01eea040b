// maxPayloadPackets: the most packets one long-polling POST may carry, in every framing (Engine.IO
// v4; v3 text, XHR2 binary and JSONP). Beyond it the POST is answered 400 (code 3) and its session
// is closed with "parse error"; at the limit it is accepted. A real client's burst (socket.io-client
// batches what it queued while a POST was in flight) stays below the default and still works.
// No timing assertions: every wait is bounded, nothing asserts how long something took.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Server } from "../../src/index.js";
import { resolveEngineOptions } from "../../src/engine/options.js";
import { ERR, fetchJson, fixture, get, pollUrl, pollingConnect, post, raw, type Fixture } from "./raw-client.js";
import { deferred, startServer, until } from "../support/harness.js";
import { within } from "../e2e/_util.js";

const LIMIT = 50;
const TEXT = "text/plain;charset=UTF-8";
const BINARY = "application/octet-stream";
const FORM = "application/x-www-form-urlencoded";
const BAD_REQUEST = '{"code":3,"message":"Bad request"}';
const UNKNOWN_SID = '{"code":1,"message":"Session ID unknown"}';

/** `count` Engine.IO v4 packets: acknowledged echoes, so that an accepted body is seen to be processed. */
const v4Body = (count: number) => Array.from({ length: count }, (_, i) => `42${i}["echo",${i}]`).join("\x1e");
/** v3 text framing: `<length>:<packet>` each. */
const v3TextBody = (count: number) => Array.from({ length: count }, () => "1:2").join("");
/** v3 XHR2 binary framing: a text entry `2` (ping) is 0, 1, 255, then the byte of "2". */
const v3BinaryBody = (count: number) => Buffer.from(Array.from({ length: count }, () => [0, 1, 255, 0x32]).flat());

describe("maxPayloadPackets", () => {
  test("the default is 10000 packets; it must be a positive integer", () => {
    assert.equal(resolveEngineOptions().maxPayloadPackets, 10_000);
    assert.equal(new Server().engine.options.maxPayloadPackets, 10_000);
    assert.equal(resolveEngineOptions({ maxPayloadPackets: 3 }).maxPayloadPackets, 3);
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => resolveEngineOptions({ maxPayloadPackets: bad }), RangeError, String(bad));
    }
  });

  describe("Engine.IO v4 POSTs", () => {
    let f: Fixture;
    before(async () => {
      f = await fixture({ maxPayloadPackets: LIMIT });
    });
    after(() => f.close());

    test(`a POST of exactly ${LIMIT} packets is processed`, async () => {
      const { sid } = await pollingConnect(f.ts);
      assert.equal(await post(f.ts, sid, v4Body(LIMIT)), "ok");
      const acks: string[] = [];
      while (acks.length < LIMIT) acks.push(...(await get(f.ts, sid)).split("\x1e"));
      assert.deepEqual(acks, Array.from({ length: LIMIT }, (_, i) => `43${i}[${i}]`));
      await f.check();
    });

    test(`a POST of ${LIMIT + 1} packets: 400 code 3, the session is closed with "parse error", none is processed`, async () => {
      const victim = await pollingConnect(f.ts);
      const bystander = await pollingConnect(f.ts);
      const waiting = get(f.ts, victim.sid);
      await until(() => f.ts.sio.engine.sessions.get(victim.sid)?.transport.writable === true, 5000, "the GET to reach the server");
      const res = await fetchJson(pollUrl(f.ts, victim.sid), { method: "POST", body: v4Body(LIMIT + 1), headers: { "Content-Type": TEXT } });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, ERR.bad);
      // The waiting poll is released with a CLOSE, not with acknowledgements of the refused packets.
      assert.equal(await waiting, "1");
      await until(() => f.disconnects.has(victim.nsSid), 5000, "disconnect handler");
      assert.equal(f.disconnects.get(victim.nsSid), "parse error");
      assert.deepEqual((await fetchJson(pollUrl(f.ts, victim.sid))).body, ERR.sid);
      // Only that session: another polling session and the official client still work.
      assert.equal(await post(f.ts, bystander.sid, '421["echo","bystander"]'), "ok");
      assert.equal(await get(f.ts, bystander.sid), '431["bystander"]');
      await f.check();
    });

    test("packets that cost two bytes each (NOOPs) are counted like any other", async () => {
      const { sid, nsSid } = await pollingConnect(f.ts);
      const res = await fetchJson(pollUrl(f.ts, sid), { method: "POST", body: Array(LIMIT + 1).fill("6").join("\x1e") });
      assert.equal(res.status, 400);
      await until(() => f.disconnects.has(nsSid), 5000, "disconnect handler");
      assert.equal(f.disconnects.get(nsSid), "parse error");
      await f.check();
    });
  });

  test("the default applies: 10000 packets pass, 10001 close the session (the body is far below maxHttpBufferSize)", async () => {
    const f = await fixture();
    try {
      const ok = await pollingConnect(f.ts);
      assert.equal(await post(f.ts, ok.sid, Array(10_000).fill("6").join("\x1e")), "ok");
      const over = await pollingConnect(f.ts);
      const body = Array(10_001).fill("6").join("\x1e");
      assert.ok(Buffer.byteLength(body) < 1e6);
      const res = await fetchJson(pollUrl(f.ts, over.sid), { method: "POST", body });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, ERR.bad);
      await until(() => f.disconnects.has(over.nsSid), 5000, "disconnect handler");
      assert.equal(f.disconnects.get(over.nsSid), "parse error");
      assert.equal(await post(f.ts, ok.sid, '421["echo","still here"]'), "ok");
      await f.check();
    } finally {
      await f.close();
    }
  });

  describe("Engine.IO v3 POSTs (allowEIO3), every framing", () => {
    let f: Fixture;
    before(async () => {
      f = await fixture({ maxPayloadPackets: LIMIT, allowEIO3: true });
    });
    after(() => f.close());

    const POLL3 = "/socket.io/?EIO=3&transport=polling";

    /** A v3 polling session (its handshake query picks the framing); its main-namespace sid arrives as the disconnect key. */
    async function session(query: string): Promise<{ sid: string; path: string }> {
      const res = await raw(f.ts.port, `${POLL3}${query}`);
      assert.equal(res.status, 200, res.text);
      const sid = /\\?"sid\\?":\\?"([A-Za-z0-9_-]{20})/.exec(res.text)?.[1];
      assert.ok(sid, res.text);
      return { sid, path: `${POLL3}&sid=${sid}${query}` };
    }

    const cases: Array<{ name: string; query: string; contentType: string; body: (count: number) => string | Buffer }> = [
      { name: "text framing (b64=1)", query: "&b64=1", contentType: TEXT, body: v3TextBody },
      { name: "XHR2 text framing", query: "", contentType: TEXT, body: v3TextBody },
      { name: "XHR2 binary framing", query: "", contentType: BINARY, body: v3BinaryBody },
      { name: "JSONP form", query: "&j=0", contentType: FORM, body: (count) => "d=" + encodeURIComponent(v3TextBody(count)) },
    ];
    for (const { name, query, contentType, body } of cases) {
      test(`${name}: ${LIMIT} packets pass; ${LIMIT + 1} are 400 code 3 and the session is gone`, async () => {
        const ok = await session(query);
        const accepted = await raw(f.ts.port, ok.path, { method: "POST", body: body(LIMIT), headers: { "Content-Type": contentType } });
        assert.equal(accepted.status, 200, accepted.text);
        assert.equal(accepted.text, "ok");

        const victim = await session(query);
        const refused = await raw(f.ts.port, victim.path, { method: "POST", body: body(LIMIT + 1), headers: { "Content-Type": contentType } });
        assert.equal(refused.status, 400);
        assert.equal(refused.text, BAD_REQUEST);
        assert.equal((await raw(f.ts.port, victim.path)).text, UNKNOWN_SID);
        // The accepted session is still open.
        const again = await raw(f.ts.port, ok.path, { method: "POST", body: body(1), headers: { "Content-Type": contentType } });
        assert.equal(again.text, "ok");
        await f.check();
      });
    }
  });

  describe("a real client's burst over long-polling", () => {
    const BURST = 2000;

    /** socket.io-client on long-polling emits BURST events in one loop; resolves with how many the server got, and the disconnect reason if any. */
    async function burst(options: { maxPayloadPackets?: number }): Promise<{ received: number; reason: string | null }> {
      let received = 0;
      const all = deferred();
      const gone = deferred<string>();
      const ts = await startServer({ logger: false, ...options }, (sio) => {
        sio.on("n", () => {
          if (++received === BURST) all.resolve();
        });
        sio.on("disconnect", (_sid: string, reason: string) => gone.resolve(reason));
      });
      try {
        const client = await ts.connect("polling");
        // The first emit leaves in its own POST; the rest queue while it is in flight and leave together.
        for (let i = 0; i < BURST; i++) client.emit("n", i);
        const outcome = await within(Promise.race([all.promise.then(() => null), gone.promise]), 20_000, "the burst or a disconnect");
        return { received, reason: outcome };
      } finally {
        await ts.close();
      }
    }

    test(`${BURST} emits in one loop all arrive under the default limit`, async () => {
      assert.deepEqual(await burst({}), { received: BURST, reason: null });
    });

    test("the same burst exceeds a limit of 100: the client batches far more than 100 packets per POST", async () => {
      const { reason } = await burst({ maxPayloadPackets: 100 });
      assert.equal(reason, "parse error");
    });
  });
});
