// The origin policy in each of its forms (`cors.origin`: a list, a single string, true, "*", an
// anchored and an unanchored RegExp, a function, sync or async), each with origins it must accept
// and origins it must refuse, on every kind of request it guards: the polling handshake, a
// preflight, a POST to an existing session, a new WebSocket and the upgrade of a polling session.
// A refused origin gets 403 {"code":4,"message":"Forbidden"} and no CORS headers. A function that
// throws or rejects refuses. Lists and strings match exactly, never by prefix. The same checks on
// every runtime: test/support/scenarios.ts ("CORS" tests).
// No timing assertions: every wait is bounded, nothing asserts how long something took.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { CorsOptions, EngineRequest } from "../../src/engine/index.js";
import { ERR, POLL, RawWs, WSQ, fixture, handshake, parseOpen, raw, wsRefusal, type Fixture } from "./raw-client.js";

const ALLOWED = "http://allowed.example";

/** Origins a prefix or substring comparison would admit, and other near misses of ALLOWED. */
const NEAR_MISSES = [
  "http://allowed.example.evil.test", // ALLOWED is a prefix of it
  "http://allowed.exampl", // it is a prefix of ALLOWED
  "http://allowed.example:8080",
  "https://allowed.example",
  "http://allowed.example/",
  "http://sub.allowed.example",
  "http://evil-allowed.example",
  "null",
];

/** Everything an allowed origin may do; `allowOrigin` is the Access-Control-Allow-Origin expected. */
async function expectAllowed(f: Fixture, origin: string, allowOrigin = origin): Promise<void> {
  const { port } = f.ts;
  const hs = await raw(port, POLL, { headers: { Origin: origin } });
  assert.equal(hs.status, 200, `handshake from ${origin}: ${hs.text}`);
  assert.equal(hs.headers["access-control-allow-origin"], allowOrigin, origin);
  parseOpen(hs.text);

  const preflight = await raw(port, POLL, { method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": "POST" } });
  assert.equal(preflight.status, 204, `preflight from ${origin}`);
  assert.equal(preflight.headers["access-control-allow-origin"], allowOrigin, origin);

  const { sid } = await handshake(f.ts);
  const posted = await raw(port, `${POLL}&sid=${sid}`, { method: "POST", body: "40", headers: { Origin: origin, "Content-Type": "text/plain" } });
  assert.equal(posted.status, 200, `POST from ${origin}: ${posted.text}`);
  assert.equal(posted.text, "ok");

  const ws = new RawWs(`ws://127.0.0.1:${port}${WSQ}`, { Origin: origin });
  try {
    await ws.opened;
    parseOpen(await ws.nextText());
  } finally {
    ws.terminate();
  }
  const probe = new RawWs(`ws://127.0.0.1:${port}${WSQ}&sid=${sid}`, { Origin: origin });
  try {
    await probe.opened;
    probe.send("2probe");
    assert.equal(await probe.nextText(), "3probe");
  } finally {
    probe.terminate();
  }
}

/** A refused origin: 403 code 4 without CORS headers on every request, upgrades included. */
async function expectRefused(f: Fixture, origin: string): Promise<void> {
  const { port } = f.ts;
  const { sid } = await handshake(f.ts);
  const requests: Array<[string, string, { method?: string; body?: string; headers: Record<string, string> }]> = [
    ["handshake", POLL, { headers: { Origin: origin } }],
    ["preflight", POLL, { method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": "POST" } }],
    ["POST to a session", `${POLL}&sid=${sid}`, { method: "POST", body: "40", headers: { Origin: origin, "Content-Type": "text/plain" } }],
    ["poll of a session", `${POLL}&sid=${sid}`, { headers: { Origin: origin } }],
  ];
  for (const [what, path, options] of requests) {
    const res = await raw(port, path, options);
    assert.equal(res.status, 403, `${what} from ${origin}: ${res.status} ${res.text}`);
    assert.deepEqual(JSON.parse(res.text), ERR.forbidden, `${what} from ${origin}`);
    assert.equal(res.headers["access-control-allow-origin"], undefined, `${what} from ${origin}`);
    assert.equal(res.headers["access-control-allow-credentials"], undefined, `${what} from ${origin}`);
  }
  for (const [what, url] of [
    ["WebSocket", `ws://127.0.0.1:${port}${WSQ}`],
    ["upgrade of a polling session", `ws://127.0.0.1:${port}${WSQ}&sid=${sid}`],
  ] as const) {
    const refusal = await wsRefusal(url, { Origin: origin });
    assert.equal(refusal.status, 403, `${what} from ${origin}`);
    assert.deepEqual(refusal.body, ERR.forbidden, `${what} from ${origin}`);
  }
}

/** A server with this origin policy; runs `body`, then checks that requests without Origin still pass. */
async function withPolicy(origin: CorsOptions["origin"], body: (f: Fixture) => Promise<void>, credentials = true): Promise<void> {
  const f = await fixture({ cors: { origin, credentials } });
  try {
    await body(f);
    // Non-browser clients send no Origin: every form lets them through.
    const hs = await raw(f.ts.port, POLL);
    assert.equal(hs.status, 200);
    await f.check();
  } finally {
    await f.close();
  }
}

describe("CORS origin forms, over polling and WebSocket upgrades", () => {
  test("a list of strings matches exactly: never by prefix, in either direction", async () => {
    await withPolicy([ALLOWED, "http://second.example"], async (f) => {
      await expectAllowed(f, ALLOWED);
      await expectAllowed(f, "http://second.example");
      for (const origin of NEAR_MISSES) await expectRefused(f, origin);
      await expectRefused(f, "http://second.example.evil.test");
      await expectRefused(f, "http://second.exampl");
    });
  });

  test("a single string matches exactly", async () => {
    await withPolicy(ALLOWED, async (f) => {
      await expectAllowed(f, ALLOWED);
      for (const origin of NEAR_MISSES) await expectRefused(f, origin);
    });
  });

  test("true allows any origin, echoed back (credentials allowed)", async () => {
    await withPolicy(true, async (f) => {
      for (const origin of [ALLOWED, "http://anything.test", "null"]) await expectAllowed(f, origin);
    });
  });

  test('"*" allows any origin, answered with * when credentials are off', async () => {
    await withPolicy(
      "*",
      async (f) => {
        for (const origin of [ALLOWED, "http://anything.test"]) await expectAllowed(f, origin, "*");
      },
      false,
    );
  });

  test("false: only the server's own origin", async () => {
    await withPolicy(false, async (f) => {
      await expectAllowed(f, f.ts.url);
      await expectRefused(f, ALLOWED);
    });
  });

  test("an anchored RegExp allows what it matches and nothing around it", async () => {
    await withPolicy(/^https?:\/\/([a-z0-9-]+\.)?allowed\.example$/, async (f) => {
      for (const origin of [ALLOWED, "https://allowed.example", "http://sub.allowed.example"]) await expectAllowed(f, origin);
      for (const origin of ["http://allowed.example.evil.test", "http://evilallowed.example", "http://allowed.exampl", "http://allowed.example:8080", "null"]) {
        await expectRefused(f, origin);
      }
    });
  });

  test("an unanchored RegExp matches anywhere in the origin (as in the cors package): anchor it", async () => {
    await withPolicy(/allowed\.example/, async (f) => {
      await expectAllowed(f, ALLOWED);
      // This is what an unanchored pattern means: any origin that contains the text.
      await expectAllowed(f, "http://allowed.example.evil.test");
      await expectAllowed(f, "http://evil.test/?allowed.example");
      await expectRefused(f, "http://allowed.exampl");
      await expectRefused(f, "http://other.test");
    });
  });

  test("a RegExp with the g or y flag gives the same answer every time (no lastIndex carried between requests)", async () => {
    for (const pattern of [/^http:\/\/allowed\.example$/g, /^http:\/\/allowed\.example$/y, /allowed/gi]) {
      await withPolicy([pattern], async (f) => {
        for (let i = 0; i < 3; i++) {
          const hs = await raw(f.ts.port, POLL, { headers: { Origin: ALLOWED } });
          assert.equal(hs.status, 200, `${pattern} request ${i}`);
        }
        await expectAllowed(f, ALLOWED);
        await expectRefused(f, "http://other.test");
      });
    }
  });

  test("a list may mix strings and RegExps", async () => {
    await withPolicy(["http://exact.example", /^https:\/\/[a-z]+\.allowed\.example$/], async (f) => {
      await expectAllowed(f, "http://exact.example");
      await expectAllowed(f, "https://app.allowed.example");
      await expectRefused(f, "http://exact.example.evil.test");
      await expectRefused(f, "https://app.allowed.example.evil.test");
    });
  });

  test("a synchronous function decides per origin and receives the request; only true allows", async () => {
    const seen: Array<{ origin: string; url: string }> = [];
    const decide = (origin: string, request: EngineRequest): boolean => {
      seen.push({ origin, url: request.url });
      return origin === ALLOWED ? true : origin === "http://truthy.example" ? ("yes" as unknown as boolean) : false;
    };
    await withPolicy(decide, async (f) => {
      await expectAllowed(f, ALLOWED);
      await expectRefused(f, "http://other.test");
      await expectRefused(f, "http://truthy.example");
      assert.ok(seen.some((s) => s.origin === ALLOWED && s.url.startsWith("/socket.io/")));
    });
  });

  test("an async function decides per origin; a promise of anything but true refuses", async () => {
    await withPolicy(
      async (origin: string) => {
        await new Promise((resolve) => setImmediate(resolve));
        if (origin === "http://truthy.example") return 1 as unknown as boolean;
        return origin === ALLOWED;
      },
      async (f) => {
        await expectAllowed(f, ALLOWED);
        await expectRefused(f, "http://other.test");
        await expectRefused(f, "http://truthy.example");
      },
    );
  });

  test("a function that throws refuses (403 code 4), on every request and upgrade", async () => {
    await withPolicy(
      (origin: string) => {
        if (origin === ALLOWED) return true;
        throw new Error("origin check failed");
      },
      async (f) => {
        await expectRefused(f, "http://throws.example");
        await expectAllowed(f, ALLOWED);
      },
    );
  });

  test("a function whose promise rejects refuses (403 code 4), on every request and upgrade", async () => {
    await withPolicy(
      (origin: string) => (origin === ALLOWED ? Promise.resolve(true) : Promise.reject(new Error("origin lookup failed"))),
      async (f) => {
        await expectRefused(f, "http://rejects.example");
        await expectAllowed(f, ALLOWED);
      },
    );
  });
});

describe("the default origin policy (no cors option, or cors without origin): same origin only", () => {
  /** The status of a polling handshake and of a WebSocket handshake with these headers. */
  async function statuses(f: Fixture, headers: Record<string, string>): Promise<[number, number]> {
    const polling = await raw(f.ts.port, POLL, { headers });
    const ws = new RawWs(`ws://127.0.0.1:${f.ts.port}${WSQ}`, headers);
    try {
      await ws.opened;
      parseOpen(await ws.nextText());
      return [polling.status, 101];
    } catch {
      return [polling.status, (await wsRefusal(`ws://127.0.0.1:${f.ts.port}${WSQ}`, headers)).status];
    } finally {
      ws.terminate();
    }
  }

  test("the server's own origin (host and port) passes; another port, host name or a longer host is refused", async () => {
    // `cors` without `origin` (so that an allowed answer carries the CORS headers expectAllowed checks).
    await withPolicy(undefined, async (f) => {
      const port = f.ts.port;
      await expectAllowed(f, `http://127.0.0.1:${port}`);
      for (const origin of [`http://127.0.0.1:${port + 1}`, `http://localhost:${port}`, "http://127.0.0.1", `http://127.0.0.10:${port}`, `http://127.0.0.1:${port}.evil.test`, "null"]) {
        await expectRefused(f, origin);
      }
    });
  });

  test("a plain-http page is refused when the request came over TLS (X-Forwarded-Proto: https); an https page passes either way", async () => {
    const f = await fixture({});
    try {
      const host = `127.0.0.1:${f.ts.port}`;
      assert.deepEqual(await statuses(f, { Origin: `http://${host}`, "X-Forwarded-Proto": "https" }), [403, 403]);
      assert.deepEqual(await statuses(f, { Origin: `https://${host}`, "X-Forwarded-Proto": "https" }), [200, 101]);
      assert.deepEqual(await statuses(f, { Origin: `http://${host}` }), [200, 101]);
      // TLS ended by a proxy that does not say so: the https page's requests arrive as plain HTTP.
      assert.deepEqual(await statuses(f, { Origin: `https://${host}` }), [200, 101]);
      await f.check();
    } finally {
      await f.close();
    }
  });
});
