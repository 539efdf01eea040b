// The session cookie (`cookie` option): its attributes are checked once, when the server is made,
// and serialised once; each handshake only adds `name=<sid>`. The checks are those of the `cookie`
// package that engine.io serialises with (RFC 6265 syntax), so a value that would break the header
// (a CR/LF, a `;` that starts another attribute) is a start-up error rather than a header the
// runtime refuses, or worse writes, on every handshake: Node's `ws` writes upgrade headers as given.

import type { CookieOptions } from "./options.js";

/** RFC 6265 cookie-name: an HTTP token. */
const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 6265 path-value: every CHAR except controls and `;`. */
const PATH = /^[\u0020-\u003A\u003D-\u007E]*$/;
/** RFC 6265 domain-value (a host name, optionally with the leading dot older browsers used). */
const DOMAIN = /^([.]?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)([.][a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const SAME_SITE = { lax: "Lax", strict: "Strict", none: "None" } as const;

export interface SessionCookie {
  readonly name: string;
  /** Everything after the value: `; Path=/; HttpOnly; SameSite=Lax`. */
  readonly attributes: string;
}

/**
 * The cookie's name and attributes, or null when the option is off (`undefined`, `false`). Throws
 * a TypeError for an attribute that cannot be written in a Set-Cookie header, and a RangeError for
 * `sameSite: "none"` with `secure: false`: browsers drop such a cookie without a word.
 * `true` and `{}` mean `io`, path `/`, HttpOnly, SameSite=Lax (engine.io's defaults).
 */
export function resolveSessionCookie(option: boolean | CookieOptions | undefined): SessionCookie | null {
  if (option === undefined || option === false) return null;
  const o: CookieOptions = option === true ? {} : option;
  const name = o.name ?? "io";
  if (typeof name !== "string" || !NAME.test(name)) throw new TypeError(`cookie.name is not a valid cookie name: ${JSON.stringify(name)}`);
  const path = o.path ?? "/";
  if (typeof path !== "string" || !PATH.test(path)) throw new TypeError(`cookie.path is not a valid cookie path: ${JSON.stringify(path)}`);
  const sameSiteKey = (typeof o.sameSite === "string" ? o.sameSite.toLowerCase() : (o.sameSite ?? "lax")) as string;
  if (!Object.hasOwn(SAME_SITE, sameSiteKey)) throw new TypeError(`cookie.sameSite must be "lax", "strict" or "none", got ${JSON.stringify(o.sameSite)}`);
  const sameSite = SAME_SITE[sameSiteKey as keyof typeof SAME_SITE];
  // SameSite=None is only kept by browsers on a Secure cookie: implied unless refused outright.
  const secure = o.secure ?? sameSite === "None";
  if (sameSite === "None" && secure !== true) throw new RangeError('cookie.sameSite "none" needs cookie.secure: browsers drop a SameSite=None cookie that is not Secure');

  // Attribute order as the `cookie` package writes it (engine.io's Set-Cookie, byte for byte).
  let attributes = "";
  if (o.maxAge !== undefined) {
    const maxAge = Math.floor(o.maxAge);
    if (typeof o.maxAge !== "number" || !Number.isFinite(maxAge)) throw new TypeError(`cookie.maxAge must be a finite number of seconds, got ${String(o.maxAge)}`);
    attributes += `; Max-Age=${maxAge}`;
  }
  if (o.domain !== undefined && o.domain !== "") {
    if (typeof o.domain !== "string" || !DOMAIN.test(o.domain)) throw new TypeError(`cookie.domain is not a valid domain: ${JSON.stringify(o.domain)}`);
    attributes += `; Domain=${o.domain}`;
  }
  if (path !== "") attributes += `; Path=${path}`;
  if (o.httpOnly ?? true) attributes += "; HttpOnly";
  if (secure) attributes += "; Secure";
  attributes += `; SameSite=${sameSite}`;
  return { name, attributes };
}

/** The Set-Cookie value for a session id (escaped: a custom generateId may return anything). */
export function sessionCookieValue(cookie: SessionCookie, sid: string): string {
  return `${cookie.name}=${encodeURIComponent(sid)}${cookie.attributes}`;
}
