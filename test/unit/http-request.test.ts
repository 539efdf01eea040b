// The runtime-independent request pieces of src/engine/http.ts: the packed headers a session keeps
// (a header must come back exactly as given and never be confused with another one's name or
// value), the query parser the engine routes on, and the path split.

import { test } from "node:test";
import assert from "node:assert/strict";
import { DetachedRequest, PackedHeaders, parseQuery, pathOf } from "../../src/engine/http.js";

test("DetachedRequest keeps method, url, address and TLS flag, has no raw request, detaches to itself", () => {
  const r = new DetachedRequest("POST", "/socket.io/?EIO=4", { host: "a.test" }, "10.0.0.1", true);
  assert.equal(r.method, "POST");
  assert.equal(r.url, "/socket.io/?EIO=4");
  assert.equal(r.remoteAddress, "10.0.0.1");
  assert.equal(r.secure, true);
  assert.equal(r.raw, undefined);
  assert.equal(r.detach(), r);
});

test("header(): exact names only, first, middle and last headers, empty values, absent names", () => {
  const r = new DetachedRequest("GET", "/", { Host: "a.test", "x-a": "1", "x-ab": "2", "X-Empty": "", origin: "http://o.test" }, "", false);
  assert.equal(r.header("host"), "a.test", "the first header; names are lower-cased");
  assert.equal(r.header("x-a"), "1");
  assert.equal(r.header("x-ab"), "2", "a name that extends another one's");
  assert.equal(r.header("x-empty"), "");
  assert.equal(r.header("origin"), "http://o.test", "the last header");
  assert.equal(r.header("x"), undefined, "a prefix of a name is not a name");
  assert.equal(r.header("a"), undefined, "nor a suffix");
  assert.equal(r.header("ost"), undefined, "nor the end of the first name");
  assert.equal(r.header("1"), undefined, "nor a value");
  assert.equal(r.header("Host"), undefined, "names are looked up as given (callers use lower case)");
});

test("header(): a value that looks like a header is still a value", () => {
  const r = new DetachedRequest("GET", "/", { "x-tricky": "origin:http://evil.test", "x-colon": "a:b:c" }, "", false);
  assert.equal(r.header("origin"), undefined);
  assert.equal(r.header("x-tricky"), "origin:http://evil.test");
  assert.equal(r.header("x-colon"), "a:b:c");
});

test("a line break in a value cannot add a header", () => {
  const r = new DetachedRequest("GET", "/", { "x-a": "1\norigin:http://evil.test\n", host: "a.test" }, "", false);
  assert.equal(r.header("origin"), undefined);
  assert.equal(r.header("x-a"), "1 origin:http://evil.test ");
  assert.equal(r.header("host"), "a.test");
  assert.deepEqual(r.headers(), { "x-a": "1 origin:http://evil.test ", host: "a.test" });
});

test("headers(): every header back with its value, colons in values kept; none gives an empty record", () => {
  const r = new DetachedRequest("GET", "/", { Host: "a.test:8080", "x-e": "", cookie: "a=1; b=2" }, "", false);
  assert.deepEqual(r.headers(), { host: "a.test:8080", "x-e": "", cookie: "a=1; b=2" });
  assert.notEqual(r.headers(), r.headers(), "a new record on each call");
  assert.deepEqual(new DetachedRequest("GET", "/", {}, "", false).headers(), {});
  assert.equal(new DetachedRequest("GET", "/", {}, "", false).header("host"), undefined);
});

test("the WebSocket key is kept apart: read back in its place; the rest, the URL and the address shared between requests", () => {
  const make = (key: string) => {
    const packer = new PackedHeaders();
    packer.add("host", "a.test");
    packer.add("sec-websocket-key", key);
    packer.add("sec-websocket-version", "13");
    return new DetachedRequest("GET", "/socket.io/?EIO=4&transport=" + "websocket", packer, "10.0." + "0.1", false);
  };
  const a = make("dGhlIHNhbXBsZSBub25jZQ==");
  const b = make("");
  assert.equal(a.header("sec-websocket-key"), "dGhlIHNhbXBsZSBub25jZQ==");
  assert.equal(b.header("sec-websocket-key"), "", "an empty key");
  assert.equal(a.header("sec-websocket-version"), "13");
  assert.deepEqual(Object.entries(a.headers()), [["host", "a.test"], ["sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="], ["sec-websocket-version", "13"]]);
  assert.deepEqual(b.headers(), { host: "a.test", "sec-websocket-key": "", "sec-websocket-version": "13" });
  const twice = new DetachedRequest("GET", "/", { "Sec-WebSocket-Key": "k1", "sec-websocket-key": "k2" }, "", false);
  assert.equal(twice.header("sec-websocket-key"), "k1", "the first one, as before");
  assert.deepEqual(new DetachedRequest("GET", "/", { host: "h" }, "", false).header("sec-websocket-key"), undefined);
});

test("PackedHeaders: added names as given, in order; a DetachedRequest built from it reads them back", () => {
  const packer = new PackedHeaders();
  packer.add("host", "a.test");
  packer.add("x-multi", "a, b");
  packer.add("x-nl", "1\n2");
  assert.equal(packer.done(), "host:a.test\nx-multi:a, b\nx-nl:1 2\n");
  const r = new DetachedRequest("GET", "/", packer, "", false);
  assert.equal(r.header("x-multi"), "a, b");
  assert.deepEqual(r.headers(), { host: "a.test", "x-multi": "a, b", "x-nl": "1 2" });
  assert.equal(new PackedHeaders().done(), "");
});

test("parseQuery: keys and values, '+' and %-escapes decoded, malformed escapes kept, fragment ignored", () => {
  const q = (url: string) => Object.fromEntries(parseQuery(url));
  assert.deepEqual(q("/socket.io/"), {});
  assert.deepEqual(q("/socket.io/?"), {});
  assert.deepEqual(q("/socket.io/?EIO=4&transport=polling&t=abc"), { EIO: "4", transport: "polling", t: "abc" });
  assert.deepEqual(q("/?a=1&&b=2&"), { a: "1", b: "2" }, "empty parts are skipped");
  assert.deepEqual(q("/?flag&x="), { flag: "", x: "" });
  assert.deepEqual(q("/?a=b=c"), { a: "b=c" }, "only the first = splits");
  assert.deepEqual(q("/?a+b=c+d&e%20f=%2F%3F"), { "a b": "c d", "e f": "/?" });
  assert.deepEqual(q("/?a=%E0%A4%A&b=%zz+1"), { a: "%E0%A4%A", b: "%zz 1" }, "malformed escapes keep the text, '+' still a space");
  assert.deepEqual(q("/?a=1#b=2"), { a: "1" });
  assert.deepEqual(q("/?a=1#"), { a: "1" });
  assert.deepEqual(q("/?a=1&a=2"), { a: "2" }, "the last value wins");
  assert.deepEqual(q("/?%=1"), { "%": "1" });
});

test("pathOf: the path before the query", () => {
  assert.equal(pathOf("/socket.io/?EIO=4"), "/socket.io/");
  assert.equal(pathOf("/socket.io/"), "/socket.io/");
  assert.equal(pathOf("?a"), "");
  assert.equal(pathOf("/a?b?c"), "/a");
});

test("a header named __proto__ is an own header like any other, and no prototype changes", () => {
  const packed = new PackedHeaders();
  packed.add("__proto__", "x");
  packed.add("host", "a.test");
  const headers = new DetachedRequest("GET", "/", packed, "", false).headers();
  assert.deepEqual(Object.keys(headers), ["__proto__", "host"]);
  assert.equal(Object.getOwnPropertyDescriptor(headers, "__proto__")?.value, "x");
  assert.equal(Object.getPrototypeOf(headers), Object.prototype);
});
