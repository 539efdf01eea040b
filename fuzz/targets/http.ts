// What the engine reads from an HTTP request: the query string (parseQuery: Engine.IO's EIO,
// transport, sid, b64, j, a v3 client's auth, and a v4 CONNECT's `/nsp?query`), the Origin and
// Host headers against each kind of `cors.origin`, the packed headers a session keeps
// (DetachedRequest), and the URL path of a static file (resolveStatic). Documented behaviour:
// none of them throws; a malformed %-escape keeps its raw text; a refused origin is `false`; a
// static path outside the mapped directory is null (a 404).
//
// The input is cut at newlines: URL, Origin, Host, then header lines `name:value`.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { isOriginAllowed } from "../../src/engine/cors.js";
import { DetachedRequest, parseQuery, pathOf, type EngineRequest } from "../../src/engine/http.js";
import type { CorsOptions } from "../../src/engine/options.js";
import { resolveStatic } from "../../src/runtime/static.js";
import { check, target } from "./harness.js";

// A static tree beside a sibling whose name a prefix comparison would confuse with it.
export const staticRoot = mkdtempSync(join(tmpdir(), "sockjet-fuzz-static-"));
const root = staticRoot;
process.on("exit", () => rmSync(root, { recursive: true, force: true }));
const publicDir = join(root, "public");
mkdirSync(join(publicDir, "sub"), { recursive: true });
mkdirSync(join(root, "public-secret"));
writeFileSync(join(publicDir, "index.html"), "index");
writeFileSync(join(publicDir, "sub", "a.txt"), "a");
writeFileSync(join(root, "public-secret", "secret.txt"), "secret");
writeFileSync(join(root, "single.txt"), "single");
const STATIC_FILES = { "/static": publicDir, "/single": join(root, "single.txt") };

const CORS: (CorsOptions | null)[] = [
  null,
  { origin: ["https://a.test", "http://b.test:8080"] },
  { origin: "https://a.test" },
  { origin: /^https:\/\/([a-z0-9-]+\.)?a\.test$/ },
  { origin: /a\.test/g },
  { origin: true },
  { origin: "*" },
  { origin: (origin: string) => origin.length % 2 === 0 },
];

function request(url: string, headers: Record<string, string>): EngineRequest {
  return new DetachedRequest("GET", url, headers, "127.0.0.1", false);
}

/** Header names as HTTP parsers deliver them: lower-case tokens (no colon, no line break). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

export function fuzzHttp(input: Buffer): void {
  const [url = "", origin = "", host = "", ...lines] = input.toString("utf8").split("\n");

  const query = parseQuery(url);
  for (const [key, value] of query) check(typeof key === "string" && typeof value === "string", "query entries are strings");
  check(pathOf(url) === (url.includes("?") ? url.slice(0, url.indexOf("?")) : url), "pathOf is the text before '?'");

  const headers: Record<string, string> = { origin, host };
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = colon === -1 ? "" : line.slice(0, colon).toLowerCase();
    if (TOKEN.test(name)) headers[name] = line.slice(colon + 1);
  }
  const req = request(url, headers);
  for (const [name, value] of Object.entries(headers)) {
    check(req.header(name) === value.replaceAll("\n", " "), `header ${name} reads back`);
  }
  const all = req.headers();
  check(Object.keys(all).length === Object.keys(headers).length, "every header comes back once");

  for (const cors of CORS) {
    const verdict = isOriginAllowed(cors, req);
    check(typeof verdict === "boolean", "a verdict is a boolean");
    if (Array.isArray(cors?.origin) && !cors.origin.includes(origin)) {
      // Only the same-origin rule may then allow it, and only for an origin naming this host.
      const ownHost = (headers["x-forwarded-host"] ?? host).split(",")[0]!.trim().toLowerCase();
      check(!verdict || origin.toLowerCase().includes(ownHost), "a list admits only its entries or the same origin");
    }
  }

  const found = resolveStatic(STATIC_FILES, pathOf(url));
  if (found !== null) {
    check(found.filename === STATIC_FILES["/single"] || found.filename.startsWith(publicDir + sep), `static file outside its directory: ${found.filename}`);
  }
}

export const fuzz = target(fuzzHttp);
