// Who may connect to the Admin UI's namespace. As @socket.io/admin-ui: `{ type: "basic", username,
// password }` with a bcrypt hash for the password, or `false` to turn authentication off (which must
// be said explicitly: leaving `auth` out is an error, as in both reference servers). As
// python-socketio: a function that decides on the client's auth object. A client that logged in
// gets a session id ("session" event) that the UI presents on its next connects instead of the password.

import { compare } from "bcryptjs";
import { randomId } from "../util/random-id.js";

/** Basic authentication: `password` is a bcrypt hash (e.g. `bcrypt.hashSync("secret", 10)`), never the password itself. */
export interface BasicAuth {
  type: "basic";
  username: string;
  password: string;
}

/** Decides on the auth object the client sent (python-socketio's callable `auth`). */
export type AdminAuthCheck = (auth: Record<string, unknown>) => boolean | Promise<boolean>;

export type AdminAuth = false | BasicAuth | AdminAuthCheck;

export interface AuthLimits {
  /** bcrypt comparisons running at once; further login attempts are refused until one ends. */
  maxConcurrentLogins: number;
  /** How long a session id stays valid, ms. */
  sessionDuration: number;
  /** Session ids kept; past it the oldest is forgotten (its UI logs in again). */
  maxSessions: number;
}

/** `$2a$`, `$2b$`, `$2x$` or `$2y$`, the cost in two digits, then 22 characters of salt and 31 of hash. */
const BCRYPT_HASH = /^\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}$/;

export type AuthVerdict = { ok: true; sessionId?: string } | { ok: false; message: string };

/** The message the UI recognises (it then shows its login form with "Invalid credentials"). */
export const INVALID_CREDENTIALS = "invalid credentials";
export const TOO_MANY_LOGINS = "too many login attempts at once, try again";

/** Throws when the option is missing or malformed: at instrument() time, not at the first login. */
export function validateAuth(auth: unknown): AdminAuth {
  if (auth === undefined) {
    throw new TypeError('instrument(): the `auth` option is required: { type: "basic", username, password: <bcrypt hash> }, a function, or false to turn authentication off');
  }
  if (auth === false || typeof auth === "function") return auth as AdminAuth;
  if (typeof auth === "object" && auth !== null && (auth as { type?: unknown }).type === "basic") {
    const { username, password } = auth as { username?: unknown; password?: unknown };
    if (typeof username !== "string" || username === "") throw new TypeError("instrument(): auth.username must be a non-empty string");
    // @socket.io/admin-ui asks bcrypt's getRounds, which takes every string; the hash's full shape is checked here.
    if (typeof password !== "string" || !BCRYPT_HASH.test(password)) {
      throw new TypeError("instrument(): auth.password must be a bcrypt hash (e.g. bcrypt.hashSync(password, 10)), not the password itself");
    }
    return { type: "basic", username, password: password as string };
  }
  throw new TypeError('instrument(): invalid `auth` option: expected { type: "basic", username, password }, a function, or false');
}

export class AdminAuthenticator {
  /** Session id → when it expires (ms since the epoch); insertion order is age order. */
  private readonly sessions = new Map<string, number>();
  private comparing = 0;

  constructor(
    private readonly auth: AdminAuth,
    private readonly limits: AuthLimits,
  ) {}

  async check(clientAuth: unknown): Promise<AuthVerdict> {
    const auth = this.auth;
    if (auth === false) return { ok: true };
    const given = typeof clientAuth === "object" && clientAuth !== null ? (clientAuth as Record<string, unknown>) : {};
    if (typeof auth === "function") return (await auth(given)) === true ? { ok: true } : { ok: false, message: INVALID_CREDENTIALS };
    if (this.hasSession(given.sessionId)) return { ok: true };
    const { username, password } = given;
    if (username !== auth.username || typeof password !== "string") return { ok: false, message: INVALID_CREDENTIALS };
    // bcrypt is slow on purpose; unbounded, a flood of attempts would take the server's CPU.
    if (this.comparing >= this.limits.maxConcurrentLogins) return { ok: false, message: TOO_MANY_LOGINS };
    this.comparing++;
    let matches: boolean;
    try {
      matches = await compare(password, auth.password);
    } catch {
      matches = false;
    } finally {
      this.comparing--;
    }
    if (!matches) return { ok: false, message: INVALID_CREDENTIALS };
    return { ok: true, sessionId: this.newSession() };
  }

  private hasSession(id: unknown): boolean {
    if (typeof id !== "string") return false;
    const expires = this.sessions.get(id);
    if (expires === undefined) return false;
    if (expires > Date.now()) return true;
    this.sessions.delete(id);
    return false;
  }

  private newSession(): string {
    const id = randomId() + randomId();
    while (this.sessions.size >= this.limits.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(id, Date.now() + this.limits.sessionDuration);
    return id;
  }
}
