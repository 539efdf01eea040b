// Static files (src/runtime/static.ts) without a server: which URL paths resolve to which file,
// with which Content-Type, and which never leave the mapped directory; and what serveStatic writes
// for GET, HEAD and other methods. test/e2e/static-traversal.test.ts sends the same kind of probes
// byte for byte over TCP.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Writable } from "node:stream";
import type { IncomingMessage, ServerResponse } from "node:http";
import { resolveStatic, serveStatic, type StaticFiles } from "../../src/runtime/static.js";

const root = mkdtempSync(join(tmpdir(), "sockjet-static-"));
const pub = join(root, "pub");
mkdirSync(join(pub, "sub", "deeper"), { recursive: true });
mkdirSync(join(pub, "noindex"));
mkdirSync(join(root, "pub-sibling"));
writeFileSync(join(pub, "index.html"), "<p>index</p>");
writeFileSync(join(pub, "app.js"), "1");
writeFileSync(join(pub, "sub", "index.html"), "<p>sub</p>");
writeFileSync(join(pub, "sub", "deeper", "data.JSON"), "{}");
writeFileSync(join(pub, "sub", "blob.bin"), "b");
writeFileSync(join(pub, "noext"), "n");
writeFileSync(join(root, "secret.txt"), "secret");
writeFileSync(join(root, "pub-sibling", "secret.txt"), "secret");
writeFileSync(join(root, "single.css"), "a{}");
after(() => rmSync(root, { recursive: true, force: true }));

const files: StaticFiles = {
  "/": pub,
  "/static": pub,
  "/deep/": join(pub, "sub"),
  "/one.css": join(root, "single.css"),
  "/typed": { filename: join(pub, "noext"), contentType: "text/x-custom" },
  "/typed-dir": { filename: pub },
  "/missing": join(root, "does-not-exist"),
};

function found(urlPath: string): [string, string] | null {
  const result = resolveStatic(files, urlPath);
  return result === null ? null : [result.filename, result.contentType];
}

test("exact paths: a file, a directory's index.html, an explicit Content-Type", () => {
  assert.deepEqual(found("/one.css"), [join(root, "single.css"), "text/css; charset=utf-8"]);
  assert.deepEqual(found("/"), [join(pub, "index.html"), "text/html; charset=utf-8"]);
  assert.deepEqual(found("/static"), [join(pub, "index.html"), "text/html; charset=utf-8"]);
  assert.deepEqual(found("/typed"), [join(pub, "noext"), "text/x-custom"]);
  assert.deepEqual(found("/typed-dir"), [join(pub, "index.html"), "text/html; charset=utf-8"], "no contentType: by extension");
  assert.equal(found("/missing"), null);
});

test("paths under a directory: files, nested index.html, types by lower-cased extension, octet-stream otherwise", () => {
  assert.deepEqual(found("/static/app.js"), [resolve(pub, "app.js"), "text/javascript; charset=utf-8"]);
  assert.deepEqual(found("/static/sub"), [join(pub, "sub", "index.html"), "text/html; charset=utf-8"]);
  assert.deepEqual(found("/static/sub/"), [join(pub, "sub", "index.html"), "text/html; charset=utf-8"]);
  assert.deepEqual(found("/static/sub/deeper/data.JSON"), [join(pub, "sub", "deeper", "data.JSON"), "application/json"]);
  assert.deepEqual(found("/static/sub/blob.bin"), [join(pub, "sub", "blob.bin"), "application/octet-stream"]);
  assert.deepEqual(found("/static/noext"), [join(pub, "noext"), "application/octet-stream"]);
  assert.equal(found("/static/noindex"), null, "a directory without index.html");
  assert.equal(found("/static/nothing.js"), null);
  assert.deepEqual(found("/static//app.js"), [resolve(pub, "app.js"), "text/javascript; charset=utf-8"], "repeated slashes");
  assert.deepEqual(found("/deep/index.html"), [join(pub, "sub", "index.html"), "text/html; charset=utf-8"], "a prefix with its own slash");
  assert.equal(found("/deep"), null, "the prefix '/deep/' is not the path '/deep'");
});

test("every known extension has its Content-Type", () => {
  const types: Record<string, string> = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".wasm": "application/wasm",
    ".unknown": "application/octet-stream",
  };
  const dir = join(root, "types");
  mkdirSync(dir);
  for (const extension of Object.keys(types)) writeFileSync(join(dir, `f${extension}`), "");
  for (const [extension, type] of Object.entries(types)) {
    assert.equal(resolveStatic({ "/t": dir }, `/t/f${extension}`)?.contentType, type, extension);
  }
});

test("leading backslashes below the prefix are dropped like slashes", () => {
  assert.equal(resolveStatic({ "/static": pub }, "/static/%5Capp.js")?.filename, resolve(pub, "app.js"));
  assert.equal(resolveStatic({ "/static": pub }, "/static/%5C%5Capp.js")?.filename, resolve(pub, "app.js"));
});

test("the longest prefix wins, and a prefix matches only whole path segments", () => {
  assert.deepEqual(found("/static/app.js")?.[0], resolve(pub, "app.js"));
  // "/" maps pub too, so /app.js is found through it, but /staticx/app.js is not under "/static".
  assert.deepEqual(found("/app.js")?.[0], resolve(pub, "app.js"));
  assert.equal(found("/staticx/app.js"), null);
  assert.equal(resolveStatic({ "/static": pub }, "/staticapp.js"), null);
  assert.equal(resolveStatic({ "/static": pub }, "/other/app.js"), null);
  // A longer prefix mapping a file wins over a shorter one mapping a directory holding another.
  assert.deepEqual(resolveStatic({ "/a": pub, "/a/app.js": join(root, "single.css") }, "/a/app.js")?.filename, join(root, "single.css"));
  assert.deepEqual(resolveStatic({ "/a/app.js": join(root, "single.css"), "/a": pub }, "/a/app.js")?.filename, join(root, "single.css"));
  // A file prefix does not serve paths below it.
  assert.equal(found("/one.css/x"), null);
});

test("nothing outside the mapped directory: dot segments, encoded, backslashes, NUL, absolute paths, siblings", () => {
  const only: StaticFiles = { "/static": pub };
  for (const probe of [
    "/static/../secret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2E%2E%2Fsecret.txt",
    "/static/..%2fsecret.txt",
    "/static/..%5csecret.txt",
    "/static/sub/../../secret.txt",
    "/static/../pub-sibling/secret.txt",
    `/static/${root}/secret.txt`,
    "/static/%00",
    "/static/app.js%00.html",
    "/static/%E0%A4%A",
  ]) {
    assert.equal(resolveStatic(only, probe), null, probe);
  }
  // Inside stays inside: .. that does not leave the directory is fine.
  assert.equal(resolveStatic(only, "/static/sub/../app.js")?.filename, resolve(pub, "app.js"));
  assert.equal(resolveStatic(only, "/static/sub/..")?.filename, join(pub, "index.html"));
  // The path below the prefix is normalised as an absolute path: ".." at its top stays at the top.
  for (const top of ["/static/..", "/static/../", "/static/%2e%2e"]) assert.equal(resolveStatic(only, top)?.filename, join(pub, "index.html"), top);
  assert.equal(resolveStatic(only, "/static/%61pp.js")?.filename, resolve(pub, "app.js"), "escapes are decoded once");
  assert.equal(resolveStatic(only, "/static/%2561pp.js"), null, "and only once");
});

/** A ServerResponse stand-in: records writeHead, collects the body, ends like a stream. */
class FakeResponse extends Writable {
  status = 0;
  headers: Record<string, string> = {};
  body = "";
  destroyedBy = false;
  writeHead(status: number, headers: Record<string, string>): this {
    this.status = status;
    this.headers = headers;
    return this;
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.body += chunk.toString();
    callback();
  }
  done(): Promise<void> {
    return new Promise((resolve) => (this.writableFinished ? resolve() : this.once("finish", resolve)));
  }
}

function serve(method: string, url: string | undefined): { handled: boolean; res: FakeResponse } {
  const res = new FakeResponse();
  const handled = serveStatic(files, { method, url } as IncomingMessage, res as unknown as ServerResponse);
  return { handled, res };
}

test("serveStatic: GET streams the file with its type, HEAD sends headers only, the query is ignored", async () => {
  const get = serve("GET", "/static/app.js?v=1");
  assert.equal(get.handled, true);
  await get.res.done();
  assert.equal(get.res.status, 200);
  assert.deepEqual(get.res.headers, { "Content-Type": "text/javascript; charset=utf-8" });
  assert.equal(get.res.body, "1");
  const head = serve("HEAD", "/one.css");
  assert.equal(head.handled, true);
  await head.res.done();
  assert.equal(head.res.status, 200);
  assert.deepEqual(head.res.headers, { "Content-Type": "text/css; charset=utf-8" });
  assert.equal(head.res.body, "");
  const root = serve("GET", undefined);
  assert.equal(root.handled, true, "no url is /");
  await root.res.done();
  assert.equal(root.res.body, "<p>index</p>");
});

test("serveStatic: other methods and unknown paths are not handled and nothing is written", () => {
  for (const [method, url] of [
    ["POST", "/static/app.js"],
    ["PUT", "/one.css"],
    ["OPTIONS", "/"],
    ["GET", "/static/nothing"],
    ["GET", "/static/../secret.txt"],
  ] as const) {
    const { handled, res } = serve(method, url);
    assert.equal(handled, false, `${method} ${url}`);
    assert.equal(res.status, 0);
    assert.equal(res.writableEnded, false);
  }
});

test("serveStatic: a file that vanishes after the lookup destroys the response instead of throwing", async () => {
  const path = join(root, "vanishing.txt");
  writeFileSync(path, "v");
  const res = new FakeResponse();
  const destroyed = new Promise<void>((resolve) => res.once("close", resolve));
  const handled = serveStatic({ "/v": path }, { method: "GET", url: "/v" } as IncomingMessage, res as unknown as ServerResponse);
  rmSync(path);
  assert.equal(handled, true);
  await destroyed;
  assert.equal(res.destroyed, true);
});
