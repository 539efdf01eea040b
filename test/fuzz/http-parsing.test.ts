// Property tests of what the engine parses from HTTP requests: the query string, the Origin and
// Host headers against every form of `cors.origin`, the packed headers a session keeps, and
// static-file paths. Documented behaviour: nothing throws; a malformed %-escape keeps its raw
// text; origin lists and strings match exactly; a static path never leaves its directory. The
// arbitrary-input property runs the jsfuzz target's checks (fuzz/targets/http.ts).

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { isOriginAllowed } from "../../src/engine/cors.js";
import { DetachedRequest, PackedHeaders, parseQuery } from "../../src/engine/http.js";
// The target's static tree is removed when the process exits.
import { fuzzHttp } from "../../fuzz/targets/http.js";

const RUNS = 300;

test("HTTP: any request text (URL, Origin, Host, headers) is parsed within the contract", () => {
  const pieces = fc.constantFrom("/socket.io/?", "/static/", "/single", "&", "=", "%", "%2", "%zz", "%e2%82", "%2e%2e/", "..", "%2f", "\\", "%5c", "%00", "+", "#", "?", "EIO=4", "\n", "https://a.test", "a.test", "x-forwarded-host:", "origin:", "__proto__");
  const text = fc.array(fc.oneof(pieces, fc.string({ maxLength: 5, unit: "binary" })), { maxLength: 20 }).map((parts) => Buffer.from(parts.join(""), "utf8"));
  fc.assert(fc.property(fc.oneof(text, fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b))), (input) => fuzzHttp(input)), { numRuns: RUNS });
});

test("HTTP: parseQuery gives back every encoded key and value (percent-encoding and form encoding)", () => {
  const key = fc.string({ minLength: 1, maxLength: 10, unit: "grapheme" });
  const value = fc.string({ maxLength: 20, unit: "grapheme" });
  fc.assert(
    fc.property(fc.dictionary(key, value, { maxKeys: 6, noNullPrototype: true }), fc.boolean(), (entries, form) => {
      const query = form
        ? new URLSearchParams(Object.entries(entries)).toString()
        : Object.entries(entries)
            .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
            .join("&");
      const parsed = parseQuery(`/socket.io/?${query}#frag`);
      assert.deepEqual(Object.fromEntries(parsed), { ...entries });
    }),
    { numRuns: RUNS },
  );
});

test("HTTP: a malformed escape keeps its raw text, the rest of the query is still read", () => {
  fc.assert(
    fc.property(fc.constantFrom("%", "%2", "%zz", "%e2%82", "%ff"), fc.string({ maxLength: 8, unit: "grapheme" }), (bad, good) => {
      const parsed = parseQuery(`/x?a=${bad}+1&b=${encodeURIComponent(good)}`);
      assert.equal(parsed.get("a"), `${bad} 1`);
      assert.equal(parsed.get("b"), good);
    }),
    { numRuns: 50 },
  );
});

test("HTTP: an origin list or string admits exactly its entries; same-origin needs the Host's own origin", () => {
  const origin = fc.webUrl({ withQueryParameters: false, withFragments: false }).map((u) => new URL(u).origin);
  fc.assert(
    fc.property(fc.array(origin, { maxLength: 4 }), origin, fc.string({ maxLength: 3 }), (list, candidate, suffix) => {
      for (const probe of [candidate, candidate + suffix, candidate.slice(0, -1)]) {
        const request = new DetachedRequest("GET", "/socket.io/?EIO=4", { origin: probe, host: "server.invalid" }, "127.0.0.1", false);
        assert.equal(isOriginAllowed({ origin: list }, request), list.includes(probe), probe);
        if (list[0] !== undefined) assert.equal(isOriginAllowed({ origin: list[0] }, request), list[0] === probe);
        // Same-origin (no cors option): only an origin whose host is the request's Host.
        let host: string | null = null;
        try {
          host = new URL(probe).host;
        } catch {}
        assert.equal(isOriginAllowed(null, request), host === "server.invalid");
      }
    }),
    { numRuns: RUNS },
  );
});

test("HTTP: packed headers read back as added (a line break in a value becomes a space)", () => {
  const name = fc.stringMatching(/^[a-z0-9!#$%&'*+.^_`|~-]{1,12}$/).filter((n) => n !== "__proto__");
  fc.assert(
    fc.property(fc.dictionary(name, fc.string({ maxLength: 30, unit: "binary" }), { maxKeys: 8, noNullPrototype: true }), (headers) => {
      const packed = new PackedHeaders();
      for (const [n, v] of Object.entries(headers)) packed.add(n, v);
      const request = new DetachedRequest("GET", "/", packed, "::1", true);
      const expected = Object.fromEntries(Object.entries(headers).map(([n, v]) => [n, v.replaceAll("\n", " ")]));
      for (const [n, v] of Object.entries(expected)) assert.equal(request.header(n), v);
      assert.deepEqual(request.headers(), expected);
      assert.equal(request.header("not-sent-" + Object.keys(headers).join("")), undefined);
    }),
    { numRuns: RUNS },
  );
});
