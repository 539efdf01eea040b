// Static files on Node (`sio.handler(app, { staticFiles })`): path-traversal probes written byte for
// byte on a TCP socket (fetch would normalise `..` away before the server sees it), with `.`, `/`
// and `\` encoded once and twice, prefix tricks and absolute paths. None may return the file
// outside the mapped directory: each answer is the handler's 404 "Not Found" (no app is given, so
// a path that is not a static file ends there). The fetch-based runtimes (Hono, Bun, Deno) get the
// same probes in test/support/scenarios.ts.
// No timing assertions.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Server } from "../../src/index.js";
import { rawRequest, traversalProbes } from "../support/raw-request.js";

const MARKER = "SECRET-MARKER-7f3a";

describe("static files on node:http: path traversal", () => {
  const root = mkdtempSync(join(tmpdir(), "sockjet-traversal-"));
  const mapped = join(root, "pub", "inner");
  mkdirSync(mapped, { recursive: true });
  writeFileSync(join(mapped, "hello.txt"), "hello\n");
  // Outside the mapped directory, one and two levels up.
  writeFileSync(join(root, "pub", "secret.txt"), `${MARKER} one level up\n`);
  writeFileSync(join(root, "secret.txt"), `${MARKER} two levels up\n`);
  // A sibling whose name starts with the mapped directory's: a containment check without a
  // separator ("starts with .../inner") would take it for the inside.
  mkdirSync(join(root, "pub", "inner-sibling"));
  writeFileSync(join(root, "pub", "inner-sibling", "secret.txt"), `${MARKER} in a sibling\n`);

  const sio = new Server();
  const handler = sio.handler(undefined, { staticFiles: { "/static": mapped, "/file": join(mapped, "hello.txt") } });
  const http: HttpServer = createServer(handler);
  let url = "";

  before(async () => {
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  after(async () => {
    await sio.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    rmSync(root, { recursive: true, force: true });
  });

  test("the mapped file is served through the same raw requests", async () => {
    const res = await rawRequest(url, "/static/hello.txt");
    assert.equal(res.status, 200);
    assert.equal(res.body, "hello\n");
    assert.equal((await rawRequest(url, "/static/./hello.txt")).body, "hello\n");
  });

  const probes = [
    ...traversalProbes("/static", "../secret.txt", join(root, "pub", "secret.txt")),
    ...traversalProbes("/static", "../../secret.txt", join(root, "secret.txt")),
    ...traversalProbes("/static", "../inner-sibling/secret.txt", join(root, "pub", "inner-sibling", "secret.txt")),
    // A file mapping is not a directory: nothing below it.
    ...traversalProbes("/file", "../../secret.txt"),
  ];

  test(`${probes.length} traversal probes reach the server unnormalised and each gets 404 Not Found, never the file`, async () => {
    for (const probe of probes) {
      const res = await rawRequest(url, probe);
      assert.ok(!res.body.includes(MARKER), `${probe} returned the secret file`);
      assert.equal(res.status, 404, `${probe}: ${res.status} ${res.body.slice(0, 100)}`);
      assert.equal(res.body, "Not Found", probe);
    }
  });
});
