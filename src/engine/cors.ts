// Origin policy and CORS headers. The same check guards long-polling requests and WebSocket
// upgrades: browsers do not apply CORS to WebSockets, so without it any page could open a
// socket with the user's cookies (cross-site WebSocket hijacking).

import type { EngineRequest, ResponseHeaders } from "./http.js";
import type { CorsOptions } from "./options.js";

const DEFAULT_METHODS = ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"];

function parseOrigin(origin: string): URL | null {
  try {
    return new URL(origin);
  } catch {
    return null;
  }
}

/** Did the request reach us (or the proxy in front) over TLS? */
function overTls(request: EngineRequest): boolean {
  return request.secure || request.header("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase() === "https";
}

/**
 * The default policy: the Origin names the host (and port) the request was sent to. A page served
 * over plain HTTP is another origin than a TLS endpoint with the same host name (whoever can tamper
 * with that page could otherwise reach the TLS endpoint with the user's cookies), so an `http:`
 * origin is refused when the request is known to have come over TLS. The converse is allowed: a
 * proxy that ends TLS without saying so (no X-Forwarded-Proto) makes an `https:` page's requests
 * look like plain HTTP here.
 */
function sameOrigin(origin: string, request: EngineRequest): boolean {
  const host = (request.header("x-forwarded-host") ?? request.header("host"))?.split(",")[0]?.trim().toLowerCase();
  if (host === undefined || host === "") return false;
  const url = parseOrigin(origin);
  if (url === null || url.host.toLowerCase() !== host) return false;
  return !(url.protocol === "http:" && overTls(request));
}

/**
 * Is this request's origin acceptable? Requests without an Origin header are not from a browser
 * page. Synchronous unless `cors.origin` is a function that returns a promise: connection setup
 * should not pay for promise hops it does not need.
 */
export function isOriginAllowed(cors: CorsOptions | null, request: EngineRequest): boolean | Promise<boolean> {
  const origin = request.header("origin");
  if (origin === undefined) return true;
  if (cors === null || cors.origin === undefined || cors.origin === false) return sameOrigin(origin, request);
  const allowed = cors.origin;
  if (allowed === true || allowed === "*") return true;
  if (typeof allowed === "function") {
    try {
      const verdict = allowed(origin, request);
      return verdict instanceof Promise ? verdict.then((v) => v === true, () => false) : verdict === true;
    } catch {
      return false;
    }
  }
  const list = Array.isArray(allowed) ? allowed : [allowed as string | RegExp];
  return list.some((entry) => (typeof entry === "string" ? entry === origin : matches(entry, origin))) || sameOrigin(origin, request);
}

/**
 * Does the pattern match the origin? Unanchored patterns match anywhere in it, as in the `cors`
 * package. Not `pattern.test()`: with the g or y flag it resumes from the `lastIndex` the previous
 * request left, so an allowed origin would be refused every other time; `search` starts at 0 and
 * leaves `lastIndex` as it was.
 */
function matches(pattern: RegExp, origin: string): boolean {
  return origin.search(pattern) !== -1;
}

/** Headers for an allowed request (call only after isOriginAllowed said yes). */
export function corsHeaders(cors: CorsOptions | null, request: EngineRequest, headers: ResponseHeaders): void {
  const origin = request.header("origin");
  if (origin === undefined || cors === null) return;
  if (cors.origin === "*" && !cors.credentials) {
    headers["Access-Control-Allow-Origin"] = "*";
  } else {
    headers["Access-Control-Allow-Origin"] = origin;
    headers["Vary"] = "Origin";
  }
  if (cors.credentials) headers["Access-Control-Allow-Credentials"] = "true";
  if (cors.exposedHeaders?.length) headers["Access-Control-Expose-Headers"] = cors.exposedHeaders.join(",");
}

export function preflightHeaders(cors: CorsOptions | null, request: EngineRequest, headers: ResponseHeaders): void {
  corsHeaders(cors, request, headers);
  if (cors === null) return;
  // The reference server's default (the `cors` package's): a browser may then send a PUT or a
  // DELETE and see the protocol's 400 answer instead of a blocked preflight; the endpoint itself
  // answers only GET and POST.
  headers["Access-Control-Allow-Methods"] = (cors.methods ?? DEFAULT_METHODS).join(",");
  const requested = request.header("access-control-request-headers");
  if (cors.allowedHeaders) headers["Access-Control-Allow-Headers"] = cors.allowedHeaders.join(",");
  else if (requested) {
    headers["Access-Control-Allow-Headers"] = requested;
    // The answer depends on the request's header list: a cache must not reuse it for another.
    headers["Vary"] = headers["Vary"] === undefined ? "Access-Control-Request-Headers" : headers["Vary"] + ", Access-Control-Request-Headers";
  }
  if (cors.maxAge !== undefined) headers["Access-Control-Max-Age"] = String(cors.maxAge);
}
