// The origin policy and the CORS headers as pure functions of (options, request): every branch of
// src/engine/cors.ts with exact expected values, so that mutation testing (npm run mutate) can
// judge the module without a server. test/engine/cors-origins.test.ts checks the same policy over
// real HTTP and WebSocket requests.

import { test } from "node:test";
import assert from "node:assert/strict";
import { corsHeaders, isOriginAllowed, preflightHeaders } from "../../src/engine/cors.js";
import { DetachedRequest } from "../../src/engine/http.js";
import type { ResponseHeaders } from "../../src/engine/http.js";
import type { CorsOptions } from "../../src/engine/options.js";

function request(headers: Record<string, string>, secure = false): DetachedRequest {
  return new DetachedRequest("GET", "/socket.io/?EIO=4&transport=polling", headers, "127.0.0.1", secure);
}

/** The synchronous verdict (every form but an async function answers synchronously). */
function allowed(cors: CorsOptions | null, headers: Record<string, string>, secure = false): boolean {
  const verdict = isOriginAllowed(cors, request(headers, secure));
  assert.equal(typeof verdict, "boolean");
  return verdict as boolean;
}

test("no Origin header: allowed under every policy (not a browser page)", () => {
  for (const cors of [null, { origin: false }, { origin: [] }, { origin: () => false }] as const) {
    assert.equal(allowed(cors, { host: "a.test" }), true);
  }
});

test("default policy: the Origin must name the Host the request was sent to", () => {
  for (const cors of [null, {}, { origin: false }] as const) {
    assert.equal(allowed(cors, { origin: "http://a.test", host: "a.test" }), true);
    assert.equal(allowed(cors, { origin: "http://A.TEST", host: "a.test" }), true, "host names compare case-insensitively");
    assert.equal(allowed(cors, { origin: "http://a.test", host: "A.Test" }), true);
    assert.equal(allowed(cors, { origin: "http://a.test:8080", host: "a.test:8080" }), true);
    assert.equal(allowed(cors, { origin: "http://a.test", host: "a.test:8080" }), false, "another port is another origin");
    assert.equal(allowed(cors, { origin: "http://b.test", host: "a.test" }), false);
    assert.equal(allowed(cors, { origin: "http://a.test.evil", host: "a.test" }), false);
    assert.equal(allowed(cors, { origin: "null", host: "a.test" }), false, "an opaque origin names no host");
    assert.equal(allowed(cors, { origin: "not a url", host: "a.test" }), false);
    assert.equal(allowed(cors, { origin: "http://a.test" }), false, "no Host: nothing to compare with");
    assert.equal(allowed(cors, { origin: "http://a.test", host: "" }), false);
    // An origin without a host (file:, a custom scheme) never matches an empty or missing Host.
    assert.equal(allowed(cors, { origin: "file:///etc/passwd", host: "" }), false);
    assert.equal(allowed(cors, { origin: "file:///etc/passwd" }), false);
    assert.equal(allowed(cors, { origin: "app://", host: "", "x-forwarded-host": "" }), false);
  }
});

test("default policy: X-Forwarded-Host wins over Host, its first value only, trimmed", () => {
  assert.equal(allowed(null, { origin: "http://front.test", host: "back.internal", "x-forwarded-host": "front.test" }), true);
  assert.equal(allowed(null, { origin: "http://back.internal", host: "back.internal", "x-forwarded-host": "front.test" }), false);
  assert.equal(allowed(null, { origin: "http://front.test", host: "back.internal", "x-forwarded-host": " Front.test , other.test" }), true);
  assert.equal(allowed(null, { origin: "http://other.test", host: "back.internal", "x-forwarded-host": "front.test, other.test" }), false);
  assert.equal(allowed(null, { origin: "http://a.test", host: "a.test", "x-forwarded-host": "" }), false, "an empty forwarded host is not a host");
});

test("default policy: an http: page is refused for a request that came over TLS, an https: page is not", () => {
  const host = { host: "a.test" };
  assert.equal(allowed(null, { origin: "http://a.test", ...host }, true), false);
  assert.equal(allowed(null, { origin: "https://a.test", ...host }, true), true);
  assert.equal(allowed(null, { origin: "https://a.test", ...host }, false), true, "a proxy that ends TLS silently");
  assert.equal(allowed(null, { origin: "http://a.test", ...host, "x-forwarded-proto": "https" }), false);
  assert.equal(allowed(null, { origin: "http://a.test", ...host, "x-forwarded-proto": " HTTPS , http" }), false, "first value, trimmed, any case");
  assert.equal(allowed(null, { origin: "http://a.test", ...host, "x-forwarded-proto": "http, https" }), true);
  assert.equal(allowed(null, { origin: "http://a.test", ...host, "x-forwarded-proto": "http" }), true);
});

test("false is the default policy, not a pattern: an origin containing 'false' gets no special treatment", () => {
  assert.equal(allowed({ origin: false }, { origin: "http://false.test", host: "a.test" }), false);
  assert.equal(allowed({ origin: false }, { origin: "http://a.test", host: "a.test" }), true);
});

test("true and '*' allow any origin", () => {
  for (const origin of [true, "*"] as const) {
    assert.equal(allowed({ origin }, { origin: "http://anything.test", host: "a.test" }), true);
    assert.equal(allowed({ origin }, { origin: "null" }), true);
  }
});

test("strings and lists match exactly, and the server's own origin stays allowed", () => {
  const host = { host: "self.test" };
  assert.equal(allowed({ origin: "http://ok.test" }, { origin: "http://ok.test", ...host }), true);
  assert.equal(allowed({ origin: "http://ok.test" }, { origin: "http://ok.test.evil", ...host }), false);
  assert.equal(allowed({ origin: "http://ok.test" }, { origin: "http://ok.tes", ...host }), false);
  assert.equal(allowed({ origin: "http://ok.test" }, { origin: "http://self.test", ...host }), true, "same origin");
  const list = { origin: ["http://one.test", "http://two.test"] };
  assert.equal(allowed(list, { origin: "http://one.test", ...host }), true);
  assert.equal(allowed(list, { origin: "http://two.test", ...host }), true);
  assert.equal(allowed(list, { origin: "http://three.test", ...host }), false);
  assert.equal(allowed(list, { origin: "http://self.test", ...host }), true);
  assert.equal(allowed({ origin: [] }, { origin: "http://one.test", ...host }), false);
});

test("a RegExp matches anywhere unless anchored, and a g or y flag does not make it alternate", () => {
  const host = { host: "self.test" };
  assert.equal(allowed({ origin: /ok\.test/ }, { origin: "http://ok.test.evil", ...host }), true);
  assert.equal(allowed({ origin: /^http:\/\/ok\.test$/ }, { origin: "http://ok.test.evil", ...host }), false);
  assert.equal(allowed({ origin: /^http:\/\/ok\.test$/ }, { origin: "http://ok.test", ...host }), true);
  const sticky = { origin: [/ok\.test/g, /other/y] };
  for (let i = 0; i < 4; i++) assert.equal(allowed(sticky, { origin: "http://ok.test", ...host }), true, `request ${i}`);
  assert.equal(allowed(sticky, { origin: "http://bad.test", ...host }), false);
  assert.equal(allowed({ origin: [/nothing/, "http://ok.test"] }, { origin: "http://ok.test", ...host }), true);
});

test("a function allows with true only; a throw refuses; a promise is awaited and a rejection refuses", async () => {
  const headers = { origin: "http://f.test", host: "self.test" };
  const seen: string[] = [];
  assert.equal(
    allowed({ origin: (origin) => (seen.push(origin), true) }, headers),
    true,
  );
  assert.deepEqual(seen, ["http://f.test"]);
  assert.equal(allowed({ origin: () => false }, headers), false);
  assert.equal(allowed({ origin: (() => "yes") as unknown as () => boolean }, headers), false, "truthy is not true");
  assert.equal(
    allowed({
      origin: () => {
        throw new Error("boom");
      },
    }, headers),
    false,
  );
  assert.equal(allowed({ origin: () => false }, { origin: "http://self.test", host: "self.test" }), false, "a function replaces the same-origin rule");
  const throwing = {
    origin: () => {
      throw new Error("boom");
    },
  };
  assert.equal(allowed(throwing, { origin: "http://self.test", host: "self.test" }), false, "a throw refuses even the server's own origin");
  const yes = isOriginAllowed({ origin: async () => true }, request(headers));
  assert.ok(yes instanceof Promise);
  assert.equal(await yes, true);
  assert.equal(await isOriginAllowed({ origin: async () => false }, request(headers)), false);
  assert.equal(await isOriginAllowed({ origin: (async () => 1) as unknown as () => Promise<boolean> }, request(headers)), false);
  assert.equal(await isOriginAllowed({ origin: () => Promise.reject(new Error("no")) }, request(headers)), false);
});

function headersFor(cors: CorsOptions | null, requestHeaders: Record<string, string>, preflight = false): ResponseHeaders {
  const out: ResponseHeaders = {};
  (preflight ? preflightHeaders : corsHeaders)(cors, request(requestHeaders), out);
  return out;
}

test("corsHeaders: none without an Origin or without cors", () => {
  assert.deepEqual(headersFor({ origin: true, credentials: true, exposedHeaders: ["x"] }, {}), {});
  assert.deepEqual(headersFor(null, { origin: "http://a.test" }), {});
});

test("corsHeaders: '*' without credentials is answered with *, otherwise the origin is echoed with Vary", () => {
  assert.deepEqual(headersFor({ origin: "*" }, { origin: "http://a.test" }), { "Access-Control-Allow-Origin": "*" });
  assert.deepEqual(headersFor({ origin: "*", credentials: false }, { origin: "http://a.test" }), { "Access-Control-Allow-Origin": "*" });
  assert.deepEqual(headersFor({ origin: "*", credentials: true }, { origin: "http://a.test" }), {
    "Access-Control-Allow-Origin": "http://a.test",
    Vary: "Origin",
    "Access-Control-Allow-Credentials": "true",
  });
  assert.deepEqual(headersFor({ origin: true }, { origin: "http://a.test" }), { "Access-Control-Allow-Origin": "http://a.test", Vary: "Origin" });
  assert.deepEqual(headersFor({ origin: true, exposedHeaders: ["X-A", "X-B"] }, { origin: "http://a.test" }), {
    "Access-Control-Allow-Origin": "http://a.test",
    Vary: "Origin",
    "Access-Control-Expose-Headers": "X-A,X-B",
  });
  assert.deepEqual(headersFor({ origin: true, exposedHeaders: [] }, { origin: "http://a.test" }), {
    "Access-Control-Allow-Origin": "http://a.test",
    Vary: "Origin",
  });
});

test("preflightHeaders: default methods, echoed request headers with Vary, or the configured lists, and max age", () => {
  assert.deepEqual(headersFor(null, { origin: "http://a.test", "access-control-request-headers": "x-a" }, true), {});
  assert.deepEqual(headersFor({ origin: true }, { origin: "http://a.test" }, true), {
    "Access-Control-Allow-Origin": "http://a.test",
    Vary: "Origin",
    "Access-Control-Allow-Methods": "GET,HEAD,PUT,PATCH,POST,DELETE",
  });
  assert.deepEqual(headersFor({ origin: true }, { origin: "http://a.test", "access-control-request-headers": "x-a, x-b" }, true), {
    "Access-Control-Allow-Origin": "http://a.test",
    Vary: "Origin, Access-Control-Request-Headers",
    "Access-Control-Allow-Methods": "GET,HEAD,PUT,PATCH,POST,DELETE",
    "Access-Control-Allow-Headers": "x-a, x-b",
  });
  assert.deepEqual(headersFor({ origin: "*" }, { origin: "http://a.test", "access-control-request-headers": "x-a" }, true), {
    "Access-Control-Allow-Origin": "*",
    Vary: "Access-Control-Request-Headers",
    "Access-Control-Allow-Methods": "GET,HEAD,PUT,PATCH,POST,DELETE",
    "Access-Control-Allow-Headers": "x-a",
  });
  assert.deepEqual(
    headersFor({ origin: "*", methods: ["GET", "POST"], allowedHeaders: ["x-c", "x-d"], maxAge: 0 }, { origin: "http://a.test", "access-control-request-headers": "x-a" }, true),
    {
      "Access-Control-Allow-Origin": "*",
      "Access-Control-Allow-Methods": "GET,POST",
      "Access-Control-Allow-Headers": "x-c,x-d",
      "Access-Control-Max-Age": "0",
    },
  );
  assert.deepEqual(headersFor({ origin: "*", maxAge: 600 }, { origin: "http://a.test" }, true)["Access-Control-Max-Age"], "600");
});
