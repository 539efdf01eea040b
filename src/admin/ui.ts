// Serves the Admin UI's built page (the `ui/dist` folder of the user's @socket.io/admin-ui package)
// from the Socket.IO server itself, so that no hosted page is needed. The package is looked up only
// when this is asked for: sockjet does not depend on it otherwise (it is an optional peer).
//
// The page decides where to connect from its localStorage (`server_url`, `path`, `namespace`),
// which it fills after a successful login, and shows its login form while `server_url` is empty.
// The served index.html gets a small script in front of the UI's own that, on the first visit only
// (no `server_url` stored yet), stores this server's engine path and admin namespace and either
// stores this page's origin as `server_url` (authentication off: the UI connects at once) or, with
// authentication, puts it into the login form's Server URL field (the form's first input), leaving
// only the credentials to type
// (storing it would make the UI try to connect without credentials first and greet the user with
// "Invalid credentials").

import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";
import type { PageSource, StaticPage } from "../engine/pages.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
};

export interface UiPageOptions {
  /** URL path the page is served under, e.g. "/admin". */
  path: string;
  /** The built UI's folder; default: `ui/dist` of the installed @socket.io/admin-ui. */
  directory?: string;
}

export interface UiBootstrap {
  /** The engine's path as the UI's "Path" field wants it ("/socket.io"). */
  enginePath: string;
  namespace: string;
  /** Authentication is off: the UI may connect without asking. */
  autoConnect: boolean;
}

/** The installed @socket.io/admin-ui's `ui/dist`, or an error saying how to install it. */
export function defaultUiDirectory(): string {
  const require = createRequire(import.meta.url);
  let manifest: string;
  try {
    manifest = require.resolve("@socket.io/admin-ui/package.json");
  } catch {
    throw new Error("instrument({ serveUi }) serves the page of the @socket.io/admin-ui package, which is not installed: npm install @socket.io/admin-ui");
  }
  return join(dirname(manifest), "ui", "dist");
}

/** The script that points the page at this server on a first visit (see the file's header). */
export function bootstrapScript(boot: UiBootstrap): string {
  const config = JSON.stringify({ path: boot.enginePath, namespace: boot.namespace, auto: boot.autoConnect }).replace(/</g, "\\u003c");
  return `<script>(function(){var c=${config};try{var s=window.localStorage;if(s.getItem("server_url"))return;s.setItem("path",c.path);s.setItem("namespace",c.namespace);if(c.auto){s.setItem("server_url",location.origin);return}}catch(e){return}
var fill=function(){var i=document.querySelector(".v-dialog form input");if(!i)return false;if(!i.value){i.value=location.origin;i.dispatchEvent(new Event("input",{bubbles:true}))}return true};
var o=new MutationObserver(function(){if(fill())o.disconnect()});document.addEventListener("DOMContentLoaded",function(){if(!fill())o.observe(document.body,{childList:true,subtree:true})})})();</script>`;
}

/**
 * The UI's files under `path`, read once at start (about 1.3 MB; the source maps are left out) and
 * served from memory. `path` alone redirects to `path/`, since the page's assets are relative.
 */
export class UiPages implements PageSource {
  private readonly prefix: string;
  private readonly files = new Map<string, StaticPage>();

  constructor(options: UiPageOptions, boot: UiBootstrap) {
    const path = options.path.replace(/\/+$/, "");
    if (!path.startsWith("/") || path.length < 2) throw new TypeError(`instrument(): serveUi must be a URL path such as "/admin", got ${JSON.stringify(options.path)}`);
    this.prefix = path;
    const directory = options.directory ?? defaultUiDirectory();
    this.load(directory, "");
    const index = this.files.get("/index.html");
    if (index === undefined) throw new Error(`instrument(): no index.html in ${directory}`);
    const html = String(index.body).replace("<head>", "<head>" + bootstrapScript(boot));
    const page: StaticPage = { status: 200, headers: { ...index.headers, "Cache-Control": "no-cache" }, body: html };
    this.files.set("/index.html", page);
    this.files.set("/", page);
  }

  page(method: string, path: string): StaticPage | null {
    if (!path.startsWith(this.prefix)) return null;
    const rest = path.slice(this.prefix.length);
    if (rest !== "" && !rest.startsWith("/")) return null; // "/administrator" is not ours
    if (method !== "GET" && method !== "HEAD") return { status: 405, headers: { Allow: "GET, HEAD", "Content-Type": "text/plain" }, body: "Method Not Allowed" };
    if (rest === "") return { status: 301, headers: { Location: this.prefix + "/", "Content-Type": "text/plain" }, body: "" };
    return this.files.get(rest) ?? { status: 404, headers: { "Content-Type": "text/plain" }, body: "Not Found" };
  }

  /** Reads every file of the folder: lookups are by exact name, so no request path reaches the disk. */
  private load(directory: string, relative: string): void {
    for (const name of readdirSync(join(directory, relative))) {
      const file = join(directory, relative, name);
      const url = relative + "/" + name;
      if (statSync(file).isDirectory()) {
        this.load(directory, url);
        continue;
      }
      if (name.endsWith(".map")) continue;
      const type = TYPES[extname(name).toLowerCase()] ?? "application/octet-stream";
      const body = type.startsWith("text/html") ? readFileSync(file, "utf8") : new Uint8Array(readFileSync(file));
      this.files.set(url, { status: 200, headers: { "Content-Type": type, "X-Content-Type-Options": "nosniff" }, body });
    }
  }
}
